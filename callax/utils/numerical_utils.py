"""Array helpers under Keras's ``keras.utils`` names."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_categorical(x: Any, num_classes: int | None = None) -> np.ndarray:
    """One-hot encodes integer class labels (float32, Keras's layout).

    Example:
        >>> from callax.utils import to_categorical
        >>> to_categorical([0, 2], num_classes=3).tolist()
        [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    """
    y = np.asarray(x, dtype="int64")
    shape = y.shape
    if shape and shape[-1] == 1 and len(shape) > 1:
        shape = shape[:-1]
    y = y.reshape(-1)
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise ValueError(
            f"to_categorical: labels must be in [0, {num_classes}); received labels in "
            f"[{int(y.min())}, {int(y.max())}]."
        )
    out = np.zeros((y.shape[0], num_classes), dtype="float32")
    out[np.arange(y.shape[0]), y] = 1.0
    return out.reshape(shape + (num_classes,))


def normalize(x: Any, axis: int = -1, order: int = 2) -> np.ndarray:
    """``x`` divided by its ``order``-norm along ``axis`` (zero vectors stay zero).

    Example:
        >>> from callax.utils import normalize
        >>> normalize([[3.0, 4.0]]).tolist()
        [[0.6, 0.8]]
    """
    x = np.asarray(x, dtype="float32")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def pad_sequences(
    sequences: Any, maxlen: int | None = None, dtype: str = "int32", padding: str = "pre",
    truncating: str = "pre", value: float = 0.0,
) -> np.ndarray:  # fmt: skip
    """Pads (or truncates) a list of sequences to one length, as Keras does.

    Example:
        >>> from callax.utils import pad_sequences
        >>> pad_sequences([[1, 2], [3]], maxlen=3).tolist()
        [[0, 1, 2], [0, 0, 3]]
    """
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(
            f"pad_sequences: padding and truncating must be 'pre' or 'post'; received "
            f"padding={padding!r}, truncating={truncating!r}."
        )
    sequences = [list(s) for s in sequences]
    if maxlen is None:
        maxlen = max((len(s) for s in sequences), default=0)
    sample_shape = np.asarray(next((s for s in sequences if s), [0])).shape[1:]
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not s:
            continue
        trunc = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        trunc = np.asarray(trunc, dtype=dtype)
        if padding == "post":
            out[i, : len(trunc)] = trunc
        else:
            out[i, maxlen - len(trunc) :] = trunc
    return out
