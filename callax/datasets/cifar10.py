"""CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes."""

from __future__ import annotations

import os

import numpy as np

from callax.datasets.cifar import finish, load_batch
from callax.utils.file_utils import get_file

_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


def load_data() -> tuple:
    """Returns ``(x_train, y_train), (x_test, y_test)``: ``uint8`` images
    ``(50000, 32, 32, 3)`` / ``(10000, 32, 32, 3)`` (channels-last unless
    ``image_data_format()`` is channels-first) and ``uint8`` labels ``(n, 1)``."""
    root = get_file(
        fname="cifar-10-batches-py-target", origin=_ORIGIN, extract=True, file_hash=_SHA256
    )
    root = os.path.join(root, "cifar-10-batches-py")
    xs, ys = [], []
    for i in range(1, 6):
        x, y = load_batch(os.path.join(root, f"data_batch_{i}"))
        xs.append(x.astype("uint8"))
        ys.extend(y)
    x_test, y_test = load_batch(os.path.join(root, "test_batch"))
    return finish(np.concatenate(xs), ys, x_test, y_test, label_dtype="uint8")
