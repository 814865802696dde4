"""Fashion-MNIST: 60,000 training and 10,000 test 28x28 grayscale images of
clothing in 10 classes (0 T-shirt/top ... 9 ankle boot)."""

from __future__ import annotations

import gzip
import os

import numpy as np

from callax.datasets._common import ORIGIN
from callax.utils.file_utils import get_file

_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)


def _read(path: str, offset: int) -> np.ndarray:
    # IDX files: a big-endian header (8 bytes for labels, 16 for images), then uint8 data.
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def load_data() -> tuple:
    """Returns ``(x_train, y_train), (x_test, y_test)``: ``uint8`` images of shape
    ``(60000, 28, 28)`` / ``(10000, 28, 28)`` and ``uint8`` labels 0-9."""
    subdir = os.path.join("datasets", "fashion-mnist")
    paths = [get_file(name, origin=ORIGIN + name, cache_subdir=subdir) for name in _FILES]
    y_train = _read(paths[0], 8)
    x_train = _read(paths[1], 16).reshape(len(y_train), 28, 28)
    y_test = _read(paths[2], 8)
    x_test = _read(paths[3], 16).reshape(len(y_test), 28, 28)
    return (x_train, y_train), (x_test, y_test)
