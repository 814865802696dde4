"""``EpochIterator``: one epoch of device-ready work items from a data adapter.

Each item is ``(begin_step, end_step, data, n)``: ``n == 1`` means ``data`` is
one batch; ``n > 1`` means ``n`` batches of identical shapes stacked on a new
leading axis, for one ``steps_per_execution`` dispatch. Batches that cannot be
grouped (the last, smaller batch; a generator's odd batch; the remainder of an
epoch) run one at a time.

The last partial batch is *not* padded: it gets its own compiled step, traced
once for its size and reused every epoch (two compiles at most, no masking, and
metrics/BatchNorm see exactly the real samples).

The next item is moved to the device (``jax.device_put``, asynchronous) before
the current one is handed out, so host-to-device copies overlap compute. A loop
whose steps are compiled (``predict``, ``evaluate``) sets ``host_batches``: items
then stay NumPy arrays, which the jitted step moves itself at less host cost.
When the arrays live on the device (``fit``), items carry row indices instead,
uploaded as one table per chunk of steps; each step then passes only its row number.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

from callax.core.config_flags import cap_steps_per_epoch
from callax.distribution import distribution
from callax.distribution.hooks import distribute_batch
from callax.training.data_adapters import DataAdapter


def _signature(batch: Any) -> Any:
    leaves, treedef = jax.tree_util.tree_flatten(batch)
    return treedef, tuple((np.shape(a), np.dtype(getattr(a, "dtype", None) or np.asarray(a).dtype))
                          for a in leaves)  # fmt: skip


def _to_device(batch: Any, steps: int = 1, global_batch: bool = True) -> Any:
    if distribution() is not None:  # split along the mesh's batch axis
        # global_batch: every process holds the whole batch (arrays); else its own.
        return distribute_batch(batch, steps, global_batch)
    return jax.tree_util.tree_map(_leaf_to_device, batch)


def _leaf_to_device(a: Any) -> Any:
    if isinstance(a, jax.Array):
        return a
    a = np.asarray(a)
    return a if a.dtype.kind in "USO" else jax.device_put(a)  # strings stay on the host


def _as_arrays(batch: Any) -> Any:
    """``batch`` with every leaf a NumPy or JAX array, left where it is."""
    return jax.tree_util.tree_map(_leaf_as_array, batch)


def _leaf_as_array(a: Any) -> Any:
    return a if isinstance(a, (np.ndarray, jax.Array)) else np.asarray(a)


_END = object()


def _endless_error(adapter: DataAdapter) -> None:
    """An endless source without a step count: an epoch would never end (Keras
    then trains forever in its first epoch); say which argument to give."""
    caller = adapter.caller
    if "validation" in caller:
        data, arg = "validation_data", "validation_steps"
    else:
        data, arg = "x", "steps_per_epoch" if caller == "fit" else "steps"
    raise ValueError(
        f"{caller}: {data} is an endless {adapter.kind} (it repeats forever), so an epoch "
        f"would never end: pass {arg}=<batches per epoch>, or make the data finite "
        f"(e.g. .repeat(count)); received {arg}=None."
    )


def _stack(batches: list) -> Any:
    return jax.tree_util.tree_map(lambda *xs: np.stack([np.asarray(x) for x in xs]), *batches)


@jax.tree_util.register_pytree_node_class
class Gather:
    """A batch not yet taken: rows ``idx`` of the device-resident ``source``.

    It is what a work item carries when the dataset lives on the device
    (``ArrayDataAdapter.device_source``); the compiled step calls ``take()``, so
    the rows are gathered by XLA inside the step. ``idx`` is ``(batch,)``, or
    ``(steps, batch)`` for a ``steps_per_execution`` group. With ``row`` set,
    ``idx`` is a table of such index arrays (uploaded once for many steps) and
    the batch is ``idx[row]``: a step then sends only one int32 scalar to the
    device, not its indices (a ``device_put`` per step costs ~5% of an MLP step
    on a small CPU).
    """

    def __init__(self, source: Any, idx: Any, row: Any = None):
        self.source, self.idx, self.row = source, idx, row

    def indices(self) -> Any:
        """The batch's row indices: ``idx``, or row ``row`` of the table."""
        return self.idx if self.row is None else self.idx[self.row]

    def take(self, idx: Any = None) -> Any:
        idx = self.indices() if idx is None else idx
        return jax.tree_util.tree_map(lambda a: a[idx], self.source)

    def tree_flatten(self):
        return (self.source, self.idx, self.row), None

    @classmethod
    def tree_unflatten(cls, aux, children):
        return cls(*children)


