"""Utilities under ``keras.utils`` names.

The modules here are low-level helpers (files, logging, progress bars, RNG,
datasets) that import only ``callax.core`` and each other, so any layer of the
library may use them. A few ``keras.utils`` names are high-level things that
live elsewhere (``plot_model`` in ``callax.inspect``, ``model_to_dot``, the
``model_utils`` functions); they are re-exported here on first use, so that
importing a helper such as ``callax.utils.io_utils`` does not load them.

>>> import callax
>>> callax.utils.to_categorical([0, 2], num_classes=3).tolist()
[[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
>>> callax.utils.plot_model is callax.inspect.plot_model
True
"""

from callax.backend import clear_session
from callax.core.custom_objects import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from callax.core.dtypes import standardize_dtype
from callax.core.keras_tensor import is_keras_tensor
from callax.core.lazy_attributes import lazy_attributes as _lazy_attributes
from callax.core.serialization import deserialize_keras_object, serialize_keras_object
from callax.utils import (
    bounding_boxes,
    legacy,  # noqa: F401  (keras.utils.legacy: Keras 2 configs)
)
from callax.utils.config import Config
from callax.utils.dataset_utils import split_dataset
from callax.utils.file_utils import get_file
from callax.utils.image_dataset import image_dataset_from_directory
from callax.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from callax.utils.io_utils import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from callax.utils.numerical_utils import normalize, pad_sequences, to_categorical
from callax.utils.progbar import Progbar
from callax.utils.py_dataset import PyDataset
from callax.utils.rng import set_random_seed
from callax.utils.text_dataset import text_dataset_from_directory
from callax.utils.timeseries_dataset import timeseries_dataset_from_array

Sequence = PyDataset  # Keras 2's name, still accepted by Keras 3

# keras.utils names whose home is above the helpers: imported on first use (PEP 562).
_HIGH_LEVEL = {
    "plot_model": ("callax.inspect.plot", "plot_model"),
    "model_to_dot": ("callax.utils.model_visualization", "model_to_dot"),
    "get_source_inputs": ("callax.utils.model_utils", "get_source_inputs"),
    "pack_x_y_sample_weight": ("callax.utils.model_utils", "pack_x_y_sample_weight"),
    "unpack_x_y_sample_weight": ("callax.utils.model_utils", "unpack_x_y_sample_weight"),
}


__getattr__, __dir__ = _lazy_attributes("callax.utils", globals(), _HIGH_LEVEL)


__all__ = [
    "set_random_seed", "plot_model", "Progbar", "PyDataset", "Sequence", "to_categorical",
    "normalize", "pad_sequences", "CustomObjectScope", "custom_object_scope",
    "get_custom_objects", "register_keras_serializable", "serialize_keras_object",
    "deserialize_keras_object", "clear_session", "standardize_dtype", "get_registered_name",
    "get_registered_object", "Config", "split_dataset", "get_file",
    "image_dataset_from_directory", "array_to_img", "img_to_array", "load_img", "save_img",
    "disable_interactive_logging", "enable_interactive_logging",
    "is_interactive_logging_enabled", "get_source_inputs", "is_keras_tensor",
    "pack_x_y_sample_weight", "unpack_x_y_sample_weight", "text_dataset_from_directory",
    "timeseries_dataset_from_array", "model_to_dot", "bounding_boxes",
]  # fmt: skip
