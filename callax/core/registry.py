"""One name → object rule for every config family (regularizers, constraints,
initializers, ...): ``get`` / ``serialize`` / ``deserialize`` in Keras 3's format.

A family declares its tables once and delegates::

    _REGISTRY = NameRegistry("regularizer", "keras.regularizers",
                             classes=(L1, L2), aliases={"l1": L1}, base=Regularizer)
    get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize

Names are looked up in the family's tables (aliases, then class names) and in
the user registry (``custom_objects=``, the active ``custom_object_scope``
blocks, then ``register_keras_serializable``; :mod:`callax.core.custom_objects`).
A config a user class wrote names it by ``registered_name``, as Keras does.

Every ``NameRegistry`` declares itself under its ``kind`` on construction, so
code below a family (``core``) finds the family's lookup by :func:`family`
without importing it (``family("regularizer").get("l2")``).

Example:
    >>> import callax
    >>> r = NameRegistry("regularizer", "keras.regularizers", declare=False,
    ...                  classes=(callax.regularizers.L2,), aliases={"l2": callax.regularizers.L2})
    >>> config = r.serialize(r.get("l2"))
    >>> config["module"], config["class_name"], config["registered_name"]
    ('keras.regularizers', 'L2', None)
    >>> type(r.deserialize(config)).__name__
    'L2'
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from callax.core import custom_objects as _user

_REGISTER_HINT = "register your own with @keras.saving.register_keras_serializable()."

# Keras's public module name -> (the name of the callax module holding the same
# names, how to load it): "keras.layers" -> ("callax.layers", ...), filled by
# declare_public_module; callax.core.serialization searches only these.
_PUBLIC_MODULES: dict[str, tuple[str, Callable[[str], types.ModuleType] | None]] = {}
# kind -> the family's registry; filled by NameRegistry.__init__ (the family module
# declares its table at import). A re-declared kind (a reloaded module) replaces it.
_FAMILIES: dict[str, NameRegistry] = {}


def family(kind: str) -> NameRegistry:
    """The :class:`NameRegistry` a family declared under ``kind``.

    Lets code below the families (``callax.core``) turn names and configs into
    objects without importing the family module: the family fills the table when
    it is imported (``import callax`` imports them all).

    Args:
        kind: the family's singular name: ``"activation"``, ``"initializer"``,
            ``"regularizer"``, ``"constraint"``, ``"loss"``, ``"metric"``,
            ``"optimizer"``, ``"learning rate schedule"``, ``"layer"``,
            ``"dtype policy"``.

    Raises:
        KeyError: if no family of that kind has been declared (its module is not
            imported yet); the message names the kinds known.

    Example:
        >>> import callax
        >>> family("regularizer").get("l2").__class__.__name__
        'L2'
        >>> family("activation").get("relu") is callax.activations.relu
        True
    """
    try:
        return _FAMILIES[kind]
    except KeyError:
        raise KeyError(
            f"No name registry of kind {kind!r}: known kinds are {sorted(_FAMILIES)}; "
            "a family declares its NameRegistry when its module is imported."
        ) from None


def declare_public_module(
    keras_module: str, callax_module: str, load: Callable[[str], types.ModuleType] | None = None
) -> None:
    """Declares that the callax module named ``callax_module`` holds the public
    names Keras has under ``keras_module``: configs naming ``keras_module`` find
    their classes and functions there, and callax objects found there are written
    with that module (:mod:`callax.core.serialization`).

    The package declares its public modules when it is imported (see
    ``callax/__init__.py``), so ``core`` needs nothing above itself.

    Args:
        keras_module: ``"keras"``, ``"keras.layers"``, ...
        callax_module: the module's import name (``"callax.layers"``).
        load: how to load the module when a config first needs it and it is not
            loaded yet (``importlib.import_module`` for a module the package imports
            on first use); ``None``: the module is found only once loaded.

    Raises:
        ValueError: if ``keras_module`` is not a Keras module name.

    Example:
        >>> import callax
        >>> public_modules()["keras.regularizers"]
        'callax.regularizers'
    """
    if not keras_module.startswith("keras"):
        raise ValueError(
            "declare_public_module: keras_module must name a Keras module "
            f"('keras', 'keras.layers', ...); received {keras_module!r}."
        )
    _PUBLIC_MODULES[keras_module] = (callax_module, load)


def public_modules() -> dict[str, str]:
    """``{keras_module: callax_module name}`` as declared so far."""
    return {keras: name for keras, (name, _) in _PUBLIC_MODULES.items()}


def public_module(keras_module: str) -> types.ModuleType | None:
    """The callax module declared for ``keras_module`` (loaded by its ``load`` if
    it is not yet); ``None`` if none is declared (or it cannot be loaded yet).

    Example:
        >>> import callax
        >>> public_module("keras.layers") is callax.layers, public_module("keras.nowhere")
        (True, None)
    """
    name, load = _PUBLIC_MODULES.get(keras_module, (None, None))
    if name is None:
        return None
    module = sys.modules.get(name)
    if module is None and load is not None:
        module = load(name)
    return module


def families() -> dict[str, NameRegistry]:
    """Every declared family, by kind (a copy: declaring one goes through
    :class:`NameRegistry`).

    Example:
        >>> import callax
        >>> {"activation", "initializer", "regularizer", "constraint"} <= set(families())
        True
    """
    return dict(_FAMILIES)


class NameRegistry:
    """The names one family (``kind``: ``"regularizer"``, ``"loss"``...) knows.

    Args:
        kind: the family's singular name, used in every error message.
        keras_module: the Keras module built-in configs name (``"keras.regularizers"``).
        classes: the built-in classes; a config's ``class_name`` is one of their
            ``__name__`` s (or a key of ``extra_class_names``).
        functions: the built-in functions (losses, metrics), by name, or as an
            iterable of functions named by their ``__name__``.
        aliases: more names ``get`` accepts (``"l2"`` → ``L2``, ``"mse"`` → a function);
            they win over class and function names.
        extra_class_names: more ``class_name`` s configs may carry
            (``{"IdentityInitializer": Identity}``).
        more_functions: functions a function config may also name (metrics
            read the loss functions), without making them names of the family.
        base: the family's base class (named in error messages).
        class_label: what an unknown config class is called in errors
            (default ``"<kind> class"``).
        case_insensitive: names and class names also match in lower case
            (``"adam"``, ``"Adam"``, ``"RMSprop"``, as Keras's optimizers).
        any_callable: ``get`` passes any callable through (a regularizer may be a
            function); ``False``: only ``base`` classes and instances (optimizers).
        declare: make this the family :func:`family` returns for ``kind``
            (``False`` for a private, throwaway table).

    A family with ``functions`` also accepts a bare name in ``deserialize`` and
    writes a function as Keras does: ``{"module": "builtins", "class_name":
    "function", "config": <name>, "registered_name": "function"}``.
    """

    def __init__(
        self,
        kind: str,
        keras_module: str,
        classes: Iterable[type] = (),
        functions: Mapping[str, Any] | Iterable[Callable] | None = None,
        aliases: Mapping[str, Any] | None = None,
        extra_class_names: Mapping[str, type] | None = None,
        more_functions: Mapping[str, Any] | None = None,
        base: type | None = None,
        class_label: str | None = None,
        case_insensitive: bool = False,
        any_callable: bool = True,
        declare: bool = True,
    ):
        self.kind = kind
        self.keras_module = keras_module
        self.classes: dict[str, type] = {c.__name__: c for c in classes}
        self.classes.update(extra_class_names or {})
        self.functions: dict[str, Any] = (
            dict(functions)
            if isinstance(functions, Mapping)
            else {fn.__name__: fn for fn in functions or ()}
        )
        self.config_functions: dict[str, Any] = {**(more_functions or {}), **self.functions}
        self.aliases: dict[str, Any] = dict(aliases or {})
        # Every name `get` knows: aliases win over class names, class names over functions.
        self.names: dict[str, Any] = {**self.functions, **self.classes, **self.aliases}
        self.base = base
        self.class_label = class_label or f"{kind} class"
        self.case_insensitive = case_insensitive
        self.any_callable = any_callable
        self._lower: dict[str, Any] = (
            {k.lower(): v for k, v in {**self.classes, **self.names}.items()}
            if case_insensitive
            else {}
        )
        if declare:
            _FAMILIES[kind] = self

    # ------------------------------------------------------------- lookup
    def lookup(self, name: str, custom_objects: dict | None = None) -> Any:
        """What ``name`` stands for: ``custom_objects``, the family's names, then the
        active ``custom_object_scope`` blocks and the global registry; else ``None``."""
        if custom_objects and name in custom_objects:
            return custom_objects[name]
        found = self._builtin(name, self.names)
        return found if found is not None else _user.get_registered_object(name)

    def _builtin(self, name: Any, table: dict[str, Any]) -> Any:
        found = table.get(name)
        if found is None and self.case_insensitive and isinstance(name, str):
            found = self._lower.get(name.lower())
        return found

    def is_builtin(self, obj: Any) -> bool:
        name = getattr(obj, "__name__", None)
        return self.classes.get(name) is obj or self.functions.get(name) is obj

    @staticmethod
    def user_object(name: Any, custom_objects: dict | None = None) -> Any:
        """``name`` in ``custom_objects``, the active scopes or the global registry."""
        if not isinstance(name, str) or not name:
            return None
        return _user.get_registered_object(name, custom_objects)

    def _unknown_name(self, name: Any) -> ValueError:
        return ValueError(
            f"Unknown {self.kind} {name!r}. Known names: {sorted(self.names)}; a "
            "class or function of your own must be registered with "
            "@keras.saving.register_keras_serializable() or given in custom_objects."
        )

    # ---------------------------------------------------------------- get
    def get(self, identifier: Any) -> Any:
        """``None`` → ``None``; a config dict → :meth:`deserialize`; a name → what it
        names (a class gives an instance); a class → an instance; a callable (an
        instance, a function) as is."""
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            obj = self.deserialize(identifier)
        elif isinstance(identifier, str):
            obj = self.lookup(identifier)
            if obj is None:
                raise self._unknown_name(identifier)
        else:
            obj = identifier
        if self.any_callable or self.base is None:
            if inspect.isclass(obj):
                return obj()
            if callable(obj):
                return obj
        elif inspect.isclass(obj) and issubclass(obj, self.base):
            return obj()
        elif isinstance(obj, self.base):
            return obj
        what = self.base.__name__ if self.base is not None else self.kind
        raise ValueError(
            f"Could not interpret {self.kind} identifier: expected a name, a config dict, "
            f"a {what} class or instance"
            + (" or a function" if self.functions or self.any_callable else "")
            + f"; received {identifier!r}."
        )

    # ---------------------------------------------------------- serialize
    def serialize(self, obj: Any) -> Any:
        """Keras 3's config: ``{"module": "keras.<family>", "class_name", "config",
        "registered_name": None}`` for a built-in; a user class is named by its
        module and ``registered_name`` (``"package>Name"``); a function (in a
        family with functions) by :meth:`serialize_function`."""
        if obj is None:
            return None
        if isinstance(obj, types.FunctionType) or not hasattr(obj, "get_config"):
            if self.functions and callable(obj) and hasattr(obj, "__name__"):
                return self.serialize_function(obj)
            what = self.base.__name__ if self.base is not None else self.kind
            raise ValueError(
                f"Cannot serialize {self.kind} {obj!r}: expected a {what} instance"
                + (" or a function." if self.functions else " (an object with get_config()).")
            )
        cls = type(obj)
        if self.is_builtin(cls):
            module, registered = self.keras_module, None
        else:
            module = getattr(cls, "__module__", None)
            module = None if module in (None, "__main__", "builtins") else module
            registered = _user.get_registered_name(cls)
        return {"module": module, "class_name": cls.__name__,
                "config": obj.get_config(), "registered_name": registered}  # fmt: skip

    @staticmethod
    def serialize_function(fn: Any) -> dict:
        """Keras's config of a function: its name (``"package>name"`` when registered)."""
        return {"module": "builtins", "class_name": "function",
                "config": _user.get_registered_name(fn), "registered_name": "function"}  # fmt: skip

    # -------------------------------------------------------- deserialize
    def deserialize(self, config: Any, custom_objects: dict | None = None) -> Any:
        """The object a :meth:`serialize` config (or Keras's) describes: a user class
        (by ``registered_name``, then ``class_name``, in ``custom_objects``, the active
        ``custom_object_scope`` or the registry), else a built-in class; a function
        config or (in a family with functions) a bare name gives the object named."""
        if self.functions and isinstance(config, str):
            obj = self.lookup(config, custom_objects)
            if obj is None:
                raise self._unknown_name(config)
            return obj
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(
                f"{self.kind} deserialize expects "
                + ("a name or " if self.functions else "")
                + f"a config dict with a 'class_name' key; received {config!r}."
            )
        class_name = config["class_name"]
        if class_name in ("function", "__function__"):
            return self.function_from_config(config, custom_objects)
        cls = (
            self.user_object(config.get("registered_name"), custom_objects)
            or self.user_object(class_name, custom_objects)
            or self._builtin(class_name, self.classes)
        )
        if cls is None:
            raise ValueError(
                f"Unknown {self.class_label} {class_name!r}. Built-in ones: "
                f"{sorted(self.classes)}; register your own with "
                "@keras.saving.register_keras_serializable() or pass it in custom_objects; "
                f"received class_name={class_name!r}."
            )
        inner = dict(config.get("config") or {})
        if not custom_objects:
            return cls.from_config(inner)
        # Nested configs (an optimizer's schedule) see custom_objects too: passed on
        # to a from_config that takes them, and active as a scope.
        kwargs = {}
        if "custom_objects" in inspect.signature(cls.from_config).parameters:
            kwargs["custom_objects"] = custom_objects
        with _user.CustomObjectScope(custom_objects):
            return cls.from_config(inner, **kwargs)

    def function_from_config(self, config: Any, custom_objects: dict | None = None) -> Any:
        """The function a function config (or a bare name) names: ``custom_objects``,
        the family's functions, its other names, then the user registry."""
        name = config.get("config") if isinstance(config, dict) else config
        registered = config.get("registered_name") if isinstance(config, dict) else None
        keys = [registered] if registered != name else []
        for key in [*keys, name]:
            if not isinstance(key, str) or key == "function":
                continue
            if custom_objects and key in custom_objects:
                return custom_objects[key]
            found = self.config_functions.get(key)
            if found is None:
                found = self.lookup(key)
            if found is not None:
                return found
        raise ValueError(
            f"Unknown {self.kind} function {name!r}. Known: {sorted(self.functions)}; "
            + _REGISTER_HINT
        )
