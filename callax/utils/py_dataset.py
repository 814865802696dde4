"""``PyDataset``: a Python dataset of batches, fetched in parallel while the model trains.

Subclass it, return the number of batches from ``__len__`` and one batch
``(x, y)`` or ``(x, y, sample_weight)`` from ``__getitem__(index)``; pass it to
``fit``/``evaluate``/``predict`` as ``x``. With ``workers > 1`` batches are
fetched ahead by a thread pool (or a process pool with
``use_multiprocessing=True``; the dataset must then be picklable), keeping at
most ``max_queue_size`` batches in flight. One pool serves a whole ``fit``: it
starts with the first epoch, every epoch reuses it, and it is shut down when
``fit`` returns.

Worker processes are not forked from your program (a fork of a process running
JAX's threads can deadlock): they come from a fork server, a clean process that
imports callax once per session (where the platform has none, Windows, each
worker is spawned). Either way a worker imports your script again before it can
unpickle the dataset, so code at the top level of the script runs once more in
every worker, ``fit`` included, which cannot work. Put the training under a main
guard, as with any ``multiprocessing`` program::

    class Batches(keras.utils.PyDataset):
        ...

    if __name__ == "__main__":
        model.fit(Batches(workers=4, use_multiprocessing=True), epochs=10)

The first pool of a session waits for the fork server to import callax (about
two seconds; it starts when ``fit`` begins, alongside the model's build); later
pools start in milliseconds. Threads (the default) start at once and suit numpy
work, which mostly runs outside the GIL; use processes for Python-heavy
preprocessing.

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
import concurrent.futures.process
import multiprocessing
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_WORKER_DATASET: Any = None

_GUARD_HINT = (
    "Each worker process imports your script again, so training code "
    'at its top level must sit under `if __name__ == "__main__":`. The dataset must '
    "also be picklable, its class importable (defined in a module or the script, not "
    "inside a function)."
)


def _init_worker(dataset: Any) -> None:
    global _WORKER_DATASET
    _WORKER_DATASET = dataset


def _worker_get(index: int) -> Any:
    return _WORKER_DATASET[index]


def _check_not_bootstrapping() -> None:
    """Inside a worker process that is still importing the main script (an
    unguarded ``fit`` at its top level), starting processes cannot work: say why."""
    if getattr(multiprocessing.current_process(), "_inheriting", False):
        raise RuntimeError(
            "In a PyDataset worker process: your script started training while the worker "
            "imported it. " + _GUARD_HINT
        )


_FORKSERVER_READY = False


def process_context() -> multiprocessing.context.BaseContext:
    """Where worker processes come from: a fork server that has imported callax
    once (each worker is then a cheap fork of a process with no JAX threads), or
    plain spawn where there is no fork server (Windows)."""
    global _FORKSERVER_READY
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    if not _FORKSERVER_READY:
        # Preload callax (an import only: no JAX backend, no threads), not the
        # script: that stays in the workers, as with spawn.
        context.set_forkserver_preload(["callax.utils.py_dataset"])
        _FORKSERVER_READY = True
    return context


def prestart_workers(dataset: Any) -> None:
    """Starts the fork server now (it imports callax in the background) so that
    the first pool, made when the first epoch starts, is quick."""
    if dataset.use_multiprocessing and dataset.workers > 1:
        _check_not_bootstrapping()
        if process_context().get_start_method() == "forkserver":
            import multiprocessing.forkserver

            multiprocessing.forkserver.ensure_running()


def _make_executor(dataset: Any) -> concurrent.futures.Executor:
    """A new pool for ``dataset``'s workers (processes or threads)."""
    if dataset.use_multiprocessing:
        _check_not_bootstrapping()
        return concurrent.futures.ProcessPoolExecutor(
            dataset.workers, mp_context=process_context(),
            initializer=_init_worker, initargs=(dataset,),
        )  # fmt: skip
    return concurrent.futures.ThreadPoolExecutor(dataset.workers)


class WorkerPool:
    """The worker pool of one dataset for one loop: created on first use, reused
    by every :meth:`PyDataset.iterate` given it, shut down by :meth:`close`."""

    def __init__(self, dataset: PyDataset):
        self.dataset = dataset
        self._executor: concurrent.futures.Executor | None = None

    def executor(self) -> concurrent.futures.Executor:
        if self._executor is None:
            self._executor = _make_executor(self.dataset)
            # a loop that never reached close() (an error mid-epoch) still frees it
            weakref.finalize(self, self._executor.shutdown, wait=False, cancel_futures=True)
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _setting(attr: str, coerce: Callable[[Any], Any]) -> property:
    """A public setting stored in ``attr``, coerced alike in ``__init__`` and on
    every later assignment (``dataset.workers = "4"`` stores ``4``)."""
    return property(
        lambda self: getattr(self, attr),
        lambda self, value: setattr(self, attr, coerce(value)),
    )


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
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    workers = _setting("_workers", int)
    use_multiprocessing = _setting("_use_multiprocessing", bool)
    max_queue_size = _setting("_max_queue_size", lambda value: max(1, int(value)))

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

    def iterate(self, indices: Iterable[int], pool: WorkerPool | None = None) -> Iterator[Any]:
        """Yields ``self[i]`` for ``i`` in ``indices``, in order, fetching up to
        ``max_queue_size`` batches ahead when ``workers > 1``: in ``pool`` if given
        (which stays open for the next call), else in a pool opened for this call.
        An endless index stream stops at the first ``IndexError``/``StopIteration``
        from ``__getitem__``."""
        if self._workers <= 1:
            for i in indices:
                try:
                    batch = self[int(i)]
                except (IndexError, StopIteration):
                    return
                yield batch
            return
        if pool is None:
            with WorkerPool(self) as own:
                yield from self.iterate(indices, own)
            return
        executor = pool.executor()
        fetch = _worker_get if self._use_multiprocessing else self.__getitem__
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
                except concurrent.futures.process.BrokenProcessPool as error:
                    pool.close()
                    raise RuntimeError(
                        f"{type(self).__name__}: a worker process died while starting or "
                        "fetching a batch (its own error is printed above). " + _GUARD_HINT
                    ) from error
                for i in it:
                    pending.append(executor.submit(fetch, int(i)))
                    break
                yield batch
        finally:
            for future in pending:  # an epoch cut short: drop what it fetched ahead
                future.cancel()
