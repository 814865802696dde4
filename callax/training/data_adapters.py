"""Data adapters: turn what users pass to ``fit``/``evaluate``/``predict`` into
batches of ``(x, y, sample_weight)``.

Accepted inputs, as in Keras 3:

- numpy / JAX arrays, and dicts, lists or tuples of them (several inputs or
  outputs): :class:`ArrayDataAdapter` slices them into batches, shuffling the
  sample order each epoch when asked;
- pandas ``DataFrame``/``Series`` and torch/TensorFlow tensors, as arrays
  (converted to numpy first, see :mod:`callax.training.foreign_data`);
- streams of batches: Python generators, iterators and re-iterable objects,
  ``tf.data.Dataset``, torch ``DataLoader``, grain datasets, each batch being
  ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)``: :class:`GeneratorDataAdapter`;
- :class:`callax.utils.PyDataset`: :class:`PyDatasetAdapter`.

Inputs are checked before any step runs: a missing ``x``, a bad ``batch_size``,
no samples, ragged nested lists, mismatched lengths, NaN, and (with the model,
:func:`check_batch_targets`) batches without targets or with string targets.

Example:
    >>> import numpy as np
    >>> from callax.training.data_adapters import get_data_adapter
    >>> adapter = get_data_adapter(np.zeros((10, 3)), np.zeros(10), batch_size=4, shuffle=False)
    >>> [batch[0].shape for batch in adapter.get_epoch_iterator()]
    [(4, 3), (4, 3), (2, 3)]
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np

from callax.distribution.distributions import distribution
from callax.distribution.multihost import is_multi_process, same_seed
from callax.training.foreign_data import (
    batch_to_numpy,
    describe_stream,
    is_foreign_array,
    to_numpy,
    tree_to_numpy,
)
from callax.utils.py_dataset import PyDataset, WorkerPool, prestart_workers

# --------------------------------------------------------------- structures


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """Splits a batch into ``(x, y, sample_weight)``; missing parts are ``None``.

    Example:
        >>> unpack_x_y_sample_weight((1, 2))
        (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        "Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`; "
        f"received a tuple of {len(data)} elements: {_describe(data)}."
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> tuple:
    """The inverse of :func:`unpack_x_y_sample_weight`."""
    if y is None:
        return (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _is_array(x: Any) -> bool:
    return isinstance(x, (np.ndarray, jax.Array)) or (
        hasattr(x, "shape") and hasattr(x, "dtype") and hasattr(x, "__array__")
    )


def _leaves(x: Any) -> list[Any]:
    return [leaf for leaf in jax.tree_util.tree_leaves(x) if leaf is not None]


def _describe(x: Any) -> str:
    """A short structural description for error messages: shapes, not values."""
    if x is None:
        return "None"
    if _is_array(x):
        return f"array of shape {tuple(x.shape)} and dtype {np.dtype(x.dtype).name}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k!r}: {_describe(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (list, tuple)):
        inner = ", ".join(_describe(v) for v in x)
        return f"[{inner}]" if isinstance(x, list) else f"({inner})"
    return f"{type(x).__name__}"


def _is_array_structure(x: Any) -> bool:
    """True for arrays, array-likes (lists of numbers) and nests of arrays."""
    if x is None:
        return True
    if _is_array(x) or isinstance(x, (int, float, np.generic)):
        return True
    if isinstance(x, dict):
        return all(_is_array_structure(v) for v in x.values())
    if isinstance(x, (list, tuple)):
        return all(_is_array_structure(v) for v in x) or _is_numeric_list(x)
    return False


def _is_numeric_list(x: Any) -> bool:
    try:
        a = np.asarray(x)
    except (ValueError, TypeError):
        return False
    return a.dtype.kind in "biuf"


def _to_numpy_tree(x: Any) -> Any:
    """Arrays (and nested Python lists of numbers) as numpy arrays, structure kept."""
    if x is None:
        return None
    if isinstance(x, dict):
        return {k: _to_numpy_tree(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and not (_is_numeric_list(x) and not _has_array(x)):
        return type(x)(_to_numpy_tree(v) for v in x)
    return np.asarray(to_numpy(x))


def _has_array(x: Any) -> bool:
    return any(
        _is_array(v) or is_foreign_array(v) for v in (x if isinstance(x, (list, tuple)) else [x])
    )


def _ragged(x: Any, path: str) -> str | None:
    """Where a nested Python list of numbers is ragged ("x[1] has 3 values but
    x[0] has 4"), or ``None``; lists holding arrays are several inputs, not rows."""
    if not isinstance(x, (list, tuple)) or _has_array(x):
        return None
    nested = [isinstance(v, (list, tuple)) for v in x]
    if any(nested) and not all(nested):
        i, j = nested.index(True), nested.index(False)
        return f"{path}[{i}] is a list but {path}[{j}] is a single value"
    if not any(nested):
        return None
    for i, v in enumerate(x[1:], 1):
        if len(v) != len(x[0]):
            return f"{path}[{i}] has {len(v)} values but {path}[0] has {len(x[0])}"
    for i, v in enumerate(x):
        where = _ragged(v, f"{path}[{i}]")
        if where:
            return where
    return None


def check_not_ragged(value: Any, name: str, caller: str) -> None:
    """Raises ``ValueError`` for a ragged nested list (rows of different lengths),
    which would otherwise be read as several inputs."""
    if isinstance(value, dict):
        for k, v in value.items():
            check_not_ragged(v, f"{name}[{k!r}]", caller)
        return
    if not isinstance(value, (list, tuple)):
        return
    if _has_array(value):  # several inputs: check each
        for i, v in enumerate(value):
            check_not_ragged(v, f"{name}[{i}]", caller)
        return
    where = _ragged(value, name)
    if where:
        raise ValueError(
            f"{caller}: {name} is a ragged nested list: {where}, so it is not one array. "
            "Pad the rows to one length (e.g. keras.utils.pad_sequences(rows, "
            "padding='post')), or pass a numpy array of shape (samples, ...); "
            f"received {name} with {len(value)} rows."
        )


def check_batch_size(batch_size: Any, caller: str) -> None:
    """``batch_size`` is ``None`` or a positive integer."""
    if batch_size is None:
        return
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
        batch_size < 1
    ):  # fmt: skip
        raise ValueError(
            f"{caller}: batch_size must be a positive integer (or None for 32); "
            f"received batch_size={batch_size!r}."
        )


def check_class_weight(class_weight: Any, caller: str) -> None:
    """``class_weight`` is ``None`` or a dict of integer class ids to numbers."""
    if class_weight is None:
        return
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"{caller}: class_weight must be a dict mapping class ids to weights, e.g. "
            f"{{0: 1.0, 1: 5.0}}; received a {type(class_weight).__name__}: {class_weight!r}."
        )
    for k, w in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
            raise ValueError(
                f"{caller}: class_weight keys must be class ids (integers >= 0); received "
                f"key {k!r} in class_weight={class_weight!r}."
            )
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)):
            raise ValueError(
                f"{caller}: class_weight values must be numbers; received {w!r} for class "
                f"{k} in class_weight={class_weight!r}."
            )


