"""``PyDataset``: a Python dataset of batches, fetched in parallel while the model trains.

Subclass it, return the number of batches from ``__len__`` and one batch
``(x, y)`` or ``(x, y, sample_weight)`` from ``__getitem__(index)``; pass it to
``fit``/``evaluate``/``predict`` as ``x``. With ``workers > 1`` batches are
fetched ahead by a thread pool (or a process pool with
``use_multiprocessing=True``; the dataset must then be picklable), keeping at
most ``max_queue_size`` batches in flight.

Example:
    >>> import numpy as np
    >>> import callax
    >>> class Squares(callax.utils.PyDataset):
    ...     def __len__(self):
    ...         return 3
    ...     def __getitem__(self, i):
    ...         x = np.full((2, 1), float(i))
    ...         return x, x**2
    >>> ds = Squares(workers=2)
    >>> [float(y[0, 0]) for _, y in ds.iterate(range(len(ds)))]
    [0.0, 1.0, 4.0]
"""

from __future__ import annotations

import collections
import concurrent.futures
import multiprocessing
from collections.abc import Iterable, Iterator
from typing import Any

_WORKER_DATASET: Any = None


def _init_worker(dataset: Any) -> None:
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _worker_get(index: int) -> Any:
    return _WORKER_DATASET[index]


class PyDataset:
    """Base class for datasets of batches (Keras 3's ``keras.utils.PyDataset``).

    Args:
        workers: number of workers fetching batches ahead (1: fetch in the
            training thread, in order, no concurrency).
        use_multiprocessing: fetch in worker processes instead of threads (for
            Python-heavy preprocessing that holds the GIL).
        max_queue_size: most batches fetched ahead at once.
    """

    def __init__(
        self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10
    ):
        self._workers = int(workers)
        self._use_multiprocessing = bool(use_multiprocessing)
        self._max_queue_size = max(1, int(max_queue_size))

    @property
    def workers(self) -> int:
        return self._workers

    @workers.setter
    def workers(self, value: int) -> None:
        self._workers = int(value)

    @property
    def use_multiprocessing(self) -> bool:
        return self._use_multiprocessing

    @use_multiprocessing.setter
    def use_multiprocessing(self, value: bool) -> None:
        self._use_multiprocessing = bool(value)

    @property
    def max_queue_size(self) -> int:
        return self._max_queue_size

    @max_queue_size.setter
    def max_queue_size(self, value: int) -> None:
        self._max_queue_size = max(1, int(value))

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(
            f"{type(self).__name__} must define __getitem__(self, index) returning one batch "
            "(x, y) or (x, y, sample_weight)."
        )

    @property
    def num_batches(self) -> int | None:
        """Batches per epoch: ``len(self)``, or ``None`` for an endless dataset
        (then give ``steps_per_epoch`` to ``fit``)."""
        if type(self).__len__ is PyDataset.__len__:
            return None
        return len(self)

    def __len__(self) -> int:
        raise TypeError(
            f"{type(self).__name__} defines no __len__: it is an endless dataset; "
            "num_batches is None."
        )

    def on_epoch_begin(self) -> None:
        """Called at the start of every epoch."""

    def on_epoch_end(self) -> None:
        """Called at the end of every epoch (shuffle your index here)."""

    def iterate(self, indices: Iterable[int]) -> Iterator[Any]:
        """Yields ``self[i]`` for ``i`` in ``indices``, in order, fetching up to
        ``max_queue_size`` batches ahead when ``workers > 1``. An endless index
        stream stops at the first ``IndexError``/``StopIteration`` from ``__getitem__``."""
        if self._workers <= 1:
            for i in indices:
                try:
                    batch = self[int(i)]
                except (IndexError, StopIteration):
                    return
                yield batch
            return
        if self._use_multiprocessing:
            executor: concurrent.futures.Executor = concurrent.futures.ProcessPoolExecutor(
                self._workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker, initargs=(self,),
            )  # fmt: skip
            fetch = _worker_get
        else:
            executor = concurrent.futures.ThreadPoolExecutor(self._workers)
            fetch = self.__getitem__
        pending: collections.deque = collections.deque()
        it = iter(indices)
        try:
            for i in it:
                pending.append(executor.submit(fetch, int(i)))
                if len(pending) >= self._max_queue_size:
                    break
            while pending:
                future = pending.popleft()
                try:
                    batch = future.result()
                except (IndexError, StopIteration):
                    return
                for i in it:
                    pending.append(executor.submit(fetch, int(i)))
                    break
                yield batch
        finally:
            for future in pending:
                future.cancel()
            executor.shutdown(wait=True, cancel_futures=True)
