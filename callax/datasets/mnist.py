"""MNIST handwritten digits: 60,000 training and 10,000 test 28x28 images."""

from __future__ import annotations

import numpy as np

from callax.datasets._common import ORIGIN
from callax.utils.file_utils import get_file

_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


def load_data(path: str = "mnist.npz") -> tuple:
    """Returns ``(x_train, y_train), (x_test, y_test)``: ``uint8`` images of shape
    ``(60000, 28, 28)`` / ``(10000, 28, 28)`` and ``uint8`` labels 0-9.

    Args:
        path: file name in the cache (``~/.keras/datasets``).
    """
    path = get_file(fname=path, origin=f"{ORIGIN}mnist.npz", file_hash=_SHA256)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
