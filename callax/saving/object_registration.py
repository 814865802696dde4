"""``keras.saving``'s names for the user registry (``register_keras_serializable``,
``custom_object_scope``, ...); the registry itself is :mod:`callax.core.custom_objects`.

Example:
    >>> import callax
    >>> callax.saving.register_keras_serializable is callax.core.custom_objects.register_keras_serializable
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
