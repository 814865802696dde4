"""PyTorch-style forward hooks: ``layer.register_forward_hook(fn)`` and
``layer.register_forward_pre_hook(fn)``.

Semantics (PyTorch's):

- ``pre_hook(layer, args) -> None | args``: runs before every call of ``layer``;
  ``args`` is the tuple of positional arguments (converted to arrays). A
  returned tuple replaces them; a single value is wrapped in a tuple. With
  ``with_kwargs=True``: ``pre_hook(layer, args, kwargs) -> None | (args, kwargs)``
  (``kwargs`` includes the resolved ``training``).
- ``hook(layer, args, output) -> None | output``: runs after every call; a value
  other than ``None`` replaces the output. With ``with_kwargs=True``:
  ``hook(layer, args, kwargs, output)``.
- hooks run in registration order (``prepend=True`` puts one first); each
  registration returns a :class:`RemovableHandle` (``handle.remove()``, or use
  it as a context manager). Registering or removing a hook changes nothing else.

How hooks meet compiled code:

- a hooked built-in layer keeps its compiled per-layer kernel: the kernel runs,
  then the hook, on concrete arrays (pre-hooks run before the kernel, on the
  arguments it will get);
- a built-in layer that CONTAINS a hooked layer (``MultiHeadAttention`` with a
  hook on its query projection) runs its ``call`` op by op while the hook is
  registered, so the inner call, and its hook, really happen every time; its
  kernels come back when the hook is removed;
- unhooked layers keep their kernels: a hook costs the other layers one short
  check per call (a few hundred nanoseconds);
- under ``callax.jit``, ``jax.jit``, ``fit``'s compiled steps and
  ``stateless_call`` the hook runs while the call is traced: what it returns
  is part of the compiled function, and Python side effects (appending to a
  list) happen at trace time, on tracers. Registering or removing a hook
  re-stamps the layer, so ``callax.jit`` (and compiled eager calls) re-trace;
  ``fit`` compiles its steps per ``compile()``, so register hooks before it.

Example:
    >>> import callax
    >>> layer = callax.layers.Dense(3)
    >>> handle = layer.register_forward_hook(lambda layer, args, out: out * 0)
    >>> float(layer(callax.ops.ones((2, 4))).sum())
    0.0
    >>> handle.remove()
    >>> float(abs(layer(callax.ops.ones((2, 4)))).sum()) > 0
    True
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

from callax.core import call_context as _ctx
from callax.core.structure import restamp as _restamp

_ids = itertools.count()
# Layers that hold at least one hook; the hook tap is registered while non-empty.
_hooked: weakref.WeakSet = weakref.WeakSet()
_KEYS = {"pre": "_forward_pre_hooks", "forward": "_forward_hooks"}


class RemovableHandle:
    """Returned by ``register_forward_hook``/``register_forward_pre_hook``:
    ``remove()`` unregisters the hook (twice is harmless); ``with handle:``
    removes it when the block ends, even on an exception."""

    __slots__ = ("id", "_layer", "_kind")

    def __init__(self, layer: Any, kind: str, hook_id: int):
        self.id = hook_id
        self._layer = weakref.ref(layer)
        self._kind = kind

    def remove(self) -> None:
        layer = self._layer()
        if layer is None:
            return
        hooks = layer.__dict__.get(_KEYS[self._kind])
        if not hooks or self.id not in hooks:
            return
        del hooks[self.id]
        _changed(layer)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def __repr__(self) -> str:
        layer = self._layer()
        name = "<dead layer>" if layer is None else f"{type(layer).__name__} '{layer.name}'"
        return f"<RemovableHandle {self._kind} hook {self.id} on {name}>"


def has_hooks(layer: Any) -> bool:
    """Whether ``layer`` holds a forward hook or forward pre-hook."""
    d = layer.__dict__
    return bool(d.get("_forward_hooks") or d.get("_forward_pre_hooks"))


def register(
    layer: Any, kind: str, hook: Any, *, prepend: bool = False, with_kwargs: bool = False
) -> RemovableHandle:
    """Adds ``hook`` to ``layer``; ``kind`` is ``"pre"`` or ``"forward"``."""
    method = "register_forward_pre_hook" if kind == "pre" else "register_forward_hook"
    if not callable(hook):
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}'.{method}: hook must be callable "
            f"(fn(layer, args{', output' if kind == 'forward' else ''}) -> None or a "
            f"replacement); received {type(hook).__name__} {hook!r:.80}."
        )
    key = _KEYS[kind]
    hooks = layer.__dict__.get(key)
    if hooks is None:
        hooks = layer.__dict__[key] = {}
    hook_id = next(_ids)
    entry = (hook, bool(with_kwargs))
    if prepend:
        items = list(hooks.items())
        hooks.clear()
        hooks[hook_id] = entry
        hooks.update(items)
    else:
        hooks[hook_id] = entry
    _changed(layer)
    return RemovableHandle(layer, kind, hook_id)


def _changed(layer: Any) -> None:
    """A hook came or went: compiled calls that contain ``layer`` re-trace (its
    stamp changes), and the hook tap is registered while any layer holds a hook."""
    _restamp(layer)
    if has_hooks(layer):
        _hooked.add(layer)
    else:
        _hooked.discard(layer)
    if len(_hooked) and _TAP not in _ctx._taps:
        _ctx.add_tap(_TAP)
    elif not len(_hooked) and _TAP in _ctx._taps:
        _ctx.remove_tap(_TAP)


class _HookTap:
    """Runs the hooks of the layer whose call starts or ends."""

    priority = 0  # before interventions and captures: hooks are the layer's behaviour
    kernels = True  # unhooked layers keep their compiled kernels

    def start(self, frame: Any, args: tuple, kwargs: dict) -> Any:
        layer = frame.layer
        hooks = layer.__dict__.get("_forward_pre_hooks")
        if not hooks:
            return None
        for hook, with_kwargs in list(hooks.values()):
            if with_kwargs:
                result = hook(layer, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise TypeError(
                            f"forward pre-hook {_name(hook)} on {type(layer).__name__} "
                            f"'{layer.name}' (with_kwargs=True) must return None or "
                            f"(args, kwargs); received {type(result).__name__}."
                        )
                    args, kwargs = result
                    args = args if isinstance(args, tuple) else (args,)
            else:
                result = hook(layer, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        return args, kwargs

    def end(self, frame: Any, args: tuple, kwargs: dict, outputs: Any) -> Any:
        layer = frame.layer
        hooks = layer.__dict__.get("_forward_hooks")
        if not hooks:
            return outputs
        for hook, with_kwargs in list(hooks.values()):
            if with_kwargs:
                result = hook(layer, args, kwargs, outputs)
            else:
                result = hook(layer, args, outputs)
            if result is not None:
                outputs = result
        return outputs


def _name(hook: Any) -> str:
    return getattr(hook, "__qualname__", None) or repr(hook)


_TAP = _HookTap()
