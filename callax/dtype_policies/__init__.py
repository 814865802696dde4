"""Dtype policies under Keras 3's ``keras.dtype_policies`` names.

``DTypePolicy`` is callax's one policy class (:mod:`callax.core.dtype_policy`);
this package adds ``DTypePolicyMap`` (per-layer-path policies) and the
``get`` / ``serialize`` / ``deserialize`` functions, writing and reading the
same config dicts as Keras 3 (both in :mod:`callax.dtype_policies.policies`).

Example:
    >>> from callax import dtype_policies
    >>> dtype_policies.get("mixed_bfloat16").compute_dtype
    'bfloat16'
    >>> cfg = dtype_policies.serialize(dtype_policies.DTypePolicy("float16"))
    >>> cfg["class_name"], cfg["config"]
    ('DTypePolicy', {'name': 'float16'})
    >>> dtype_policies.deserialize(cfg).name
    'float16'
"""

from callax.core.dtype_policy import DTypePolicy
from callax.dtype_policies.policies import DTypePolicyMap, deserialize, get, serialize

# Keras 3 keeps `FloatDTypePolicy` as an alias of the plain policy.
FloatDTypePolicy = DTypePolicy

__all__ = [
    "DTypePolicy", "DTypePolicyMap", "FloatDTypePolicy", "deserialize", "get", "serialize",
]  # fmt: skip
