"""Utilities under ``keras.utils`` names."""

from callax.backend import clear_session  # noqa: E402
from callax.core.dtypes import standardize_dtype  # noqa: E402
from callax.inspect.plot import plot_model  # noqa: E402  (after rng: no cycle)
from callax.saving.object_registration import (  # noqa: E402
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from callax.saving.serialization_lib import (  # noqa: E402
    deserialize_keras_object,
    serialize_keras_object,
)
from callax.utils import (  # noqa: E402
    bounding_boxes,
    legacy,  # noqa: F401  (keras.utils.legacy: Keras 2 configs)
)
from callax.utils.config import Config  # noqa: E402
from callax.utils.dataset_utils import split_dataset  # noqa: E402
from callax.utils.file_utils import get_file  # noqa: E402
from callax.utils.image_dataset import image_dataset_from_directory  # noqa: E402
from callax.utils.image_utils import array_to_img, img_to_array, load_img, save_img  # noqa: E402
from callax.utils.io_utils import (  # noqa: E402
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from callax.utils.model_utils import (  # noqa: E402
    get_source_inputs,
    is_keras_tensor,
    pack_x_y_sample_weight,
    unpack_x_y_sample_weight,
)
from callax.utils.model_visualization import model_to_dot  # noqa: E402
from callax.utils.numerical_utils import normalize, pad_sequences, to_categorical
from callax.utils.progbar import Progbar
from callax.utils.py_dataset import PyDataset
from callax.utils.rng import set_random_seed
from callax.utils.text_dataset import text_dataset_from_directory  # noqa: E402
from callax.utils.timeseries_dataset import timeseries_dataset_from_array  # noqa: E402

Sequence = PyDataset  # Keras 2's name, still accepted by Keras 3

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
