"""``timeseries_dataset_from_array``: sliding windows over a time series.

Keras returns a ``tf.data.Dataset``; callax returns a
:class:`~callax.utils.dataset_utils.BatchDataset` with the same windows and
batches. Window ``i`` starts at ``start_index + p_i`` with
``p_i = i * sequence_stride`` (shuffled when ``shuffle``) and holds
``data[start + k * sampling_rate]`` for ``k < sequence_length``; its target is
``targets[start]``.

Example:
    >>> import numpy as np
    >>> from callax.utils import timeseries_dataset_from_array
    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10) * 10,
    ...                                    sequence_length=3, batch_size=4)
    >>> x, y = ds[0]
    >>> x.tolist(), y.tolist()
    ([[0, 1, 2], [1, 2, 3], [2, 3, 4], [3, 4, 5]], [0, 10, 20, 30])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.utils.dataset_utils import BatchDataset


def _check(data: Any, start_index, end_index, sampling_rate, sequence_stride) -> None:
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(
                f"start_index must be 0 or greater; received start_index={start_index}."
            )
        if start_index >= n:
            raise ValueError(
                f"start_index must be lower than the length of the data ({n}); "
                f"received start_index={start_index}."
            )
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(
                f"end_index must be higher than start_index ({start_index}); "
                f"received end_index={end_index}."
            )
        if end_index >= n:
            raise ValueError(
                f"end_index must be lower than the length of the data ({n}); "
                f"received end_index={end_index}."
            )
        if end_index <= 0:
            raise ValueError(f"end_index must be higher than 0; received end_index={end_index}.")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"{name} must be higher than 0; received {name}={value}.")
        if value >= n:
            raise ValueError(
                f"{name} must be lower than the length of the data ({n}); received {name}={value}."
            )


def timeseries_dataset_from_array(
    data: Any,
    targets: Any,
    sequence_length: int,
    sequence_stride: int = 1,
    sampling_rate: int = 1,
    batch_size: int | None = 128,
    shuffle: bool = False,
    seed: int | None = None,
    start_index: int | None = None,
    end_index: int | None = None,
    format: str = "tf",
) -> BatchDataset:
    """Batches of windows ``(batch, sequence_length, ...)`` over ``data`` (and their
    targets when ``targets`` is not ``None``). Arguments are Keras 3's;
    ``batch_size=None`` yields single windows. ``format`` is accepted for
    compatibility; the result is always a callax ``PyDataset``."""
    _check(data, start_index, end_index, sampling_rate, sequence_stride)
    if format not in ("tf", "grain"):
        raise ValueError(f"format must be 'tf' or 'grain'; received format={format!r}.")
    start = start_index or 0
    stop = end_index if end_index is not None else len(data)
    data = np.asarray(data)[start:stop]
    if targets is not None:
        targets = np.asarray(targets)[start:stop]
    num_seqs = stop - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = int(np.random.randint(1_000_000))
        np.random.RandomState(seed).shuffle(positions)
    offsets = np.arange(sequence_length) * sampling_rate

    def load(indices: np.ndarray) -> Any:
        starts = positions[indices]
        windows = data[starts[:, None] + offsets[None, :]]
        return windows if targets is None else (windows, targets[starts])

    return BatchDataset(load, len(positions), batch_size=batch_size, shuffle=shuffle,
                        seed=seed)  # fmt: skip
