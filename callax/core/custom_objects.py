"""The user registry: classes and functions that configs may name.

A config names a user object by ``registered_name`` (``"my_package>MyLayer"``).
Loading looks the name up in, in order: ``custom_objects=`` given to the loading
call, the active :func:`custom_object_scope` blocks, and the global registry
filled by :func:`register_keras_serializable`. Nothing is imported by name from
the file: a class the user has not made known cannot be loaded.

This state lives in ``core`` so that :mod:`callax.core.registry` (the one
name → object rule every family uses) needs nothing above ``core``;
``callax.saving`` re-exports the public names.

Example:
    >>> import callax
    >>> @callax.saving.register_keras_serializable(package="docs")
    ... class Double(callax.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> callax.saving.get_registered_name(Double)
    'docs>Double'
    >>> callax.saving.get_registered_object("docs>Double") is Double
    True
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

# "package>name" -> object, and object -> "package>name".
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}
_scopes = threading.local()


def _scope_stack() -> list[dict[str, Any]]:
    stack = getattr(_scopes, "stack", None)
    if stack is None:
        stack = _scopes.stack = []
    return stack


class CustomObjectScope:
    """Within this block, configs may name the given objects.

    Args:
        custom_objects: one or more dicts ``{name: class_or_function}``.

    Example:
        >>> import callax
        >>> class Mine(callax.layers.Layer):
        ...     def call(self, x):
        ...         return x
        >>> with callax.saving.custom_object_scope({"Mine": Mine}):
        ...     callax.saving.get_registered_object("Mine") is Mine
        True
        >>> callax.saving.get_registered_object("Mine") is None
        True
    """

    def __init__(self, *custom_objects: dict[str, Any] | None):
        merged: dict[str, Any] = {}
        for objects in custom_objects:
            if objects is None:
                continue
            if not isinstance(objects, dict):
                raise TypeError(
                    "custom_object_scope expects dicts {name: class_or_function}; "
                    f"received {type(objects).__name__}."
                )
            merged.update(objects)
        self.custom_objects = merged

    def __enter__(self) -> CustomObjectScope:
        _scope_stack().append(self.custom_objects)
        return self

    def __exit__(self, *exc: Any) -> None:
        _scope_stack().pop()


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict[str, Any]:
    """The global registry (a live dict: adding to it registers)."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Class or function decorator: registers the object under
    ``"package>name"`` (``name`` defaults to the object's ``__name__``) so that
    configs naming it load without ``custom_objects=``.

    Raises:
        ValueError: if ``package`` contains ``">"``, or a class does not define
            ``get_config`` (nothing to save its arguments with).
    """
    if ">" in package:
        raise ValueError(
            f"register_keras_serializable: the package name may not contain '>'; "
            f"received package={package!r}."
        )

    def decorator(obj: Any) -> Any:
        short = name if name is not None else getattr(obj, "__name__", None)
        if not short:
            raise ValueError(
                f"register_keras_serializable: cannot register {obj!r}, which has no "
                "__name__; pass name=."
            )
        key = f"{package}>{short}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"register_keras_serializable: class {obj.__name__} must define "
                "get_config() to be serializable; received a class without it."
            )
        _GLOBAL_CUSTOM_OBJECTS[key] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = key
        return obj

    return decorator


def registered_name_of(obj: Any) -> str | None:
    """The ``"package>name"`` ``obj`` was registered under with
    :func:`register_keras_serializable`; ``None`` if it was not registered.

    Example:
        >>> import callax
        >>> @callax.saving.register_keras_serializable(package="docs")
        ... def triple(x):
        ...     return 3 * x
        >>> registered_name_of(triple), registered_name_of(len)
        ('docs>triple', None)
    """
    try:
        return _GLOBAL_CUSTOM_NAMES.get(obj)
    except TypeError:  # unhashable: never registered
        return None


def get_registered_name(obj: Any) -> str:
    """The name ``obj`` is registered under, else its ``__name__``."""
    registered = registered_name_of(obj)
    return registered if registered is not None else obj.__name__


def get_registered_object(
    name: str,
    custom_objects: dict[str, Any] | None = None,
    module_objects: dict[str, Any] | None = None,
) -> Any:
    """The object ``name`` stands for: from ``custom_objects``, the active
    scopes, the global registry, then ``module_objects``; ``None`` if unknown."""
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    for scope in reversed(_scope_stack()):
        if name in scope:
            return scope[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
