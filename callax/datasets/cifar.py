"""Reading the pickled batches of the CIFAR archives (numpy objects only)."""

from __future__ import annotations

import numpy as np

from callax.core import config
from callax.datasets._npz import _NumpyOnlyUnpickler


def load_batch(fpath: str, label_key: str = "labels") -> tuple[np.ndarray, list]:
    """``(data, labels)`` of one CIFAR batch file; ``data`` is ``(n, 3, 32, 32)`` uint8."""
    with open(fpath, "rb") as f:
        raw = _NumpyOnlyUnpickler(f, encoding="bytes").load()
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in raw.items()}
    data = np.asarray(batch["data"])
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]


def finish(x_train, y_train, x_test, y_test, label_dtype: str | None = None) -> tuple:
    """Labels as ``(n, 1)`` (``label_dtype``, else NumPy's default int as Keras's
    CIFAR-100); images channels-last unless ``image_data_format()`` says
    channels-first (as Keras)."""
    y_train = np.reshape(np.asarray(y_train, dtype=label_dtype), (len(y_train), 1))
    y_test = np.reshape(np.asarray(y_test, dtype=label_dtype), (len(y_test), 1))
    if config.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test.astype(x_train.dtype), y_test)
