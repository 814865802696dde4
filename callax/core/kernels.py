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
- a kernel is compiled the first time a signature (argument shapes/dtypes and
  static arguments such as ``training``) is seen: compiling one fused kernel
  costs about half of what running the same call op by op costs in per-primitive
  compiles (measured: Dense+softmax 0.15 s vs 0.28 s), so even a one-off shape
  is cheaper compiled;
- layers that are interchangeable share kernels: same class, same settings
  (every attribute that can affect ``call``: scalars, activation functions, dtype
  policy, sublayers' settings), same variable shapes and same signature. Twenty
  identical ``Dense`` blocks compile once, not twenty times;
- variables the layer assigns (seed state, BatchNorm statistics) come back as
  outputs and are written to the variables, exactly as op by op;
- a layer's kernels stay valid until ITS structure changes (its own or a
  sublayer's stamp, see ``structure_stamps`` in ``core/layer.py``): creating or
  changing an unrelated layer costs one short check, never a compile;
- the tables are bounded: a layer keeps at most ``MAX_SIGNATURES`` kernels (the
  oldest goes first) and dies with the layer; the shared table keeps at most
  ``MAX_SHARED`` kernels, least recently looked up going first, and holds dead
  layers' attributes only by weak reference.

``kernel_stats()`` reports compiles, shared kernels and hits (tests pin the rules).
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core.hooks import _hooked
from callax.core.pure_call import write_back
from callax.core.seed_generator import SeedGenerator
from callax.core.stateless_scope import StatelessScope
from callax.core.structure import ArrayImpl as _ArrayImpl
from callax.core.structure import structure_stamps, structure_version
from callax.core.variable import Variable

# Table bounds (see the module docstring). A live layer keeps its own kernels, so
# the shared table only decides which NEW layers can share; what it holds beyond
# live layers' kernels is memory (about 1.5 MiB per CPU kernel, measured: 300
# distinct kernels grew RSS by ~500 MiB unbounded, ~160 MiB with a small cap).
# Identical layers are usually created together, so the recent 64 serve them.
MAX_SIGNATURES = 32
MAX_SHARED = 64

_SCALARS = (bool, int, float, str, type(None))
# NumPy kinds a kernel takes (strings and objects never go to the device: the
# layer's own call runs on them and says what it expected)
_NUMERIC = frozenset("fiubc")

_stats = {"compiles": 0, "shared": 0, "hits": 0}


def kernel_stats() -> dict[str, int]:
    """Counts since start (or ``reset_kernel_stats``): kernels compiled, kernels
    reused from an interchangeable layer, and calls served by a kernel."""
    return dict(_stats)


def shared_table_size() -> int:
    """How many kernels the shared table holds now (at most ``MAX_SHARED``)."""
    return len(_shared)


def reset_kernel_stats() -> None:
    for key in _stats:
        _stats[key] = 0


def signature(args: tuple, kwargs: dict) -> tuple | None:
    """A hashable key for the call, or ``None`` if the call is not kernel-able.

    Positional NumPy arrays count by shape and dtype, as JAX arrays do (the call
    protocol passes only those that need no cast, see ``core/call.py``
    ``convert_args``): the kernel's ``jax.jit`` call converts them, never caching
    their values, so an array changed between calls is read afresh."""
    parts: list[Any] = []
    for a in args:
        t = type(a)
        if t is _ArrayImpl or (t is np.ndarray and a.dtype.kind in _NUMERIC):
            parts.append((a.shape, a.dtype))
        elif t is list or t is tuple:
            sub = []
            for b in a:
                tb = type(b)
                if tb is not _ArrayImpl and (tb is not np.ndarray or b.dtype.kind not in _NUMERIC):
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


# Attributes that name or bookkeep a layer without affecting what its call computes.
_IGNORED = frozenset(
    {"name", "_init_args", "_callax_init", "_own_variables", "_trainable_flags",
     "_last_losses", "_kernel", "_compiled", "_build_shapes", "_build_dtypes",
     "_inbound_nodes", "_kernels_by_trainable", "_structure", "_forward_hooks",
     "_forward_pre_hooks"}
)  # fmt: skip
_INERT = ("Initializer", "Regularizer", "Constraint")  # used by build/fit, never by call


class _Identity:
    """A fingerprint part standing for one object by identity. It holds the object
    weakly when it can, so a shared-table key does not keep a dead layer's
    attributes alive, and a new object that reuses a dead one's ``id`` never
    matches the old key (``("id", id(obj))`` could, and share a wrong kernel)."""

    __slots__ = ("ref", "obj", "key")

    def __init__(self, obj: Any):
        self.key = id(obj)
        try:
            self.ref, self.obj = weakref.ref(obj), None
        except TypeError:  # lists, dicts...: held (the table's bound limits them)
            self.ref, self.obj = None, obj

    def target(self) -> Any:
        return self.obj if self.ref is None else self.ref()

    def __hash__(self) -> int:
        return self.key

    def __eq__(self, other: Any) -> bool:
        if not isinstance(other, _Identity):
            return False
        mine = self.target()
        return mine is not None and mine is other.target()


def fingerprint(value: Any, depth: int = 0) -> Any:
    """A hashable summary of everything in ``value`` that can change what a
    built-in layer's ``call`` computes; two layers with equal fingerprints (and
    equal variable shapes) may share a compiled kernel. Unknown objects count by
    identity, so in doubt layers do not share."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(fingerprint(v, depth) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, fingerprint(v, depth)) for k, v in value.items()))
    if isinstance(value, Variable):
        return ("var", tuple(value.shape), str(value.dtype))
    if isinstance(value, SeedGenerator):
        return "seed"
    if callable(getattr(value, "_flatten_layers", None)):  # a Layer (duck-typed: below it)
        if depth > 8:
            return ("id", _Identity(value))
        items = tuple(
            (k, fingerprint(v, depth + 1)) for k, v in value.__dict__.items() if k not in _IGNORED
        )
        return (type(value), items)
    if callable(value) and hasattr(value, "__code__"):  # functions: by identity
        return value
    kind = type(value)
    if any(base.__name__ in _INERT for base in kind.__mro__):
        return kind.__name__
    if kind.__name__ == "DTypePolicy" or kind.__name__.endswith("DTypePolicy"):
        return ("policy", getattr(value, "name", None))
    try:
        hash(value)
    except TypeError:
        return ("id", _Identity(value))
    return ("obj", kind, value) if kind.__eq__ is not object.__eq__ else ("id", _Identity(value))


def numpy_to_device(args: tuple) -> tuple:
    """``args`` with NumPy arrays (also inside lists and tuples) as JAX arrays: for
    the paths that run ``call`` as Python on arguments a kernel would have taken
    as they are (the call protocol leaves only arrays that need no cast)."""
    out = []
    for a in args:
        t = type(a)
        if t is np.ndarray and a.dtype.kind in _NUMERIC:  # strings stay on the host
            a = jnp.asarray(a)
        elif t is list or t is tuple:
            a = t(numpy_to_device(a))
        out.append(a)
    return tuple(out)


class _Entry:
    """One compiled kernel, shareable by interchangeable layers."""

    __slots__ = ("fn", "assigned", "array_keys", "__weakref__")

    def __init__(self):
        self.fn = None
        self.assigned: list[int] | None = None  # positions in layer.variables
        self.array_keys: list[str] = []


# Kernels by (settings fingerprint, variable shapes, signature), least recently
# looked up first; bounded by MAX_SHARED. The lock guards its updates (lookups
# happen only on a layer's first call with a signature, never on the hot path).
_OP_BY_OP = object()  # marks a signature whose kernel failed to build: runs op by op
_shared: OrderedDict[tuple, _Entry] = OrderedDict()
_shared_lock = threading.Lock()
# The layer whose call a kernel (re)trace runs: interchangeable layers share one
# compiled function, so it is told per call, and per thread.
_tracing = threading.local()


def _forget_shared(entry: _Entry) -> None:
    with _shared_lock:
        for shared_key, shared in list(_shared.items()):
            if shared is entry:
                del _shared[shared_key]


class LayerKernel:
    """The compiled kernels one layer uses, one per signature."""

    __slots__ = ("layer", "entries", "variables", "epoch", "stamps")

    def __init__(self, layer: Any):
        self.layer = layer
        self.entries: dict[tuple, _Entry] = {}
        self.variables: list[Any] = []
        self.epoch = -1  # structure_version[0] when the stamps were last checked
        self.stamps: tuple | None = None

    def _check_structure(self) -> bool:
        """Drops every kernel if this layer's tree changed since they were made
        (runs only when some layer somewhere changed: one short walk). Returns
        whether a sublayer holds a forward hook (``core/hooks.py``): the call
        then runs op by op, so the inner call and its hook really happen, and
        the epoch stays stale so that the check repeats until the hook goes."""
        self.epoch = structure_version[0]
        stamps = structure_stamps(self.layer)
        if stamps != self.stamps:
            self.stamps = stamps
            self.entries = {}
        if _hooked and any(sub in _hooked for sub in self.layer._flatten_layers(False)):
            self.epoch = -1
            return True
        return False

    def run(self, args: tuple, kwargs: dict) -> Any:
        key = signature(args, kwargs)
        if key is None:
            return self._op_by_op(args, kwargs)
        if self.epoch != structure_version[0] and self._check_structure():
            return self._op_by_op(args, kwargs)  # a sublayer is hooked
        entry = self.entries.get(key)
        if entry is None:
            entry = self._lookup(key, kwargs)
        elif entry is _OP_BY_OP:
            return self._op_by_op(args, kwargs)
        variables = self.variables
        # Read without the state lock (as before snapshot() existed): a kernel call is
        # one layer's few variables, its writes go through write_back, and the lock
        # costs ~0.25 us per call, 2-4% of an eager seed-model call.
        values = [v._value if v._value is not None else v.value for v in variables]
        arrays = [kwargs[k] for k in entry.array_keys]
        tracing = _tracing.__dict__
        previous = tracing.get("layer")
        tracing["layer"] = self.layer  # a retrace (e.g. new weak types) traces this layer
        try:
            outputs, updates = entry.fn(values, args, arrays)
        except Exception:
            # The kernel could not be built for this signature (bad input shapes,
            # or a call that needs concrete values): from now on this signature
            # runs op by op, and this call re-runs so that its error (if any) comes
            # from the layer's own code, without JAX's tracing frames and notes.
            # Nothing was written yet: the kernel's state updates come back as outputs.
            self.entries[key] = _OP_BY_OP
            _forget_shared(entry)
            return self._op_by_op(args, kwargs)
        finally:
            tracing["layer"] = previous
        _stats["hits"] += 1
        if updates:
            write_back([variables[i] for i in entry.assigned], updates)
        return outputs

    def _op_by_op(self, args: tuple, kwargs: dict) -> Any:
        """The layer's ``call`` run as Python, on JAX arrays: NumPy arguments the
        kernel would have converted are converted first (they need no cast)."""
        if any(type(a) is np.ndarray or type(a) in (list, tuple) for a in args):
            args = numpy_to_device(args)
        return self.layer.call(*args, **kwargs)

    def _lookup(self, key: tuple, kwargs: dict) -> _Entry:
        layer = self.layer
        self.variables = variables = layer.variables
        shared_key = (
            fingerprint(layer),
            tuple((tuple(v.shape), str(v.dtype)) for v in variables),
            key,  # the signature; settings changes show in the fingerprint
        )
        with _shared_lock:
            try:
                entry = _shared.get(shared_key)
                if entry is not None:
                    _shared.move_to_end(shared_key)
            except TypeError:  # something unhashable slipped in: no sharing
                entry, shared_key = None, None
        if entry is not None:
            _stats["shared"] += 1
        else:
            entry = self._compile(kwargs)
            if shared_key is not None:
                with _shared_lock:
                    _shared[shared_key] = entry
                    while len(_shared) > MAX_SHARED:
                        _shared.popitem(last=False)
        entries = self.entries
        if len(entries) >= MAX_SIGNATURES:  # the oldest signature goes first
            del entries[next(iter(entries))]
        entries[key] = entry
        return entry

    def _compile(self, kwargs: dict) -> _Entry:
        entry = _Entry()
        entry.array_keys = [k for k, v in kwargs.items() if type(v) is _ArrayImpl]
        static = {k: v for k, v in kwargs.items() if type(v) is not _ArrayImpl}

        def pure(values, args, arrays):
            layer = _tracing.layer
            variables = layer.variables
            with StatelessScope(zip(variables, values)) as scope:
                outputs = layer.call(*args, **static, **dict(zip(entry.array_keys, arrays)))
            # Which variables the call assigns is learnt while tracing, as
            # positions so that every layer sharing the kernel maps its own.
            updates = scope.updates()
            index = {id(v): i for i, v in enumerate(variables)}
            missing = [v for v, _ in updates if id(v) not in index]
            if missing:
                raise RuntimeError(
                    f"{type(layer).__name__} '{layer.name}': its call assigns "
                    f"{missing[0]!r}, which is not one of its own variables; a built-in "
                    "layer's compiled kernel can only update the layer's variables."
                )
            entry.assigned = [index[id(v)] for v, _ in updates]
            return outputs, [value for _, value in updates]

        entry.fn = jax.jit(pure)
        _stats["compiles"] += 1
        return entry
