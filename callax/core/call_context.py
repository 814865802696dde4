"""The call context: a stack of frames, one per running layer call.

Each ``Layer.__call__`` pushes a :class:`Frame` (layer, path, call index,
resolved ``training``) while its ``call`` runs. Nested layers read the enclosing
frame to inherit ``training``; variables read it to get their path; the call
recorder and error messages read it to say where things happened.

Observers (``add_listener``) see every frame as it opens and closes. With none
registered the protocol pays one truthiness check per call.
"""

from __future__ import annotations

import threading
from typing import Any

from callax.core.local_scope import ThreadLocalScope

_local = threading.local()


class Frame:
    """One running layer call.

    Attributes:
        layer: the layer whose ``call`` runs.
        parent: the enclosing frame, or ``None`` for a top-level call.
        training: the resolved training flag (``None`` if unknown).
        call_index: 1-based count of calls of ``layer`` within the outermost call.
        counts: per-outermost-call dict ``id(layer) -> calls so far`` (shared).
        record: free slot for the recorder's per-call record.
    """

    __slots__ = ("layer", "parent", "training", "call_index", "counts", "record")

    def __init__(self, layer, parent, training, call_index, counts):
        self.layer = layer
        self.parent = parent
        self.training = training
        self.call_index = call_index
        self.counts = counts
        self.record = None

    def path(self) -> list[Frame]:
        """Frames from the outermost call down to this one."""
        frames = []
        frame = self
        while frame is not None:
            frames.append(frame)
            frame = frame.parent
        return frames[::-1]


def current_frame() -> Frame | None:
    return getattr(_local, "frame", None)


def push_frame(layer, training) -> Frame:
    parent = getattr(_local, "frame", None)
    if parent is None:
        counts = {}
    else:
        counts = parent.counts
    key = id(layer)
    index = counts.get(key, 0) + 1
    counts[key] = index
    frame = Frame(layer, parent, training, index, counts)
    _local.frame = frame
    return frame


class isolated_context(ThreadLocalScope):
    """Runs a block as if no layer call were in progress (fresh top-level calls).

    Used where a call nested in another is really a separate computation, such as
    building a layer abstractly while its parent runs.
    """

    _store, _field = _local, "frame"

    def _entered_value(self) -> None:
        return None


# ---------------------------------------------------------------- name scopes
def current_path() -> str:
    """The ``/``-joined names of layers whose call (or build) is running now, with
    the ``callax.name_scope`` names entered between them."""
    frame = getattr(_local, "frame", None)
    names = []
    frames = []
    while frame is not None:
        names.append(frame.layer.name)
        frames.append(frame)
        frame = frame.parent
    scopes = getattr(_local, "name_scopes", None)
    if not scopes:
        return "/".join(reversed(names))
    after: dict[Any, list[str]] = {}  # each scope follows the frame it was entered in
    for name, at in scopes:
        after.setdefault(None if at is None else id(at), []).append(name)
    parts = list(after.get(None, ()))
    for f in reversed(frames):
        parts.append(f.layer.name)
        parts.extend(after.get(id(f), ()))
    return "/".join(parts)


def push_name_scope(name: str) -> None:
    """Enters a name scope (``callax.name_scope``): variables made inside get
    ``name/`` in their path at this point of the call stack."""
    scopes = getattr(_local, "name_scopes", None)
    if scopes is None:
        scopes = _local.name_scopes = []
    scopes.append((name, getattr(_local, "frame", None)))


def pop_name_scope() -> None:
    _local.name_scopes.pop()


# ---------------------------------------------------------------- listeners
# The recorder registers here. `_listeners` is read on every call, so it is a
# plain module-level list whose truthiness is the whole cost when unused.
_listeners: list[Any] = []


def add_listener(listener: Any) -> None:
    """Registers an object with ``on_call_start(frame, args, kwargs)`` and
    ``on_call_end(frame, outputs, error)`` methods."""
    _listeners.append(listener)
    _sync()


def remove_listener(listener: Any) -> None:
    _listeners.remove(listener)
    _sync()


def listeners() -> list[Any]:
    return _listeners


class listening:
    """Context manager registering ``listener`` for the duration of a block."""

    def __init__(self, listener: Any):
        self.listener = listener

    def __enter__(self):
        add_listener(self.listener)
        return self.listener

    def __exit__(self, *exc):
        remove_listener(self.listener)


# ---------------------------------------------------------------- taps
# Taps may change what a call receives and returns: forward hooks
# (`callax.core.hooks`), `callax.capture` and `callax.intervention`. A tap has
#   start(frame, args, kwargs) -> None | (args, kwargs)   before `call` runs
#   end(frame, args, kwargs, outputs) -> outputs           after it returned
#   priority: int  (hooks 0 run first, interventions 10, captures 20)
#   kernels: bool  (False: every layer runs `call` op by op while it is active)
# `Layer.__call__` tests `_observers` (listeners + taps) where it used to test
# the listeners: no tap and no listener still costs one truthiness check per
# call. `_kernels_off` (listeners + taps that need every nested call visible)
# is the per-layer-kernel switch, so a forward hook on one layer leaves every
# other layer's compiled kernel in use.
_taps: list[Any] = []
_observers: list[Any] = []
_kernels_off: list[Any] = []
# Taps that need every call as Python (captures, interventions): `callax.jit`
# calls run eagerly while one is active, so nothing is traced into its cache.
_eager_only: list[Any] = []


def _sync() -> None:
    _observers[:] = list(_listeners) + _taps
    _eager_only[:] = [t for t in _taps if not getattr(t, "kernels", False)]
    _kernels_off[:] = list(_listeners) + _eager_only


def add_tap(tap: Any) -> None:
    """Registers a tap (see the comment above); ordered by ``tap.priority``."""
    _taps.append(tap)
    _taps.sort(key=lambda t: getattr(t, "priority", 10))
    _sync()


def remove_tap(tap: Any) -> None:
    if tap in _taps:
        _taps.remove(tap)
    _sync()


def call_start(frame: Frame, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Runs the taps' ``start`` (which may replace the arguments), then tells the
    listeners with the arguments the call will really get."""
    for tap in _taps:
        replaced = tap.start(frame, args, kwargs)
        if replaced is not None:
            args, kwargs = replaced
    for listener in _listeners:
        listener.on_call_start(frame, args, kwargs)
    return args, kwargs


def call_end(frame: Frame, args: tuple, kwargs: dict, outputs: Any, built_here: bool) -> Any:
    """Runs the taps' ``end`` (which may replace the outputs), then tells the
    listeners with the outputs the caller will really get."""
    for tap in _taps:
        outputs = tap.end(frame, args, kwargs, outputs)
    for listener in _listeners:
        listener.on_call_end(frame, outputs, None, built_here)
    return outputs


def call_error(frame: Frame, error: BaseException) -> None:
    for listener in _listeners:
        listener.on_call_end(frame, None, error, False)
