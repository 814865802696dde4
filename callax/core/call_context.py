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


def pop_frame(frame: Frame) -> None:
    _local.frame = frame.parent


class isolated_context:
    """Runs a block as if no layer call were in progress (fresh top-level calls).

    Used where a call nested in another is really a separate computation, such as
    building a layer abstractly while its parent runs.
    """

    def __enter__(self):
        self._saved = getattr(_local, "frame", None)
        _local.frame = None
        return self

    def __exit__(self, *exc):
        _local.frame = self._saved


# ---------------------------------------------------------------- name scopes
def current_path() -> str:
    """The ``/``-joined names of layers whose call (or build) is running now."""
    frame = getattr(_local, "frame", None)
    names = []
    while frame is not None:
        names.append(frame.layer.name)
        frame = frame.parent
    return "/".join(reversed(names))


# ---------------------------------------------------------------- listeners
# The recorder registers here. `_listeners` is read on every call, so it is a
# plain module-level list whose truthiness is the whole cost when unused.
_listeners: list[Any] = []


def add_listener(listener: Any) -> None:
    """Registers an object with ``on_call_start(frame, args, kwargs)`` and
    ``on_call_end(frame, outputs, error)`` methods."""
    _listeners.append(listener)


def remove_listener(listener: Any) -> None:
    _listeners.remove(listener)


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
