"""Saving and loading: whole models (``.keras``), weights (``.weights.h5``),
configs, and the registry of user classes. Keras 3's formats, safe by default,
written atomically.

The generic config machinery (``serialize_keras_object``, the user registry)
lives in :mod:`callax.core.serialization` and :mod:`callax.core.custom_objects`;
``keras.saving`` names them here."""

from callax.core.auto_config import NotSerializableError
from callax.core.custom_objects import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from callax.core.serialization import (
    SafeModeScope,
    deserialize_keras_object,
    enable_unsafe_deserialization,
    serialize_keras_object,
)
from callax.saving.keras_archive import KerasArchiveError
from callax.saving.saving_api import load_model, load_weights, save_model, save_weights
from callax.saving.weights_file import WeightsFileError

__all__ = [
    "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
    "get_registered_object", "register_keras_serializable", "load_model", "load_weights",
    "save_model", "save_weights", "SafeModeScope", "deserialize_keras_object",
    "enable_unsafe_deserialization", "serialize_keras_object", "NotSerializableError",
    "KerasArchiveError", "WeightsFileError",
]  # fmt: skip