# Index tables hold at most this many int32 entries (4 MiB), padded to a fixed
# row count so every table of one epoch has the same shape (one compile).
_TABLE_ENTRIES = 1 << 20
_TABLE_ROWS = 1024


def _tables(items: list[tuple]) -> Iterator[tuple]:
    """Yields ``items`` with their index arrays replaced by ``Gather``-ready
    ``(table, row)`` pairs: one upload per index shape per chunk of items."""
    by_shape: dict[tuple, list[int]] = {}
    for position, item in enumerate(items):
        by_shape.setdefault(item[2].shape, []).append(position)
    placed: dict[int, tuple] = {}
    for shape, positions in by_shape.items():
        rows = _table_rows(shape)
        table = np.zeros((rows, *shape), dtype=np.int32)
        for row, position in enumerate(positions):
            table[row] = items[position][2]
        table = jax.device_put(table)
        for row, position in enumerate(positions):
            placed[position] = (table, np.int32(row))
    for position, (begin, end, _, n) in enumerate(items):
        yield begin, end, placed[position], n


def _table_rows(shape: tuple) -> int:
    return max(1, min(_TABLE_ROWS, _TABLE_ENTRIES // max(1, math.prod(shape))))


class EpochIterator:
    """Iterates epochs of an adapter in groups of ``steps_per_execution``.

    Args:
        adapter: the :class:`DataAdapter`.
        steps_per_epoch: stop each epoch after this many batches (``None``: when
            the data runs out; required for an endless dataset). A stream
            (generator, tf.data, DataLoader, grain) continues where it stopped
            next epoch, a re-iterable one starting its next pass when one ends;
            arrays and PyDatasets start over (and cycle if asked for more
            batches than they hold).
        steps_per_execution: batches per compiled dispatch.
        resident: keep array data on the device and gather batches there (pays
            off over several passes, as in ``fit``; a single ``predict`` pass
            would copy everything up front for nothing).
    """

    def __init__(
        self,
        adapter: DataAdapter,
        steps_per_epoch: int | None = None,
        steps_per_execution: int = 1,
        resident: bool = False,
    ):
        self.adapter = adapter
        self.steps_per_epoch = cap_steps_per_epoch(steps_per_epoch)  # keras.config debug cap
        if self.steps_per_epoch is None and adapter.endless:
            _endless_error(adapter)
        self.steps_per_execution = max(1, int(steps_per_execution))
        self._shared: Iterator | None = None  # a stream's current pass, kept across epochs
        self.ran_out = False  # a one-shot stream was exhausted: training stops
        # Arrays small enough live on the device; items then carry row indices.
        resident = resident and distribution() is None  # sharded batches are put per step
        get_source = getattr(adapter, "device_source", None) if resident else None
        self.source = get_source() if get_source is not None else None
        # Several processes: arrays are the same on each (each puts its share of a
        # batch); other sources feed each process its own local batch.
        self.global_batches = hasattr(adapter, "batch_indices")
        # Set by the loop once it knows its steps are compiled (and the batches hold
        # no strings): batches then reach the step as NumPy arrays, and the jitted
        # call moves them to the device in C++, which costs the host ~0.04 ms per
        # batch against ~0.13 ms for a jax.device_put (MLP predict, batch 1024: the
        # host's share of the 2 CPU cores XLA computes on). One device only: a
        # distribution splits each batch over its mesh here.
        self.host_batches = False

    def _epoch_batches(self) -> Iterator[Any]:
        if self.source is None:
            yield from self.adapter.get_epoch_iterator()
            return
        n = self.adapter.num_samples
        for idx in self.adapter.batch_indices():
            if isinstance(idx, slice):
                idx = np.arange(*idx.indices(n))
            yield np.asarray(idx, dtype=np.int32)

    @property
    def num_steps(self) -> int | None:
        """Batches per epoch, if known (the progress bar's target)."""
        if self.steps_per_epoch is not None:
            return int(self.steps_per_epoch)
        return self.adapter.num_batches

    def _batches(self) -> Iterator[Any]:
        """Raw batches for one epoch, at most ``steps_per_epoch`` of them."""
        limit = self.steps_per_epoch
        if self.adapter.is_iterator or (limit is not None and self.adapter.is_stream):
            yield from self._stream_batches(limit)
            return
        count = 0
        while True:
            produced = 0
            for batch in self._epoch_batches():
                yield batch
                produced += 1
                count += 1
                if limit is not None and count >= limit:
                    return
            if limit is None or produced == 0:
                return

    def _stream_batches(self, limit: int | None) -> Iterator[Any]:
        """One epoch of a stream that continues across epochs (as in Keras): the
        next epoch resumes where ``steps_per_epoch`` stopped this one. A re-iterable
        source (tf.data, a DataLoader) that ends starts its next pass; a one-shot
        iterator that ends stops training (``ran_out``), with a warning."""
        count = 0
        fresh = False
        while limit is None or count < limit:
            if self._shared is None:
                self._shared, fresh = self.adapter.get_epoch_iterator(), True
            batch = next(self._shared, _END)
            if batch is _END:
                if self.adapter.is_iterator or fresh:  # one-shot stream over, or empty
                    break
                self._shared = None  # the next pass
                continue
            fresh = False
            yield batch
            count += 1
        if self.adapter.is_iterator and (count == 0 or (limit is not None and count < limit)):
            self.ran_out = True
            expected = f" (steps_per_epoch={limit})" if limit is not None else ""
            stops = "training stops" if self.adapter.caller == "fit" else "the loop stops early"
            warnings.warn(
                f"Your input ran out of data after {count} batches this epoch{expected}; "
                f"{stops}. A {self.adapter.kind} is one stream shared by all epochs: "
                "make it repeat and give steps_per_epoch, or lower steps_per_epoch, or pass "
                "a re-iterable source (a tf.data.Dataset, a DataLoader, a PyDataset).",
                stacklevel=4,
            )

    def _items(self) -> Iterator[tuple]:
        n = self.steps_per_execution
        step = 0
        if n == 1:
            for batch in self._batches():
                yield step, step, batch, 1
                step += 1
            return
        buffer: list = []
        for batch in self._batches():
            buffer.append(batch)
            if len(buffer) == n:
                sigs = {_signature(b) for b in buffer}
                if len(sigs) == 1:
                    yield step, step + n - 1, _stack(buffer), n
                    step += n
                else:
                    for b in buffer:
                        yield step, step, b, 1
                        step += 1
                buffer = []
        for b in buffer:
            yield step, step, b, 1
            step += 1

    def __iter__(self) -> Iterator[tuple]:
        if self.source is not None:
            yield from self._resident_items()
            return
        if self.host_batches and distribution() is None:
            for begin, end, data, n in self._items():
                yield begin, end, _as_arrays(data), n
            return
        pending = None
        for begin, end, data, n in self._items():
            item = (begin, end, _to_device(data, n, self.global_batches), n)
            if pending is not None:
                yield pending
            pending = item
        if pending is not None:
            yield pending

    def _resident_items(self) -> Iterator[tuple]:
        """Items as ``Gather``s over index tables, uploaded a chunk at a time."""
        chunk: list[tuple] = []
        limit = _TABLE_ROWS
        for item in self._items():
            chunk.append(item)
            limit = min(limit, _table_rows(item[2].shape))
            if len(chunk) >= limit:
                for begin, end, (table, row), n in _tables(chunk):
                    yield begin, end, Gather(self.source, table, row), n
                chunk, limit = [], _TABLE_ROWS
        for begin, end, (table, row), n in _tables(chunk):
            yield begin, end, Gather(self.source, table, row), n
