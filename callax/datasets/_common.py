"""What the data set loaders share: the URL folder Keras downloads from, and the
shuffle-then-split of the regression sets."""

from __future__ import annotations

import numpy as np

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"


def check_test_split(test_split: float) -> None:
    if not 0 <= test_split < 1:
        raise ValueError(
            f"load_data: test_split must be in [0, 1) (the fraction of samples kept for "
            f"testing); received test_split={test_split!r}."
        )


def shuffle_split(x: np.ndarray, y: np.ndarray, test_split: float, seed: int) -> tuple:
    """Shuffles with ``np.random.RandomState(seed)`` and keeps the last
    ``test_split`` fraction for testing (Keras's order, so splits match)."""
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (np.array(x[:cut]), np.array(y[:cut])), (np.array(x[cut:]), np.array(y[cut:]))