def check_x_given(x: Any, caller: str) -> None:
    if x is None:
        raise ValueError(
            f"{caller}: x is None: pass the inputs as x (numpy arrays or a dict/list of "
            "them, a pandas DataFrame, a tf.data.Dataset, a torch DataLoader, a "
            "generator or a PyDataset); received x=None."
        )


# --------------------------------------------------------------- validation


def check_array_data(
    x: Any, y: Any, sample_weight: Any, *, caller: str, allow_nan: bool = False
) -> int:
    """Checks array inputs before any step runs and returns the number of samples.

    Raises ``ValueError`` when x, y and sample_weight disagree on the number of
    samples, when an array is a scalar, or when a floating input holds NaN
    (unless ``allow_nan``).
    """
    counts: list[tuple[str, int]] = []
    for part, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        for path, leaf in jax.tree_util.tree_flatten_with_path(value)[0]:
            if leaf is None:
                continue
            name = part + jax.tree_util.keystr(path)
            if np.ndim(leaf) == 0:
                raise ValueError(
                    f"{caller}: every array needs a leading batch axis, but {name} is a "
                    f"scalar; received {name}={leaf!r}."
                )
            counts.append((name, int(np.shape(leaf)[0])))
    if not counts or not counts[0][0].startswith("x"):
        check_x_given(None, caller)
    sizes = {n for _, n in counts}
    if len(sizes) > 1:
        detail = ", ".join(f"{name} has {n}" for name, n in counts)
        raise ValueError(
            f"{caller}: x, y and sample_weight must all have the same number of samples "
            f"(first dimension); received {detail}."
        )
    if counts[0][1] == 0:
        name = counts[0][0]
        leaf = next(a for a in jax.tree_util.tree_leaves(x) if a is not None)
        raise ValueError(
            f"{caller}: x has 0 samples, so there is nothing to run on; received "
            f"{name} of shape {tuple(np.shape(leaf))}."
        )
    if not allow_nan:
        check_no_nan(x, caller=caller)
    return counts[0][1]


