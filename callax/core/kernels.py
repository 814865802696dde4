"""Per-layer compiled kernels: how faithful eager calls stay fast.

A user's ``call`` always runs as Python (prints, counters and Python logic
behave as written). Built-in layers have no Python side effects, so each one may
run its own ``call`` as one cached ``jax.jit`` kernel instead of a handful of
separately dispatched ops. The rules:

- only classes whose ``call`` is callax's own and that set ``_kernel_call = True``
  (a user subclass overriding ``call`` never qualifies);
- only when the call is plain eager: no stateless scope (``stateless_call``,
  compiled steps and ``callax.jit`` trace the op-by-op path instead), no
  listener (the recorder sees every nested call), layer already built;
- a signature (argument shapes/dtypes and static arguments such as
  ``training``) compiles the second time it is seen, so one-off shapes pay no
  compile;
- variables the layer assigns (seed state, BatchNorm statistics) come back as
  outputs and are written to the variables, exactly as op by op.

``kernel_stats()`` reports hits, misses and compiles (tests pin the rules).
"""

from __future__ import annotations

from typing import Any

import jax

from callax.core.layer import _ArrayImpl, structure_version
from callax.core.stateless_scope import StatelessScope

_SCALARS = (bool, int, float, str, type(None))

_stats = {"eager_first_sighting": 0, "compiles": 0, "hits": 0}


def kernel_stats() -> dict[str, int]:
    """Counts since start (or ``reset_kernel_stats``): first sightings run eagerly,
    compiles, and calls served by a compiled kernel."""
    return dict(_stats)


def reset_kernel_stats() -> None:
    for key in _stats:
        _stats[key] = 0


def signature(args: tuple, kwargs: dict) -> tuple | None:
    """A hashable key for the call, or ``None`` if the call is not kernel-able."""
    parts: list[Any] = []
    for a in args:
        t = type(a)
        if t is _ArrayImpl:
            parts.append((a.shape, a.dtype))
        elif t is list or t is tuple:
            sub = []
            for b in a:
                if type(b) is not _ArrayImpl:
                    return None
                sub.append((b.shape, b.dtype))
            parts.append(tuple(sub))
        else:
            return None
    for k, v in kwargs.items():
        if type(v) is _ArrayImpl:
            parts.append((k, v.shape, v.dtype))
        elif isinstance(v, _SCALARS):
            parts.append((k, "static", v))
        else:
            return None
    return tuple(parts)


class _Entry:
    __slots__ = ("fn", "variables", "assigned", "array_keys")

    def __init__(self):
        self.fn = None
        self.variables: list[Any] = []
        self.assigned: list[Any] = []
        self.array_keys: list[str] = []


class LayerKernel:
    """The compiled kernels of one layer, one per seen-twice signature."""

    __slots__ = ("layer", "seen", "entries")

    def __init__(self, layer: Any):
        self.layer = layer
        self.seen: set[tuple] = set()
        self.entries: dict[tuple, _Entry] = {}

    def run(self, args: tuple, kwargs: dict) -> Any:
        key = signature(args, kwargs)
        if key is None:
            return self.layer.call(*args, **kwargs)
        key = (key, structure_version[0])
        entry = self.entries.get(key)
        if entry is None:
            if key not in self.seen:
                self.seen.add(key)
                _stats["eager_first_sighting"] += 1
                return self.layer.call(*args, **kwargs)
            entry = self._compile(key, kwargs)
        _stats["hits"] += 1
        values = [v._value if v._value is not None else v.value for v in entry.variables]
        arrays = [kwargs[k] for k in entry.array_keys]
        outputs, updates = entry.fn(values, args, arrays)
        for variable, value in zip(entry.assigned, updates):
            variable._value = value
        return outputs

    def _compile(self, key: tuple, kwargs: dict) -> _Entry:
        layer = self.layer
        entry = _Entry()
        entry.variables = layer.variables
        entry.array_keys = [k for k, v in kwargs.items() if type(v) is _ArrayImpl]
        static = {k: v for k, v in kwargs.items() if type(v) is not _ArrayImpl}
        variables = entry.variables

        def pure(values, args, arrays):
            with StatelessScope(zip(variables, values)) as scope:
                outputs = layer.call(*args, **static, **dict(zip(entry.array_keys, arrays)))
            # Which variables the call assigns is learnt while tracing, once.
            entry.assigned = [v for v, _ in scope.updates()]
            return outputs, [value for _, value in scope.updates()]

        entry.fn = jax.jit(pure)
        self.entries[key] = entry
        _stats["compiles"] += 1
        return entry
