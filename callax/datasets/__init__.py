"""Small standard data sets under Keras 3's ``keras.datasets`` names.

Each ``load_data()`` downloads the same file as Keras from the same URL into the
same cache (``$KERAS_HOME`` or ``~/.keras``, folder ``datasets``), checks its
hash, and returns NumPy arrays with Keras's shapes and dtypes. A file Keras
already downloaded is reused, so no network is needed then.
"""

from callax.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = [
    "boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist", "imdb",
    "mnist", "reuters",
]  # fmt: skip
