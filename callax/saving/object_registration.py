"""The registry of user classes and functions that configs may name.

A config names a user object by ``registered_name`` (``"my_package>MyLayer"``).
Loading looks the name up in, in order: ``custom_objects=`` given to the loading
call, the active :func:`custom_object_scope` blocks, and the global registry
filled by :func:`register_keras_serializable`. Nothing is imported by name from
the file: a class the user has not made known cannot be loaded.

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

# The state and the functions live in callax.core.custom_objects (so that the
# family registries in callax.core need nothing above core); this module keeps
# the names Keras has under keras.saving.
from callax.core.custom_objects import (  # noqa: F401
    _GLOBAL_CUSTOM_NAMES,
    _GLOBAL_CUSTOM_OBJECTS,
    CustomObjectScope,
    _scope_stack,
    _scopes,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
