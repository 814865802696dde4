"""Dtype policies: which dtype a layer computes in and which it stores weights in.

Example:
    >>> from callax.core.dtype_policy import DTypePolicy
    >>> p = DTypePolicy("mixed_bfloat16")
    >>> p.compute_dtype, p.variable_dtype
    ('bfloat16', 'float32')
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from callax.core.dtypes import floatx

_MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
_PLAIN = ("float16", "bfloat16", "float32", "float64")
_global_policy: DTypePolicy | None = None


class DTypePolicy:
    """A named pair ``(compute_dtype, variable_dtype)``.

    Args:
        name: ``"float32"``, ``"bfloat16"``, ``"float16"``, ``"float64"``,
            ``"mixed_float16"`` or ``"mixed_bfloat16"``; ``None`` means floatx.
    """

    __slots__ = ("name", "compute_dtype", "variable_dtype", "compute_np")
    quantization_mode = None  # Keras's attribute; callax policies never quantize

    def __init__(self, name: str | None = None):
        if name is None:
            name = floatx()
        if name in _MIXED:
            self.compute_dtype, self.variable_dtype = _MIXED[name], "float32"
        elif name in _PLAIN:
            self.compute_dtype = self.variable_dtype = name
        else:
            raise ValueError(
                f"Unknown dtype policy {name!r}: expected one of {sorted(_PLAIN + tuple(_MIXED))}."
            )
        self.name = name
        self.compute_np = np.dtype(jnp.dtype(self.compute_dtype))  # for fast comparisons

    def __repr__(self) -> str:
        return f'<DTypePolicy "{self.name}">'

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def get_config(self) -> dict:
        return {"name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> DTypePolicy:
        return cls(config["name"])


def get(identifier: str | DTypePolicy | dict | None) -> DTypePolicy:
    """A policy from a name, a policy, a config dict, or ``None`` (the global policy)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        cfg = identifier.get("config", identifier)
        return DTypePolicy(cfg["name"])
    if hasattr(identifier, "name") and not isinstance(identifier, str):  # a numpy/jax dtype
        return DTypePolicy(str(identifier))
    return DTypePolicy(str(identifier))


def set_dtype_policy(policy: str | DTypePolicy | None) -> None:
    """Sets the policy that layers created afterwards use when given no ``dtype``."""
    global _global_policy
    _global_policy = None if policy is None else get(policy)


def dtype_policy() -> DTypePolicy:
    """The global dtype policy (floatx unless set)."""
    return _global_policy if _global_policy is not None else DTypePolicy(None)
