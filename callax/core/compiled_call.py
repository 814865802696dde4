"""``callax.jit(model)``: the same call, compiled in one line.

``fast = callax.jit(model)`` takes the same arguments as ``model``, uses the same
variables, and writes state updates (seed generators, BatchNorm statistics) back
to them, but runs one cached ``jax.jit`` function per input structure, shapes,
dtypes and static arguments (``training`` and any other non-array argument).

The cache follows THIS layer's structure only: assigning a sublayer or a
variable, building a new weight or flipping ``trainable`` anywhere in its tree
re-traces; creating or changing unrelated layers does not. It keeps at most
``MAX_ENTRIES`` compiled functions, one per argument structure and static
arguments (the oldest goes first); each caches its own shapes and dtypes.

Calls are thread-safe: each reads the variables as one consistent set (never
half of a concurrent ``fit`` sync) and writes its state updates back as one set.

Python side effects in ``call`` (``print``, counters, appending to lists) run
when a new signature is traced, not on every call; use the model itself
(faithful eager) while debugging. A ``call`` that cannot be traced (Python logic
on tensor values, such as ``if x.sum() > 0:``) falls back to eager, with a
one-time warning naming the reason.

Example:
    >>> import callax
    >>> model = callax.layers.Dense(4)
    >>> fast = callax.jit(model)
    >>> x = callax.ops.ones((2, 3))
    >>> bool((fast(x) == model(x)).all())
    True
    >>> fast(x).shape, fast.cache_info()["traces"]   # same shapes: no new trace
    ((2, 4), 1)
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import numpy as np

from callax.core.call_context import _eager_only
from callax.core.pure_call import snapshot, write_back
from callax.core.stateless_scope import StatelessScope
from callax.core.structure import ArrayImpl as _ArrayImpl
from callax.core.structure import structure_stamps, structure_version

MAX_ENTRIES = 64  # signatures kept per compiled layer (each holds one XLA executable)

_TRACE_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
)


_ARRAYS = (jax.Array, np.ndarray)


class CompiledCall:
    """A compiled view of a layer's call; see :func:`jit`."""

    def __init__(self, layer: Any):
        self.layer = layer
        self._entries: dict[Any, Any] = {}
        self._epoch = -1  # structure_version[0] when the stamps were last checked
        self._stamps: tuple | None = None
        self._fallback: str | None = None
        self._stats = {"traces": 0, "calls": 0, "eager_fallbacks": 0}

    def cache_info(self) -> dict[str, Any]:
        """Traces (one per new signature: a compile), compiled calls, eager
        fallbacks, and the fallback reason if any."""
        return {**self._stats, "entries": len(self._entries), "fallback_reason": self._fallback}

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        layer = self.layer
        if _eager_only:  # a capture/intervention is active: run (and reach) every call
            return layer(*args, **kwargs)
        if self._fallback is not None or not layer.built:
            # Unbuilt: the first call builds eagerly (weights are created from real
            # shapes, once), then later calls compile.
            if self._fallback is not None:
                self._stats["eager_fallbacks"] += 1
            return layer(*args, **kwargs)
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        dynamic = []
        static = []
        for i, leaf in enumerate(leaves):
            if type(leaf) is _ArrayImpl or isinstance(leaf, _ARRAYS):
                dynamic.append(i)
            else:
                static.append((i, leaf))
        static = tuple(static)
        if self._epoch != structure_version[0]:
            self._check_structure()
        key = (treedef, tuple(dynamic), static)
        entries = self._entries
        try:
            entry = entries.get(key)
        except TypeError:  # an unhashable non-array argument: cannot be static
            return layer(*args, **kwargs)
        if entry is None:
            if len(entries) >= MAX_ENTRIES:  # the oldest signature goes first
                entries.pop(next(iter(entries)), None)
            entry = entries[key] = self._compile(treedef, len(leaves), static)
        fn, variables, assigned = entry
        # Raw stored values (no scope is active here; autocast applies inside the
        # trace), as one set: never half of a write-back made on another thread.
        values = snapshot(variables)
        try:
            outputs, updates = fn(values, [leaves[i] for i in dynamic])
        except _TRACE_ERRORS as error:
            self._fallback = f"{type(error).__name__}: {str(error).splitlines()[0]}"
            warnings.warn(
                f"callax.jit({layer.name}): `{type(layer).__name__}.call` cannot be traced, "
                f"so calls run eagerly instead. Reason: {self._fallback} Python logic on "
                "tensor values (`if x.sum() > 0:`) needs eager execution; use "
                "callax.ops.cond / ops.where to make it traceable.",
                stacklevel=2,
            )
            entries.pop(key, None)
            self._stats["eager_fallbacks"] += 1
            return layer(*args, **kwargs)
        if updates:
            write_back(assigned, updates)
        self._stats["calls"] += 1
        return outputs

    def _check_structure(self) -> None:
        """Drops every trace if this layer's tree changed since they were made
        (runs only when some layer somewhere changed: one walk of the tree)."""
        self._epoch = structure_version[0]
        stamps = structure_stamps(self.layer)
        if stamps != self._stamps:
            self._stamps = stamps
            self._entries = {}

    def _compile(self, treedef, n_leaves: int, static: tuple):
        layer = self.layer
        variables = layer.variables
        assigned: list[Any] = []
        static_map = dict(static)

        def pure(values, dynamic):
            self._stats["traces"] += 1
            it = iter(dynamic)
            leaves = [static_map[i] if i in static_map else next(it) for i in range(n_leaves)]
            args, kwargs = jax.tree_util.tree_unflatten(treedef, leaves)
            with StatelessScope(zip(variables, values)) as scope:
                outputs = layer(*args, **kwargs)
            updates = scope.updates()
            assigned[:] = [v for v, _ in updates]  # learnt once, at trace time
            return outputs, [value for _, value in updates]

        return jax.jit(pure), variables, assigned

    def __repr__(self) -> str:
        return f"<callax.jit of {type(self.layer).__name__} '{self.layer.name}'>"


def jit(layer: Any) -> CompiledCall:
    """Returns a compiled version of ``layer`` (or model) with the same signature.

    See the module docstring for the rules; ``predict`` uses the same path.
    """
    return CompiledCall(layer)
