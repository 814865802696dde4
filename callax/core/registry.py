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

Example:
    >>> import callax
    >>> r = NameRegistry("regularizer", "keras.regularizers",
    ...                  classes=(callax.regularizers.L2,), aliases={"l2": callax.regularizers.L2})
    >>> config = r.serialize(r.get("l2"))
    >>> config["module"], config["class_name"], config["registered_name"]
    ('keras.regularizers', 'L2', None)
    >>> type(r.deserialize(config)).__name__
    'L2'
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

from callax.core import custom_objects as _user

_REGISTER_HINT = "register your own with @keras.saving.register_keras_serializable()."


class NameRegistry:
    """The names one family (``kind``: ``"regularizer"``...) knows.

    Args:
        kind: the family's singular name, used in every error message.
        keras_module: the Keras module built-in configs name (``"keras.regularizers"``).
        classes: the built-in classes; a config's ``class_name`` is one of their
            ``__name__`` s (or a key of ``extra_class_names``).
        aliases: snake-case names ``get`` accepts (``"l2"`` → ``L2``).
        extra_class_names: more ``class_name`` s configs may carry
            (``{"IdentityInitializer": Identity}``).
        base: the family's base class: ``get(SomeSubclass)`` gives an instance.
    """

    def __init__(
        self,
        kind: str,
        keras_module: str,
        classes: Iterable[type] = (),
        aliases: Mapping[str, Any] | None = None,
        extra_class_names: Mapping[str, type] | None = None,
        base: type | None = None,
    ):
        self.kind = kind
        self.keras_module = keras_module
        self.classes: dict[str, type] = {c.__name__: c for c in classes}
        self.classes.update(extra_class_names or {})
        self.aliases: dict[str, Any] = dict(aliases or {})
        self.base = base

    # ------------------------------------------------------------- lookup
    def builtin(self, name: str) -> Any:
        """The built-in ``name`` stands for (an alias or a class name), else ``None``."""
        return self.aliases.get(name) or self.classes.get(name)

    def is_builtin_class(self, cls: Any) -> bool:
        return self.classes.get(getattr(cls, "__name__", None)) is cls

    @staticmethod
    def user_object(name: str | None, custom_objects: dict | None = None) -> Any:
        """``name`` in ``custom_objects``, the active scopes or the global registry."""
        if not name:
            return None
        return _user.get_registered_object(name, custom_objects)

    # ---------------------------------------------------------------- API
    def get(self, identifier: Any) -> Any:
        """``None`` → ``None``; a name → an instance of the class it names; a
        config dict → :meth:`deserialize`; a class of the family → an instance;
        a callable (an instance, a function) as is."""
        if identifier is None:
            return None
        if isinstance(identifier, dict):
            return self.deserialize(identifier)
        if isinstance(identifier, str):
            cls = self.builtin(identifier) or self.user_object(identifier)
            if cls is None:
                raise ValueError(
                    f"Unknown {self.kind} {identifier!r}. Known names: {sorted(self.aliases)}."
                )
            return cls() if inspect.isclass(cls) else cls
        if self.base is not None and inspect.isclass(identifier):
            if issubclass(identifier, self.base):
                return identifier()
        if callable(identifier):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} {identifier!r}.")

    def serialize(self, obj: Any) -> dict:
        """Keras 3's config: ``{"module": "keras.<family>", "class_name", "config",
        "registered_name": None}`` for a built-in; a user class is named by its
        module and ``registered_name`` (``"package>Name"``)."""
        cls = type(obj)
        if self.is_builtin_class(cls):
            module, registered = self.keras_module, None
        else:
            module, registered = cls.__module__, _user.get_registered_name(cls)
        return {"module": module, "class_name": cls.__name__,
                "config": obj.get_config(), "registered_name": registered}  # fmt: skip

    def deserialize(self, config: Any, custom_objects: dict | None = None) -> Any:
        """The object a :meth:`serialize` config (or Keras's) describes: a user class
        (by ``registered_name``, then ``class_name``, in ``custom_objects``, the active
        ``custom_object_scope`` or the registry), else a built-in class."""
        if not isinstance(config, dict) or "class_name" not in config:
            raise ValueError(
                f"{self.kind} deserialize expects a config dict with a 'class_name' key; "
                f"received {config!r}."
            )
        class_name = config["class_name"]
        cls = (
            self.user_object(config.get("registered_name"), custom_objects)
            or self.user_object(class_name, custom_objects)
            or self.classes.get(class_name)
        )
        if cls is None:
            raise ValueError(
                f"Unknown {self.kind} class {class_name!r}. Built-in ones: "
                f"{sorted(self.classes)}; {_REGISTER_HINT}"
            )
        return cls.from_config(config.get("config") or {})
