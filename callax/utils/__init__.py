"""Utilities under ``keras.utils`` names."""

from callax.inspect.plot import plot_model  # noqa: E402  (after rng: no cycle)
from callax.saving.object_registration import (  # noqa: E402
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    register_keras_serializable,
)
from callax.saving.serialization_lib import (  # noqa: E402
    deserialize_keras_object,
    serialize_keras_object,
)
from callax.utils.numerical_utils import normalize, pad_sequences, to_categorical
from callax.utils.progbar import Progbar
from callax.utils.py_dataset import PyDataset
from callax.utils.rng import set_random_seed

Sequence = PyDataset  # Keras 2's name, still accepted by Keras 3

__all__ = [
    "set_random_seed", "plot_model", "Progbar", "PyDataset", "Sequence", "to_categorical",
    "normalize", "pad_sequences", "CustomObjectScope", "custom_object_scope",
    "get_custom_objects", "register_keras_serializable", "serialize_keras_object",
    "deserialize_keras_object",
]  # fmt: skip