def check_no_nan(x: Any, *, caller: str) -> None:
    """Raises ``ValueError`` naming the input that holds a NaN."""
    for path, leaf in jax.tree_util.tree_flatten_with_path(x)[0]:
        if leaf is None or np.dtype(leaf.dtype).kind not in "fc":
            continue
        leaf = np.asarray(leaf)
        # One pass with no temporary: a sum is NaN only if a value is NaN (or
        # +inf meets -inf), so the exact element scan runs only when it might find one.
        if not np.isnan(np.sum(leaf)):
            continue
        bad = np.isnan(leaf)
        if bad.any():
            where = np.argwhere(bad)[0]
            raise ValueError(
                f"{caller}: input x{jax.tree_util.keystr(path)} contains NaN "
                f"({int(bad.sum())} values, first at index {tuple(int(i) for i in where)}). "
                "Clean the data, or pass allow_nan=True if the model handles NaN itself; "
                f"received x{jax.tree_util.keystr(path)} of shape {tuple(leaf.shape)}."
            )


def class_weight_to_sample_weight(y: Any, class_weight: dict, caller: str = "fit") -> np.ndarray:
    """Per-sample weights from ``{class_index: weight}`` and the labels ``y``
    (integer labels, ``(n, 1)`` labels, or one-hot rows)."""
    if isinstance(y, (dict, list, tuple)):
        raise ValueError(
            f"{caller}: class_weight is only supported for models with a single output; "
            f"received y={_describe(y)}."
        )
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        labels = np.argmax(y, axis=-1)
    elif y.ndim == 2 and y.shape[1] == 1:
        labels = y[:, 0]
    elif y.ndim == 1:
        labels = y
    else:
        raise ValueError(
            f"{caller}: class_weight needs labels of shape (n,), (n, 1) or one-hot (n, classes); "
            f"received y of shape {y.shape}."
        )
    labels = labels.astype(np.int64)
    size = max(int(labels.max(initial=0)), max(int(k) for k in class_weight)) + 1
    table = np.ones(size, dtype=np.float32)
    for k, w in class_weight.items():
        table[int(k)] = w
    return table[labels]


def train_validation_split(arrays: tuple, validation_split: float) -> tuple[tuple, tuple]:
    """Splits the last ``validation_split`` fraction of samples off (before any
    shuffling, like Keras). Only for array data."""
    if not 0 < validation_split < 1:
        raise ValueError(
            f"fit: validation_split must be a float in (0, 1); received {validation_split!r}."
        )
    check_x_given(arrays[0], "fit")
    arrays = tree_to_numpy(arrays)  # pandas, torch and tf tensors split like numpy
    leaves = _leaves(arrays)
    if not all(_is_array(leaf) for leaf in leaves):
        raise ValueError(
            "fit: validation_split is only supported for array inputs (numpy, JAX, "
            "pandas, torch or TensorFlow tensors); received x of type "
            f"{type(arrays[0]).__name__}. Pass validation_data instead."
        )
    n = int(np.shape(leaves[0])[0])
    split = int(n * (1.0 - validation_split))
    if split == 0 or split == n:
        raise ValueError(
            f"fit: validation_split={validation_split} leaves an empty training or validation "
            f"set; received {n} samples."
        )

    def take(lo, hi):
        return jax.tree_util.tree_map(lambda a: a[lo:hi], arrays)

    return take(0, split), take(split, n)


