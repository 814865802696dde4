"""DTypePolicyMap: dtype policies looked up by layer path (exact key or regex)."""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any

import numpy as np

from callax.core.dtype_policy import DTypePolicy


def _policy_config(policy: DTypePolicy) -> dict:
    return {
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": policy.get_config(),
        "registered_name": None,
    }


class DTypePolicyMap(DTypePolicy, MutableMapping):
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
        from callax import dtype_policies

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
        self._default_policy = dtype_policies.get(default_policy)
        self._policy_map: dict[str, DTypePolicy] = {}
        for key, policy in (policy_map or {}).items():
            self[key] = policy

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
    def __getitem__(self, key: str) -> DTypePolicy:
        if key in self._policy_map:
            return self._policy_map[key]
        matches = [pattern for pattern in self._policy_map if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(
                f"DTypePolicyMap: path {key!r} matches several keys {matches}; each path "
                "may match at most one key."
            )
        if matches:
            return self._policy_map[matches[0]]
        return self._default_policy

    def __setitem__(self, key: str, policy: Any) -> None:
        from callax import dtype_policies

        if not isinstance(key, str):
            raise TypeError(
                f"DTypePolicyMap: keys are layer paths (str); received {key!r} "
                f"(of type {type(key).__name__})."
            )
        if key in self._policy_map:
            raise ValueError(
                f"DTypePolicyMap: key {key!r} is already set to {self._policy_map[key]!r}; "
                "delete it first to replace it."
            )
        try:
            value = dtype_policies.get(policy)
        except (ValueError, TypeError, KeyError) as error:
            raise ValueError(
                f"DTypePolicyMap: cannot interpret the policy for key {key!r}; expected a "
                f"DTypePolicy, a policy name or a config dict; received {policy!r}."
            ) from error
        self._policy_map[key] = value

    def __delitem__(self, key: str) -> None:
        del self._policy_map[key]

    def __contains__(self, key: object) -> bool:
        return key in self._policy_map

    def __iter__(self) -> Iterator[str]:
        return iter(self._policy_map)

    def __len__(self) -> int:
        return len(self._policy_map)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, DTypePolicyMap)
            and other._default_policy == self._default_policy
            and other._policy_map == self._policy_map
        )

    def __hash__(self) -> int:
        return hash((self.name, tuple(self._policy_map)))

    def __repr__(self) -> str:
        mapping = [(k, v.name) for k, v in self._policy_map.items()]
        return f"<DTypePolicyMap default_policy={self._default_policy.name}, mapping={mapping}>"

    # ------------------------------------------------------------- config
    def get_config(self) -> dict:
        default = self._default_policy_arg
        if isinstance(default, DTypePolicy):
            default = _policy_config(default)
        return {
            "default_policy": default,
            "policy_map": {k: _policy_config(v) for k, v in self._policy_map.items()},
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> DTypePolicyMap:
        from callax import dtype_policies

        config = dict(config)
        entries = config.get("policy_map") or {}
        config["policy_map"] = {
            k: dtype_policies.deserialize(v, custom_objects) if isinstance(v, dict) else v
            for k, v in entries.items()
        }
        return cls(**config)
