"""``PathMap``: the lookup rule shared by Keras's maps keyed by variable or layer
paths (``LayoutMap``, ``DTypePolicyMap``, ``OptimizerMap``).

``path_map[path]`` returns the value stored under exactly ``path`` if there is
one; otherwise the value of the one key that, read as a regular expression,
fully matches ``path`` (``re.fullmatch``, as Keras 3 does); otherwise the map's
default. A path matched by several keys is a ``ValueError``. Each map keeps its
own key checks, value conversion and messages; this class holds only the rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, MutableMapping
from typing import Any


class PathMap(MutableMapping):
    """A mutable mapping from path patterns to values with Keras's lookup rule.

    The entries live in ``self._entries`` (a dict, in insertion order).
    Subclasses implement ``__setitem__`` (their key checks and value conversion,
    then ``self._entries[key] = value``) and ``_several_matches_message``; they
    override ``_default_value`` when a path that matches no key should give
    something other than ``None``.

    Args:
        entries: initial ``{key: value}`` entries, each set through ``__setitem__``
            (so checked like any later one).

    Example:
        >>> from callax.core.path_map import PathMap
        >>> class Names(PathMap):
        ...     def __setitem__(self, key, value):
        ...         self._entries[key] = value
        ...     def _several_matches_message(self, key, matches):
        ...         return f"{key!r} matches {matches}"
        >>> names = Names({"dense/.*": "a dense weight"})
        >>> names["dense/kernel"], names["conv/kernel"]
        ('a dense weight', None)
    """

    def __init__(self, entries: dict | None = None):
        self._entries: dict[str, Any] = {}
        for key, value in (entries or {}).items():
            self[key] = value

    def _default_value(self) -> Any:
        return None

    def _several_matches_message(self, key: str, matches: list[str]) -> str:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        if key in self._entries:
            return self._entries[key]
        matches = [pattern for pattern in self._entries if re.fullmatch(pattern, key)]
        if len(matches) > 1:
            raise ValueError(self._several_matches_message(key, matches))
        return self._entries[matches[0]] if matches else self._default_value()

    def __delitem__(self, key: str) -> None:
        del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)