# ---------------------------------------------------------------- adapters


def _pack_weighted(x: Any, y: Any, sw: Any, class_weight: dict | None) -> tuple:
    """One batch's ``(x, y, sample_weight)``, ``class_weight`` folded into the weights."""
    if class_weight is not None and y is not None:
        cw = class_weight_to_sample_weight(y, class_weight)
        sw = cw if sw is None else np.asarray(sw) * cw
    return pack_x_y_sample_weight(x, y, sw)


class DataAdapter:
    """Yields one epoch of ``(x, y, sample_weight)`` batch tuples at a time."""

    num_batches: int | None = None
    batch_size: int | None = None
    caller: str = "fit"  # for messages: "fit", "fit (validation_data)", "evaluate", ...
    endless: bool = False  # known to repeat forever: an epoch needs a step count
    kind: str = "array data"  # what the data is, for messages

    def get_epoch_iterator(self) -> Iterator[tuple]:
        raise NotImplementedError  # abstract: every adapter below implements it

    def first_batch(self) -> tuple:
        """A batch to build the model from (arrays: the first rows, unshuffled)."""
        raise NotImplementedError  # abstract

    def on_epoch_end(self) -> None:
        """Called after each epoch."""

    def close(self) -> None:
        """Called once when the loop is over (releases workers)."""

    @property
    def is_iterator(self) -> bool:
        """True when epochs share one one-shot stream (a generator): an epoch cut
        short by ``steps_per_epoch`` resumes where it stopped, and once it is
        exhausted training stops."""
        return False

    @property
    def is_stream(self) -> bool:
        """True for batches that come from a stream (generators, tf.data, torch,
        grain): with ``steps_per_epoch`` an epoch resumes where the last one
        stopped, and a re-iterable source starts its next pass when one ends."""
        return False


# Array datasets up to this size are moved to the device once per fit and batches
# are gathered there (see ArrayDataAdapter.device_source).
DEVICE_RESIDENT_BYTES = 1 << 30


