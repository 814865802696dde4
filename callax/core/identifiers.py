"""Resolving Keras-style identifiers (``"mse"``, a config dict, a class, an
instance, a function) to objects: one rule shared by losses and metrics."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any


def resolve(
    identifier: Any,
    kind: str,
    lookup: Callable[[str], Any],
    deserialize: Callable[[dict], Any],
    known: Iterable[str],
) -> Any:
    """``None`` → ``None``; a dict → ``deserialize``; a name → ``lookup`` (an
    unknown name lists the ``known`` ones); a class → an instance; a callable as
    is. ``kind`` names the family in error messages (``"loss"``, ``"metric"``)."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = lookup(identifier)
        if obj is None:
            raise ValueError(f"Unknown {kind} {identifier!r}. Known names: {sorted(known)}.")
    else:
        obj = identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret {kind} identifier: expected a name, a config dict, a "
        f"{kind.capitalize()} or a function; received {identifier!r}."
    )
