"""``keras.preprocessing``: the data set builders and image/sequence helpers
under their Keras 3 names (the same functions as in ``callax.utils``)."""

from callax.preprocessing import image, sequence
from callax.utils.image_dataset import image_dataset_from_directory
from callax.utils.text_dataset import text_dataset_from_directory
from callax.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = [
    "image", "sequence", "image_dataset_from_directory", "text_dataset_from_directory",
    "timeseries_dataset_from_array",
]  # fmt: skip