class ArrayDataAdapter(DataAdapter):
    """Batches of arrays (numpy, JAX, or nests of them), shuffled per epoch.

    Args:
        x, y, sample_weight: arrays or nests of arrays with a common first axis.
        batch_size: samples per batch (default 32); the last batch may be smaller.
        shuffle: ``True`` (sample order each epoch), ``"batch"`` (order of whole
            batches), or ``False``.
        class_weight: ``{class: weight}`` folded into ``sample_weight``.
        seed: seeds the shuffling (drawn from numpy's global RNG when ``None``, so
            ``callax.utils.set_random_seed`` makes it repeatable).
    """

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int | None = None,
        shuffle: bool | str = False,
        class_weight: dict | None = None,
        seed: int | None = None,
    ):
        self.x = _to_numpy_tree(x)
        self.y = _to_numpy_tree(y)
        self.sample_weight = _to_numpy_tree(sample_weight)
        if class_weight is not None:
            if self.y is None:
                raise ValueError("fit: class_weight needs targets y; received y=None.")
            cw = class_weight_to_sample_weight(self.y, class_weight)
            if self.sample_weight is None:
                self.sample_weight = cw
            elif isinstance(self.sample_weight, np.ndarray):
                self.sample_weight = self.sample_weight * cw.reshape(
                    (-1,) + (1,) * (self.sample_weight.ndim - 1)
                )
        self.num_samples = int(np.shape(_leaves(self.x)[0])[0])
        self.batch_size = int(batch_size or 32)
        self.num_batches = max(1, -(-self.num_samples // self.batch_size))
        self.shuffle = shuffle
        if seed is None:
            # Several processes split each batch of the same arrays: one order for all.
            seed = int(np.random.randint(0, 2**31 - 1))
            seed = same_seed(seed) if shuffle else seed
        self._rng = np.random.default_rng(seed)
        self._device_source: Any = None

    def _take(self, idx: Any) -> tuple:
        def pick(a):
            return a[idx] if isinstance(idx, slice) else np.take(a, idx, axis=0)

        parts = [jax.tree_util.tree_map(pick, p) if p is not None else None for p in
                 (self.x, self.y, self.sample_weight)]  # fmt: skip
        return pack_x_y_sample_weight(*parts)

    def first_batch(self) -> tuple:
        return self._take(slice(0, min(self.batch_size, self.num_samples)))

    def batch_indices(self) -> Iterator[Any]:
        """One epoch's batches as row selections (slices, or index arrays when
        shuffled), drawing from the shuffling RNG exactly once per epoch."""
        n, bs = self.num_samples, self.batch_size
        if self.shuffle == "batch":
            order = self._rng.permutation(self.num_batches)
            for b in order:
                yield slice(b * bs, min((b + 1) * bs, n))
        elif self.shuffle:
            perm = self._rng.permutation(n).astype(np.int32)
            for b in range(self.num_batches):
                yield perm[b * bs : (b + 1) * bs]
        else:
            for b in range(self.num_batches):
                yield slice(b * bs, min((b + 1) * bs, n))

    def get_epoch_iterator(self) -> Iterator[tuple]:
        for idx in self.batch_indices():
            yield self._take(idx)

    def device_source(self) -> Any:
        """The whole dataset as device arrays, moved once, when it is small enough
        (``DEVICE_RESIDENT_BYTES``) and purely numeric; else ``None``.

        Then each step sends only its batch's row indices and the compiled step
        gathers the rows on the device: no per-step host slicing and copying,
        which on a small CPU cost about a quarter of an MLP's step time.
        """
        if self._device_source is None:
            packed = pack_x_y_sample_weight(self.x, self.y, self.sample_weight)
            leaves = jax.tree_util.tree_leaves(packed)
            size = sum(a.nbytes for a in leaves if isinstance(a, np.ndarray))
            numeric = all(isinstance(a, np.ndarray) and a.dtype.kind in "biuf" for a in leaves)
            self._device_source = (
                jax.device_put(packed) if numeric and size <= DEVICE_RESIDENT_BYTES else False
            )
        return self._device_source or None


class GeneratorDataAdapter(DataAdapter):
    """Batches from a stream: a Python generator or iterator, a re-iterable object
    (a list of batches, ...), a ``tf.data.Dataset``, a torch ``DataLoader`` or a
    grain dataset. Each batch is ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)`` (a list counts as a tuple), its leaves turned into
    numpy arrays as they arrive (:func:`~callax.training.foreign_data.batch_to_numpy`).

    A generator (or any iterator) is one stream shared by all epochs; a
    re-iterable starts a new pass each epoch. The first batch (read to build the
    model) is kept and trained on: nothing is read twice and no pass (or torch
    worker pool) is started just to look at it.

    Several processes (``jax.distributed``): a ``tf.data.Dataset`` batched with
    the global batch size is sharded by the distribution's ``distribute_dataset``
    (Keras 3's ``auto_shard_dataset``), so each process loads only its part; every
    other stream yields each process's own local batches.
    """

    def __init__(self, source: Any, class_weight: dict | None = None, caller: str = "fit"):
        stream = describe_stream(source)
        dist = distribution()
        if stream.kind == "tf.data.Dataset" and dist is not None and is_multi_process():
            # Keras 3: each process loads its part of the global batches (auto_shard_dataset).
            source = dist.distribute_dataset(source)
            stream = describe_stream(source)
        self.source = source
        self.kind = stream.kind
        self.num_batches = stream.num_batches
        self.endless = stream.endless
        self.caller = caller
        self._open = stream.open
        self._iterator = source if stream.open is None else None
        self._opened: Iterator | None = None  # the pass first_batch started
        self.class_weight = class_weight
        self._peeked: list[tuple] = []

    @property
    def is_iterator(self) -> bool:
        return self._iterator is not None

    @property
    def is_stream(self) -> bool:
        return True

    def _convert(self, raw: Any) -> tuple:
        batch = batch_to_numpy(raw)
        x, y, sw = unpack_x_y_sample_weight(batch)
        if x is None:
            raise ValueError(
                f"{self.caller}: a batch from the {self.kind} has no inputs; expected batches "
                "`x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`; received "
                f"{_describe(batch)}."
            )
        leaf = next((a for a in jax.tree_util.tree_leaves(x) if np.ndim(a)), None)
        if leaf is not None and np.shape(leaf)[0] == 0:
            raise ValueError(
                f"{self.caller}: a batch from the {self.kind} has 0 samples; received x="
                f"{_describe(x)}."
            )
        return _pack_weighted(x, y, sw, self.class_weight)

    def first_batch(self) -> tuple:
        if not self._peeked:
            if self._iterator is None and self._opened is None:
                self._opened = self._open()
            try:
                raw = next(self._iterator if self._iterator is not None else self._opened)
            except StopIteration:
                raise ValueError(
                    f"{self.caller}: the {self.kind} produced no batches; received an empty input."
                ) from None
            self._peeked.append(self._convert(raw))
        return self._peeked[0]

    def get_epoch_iterator(self) -> Iterator[tuple]:
        it = self._iterator
        if it is None:
            it, self._opened = (self._opened or self._open()), None
        while self._peeked:
            yield self._peeked.pop(0)
        for raw in it:
            yield self._convert(raw)


class PyDatasetAdapter(DataAdapter):
    """Batches from a :class:`callax.utils.PyDataset` (``__getitem__(index)``),
    fetched ahead by its workers; ``shuffle`` shuffles the batch order.

    With ``workers > 1`` one worker pool serves the whole loop: started when the
    first epoch begins, reused by every epoch (validation included, for a
    validation PyDataset), shut down by :meth:`close` when the loop ends.
    """

    kind = "PyDataset"

    def __init__(
        self, dataset: Any, shuffle: bool | str = False, class_weight: dict | None = None,
        caller: str = "fit",
    ):  # fmt: skip
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.class_weight = class_weight
        self.caller = caller
        self.num_batches = dataset.num_batches
        seed = int(np.random.randint(0, 2**31 - 1))
        if self.shuffle:  # several processes: each serves its part of the same batches
            seed = same_seed(seed)
        self._rng = np.random.default_rng(seed)
        self._pool = WorkerPool(dataset)  # its processes start with the first epoch
        prestart_workers(dataset)

    def _fix(self, batch: Any) -> tuple:
        x, y, sw = unpack_x_y_sample_weight(batch_to_numpy(batch))
        return _pack_weighted(x, y, sw, self.class_weight)

    def first_batch(self) -> tuple:
        return self._fix(self.dataset[0])

    def get_epoch_iterator(self) -> Iterator[tuple]:
        self.dataset.on_epoch_begin()
        n = self.num_batches
        if n is None:
            indices: Any = _count()
        else:
            indices = self._rng.permutation(n) if self.shuffle else range(n)
        for batch in self.dataset.iterate(indices, pool=self._pool):
            yield self._fix(batch)

    def on_epoch_end(self) -> None:
        self.dataset.on_epoch_end()

    def close(self) -> None:
        self._pool.close()


def _count():
    i = 0
    while True:
        yield i
        i += 1


def get_data_adapter(
    x: Any,
    y: Any = None,
    sample_weight: Any = None,
    batch_size: int | None = None,
    shuffle: bool | str = False,
    class_weight: dict | None = None,
    caller: str = "fit",
    allow_nan: bool = False,
) -> DataAdapter:
    """The adapter for ``x`` (checked before any step runs)."""
    check_x_given(x, caller)
    check_batch_size(batch_size, caller)
    check_class_weight(class_weight, caller)
    if isinstance(x, PyDataset) or _is_generator_like(x):
        kind = "PyDataset" if isinstance(x, PyDataset) else describe_stream(x).kind
        for name, value in (("y", y), ("sample_weight", sample_weight)):
            if value is not None:
                raise ValueError(
                    f"{caller}: when x is a {kind} it yields the targets itself, so `{name}` "
                    f"must not be given: make each batch (x, y) or (x, y, sample_weight); "
                    f"received {name}={_describe(tree_to_numpy(value))}."
                )
        if batch_size is not None and not isinstance(x, Iterator) and "validation" not in caller:
            warnings.warn(
                f"{caller}: batch_size={batch_size} is ignored: the {kind} makes the batches.",
                stacklevel=3,
            )
        if isinstance(x, PyDataset):
            return PyDatasetAdapter(x, shuffle=shuffle, class_weight=class_weight, caller=caller)
        return GeneratorDataAdapter(x, class_weight=class_weight, caller=caller)
    x, y, sample_weight = (tree_to_numpy(v) for v in (x, y, sample_weight))
    if not _is_array_structure(x):
        raise ValueError(
            f"{caller}: unrecognized data type for x: expected numpy/JAX arrays (or dicts, "
            "lists, tuples of them), a pandas DataFrame, torch/TensorFlow tensors, a "
            "tf.data.Dataset, a torch DataLoader, a grain dataset, a Python generator or "
            f"iterable of batches, or a callax.utils.PyDataset; received x of type "
            f"{type(x).__name__}."
        )
    for name, value in (("x", x), ("y", y), ("sample_weight", sample_weight)):
        check_not_ragged(value, name, caller)
    x, y, sample_weight = (_to_numpy_tree(v) for v in (x, y, sample_weight))
    check_array_data(x, y, sample_weight, caller=caller, allow_nan=allow_nan)
    return ArrayDataAdapter(x, y, sample_weight, batch_size, shuffle, class_weight)


def _is_generator_like(x: Any) -> bool:
    if x is None or isinstance(x, (list, tuple, dict, str, bytes)) or _is_array(x):
        return False
    if is_foreign_array(x):
        return False
    return isinstance(x, Iterator) or hasattr(x, "__iter__")


def check_batch_targets(model: Any, batch: tuple, caller: str) -> None:
    """Checks a batch's targets against the compiled loss before any step:
    batches without targets, and string labels, get a clear error.

    A model that trains without ``y`` (``add_loss``, its own ``compute_loss`` or
    ``train_step``/``test_step``) is left alone.
    """
    if getattr(model, "compiled_loss", None) is None:
        return
    step = "test_step" if caller.startswith("evaluate") or "validation" in caller else "train_step"
    if not model._uses_default(step, "compute_loss"):
        return
    x, y, _ = unpack_x_y_sample_weight(batch)
    if y is None:
        raise ValueError(
            f"{caller}: the model is compiled with a loss, but the batches hold no targets: "
            "each batch must be a tuple (x, y) or (x, y, sample_weight) (with arrays, pass "
            f"y=...); received batches with x only: {_describe(x)}."
        )
    for path, leaf in jax.tree_util.tree_flatten_with_path(y)[0]:
        a = np.asarray(leaf) if not hasattr(leaf, "dtype") else leaf
        kind = np.dtype(a.dtype).kind
        if kind in "US" or (kind == "O" and a.size and isinstance(a.flat[0], (str, bytes))):
            where = "y" + jax.tree_util.keystr(path)
            sample = sorted({str(v) for v in np.asarray(a).ravel()[:1000]})[:3]
            raise ValueError(
                f"{caller}: {where} holds strings (e.g. {sample}), but a loss needs numbers. "
                "Encode the labels as integer class ids first, e.g. "
                "lookup = keras.layers.StringLookup(num_oov_indices=0); lookup.adapt(y); "
                "y = np.asarray(lookup(y)) (or np.unique(y, return_inverse=True)[1]); "
                f"received {where} of dtype {np.dtype(a.dtype)} and shape {np.shape(a)}."
            )
