"""Dtype policies under Keras 3's ``keras.dtype_policies`` names.

``DTypePolicy`` is callax's one policy class (:mod:`callax.core.dtype_policy`);
this package adds ``DTypePolicyMap`` (per-layer-path policies) and the
``get`` / ``serialize`` / ``deserialize`` functions, writing and reading the
same config dicts as Keras 3.

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

from __future__ import annotations

from typing import Any

from callax.core.dtype_policy import DTypePolicy, dtype_policy
from callax.dtype_policies.policy_map import DTypePolicyMap

# Keras 3 keeps `FloatDTypePolicy` as an alias of the plain policy.
FloatDTypePolicy = DTypePolicy

_CLASSES = {"DTypePolicy": DTypePolicy, "FloatDTypePolicy": DTypePolicy}
_QUANTIZED = ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "GPTQDTypePolicy",
              "AWQDTypePolicy", "Int4DTypePolicy")  # fmt: skip


def serialize(policy: DTypePolicy) -> dict:
    """The Keras 3 config dict of a policy (or a ``DTypePolicyMap``)."""
    if isinstance(policy, DTypePolicyMap):
        return {
            "module": "keras.dtype_policies",
            "class_name": "DTypePolicyMap",
            "config": policy.get_config(),
            "registered_name": None,
        }
    if isinstance(policy, DTypePolicy):
        return {
            "module": "keras",
            "class_name": "DTypePolicy",
            "config": policy.get_config(),
            "registered_name": None,
        }
    raise TypeError(
        "dtype_policies.serialize: expected a DTypePolicy or DTypePolicyMap; received "
        f"{policy!r} (of type {type(policy).__name__})."
    )


def deserialize(config: dict, custom_objects: dict | None = None) -> DTypePolicy:
    """The policy described by a config dict written by ``serialize`` (or Keras 3)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "dtype_policies.deserialize: expected a config dict with 'class_name' and "
            f"'config' keys; received {config!r}."
        )
    class_name = config["class_name"]
    inner = config.get("config", {})
    if class_name == "DTypePolicyMap":
        return DTypePolicyMap.from_config(inner, custom_objects=custom_objects)
    if class_name in _CLASSES:
        return _CLASSES[class_name].from_config(inner)
    if custom_objects and class_name in custom_objects:
        return custom_objects[class_name].from_config(inner)
    if class_name in _QUANTIZED:
        raise ValueError(
            f"dtype_policies.deserialize: quantized policies are not supported by callax; "
            f"received class_name={class_name!r}."
        )
    raise ValueError(
        "dtype_policies.deserialize: unknown policy class; expected one of "
        f"{sorted([*_CLASSES, 'DTypePolicyMap'])}; received class_name={class_name!r}."
    )


def get(identifier: Any) -> DTypePolicy:
    """A policy from a policy, a name (``"float32"``, ``"mixed_bfloat16"``...),
    a config dict, a dtype, or ``None`` (the global policy)."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    name = getattr(identifier, "name", None)  # a numpy / jax dtype
    if isinstance(name, str):
        return DTypePolicy(name)
    raise ValueError(
        "dtype_policies.get: cannot interpret the identifier; expected a DTypePolicy, a "
        f"policy name, a config dict or None; received {identifier!r} "
        f"(of type {type(identifier).__name__})."
    )


__all__ = [
    "DTypePolicy", "DTypePolicyMap", "FloatDTypePolicy", "deserialize", "get", "serialize",
]  # fmt: skip
