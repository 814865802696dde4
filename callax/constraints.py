"""Weight constraints: ``f(w) -> w'`` applied after each optimizer update.

Example:
    >>> import numpy as np
    >>> from callax import constraints
    >>> constraints.NonNeg()(np.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
"""

from __future__ import annotations

import jax.numpy as jnp

from callax.core.registry import NameRegistry
from callax.core.variable import unwrap


class Constraint:
    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict) -> Constraint:
        return cls(**config)


class NonNeg(Constraint):
    def __call__(self, w):
        w = jnp.asarray(unwrap(w))
        return w * (w >= 0).astype(w.dtype)


class MaxNorm(Constraint):
    """Rescales so the norm along ``axis`` is at most ``max_value``."""

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        w = jnp.asarray(unwrap(w))
        norms = jnp.sqrt(jnp.sum(jnp.square(w), axis=self.axis, keepdims=True))
        desired = jnp.clip(norms, 0, self.max_value)
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class UnitNorm(Constraint):
    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = jnp.asarray(unwrap(w))
        return w / (1e-7 + jnp.sqrt(jnp.sum(jnp.square(w), axis=self.axis, keepdims=True)))

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        w = jnp.asarray(unwrap(w))
        norms = jnp.sqrt(jnp.sum(jnp.square(w), axis=self.axis, keepdims=True))
        desired = (
            self.rate * jnp.clip(norms, self.min_value, self.max_value) + (1 - self.rate) * norms
        )
        return w * (desired / (1e-7 + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value,
                "rate": self.rate, "axis": self.axis}  # fmt: skip


non_neg, max_norm, unit_norm, min_max_norm = NonNeg, MaxNorm, UnitNorm, MinMaxNorm
_ALIASES = {
    "non_neg": NonNeg,
    "max_norm": MaxNorm,
    "unit_norm": UnitNorm,
    "min_max_norm": MinMaxNorm,
}
_REGISTRY = NameRegistry(
    "constraint",
    "keras.constraints",
    classes=(NonNeg, MaxNorm, UnitNorm, MinMaxNorm),
    aliases=_ALIASES,
    base=Constraint,
)

# One rule for every family: callax.core.registry.
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize
