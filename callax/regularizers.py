"""Weight and activity regularizers: ``f(x) -> scalar penalty`` added to ``losses``.

Example:
    >>> import numpy as np
    >>> from callax import regularizers
    >>> float(regularizers.L2(0.1)(np.array([1.0, 2.0])))
    0.5
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core.variable import unwrap


class Regularizer:
    def __call__(self, x):
        return 0.0

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Regularizer:
        return cls(**config)


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        x = jnp.asarray(unwrap(x))
        out = 0.0
        if self.l1:
            out = out + self.l1 * jnp.sum(jnp.abs(x))
        if self.l2:
            out = out + self.l2 * jnp.sum(jnp.square(x))
        return jnp.asarray(out, dtype=x.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalises non-orthogonal rows (or columns) of a 2-D kernel."""

    def __init__(self, factor=0.01, mode="rows"):
        if mode not in ("rows", "columns"):
            raise ValueError(f"mode must be 'rows' or 'columns'; received {mode!r}.")
        self.factor, self.mode = factor, mode

    def __call__(self, x):
        x = unwrap(x)
        if self.mode == "columns":
            x = x.T
        x = x / jnp.maximum(jnp.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        n = x.shape[0]
        product = x @ x.T
        off = product - jnp.eye(n, dtype=x.dtype)
        return self.factor * jnp.sum(jnp.abs(off)) / (n * (n - 1) if n > 1 else 1)

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


l1, l2, l1_l2 = L1, L2, L1L2
_ALIASES = {"l1": L1, "l2": L2, "l1_l2": L1L2, "orthogonal_regularizer": OrthogonalRegularizer}
_CLASSES = {c.__name__: c for c in (L1, L2, L1L2, OrthogonalRegularizer)}


def serialize(reg: Any) -> Any:
    return {"module": "keras.regularizers", "class_name": type(reg).__name__,
            "config": reg.get_config(), "registered_name": None}  # fmt: skip


def deserialize(config: dict, custom_objects: dict | None = None) -> Any:
    """The regularizer a ``serialize`` config describes (a built-in, or a user class
    found in ``custom_objects``, an active ``custom_object_scope`` or the registry)."""
    from callax.saving.object_registration import get_registered_object

    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            f"regularizer deserialize expects a config dict with a 'class_name' key; "
            f"received {config!r}."
        )
    name = config.get("registered_name") or config["class_name"]
    cls = get_registered_object(name, custom_objects) or _CLASSES.get(config["class_name"])
    if cls is None:
        raise ValueError(
            f"Unknown regularizer class {config['class_name']!r}. Built-in ones: {sorted(_CLASSES)}; "
            "register your own with @keras.saving.register_keras_serializable()."
        )
    return cls.from_config(config.get("config", {}))


def get(identifier: Any) -> Any:
    if identifier is None:
        return None
    if isinstance(identifier, str):
        cls = _ALIASES.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"Unknown regularizer {identifier!r}. Known: {sorted(_ALIASES)}.")
        return cls()
    if isinstance(identifier, dict):
        cls = _CLASSES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Unknown regularizer class {identifier['class_name']!r}.")
        return cls.from_config(identifier.get("config", {}))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret regularizer {identifier!r}.")
