"""The mistakes people make with the call protocol, caught where they happen.

Each message shows the wrong code, why it is wrong, and the fix. Errors raised
inside a ``call`` get the call path attached (:func:`attach_call_path`).
"""

from __future__ import annotations

import warnings
from typing import Any


class CallaxPitfallWarning(UserWarning):
    """A pattern that runs but probably does not do what was meant."""


def call_override(cls: type) -> str:
    return (
        f"{cls.__qualname__} defines __call__. The base class's __call__ is what builds "
        "weights on the first call, routes `training` to nested layers, converts inputs "
        "and records the call; overriding it skips all of that.\n"
        "Define `call` instead:\n\n"
        f"    class {cls.__name__}(callax.Model):\n"
        "        def call(self, inputs, training=False):   # not __call__\n"
        "            ...\n"
    )


def delegates_to_base_call(func: Any) -> bool:
    """Whether a ``__call__`` override hands the call on (``super().__call__(...)``):
    such wrappers (KerasHub's preprocessing layers, for one) keep the protocol, so
    defining one is not the mistake ``call_override`` describes."""
    code = getattr(func, "__code__", None)
    return code is not None and "__call__" in code.co_names


def not_initialized(cls: type) -> str:
    return (
        f"{cls.__qualname__} was called, but its __init__ never called "
        "`super().__init__()`, so the layer was never set up. Add it as the first line "
        f"of {cls.__qualname__}.__init__:\n\n"
        "    def __init__(self, ...):\n"
        "        super().__init__()\n"
    )


def missing_call(cls: type) -> str:
    return (
        f"{cls.__qualname__} has no `call` method. `model(inputs)` runs the base class's "
        "__call__, which runs your `call` to compute the outputs; defining layers in "
        "__init__ is not enough. Add:\n\n"
        f"    class {cls.__name__}(callax.Model):\n"
        "        def call(self, inputs):\n"
        "            x = self.dense1(inputs)\n"
        "            return self.dense2(x)\n"
    )


def unbuilt(layer: Any, what: str) -> str:
    return (
        f"{what} needs layer '{layer.name}' ({type(layer).__name__}) to be built, and it "
        "is not: its weights are created from the shape of its first inputs. Build it by "
        f"calling it on data (`{layer.name}(x)`) or with `{layer.name}.build(input_shape)`, "
        "e.g. `.build((None, 32))`."
    )


_warned_layer_in_call: set[tuple[type, type]] = set()


def warn_layer_in_call(parent: Any, child: Any) -> None:
    key = (type(parent), type(child))
    if key in _warned_layer_in_call:
        return
    _warned_layer_in_call.add(key)
    warnings.warn(
        f"A {type(child).__name__} layer was created inside {type(parent).__name__}.call. "
        "A layer made in `call` is new on every call, so its weights are re-created "
        "(random again, never trained). Create it once in __init__ and use it in call:\n\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        f"        self.layer = {type(child).__name__}(...)\n"
        "    def call(self, x):\n"
        "        return self.layer(x)\n",
        CallaxPitfallWarning,
        stacklevel=3,
    )


def attribute_name(parent: Any, child: Any) -> str | None:
    """The attribute under which ``parent`` holds ``child`` (``dense1``, ``blocks[2]``)."""
    for key, value in parent.__dict__.items():
        if value is child:
            return key
        if isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                if v is child:
                    return f"{key}[{i}]"
        elif isinstance(value, dict):
            for k, v in value.items():
                if v is child:
                    return f"{key}[{k!r}]"
    return None


def describe_path(frame: Any) -> str:
    """``MultiInputModel.call → dense1 (Dense 'dense', call 2) → Dense.call``."""
    frames = frame.path()
    root = frames[0]
    parts = [f"{type(root.layer).__name__}.call"]
    if root.call_index > 1:
        parts[0] += f" (call {root.call_index})"
    for parent, child in zip(frames, frames[1:]):
        attr = attribute_name(parent.layer, child.layer) or child.layer.name
        parts.append(
            f"{attr} ({type(child.layer).__name__} '{child.layer.name}', call {child.call_index})"
        )
    if len(frames) > 1:
        parts.append(f"{type(frame.layer).__name__}.call")
    return " → ".join(parts)


def attach_call_path(error: BaseException, frame: Any) -> None:
    """Adds the call path as a note, once: at the innermost call that saw the error."""
    if getattr(error, "_callax_call_path", None) is not None:
        return
    path = describe_path(frame)
    try:
        error._callax_call_path = path  # type: ignore[attr-defined]
    except AttributeError:
        return
    training = frame.training
    error.add_note(f"callax call path: {path}  (training={training})")
