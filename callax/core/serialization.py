"""Configs for any saveable object, in Keras 3's format.

``serialize_keras_object(obj)`` gives a JSON-ready dict::

    {"module": "keras.layers", "class_name": "Dense",
     "config": {...}, "registered_name": None, "build_config": {...}}

and ``deserialize_keras_object(config)`` recreates the object. Built-in objects
are named by their Keras module (``keras.layers``, ``keras.optimizers``...) so
files move between callax and Keras 3; user objects by ``registered_name``
(see :mod:`callax.core.custom_objects`). Classes are only ever looked up in
callax's own public modules or among the objects the user made known: a file
cannot make callax import anything. Python code stored in a config (a ``lambda``)
is refused unless ``safe_mode=False``.

This lives in ``core`` and imports nothing above it: each public callax module
declares the Keras module whose names it holds
(:func:`callax.core.registry.declare_public_module`, called when it is imported), and lookups go through those declarations, the
family registries (:func:`callax.core.registry.family`) and the user registry.
``callax.saving`` re-exports the public names.

Example:
    >>> import callax
    >>> from callax.saving import serialize_keras_object, deserialize_keras_object
    >>> cfg = serialize_keras_object(callax.layers.Dense(3, name="d"))
    >>> cfg["module"], cfg["class_name"], cfg["config"]["units"]
    ('keras.layers', 'Dense', 3)
    >>> deserialize_keras_object(cfg).units
    3
"""

from __future__ import annotations

import base64
import inspect
import marshal
import sys
import threading
import types
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core import config_flags as _flags
from callax.core import custom_objects as _user
from callax.core import registry as _registry
from callax.core.keras_tensor import KerasTensor
from callax.core.local_scope import ThreadLocalScope

PLAIN_TYPES = (str, int, float, bool)

# The order in which a callax class looks for its public Keras name.
_SEARCH_ORDER = [
    "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
    "keras.activations", "keras.optimizers.schedules", "keras.optimizers", "keras.losses",
    "keras.metrics", "keras.models", "keras",
]  # fmt: skip
# Where Keras 3 itself files the model classes (its loader finds them there).
_MODEL_MODULES = {
    "Functional": ("keras.src.models.functional", "Functional"),
    "Sequential": ("keras", None),
    "Model": ("keras", None),
}

_safe = threading.local()


# ------------------------------------------------------------------ safe mode
class SafeModeScope(ThreadLocalScope):
    """Within this block, loading refuses configs holding Python code
    (``safe_mode=True``, the default) or accepts them (``False``)."""

    def __init__(self, safe_mode: bool | None = True):
        self.safe_mode = safe_mode

    _store, _field = _safe, "mode"

    def _entered_value(self) -> bool | None:
        return self.safe_mode


def in_safe_mode() -> bool:
    """Whether loading currently refuses Python code in configs: the innermost
    :class:`SafeModeScope`, else ``not`` :func:`enable_unsafe_deserialization`.

    Example:
        >>> with SafeModeScope(True):
        ...     in_safe_mode()
        True
        >>> with SafeModeScope(False):
        ...     in_safe_mode()
        False
    """
    mode = getattr(_safe, "mode", None)
    if mode is None:
        return not _flags.is_unsafe_deserialization_enabled()
    return bool(mode)


# The process-wide switch is one of keras.config's flags (core/config_flags.py).
enable_unsafe_deserialization = _flags.enable_unsafe_deserialization


def unsafe_code_message(what: str) -> str:
    """The error message for refusing to run ``what`` (Python code stored in a
    file), saying how to allow it and what to use instead."""
    return (
        f"Refusing to load {what}: it holds Python bytecode, and running it would run "
        "arbitrary code from the file. If you trust the file's author as you trust "
        "your own code, pass safe_mode=False to the loading call (or call "
        "callax.config.enable_unsafe_deserialization()). Better: replace the lambda "
        "by a named function registered with @callax.saving.register_keras_serializable()."
    )


# --------------------------------------------------------------- functions
def func_dump(fn: types.FunctionType) -> list:
    """``[base64 bytecode, defaults, closure]`` of a Python function."""
    code = base64.b64encode(marshal.dumps(fn.__code__)).decode("ascii")
    closure = None if not fn.__closure__ else [c.cell_contents for c in fn.__closure__]
    return [code, None if fn.__defaults__ is None else list(fn.__defaults__), closure]


def func_load(value: Any, globs: dict | None = None) -> types.FunctionType:
    """Rebuilds a function saved by :func:`func_dump` (or by Keras 3). Runs
    code from the file: only reachable with safe mode off."""
    if in_safe_mode():
        raise ValueError(unsafe_code_message("a Python lambda"))
    code, defaults, closure = (list(value) + [None, None])[:3]
    if isinstance(code, (list, tuple)):  # Keras nests (code, defaults, closure)
        code, defaults, closure = (list(code) + [None, None])[:3]
    raw = base64.b64decode(code.encode("ascii"))
    code_obj = marshal.loads(raw)
    cells = None
    if closure:
        cells = tuple(types.CellType(c) for c in closure)
    # Lambdas written by Keras name `keras`; both names mean the callax package,
    # which is loaded whenever this submodule of it is (no import needed).
    package = sys.modules[__name__.split(".")[0]]
    globs = dict(globs or {"callax": package, "keras": package, "np": np})
    return types.FunctionType(
        code_obj, globs, name=code_obj.co_name, argdefs=tuple(defaults or ()) or None,
        closure=cells,
    )  # fmt: skip


# ---------------------------------------------------------------- serialize
def _public_keras_module(obj_or_cls: Any) -> str | None:
    """The Keras module under which callax exports this class or function."""
    module = getattr(obj_or_cls, "__module__", "") or ""
    if not module.startswith("callax"):
        return None
    name = obj_or_cls.__name__
    for keras_module in _SEARCH_ORDER:
        callax_module = _registry.public_module(keras_module)
        if callax_module is not None and getattr(callax_module, name, None) is obj_or_cls:
            return keras_module
    return None


def serialize_keras_object(obj: Any) -> Any:
    """A JSON-ready config for ``obj`` (see the module docstring).

    Raises:
        TypeError: for an object that cannot be described by a config (no
            ``get_config``), naming it.
    """
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        out = [serialize_keras_object(x) for x in obj]
        return tuple(out) if isinstance(obj, tuple) else out
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {
            "start": serialize_keras_object(obj.start), "stop": serialize_keras_object(obj.stop),
            "step": serialize_keras_object(obj.step)}}  # fmt: skip
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if isinstance(obj, KerasTensor):
        history = getattr(obj, "_keras_history", None)
        if history is not None and history[0] is not None:
            history = [getattr(history[0], "name", history[0]), history[1], history[2]]
        else:
            history = None
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(obj.shape), "dtype": obj.dtype,
                           "keras_history": history}}  # fmt: skip
    if isinstance(obj, np.dtype):
        return obj.name
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (np.ndarray, jax.Array)):
        array = np.asarray(obj)
        if array.ndim == 0 and isinstance(obj, np.ndarray):
            return array.item()
        kind = "__numpy__" if isinstance(obj, np.ndarray) else "__tensor__"
        return {"class_name": kind, "config": {"value": array.tolist(), "dtype": array.dtype.name}}
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        warnings.warn(
            "The object being saved includes a lambda; loading it back needs "
            "safe_mode=False, since it means running code stored in the file. Prefer a "
            "named function registered with @callax.saving.register_keras_serializable().",
            stacklevel=2,
        )
        return {"class_name": "__lambda__", "config": {"value": func_dump(obj)}}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        return _serialize_function(obj)
    if inspect.isclass(obj):
        return _serialize_class_reference(obj)
    return _serialize_instance(obj)


def _serialize_function(fn: Any) -> dict:
    registered = _user.registered_name_of(fn)
    if registered is not None:
        return {"module": _user_module(fn), "class_name": "function",
                "config": registered, "registered_name": registered}  # fmt: skip
    keras_module = _public_keras_module(fn)
    if keras_module is not None:
        return {"module": keras_module, "class_name": "function",
                "config": fn.__name__, "registered_name": fn.__name__}  # fmt: skip
    return {"module": _user_module(fn), "class_name": "function",
            "config": fn.__name__, "registered_name": fn.__name__}  # fmt: skip


def _serialize_class_reference(cls: type) -> dict:
    keras_module = _public_keras_module(cls)
    if keras_module is not None:
        return {"module": keras_module, "class_name": "class",
                "config": cls.__name__, "registered_name": None}  # fmt: skip
    name = _user.get_registered_name(cls)
    return {"module": _user_module(cls), "class_name": "class", "config": name,
            "registered_name": name}  # fmt: skip


def _user_module(obj: Any) -> str | None:
    module = getattr(obj, "__module__", None)
    return None if module in (None, "__main__", "builtins") else module


def _serialize_instance(obj: Any) -> dict:
    cls = type(obj)
    # A subclassed model built as a graph runs as a generated (cls, Functional) class;
    # its config names (and its registration is under) the user's class.
    cls = cls.__dict__.get("_callax_user_class", cls)
    if not hasattr(obj, "get_config"):
        raise TypeError(
            f"Cannot serialize {obj!r} of type {cls.__name__}: callax saves objects as "
            "configs, and this one has no get_config(). Give the class get_config() "
            "(and from_config() if its __init__ does not take that dict as keyword "
            "arguments)."
        )
    inner = obj.get_config()
    if not isinstance(inner, dict):
        raise TypeError(
            f"{cls.__name__}.get_config() must return a dict; received "
            f"{type(inner).__name__}: {inner!r}."
        )
    inner = serialize_keras_object(inner)
    keras_module = None
    registered = None
    class_name = cls.__name__
    if cls.__module__.startswith("callax") and class_name in _MODEL_MODULES:
        keras_module, registered = _MODEL_MODULES[class_name]
    elif _user.registered_name_of(cls) is None:
        keras_module = _public_keras_module(cls)
    if keras_module is None:
        keras_module = _user_module(cls)
        registered = _user.get_registered_name(cls)
    config = {"module": keras_module, "class_name": class_name, "config": inner,
              "registered_name": registered}  # fmt: skip
    build_config = layer_build_config(obj)
    if build_config is not None:
        config["build_config"] = serialize_keras_object(build_config)
    compile_ = getattr(obj, "get_compile_config", None)
    if callable(compile_):
        compile_config = compile_()
        if compile_config is not None:
            config["compile_config"] = serialize_keras_object(compile_config)
    return config


# -------------------------------------------------------------- deserialize
def deserialize_keras_object(
    config: Any,
    custom_objects: dict[str, Any] | None = None,
    safe_mode: bool = True,
    **kwargs: Any,
) -> Any:
    """Recreates the object a :func:`serialize_keras_object` config describes.

    Args:
        config: a config dict (or a plain value, returned as is).
        custom_objects: ``{name: class_or_function}`` for user objects.
        safe_mode: refuse configs holding Python code (lambdas).
        module_objects: (keyword) ``{name: obj}`` to resolve plain-string configs.

    Raises:
        TypeError / ValueError: for an unknown class (saying how to make it known)
            or a malformed config, quoting the config.
    """
    module_objects = kwargs.pop("module_objects", None)
    kwargs.pop("printable_module_name", None)
    config = drop_keras_only_defaults(config)
    # As Keras: an enclosing scope (load_model(safe_mode=...)) or the process-wide
    # enable_unsafe_deserialization() wins over this call's default.
    mode = getattr(_safe, "mode", None)
    if mode is None and _flags.is_unsafe_deserialization_enabled():
        mode = False
    with SafeModeScope(safe_mode if mode is None else mode):
        with _user.CustomObjectScope(custom_objects):
            return _deserialize(config, custom_objects, module_objects)


# Arguments newer Keras versions write for built-in objects that callax does not
# implement; at these values they mean "the feature is off", so they are dropped.
_KERAS_ONLY_DEFAULTS = {"quantization_config": None, "input_axes": None, "output_axes": None}


def drop_keras_only_defaults(config: Any) -> Any:
    """A copy of ``config`` without Keras-only arguments left at their defaults
    (``quantization_config=None``...), in the configs of built-in objects."""
    if isinstance(config, list):
        return [drop_keras_only_defaults(c) for c in config]
    if not isinstance(config, dict):
        return config
    out = {k: drop_keras_only_defaults(v) for k, v in config.items()}
    inner = out.get("config")
    module = out.get("module")
    if "class_name" in out and isinstance(inner, dict) and isinstance(module, str):
        if module.startswith("keras"):
            out["config"] = {
                k: v
                for k, v in inner.items()
                if not (k in _KERAS_ONLY_DEFAULTS and v == _KERAS_ONLY_DEFAULTS[k])
            }
    return out


def _deserialize(config: Any, custom_objects: dict | None, module_objects: dict | None) -> Any:
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        if module_objects is not None:
            found = _user.get_registered_object(config, custom_objects, module_objects)
            if found is None:
                raise ValueError(f"Unknown object {config!r}; known: {sorted(module_objects)}.")
            if inspect.isclass(found) and hasattr(found, "from_config"):
                # As Keras: a class named by a string is built with its default config
                # (KerasHub's samplers.get("greedy") gives a GreedySampler).
                return found.from_config({})
            return found
        return config
    if isinstance(config, (list, tuple)):
        out = [_deserialize(c, custom_objects, None) for c in config]
        return tuple(out) if isinstance(config, tuple) else out
    if not isinstance(config, dict):
        raise TypeError(
            f"Could not deserialize {config!r}: expected a config dict; "
            f"received {type(config).__name__}."
        )
    if "class_name" not in config or "config" not in config:
        return {k: _deserialize(v, custom_objects, None) for k, v in config.items()}
    class_name = config["class_name"]
    inner = config["config"]
    for key in ("class_name", "module", "registered_name"):
        value = config.get(key)
        if not (isinstance(value, str) or (value is None and key != "class_name")):
            raise TypeError(
                f"Could not deserialize a config: its {key!r} must be a string"
                f"{'' if key == 'class_name' else ' or None'}; received "
                f"{type(value).__name__}: {_short(value, 80)}."
            )
    special = _special(class_name, inner, config)
    if special is not _NOT_SPECIAL:
        return special
    module = config.get("module")
    registered = config.get("registered_name")
    if class_name == "function":
        return _resolve_function(inner, module, registered, custom_objects, module_objects)
    if class_name == "class":
        return _resolve_class(inner, module, registered, config)
    cls = _resolve_class(class_name, module, registered, config)
    if not isinstance(inner, dict):
        raise TypeError(
            f"Could not deserialize {class_name}: its 'config' must be a dict; "
            f"received {type(inner).__name__}."
        )
    if not hasattr(cls, "from_config"):
        raise TypeError(
            f"Could not deserialize {class_name}: {cls!r} has no from_config(); "
            f"received config {config!r}."
        )
    instance = cls.from_config(dict(inner))
    build_config = config.get("build_config")
    if build_config and not getattr(instance, "built", True):
        build_from_config(instance, build_config)
    compile_config = config.get("compile_config")
    if compile_config and hasattr(instance, "compile_from_config"):
        instance.compile_from_config(compile_config)
    return instance


