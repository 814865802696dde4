"""``keras.utils.legacy``: the Keras 2 (``tf.keras``) config format.

An object is ``{"class_name": name, "config": obj.get_config()}`` and a function
or class is its name; there is no ``module``/``registered_name``, so loading needs
the classes at hand (``module_objects``/``custom_objects``, scopes, registry).
KerasTuner stores its hyperparameters and conditions this way.

Example:
    >>> from callax.utils import legacy
    >>> class Box:
    ...     def __init__(self, size):
    ...         self.size = size
    ...     def get_config(self):
    ...         return {"size": self.size}
    ...     @classmethod
    ...     def from_config(cls, config):
    ...         return cls(**config)
    >>> legacy.serialize_keras_object(Box(3))
    {'class_name': 'Box', 'config': {'size': 3}}
    >>> legacy.deserialize_keras_object(_, module_objects={"Box": Box}).size
    3
"""

from __future__ import annotations

import inspect
from typing import Any

from callax.core.custom_objects import (
    CustomObjectScope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
)

# Marks a nested object's config inside a config, so loading knows to rebuild it.
_PASSIVE = "__passive_serialization__"


def serialize_keras_object(instance: Any) -> Any:
    """The legacy config of ``instance``: ``None`` for ``None``,
    ``{"class_name", "config"}`` for an object with ``get_config()`` (nested objects
    serialized and marked), the registered name for a function or class.

    Raises ``ValueError`` for anything else.
    """
    instance = inspect.unwrap(instance) if callable(instance) else instance
    if instance is None:
        return None
    if hasattr(instance, "get_config") and not inspect.isclass(instance):
        config = {}
        for key, item in instance.get_config().items():
            if isinstance(item, str) or not _serializable(item):
                config[key] = item
                continue
            nested = serialize_keras_object(item)
            if isinstance(nested, dict):
                nested[_PASSIVE] = True
            config[key] = nested
        return {"class_name": get_registered_name(instance.__class__), "config": config}
    if hasattr(instance, "__name__"):
        return get_registered_name(instance)
    raise ValueError(
        "serialize_keras_object: expected an object with get_config(), a function or a "
        f"class; received {instance!r} of type {type(instance).__name__}."
    )


def _serializable(item: Any) -> bool:
    # Plain data (numbers, lists, dicts, ...) stays as it is, as in Keras 2.
    has_config = hasattr(item, "get_config") and not inspect.isclass(item)
    return has_config or (hasattr(item, "__name__") and callable(item))


def deserialize_keras_object(
    identifier: Any,
    module_objects: dict | None = None,
    custom_objects: dict | None = None,
    printable_module_name: str = "object",
) -> Any:
    """Rebuilds an object from its legacy config.

    Names are looked up in ``custom_objects``, the active ``custom_object_scope``
    blocks, the registry, then ``module_objects``. A dict config calls
    ``cls.from_config(config)`` (or ``cls(**config)`` when there is none); a name
    gives the function, or an instance of the class made without arguments; a
    function is returned as it is.
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        if "class_name" not in identifier or "config" not in identifier:
            raise ValueError(
                f"deserialize_keras_object: a {printable_module_name} config must be a dict "
                f"with 'class_name' and 'config'; received {identifier!r}."
            )
        cls = _lookup(
            identifier["class_name"], module_objects, custom_objects, printable_module_name
        )
        config = identifier["config"]
        if isinstance(config, dict):
            config = dict(config)
            for key, item in config.items():
                if key == "name":  # a name is a name, even if a function has it too
                    continue
                if isinstance(item, dict) and _PASSIVE in item:
                    item = {k: v for k, v in item.items() if k != _PASSIVE}
                    config[key] = deserialize_keras_object(
                        item, module_objects, custom_objects, "config_item"
                    )
                elif isinstance(item, str):
                    found = get_registered_object(item, custom_objects, module_objects)
                    if inspect.isfunction(found):
                        config[key] = found
        if hasattr(cls, "from_config"):
            params = inspect.signature(cls.from_config).parameters
            if "custom_objects" in params:
                return cls.from_config(
                    config, custom_objects={**get_custom_objects(), **(custom_objects or {})}
                )
            with CustomObjectScope(custom_objects or {}):
                return cls.from_config(config)
        with CustomObjectScope(custom_objects or {}):
            return cls(**config)
    if isinstance(identifier, str):
        obj = _lookup(identifier, module_objects, custom_objects, printable_module_name)
        return obj() if inspect.isclass(obj) else obj
    if inspect.isfunction(identifier):
        return identifier
    raise ValueError(
        f"deserialize_keras_object: could not interpret the serialized "
        f"{printable_module_name} {identifier!r}: expected a config dict, a name or a function."
    )


def _lookup(name: str, module_objects: Any, custom_objects: Any, what: str) -> Any:
    obj = get_registered_object(name, custom_objects, module_objects)
    if obj is None:
        raise ValueError(
            f"deserialize_keras_object: unknown {what} {name!r}. Pass it in custom_objects "
            "or module_objects, use keras.utils.custom_object_scope, or register it with "
            "keras.saving.register_keras_serializable."
        )
    return obj


__all__ = ["serialize_keras_object", "deserialize_keras_object"]
