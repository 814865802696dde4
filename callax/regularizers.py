"""Weight and activity regularizers: ``f(x) -> scalar penalty`` added to ``losses``.

Example:
    >>> import numpy as np
    >>> from callax import regularizers
    >>> float(regularizers.L2(0.1)(np.array([1.0, 2.0])))
    0.5
"""

from __future__ import annotations

import jax.numpy as jnp

from callax.core.registry import NameRegistry
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
_REGISTRY = NameRegistry(
    "regularizer",
    "keras.regularizers",
    classes=(L1, L2, L1L2, OrthogonalRegularizer),
    aliases=_ALIASES,
    base=Regularizer,
)

# One rule for every family: callax.core.registry.
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize
