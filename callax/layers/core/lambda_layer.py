"""``Lambda``: a function as a layer, and how a function is written into (and
read back from) a layer config.

Example:
    >>> import callax
    >>> callax.layers.Lambda(lambda x: x * 2)(callax.ops.ones((1, 2))).tolist()
    [[2.0, 2.0]]
"""

from __future__ import annotations

import ast
import base64
import importlib
import inspect
import marshal
import textwrap
import types
from collections.abc import Callable
from typing import Any

from callax.core.custom_objects import get_registered_object
from callax.core.layer import Layer
from callax.core.serialization import in_safe_mode


# ------------------------------------------------------ function configs
def _lambda_source(fn: Callable) -> str | None:
    """The text of ``fn``'s lambda expression, if its source line holds exactly one."""
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(source)
    except SyntaxError:
        # A lambda inside a larger, multi-line expression: try just the lambda's line.
        try:
            tree = ast.parse(source.strip().rstrip(",").strip(), mode="exec")
        except SyntaxError:
            return None
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda)]
    if len(found) != 1:
        return None
    return ast.get_source_segment(source, found[0])


def _home_module(fn: Callable, module: str, qualname: str) -> str:
    """The module that hands out ``fn`` itself under ``qualname``: callax's ops
    and activations wrap other libraries' functions and keep their ``__module__``."""
    for candidate in (module, "callax.ops", "callax.activations"):
        try:
            obj = importlib.import_module(candidate)
        except ImportError:
            continue
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if obj is fn:
            return candidate
    return module


def serialize_function(fn: Callable) -> dict:
    """A config for ``fn`` without bytecode.

    A named module-level function is stored as its module and name (reloaded by
    import, or from ``custom_objects``). A lambda or local function is stored as
    ``{"class_name": "__lambda__", ...}`` with its source text when it can be
    read: reloading that runs code from the file, so it needs ``safe_mode=False``;
    its closure variables are not kept.
    """
    name = getattr(fn, "__name__", None)
    qualname = getattr(fn, "__qualname__", name) or ""
    module = getattr(fn, "__module__", None)
    if name and name != "<lambda>" and "<locals>" not in qualname and module:
        return {"module": _home_module(fn, module, qualname), "class_name": "function",
                "config": qualname, "registered_name": "function"}  # fmt: skip
    return {
        "class_name": "__lambda__",
        "config": {"source": _lambda_source(fn), "module": module, "code": None,
                   "defaults": None, "closure": None},
    }  # fmt: skip


def deserialize_function(
    config: Any, custom_objects: dict | None = None, safe_mode: bool | None = None
) -> Callable:
    """The inverse of :func:`serialize_function` (also reads Keras 3's configs,
    including its bytecode lambdas when ``safe_mode=False``)."""
    if callable(config) or config is None:
        return config
    custom_objects = custom_objects or {}
    if safe_mode is None:  # follow the enclosing load_model(safe_mode=...)
        safe_mode = in_safe_mode()
    if config.get("class_name") == "__lambda__":
        if safe_mode is not False:
            raise ValueError(
                "Lambda: loading a lambda from a config runs code stored in the config, so it "
                "is refused by default. If you trust the source, pass safe_mode=False; or "
                "replace the lambda with a named function; received a '__lambda__' config."
            )
        inner = config["config"]
        module = importlib.import_module(inner["module"]) if inner.get("module") else None
        scope = dict(vars(module)) if module is not None else {}
        scope.update(custom_objects)
        if inner.get("source"):
            return eval(inner["source"], scope)  # noqa: S307 — safe_mode=False asked for it
        if inner.get("code"):
            code = marshal.loads(base64.decodebytes(inner["code"].encode("ascii")))
            defaults = inner.get("defaults")
            return types.FunctionType(code, scope, None, tuple(defaults) if defaults else None)
        raise ValueError(
            "Lambda: this lambda was saved without its source text, so it cannot be rebuilt; "
            "pass the function in custom_objects; received a '__lambda__' config."
        )
    name = config.get("config")
    if name in custom_objects:
        return custom_objects[name]
    module = config.get("module")
    registered = get_registered_object(str(config.get("registered_name") or name))
    if callable(registered):
        return registered
    if safe_mode and module and str(module).split(".")[0] not in ("callax", "keras"):
        # Importing a module the file names could run code, or hand out os.system.
        raise ValueError(
            f"Lambda: refusing to import function {name!r} from module {module!r} named in "
            "the file while safe_mode is on; pass it in custom_objects, register it with "
            "@callax.saving.register_keras_serializable(), or pass safe_mode=False if you "
            f"trust the file; received config {config!r}."
        )
    if module and module != "builtins":
        obj = importlib.import_module(module)
        for part in str(name).split("."):
            obj = getattr(obj, part, None)
        if callable(obj):
            return obj
    raise ValueError(
        f"Lambda: cannot find the function {name!r} (module {module!r}); pass it in "
        f"custom_objects={{{name!r}: fn}}; received config {config!r}."
    )


class Lambda(Layer):
    """Wraps a function of tensors as a layer (without weights).

    Args:
        function: ``function(inputs, **arguments)``; it also receives ``mask``
            and ``training`` if its signature names them.
        output_shape: the output shape without the batch axis, or a function of
            the input shape; default: found by running ``function`` abstractly.
        mask: a mask, or ``mask(inputs, mask)`` returning one (``compute_mask``).
        arguments: extra keyword arguments for ``function``.

    ``get_config`` stores a named function by module and name; a lambda by its
    source text, which ``from_config`` only rebuilds with ``safe_mode=False``.

    Example:
        >>> import callax
        >>> layer = callax.layers.Lambda(callax.ops.square)
        >>> layer(callax.ops.array([[2.0]])).tolist()
        [[4.0]]
    """

    def __init__(
        self,
        function: Callable,
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(
                f"Lambda '{self.name}': `function` must be callable; received {function!r}."
            )
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self._output_shape = output_shape
        try:
            params = inspect.signature(function).parameters
        except (TypeError, ValueError):
            params = {}
        self._fn_mask = "mask" in params
        self._fn_training = "training" in params
        self.supports_masking = True
        self.built = True

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_mask:
            kwargs["mask"] = mask
        if self._fn_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape
        while isinstance(first, (list, tuple)) and first and isinstance(first[0], (list, tuple)):
            first = first[0]
        return (first[0], *self._output_shape)

    def get_config(self):
        config = {**super().get_config(), "function": serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (
                serialize_function(self._output_shape)
                if callable(self._output_shape)
                else self._output_shape
            )
        if self.mask is not None:
            config["mask"] = serialize_function(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(
        cls, config: dict, custom_objects: dict | None = None, safe_mode: bool | None = None
    ) -> Lambda:
        """Rebuilds the layer; a lambda stored as source needs ``safe_mode=False``."""
        config = dict(config)
        config["function"] = deserialize_function(config["function"], custom_objects, safe_mode)
        for key in ("output_shape", "mask"):
            value = config.get(key)
            if isinstance(value, dict) and "class_name" in value:
                config[key] = deserialize_function(value, custom_objects, safe_mode)
            elif isinstance(value, list):
                config[key] = tuple(value)
        return cls(**config)