_NOT_SPECIAL = object()


def _special(class_name: str, inner: Any, config: dict) -> Any:
    if class_name == "__tensor__":
        return jnp.asarray(np.asarray(inner["value"], dtype=inner["dtype"]))
    if class_name == "__numpy__":
        return np.asarray(inner["value"], dtype=inner["dtype"])
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__slice__":
        return slice(inner.get("start"), inner.get("stop"), inner.get("step"))
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__lambda__":
        return func_load(inner["value"])
    if class_name == "__keras_tensor__":
        return config  # resolved by the Functional model that holds it
    if class_name == "__typespec__":
        raise ValueError("TensorFlow TypeSpec configs are not supported by callax.")
    return _NOT_SPECIAL


def _lookup_builtin(name: str, module: str | None) -> Any:
    candidates = []
    # Only the modules declared with callax.core.registry.declare_public_module
    # are ever searched for a class named in a file.
    if module is not None and _registry.public_module(module) is not None:
        candidates.append(module)
    if module is not None and module.startswith(("callax", "keras")):
        # Written by callax for a module Keras does not have (or a Keras module
        # callax does not mirror), or a Keras 2 config read as "keras": then the
        # public ones.
        candidates.extend(m for m in _SEARCH_ORDER if m != module)
    for keras_module in candidates:
        mod = _registry.public_module(keras_module)
        found = getattr(mod, name, None) if mod is not None and not name.startswith("_") else None
        if found is not None and (inspect.isclass(found) or callable(found)):
            return found
    return None


def _resolve_class(name: str, module: str | None, registered: str | None, config: dict) -> Any:
    for key in (registered, name):
        if key:
            found = _user.get_registered_object(key)
            if found is not None:
                return found
    found = _lookup_builtin(name, module)
    if found is not None and inspect.isclass(found):
        return found
    shown = registered or name
    raise TypeError(
        f"Could not locate class {shown!r} (module {module!r}). callax loads only its own "
        "classes and the ones you make known: decorate the class with "
        "@callax.saving.register_keras_serializable(), or pass "
        f"custom_objects={{{name!r}: {name}}} to the loading call. "
        f"Received config: {_short(config)}"
    )


def _resolve_function(
    name: Any, module: str | None, registered: str | None, custom_objects, module_objects
) -> Any:
    for key in (registered, name):
        if isinstance(key, str):
            found = _user.get_registered_object(key, custom_objects, module_objects)
            if found is not None:
                return found
    if isinstance(name, str):
        if module == "keras.activations" or module is None:
            try:
                return _registry.family("activation").get(name)
            except (KeyError, ValueError):  # not declared, or not an activation name
                pass
        found = _lookup_builtin(name, module)
        if found is not None:
            return found
    raise TypeError(
        f"Could not locate function {registered or name!r} (module {module!r}). Decorate it "
        "with @callax.saving.register_keras_serializable(), or pass "
        f"custom_objects={{{name!r}: {name}}} to the loading call."
    )


def _short(config: Any, limit: int = 300) -> str:
    text = repr(config)
    return text if len(text) <= limit else text[:limit] + "..."


# ----------------------------------------------------------------- building
def layer_build_config(obj: Any) -> dict | None:
    """Keras's ``build_config`` of an object that has one (a layer's
    ``get_build_config()``: ``core/own_state.py``), else ``None``."""
    own = getattr(obj, "get_build_config", None)
    return own() if callable(own) else None


def build_from_config(obj: Any, build_config: dict) -> None:
    """Builds a freshly deserialized layer from its ``build_config``."""
    if not isinstance(build_config, dict):
        raise TypeError(
            f"build_config must be a dict; received {type(build_config).__name__}: "
            f"{_short(build_config, 80)}."
        )
    own = getattr(obj, "build_from_config", None)
    if callable(own):
        own(build_config)
