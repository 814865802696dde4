"""``DTypePolicyMap`` (dtype policies looked up by layer path, exact key or regex)
and the family's ``get`` / ``serialize`` / ``deserialize``, in one file because
each needs the other: a map holds policies read by ``get``, and ``deserialize``
rebuilds maps. Configs are Keras 3's; classes named in them are found through
the ``"dtype policy"`` :class:`~callax.core.registry.NameRegistry` (built-ins,
``custom_objects``, ``custom_object_scope`` and registered classes).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.core.dtype_policy import DTypePolicy, dtype_policy
from callax.core.path_map import PathMap
from callax.core.registry import NameRegistry


def _policy_config(policy: DTypePolicy) -> dict:
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


class DTypePolicyMap(DTypePolicy, PathMap):
    """A dict from layer paths (``"encoder/layer_0/dense"``) to dtype policies,
    itself usable as a policy: it computes in its ``default_policy``.

    ``policy_map[path]`` returns the policy stored under exactly ``path`` if
    there is one; otherwise the one whose key, read as a regular expression,
    fully matches ``path`` (``"encoder/.*"``); otherwise ``default_policy``. A
    path matched by several patterns is an error.

    Args:
        default_policy: a policy or policy name; ``None`` means the global
            policy at construction time.
        policy_map: an optional initial ``{path: policy}`` dict.

    Example:
        >>> from callax.dtype_policies import DTypePolicyMap
        >>> policies = DTypePolicyMap(default_policy="float32")
        >>> policies["encoder/.*"] = "bfloat16"
        >>> policies["encoder/attention/query"].name, policies["decoder"].name
        ('bfloat16', 'float32')
        >>> policies.name, len(policies)
        ('map_float32', 1)
    """

    def __init__(self, default_policy: Any = None, policy_map: dict | None = None):
        if isinstance(default_policy, DTypePolicyMap):
            raise ValueError(
                "DTypePolicyMap: default_policy must be a plain policy or name, not another "
                f"DTypePolicyMap; received {default_policy!r}."
            )
        if policy_map is not None and not isinstance(policy_map, dict):
            raise TypeError(
                "DTypePolicyMap: policy_map must be a dict of {path: policy}; received "
                f"{policy_map!r} (of type {type(policy_map).__name__})."
            )
        self._default_policy_arg = default_policy
        self._default_policy = get(default_policy)
        # PathMap.__init__, not DTypePolicy.__init__: the properties below replace its slots.
        PathMap.__init__(self, policy_map)

    # A map computes like its default policy (these shadow the base class's slots).
    @property
    def default_policy(self) -> DTypePolicy:
        return self._default_policy

    @property
    def name(self) -> str:
        return f"map_{self._default_policy.name}"

    @property
    def compute_dtype(self) -> str:
        return self._default_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._default_policy.variable_dtype

    @property
    def compute_np(self) -> np.dtype:
        return self._default_policy.compute_np

    @property
    def quantization_mode(self) -> str | None:
        return getattr(self._default_policy, "quantization_mode", None)

    # ------------------------------------------------------------ mapping
    def _default_value(self) -> DTypePolicy:
        return self._default_policy

    def _several_matches_message(self, key: str, matches: list[str]) -> str:
        return (
            f"DTypePolicyMap: path {key!r} matches several keys {matches}; each path "
            "may match at most one key."
        )

    def __setitem__(self, key: str, policy: Any) -> None:
        if not isinstance(key, str):
            raise TypeError(
                f"DTypePolicyMap: keys are layer paths (str); received {key!r} "
                f"(of type {type(key).__name__})."
            )
        if key in self._entries:
            raise ValueError(
                f"DTypePolicyMap: key {key!r} is already set to {self._entries[key]!r}; "
                "delete it first to replace it."
            )
        try:
            value = get(policy)
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(
                f"DTypePolicyMap: cannot interpret the policy for key {key!r}; expected a "
                f"DTypePolicy, a policy name or a config dict; received {policy!r}."
            ) from error
        self._entries[key] = value

    def __contains__(self, key: object) -> bool:
        # Exact keys only (a map always has a value for any path, its default).
        return key in self._entries

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DTypePolicyMap)
            and other._default_policy == self._default_policy
            and other._entries == self._entries
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(self._entries)))

    def __repr__(self) -> str:
        mapping = [(k, v.name) for k, v in self._entries.items()]
        return f"<DTypePolicyMap default_policy={self._default_policy.name}, mapping={mapping}>"

    # ------------------------------------------------------------- config
    def get_config(self) -> dict:
        default = self._default_policy_arg
        if isinstance(default, DTypePolicy):
            default = _policy_config(default)
        return {
            "default_policy": default,
            "policy_map": {k: _policy_config(v) for k, v in self._entries.items()},
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> DTypePolicyMap:
        config = dict(config)
        entries = config.get("policy_map") or {}
        config["policy_map"] = {
            k: deserialize(v, custom_objects) if isinstance(v, dict) else v
            for k, v in entries.items()
        }
        return cls(**config)


# ------------------------------------------------------------- lookups
_REGISTRY = NameRegistry(
    "dtype policy",
    "keras.dtype_policies",
    classes=(DTypePolicy, DTypePolicyMap),
    extra_class_names={"FloatDTypePolicy": DTypePolicy},  # Keras 3's alias
    base=DTypePolicy,
    class_label="policy class",
)
# Keras's quantized policies: refused with a message of their own.
_QUANTIZED = ("QuantizedDTypePolicy", "QuantizedFloat8DTypePolicy", "GPTQDTypePolicy",
              "AWQDTypePolicy", "Int4DTypePolicy")  # fmt: skip


def serialize(policy: DTypePolicy) -> dict:
    """The Keras 3 config dict of a policy (or a ``DTypePolicyMap``)."""
    # Keras writes a map under its module and a plain policy under "keras".
    if isinstance(policy, DTypePolicyMap):
        module, class_name = "keras.dtype_policies", "DTypePolicyMap"
    elif isinstance(policy, DTypePolicy):
        module, class_name = "keras", "DTypePolicy"
    else:
        raise TypeError(
            "dtype_policies.serialize: expected a DTypePolicy or DTypePolicyMap; received "
            f"{policy!r} (of type {type(policy).__name__})."
        )
    return {
        "module": module,
        "class_name": class_name,
        "config": policy.get_config(),
        "registered_name": None,
    }


def deserialize(config: dict, custom_objects: dict | None = None) -> DTypePolicy:
    """The policy described by a config dict written by ``serialize`` (or Keras 3).

    Raises:
        ValueError: for a config that is not a dict with ``class_name``, a quantized
            policy, or an unknown class (naming the built-in ones).

    Example:
        >>> from callax import dtype_policies
        >>> dtype_policies.deserialize(
        ...     {"module": "keras", "class_name": "FloatDTypePolicy", "config": {"name": "float16"}}
        ... ).name
        'float16'
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "dtype_policies.deserialize: expected a config dict with 'class_name' and "
            f"'config' keys; received {config!r}."
        )
    if config["class_name"] in _QUANTIZED:
        raise ValueError(
            f"dtype_policies.deserialize: quantized policies are not supported by callax; "
            f"received class_name={config['class_name']!r}."
        )
    return _REGISTRY.deserialize(config, custom_objects)


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
