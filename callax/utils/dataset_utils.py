"""Datasets of batches built from files or arrays, and ``split_dataset``.

Keras returns ``tf.data.Dataset`` objects from ``image_dataset_from_directory``,
``text_dataset_from_directory`` and ``timeseries_dataset_from_array``. callax has
no TensorFlow: these return a :class:`BatchDataset`, a ``PyDataset`` that yields
the same batches (NumPy arrays), goes straight into ``fit``/``evaluate``/
``predict``, iterates with ``for x, y in ds`` (arrays have ``.numpy()`` as
tensors do), and has the few ``tf.data``
methods Keras examples chain on such datasets (``map``, ``take``, ``prefetch``,
``cache``, ``shuffle``, ``repeat`` as no-ops or simple equivalents).

Differences from ``tf.data``: ``shuffle=True`` reshuffles all samples at every
epoch (``tf.data`` shuffles within a buffer); a mapped function receives NumPy
batches, not tensors.

Example:
    >>> import numpy as np
    >>> from callax.utils import split_dataset
    >>> left, right = split_dataset((np.arange(10), np.arange(10) * 2), left_size=0.8)
    >>> left[0].tolist(), right[1].tolist()
    ([0, 1, 2, 3, 4, 5, 6, 7], [16, 18])
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jax
import numpy as np

from callax.utils.io_utils import print_msg
from callax.utils.py_dataset import PyDataset


class BatchArray(np.ndarray):
    """A NumPy array with ``.numpy()``, so code written for ``tf.data`` batches
    (``images[0].numpy()``) runs unchanged; it is an ordinary ndarray otherwise."""

    def numpy(self) -> np.ndarray:
        return np.asarray(self).view(np.ndarray)


def as_batch_arrays(batch: Any) -> Any:
    """``batch`` with every NumPy array viewed as a :class:`BatchArray`."""
    if isinstance(batch, np.ndarray):
        return batch.view(BatchArray)
    if isinstance(batch, (tuple, list)):
        return type(batch)(as_batch_arrays(b) for b in batch)
    if isinstance(batch, dict):
        return {k: as_batch_arrays(v) for k, v in batch.items()}
    return batch


class BatchDataset(PyDataset):
    """Batches of ``batch_size`` samples, each batch made by ``load(indices)``.

    Args:
        load: builds one batch from an array of sample indices.
        num_samples: number of samples.
        batch_size: samples per batch (``None``: one sample per item, unbatched).
        shuffle: reshuffle the sample order at every epoch.
        seed: seed of the shuffling.
        order: the initial sample order (default ``0..num_samples-1``).
    """

    def __init__(
        self,
        load: Callable[[np.ndarray], Any],
        num_samples: int,
        batch_size: int | None = 32,
        shuffle: bool = False,
        seed: int | None = None,
        order: np.ndarray | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._load = load
        self.num_samples = int(num_samples)
        self.batch_size = batch_size
        self.shuffle = bool(shuffle)
        self._rng = np.random.RandomState(seed)
        self._order = np.arange(num_samples) if order is None else np.asarray(order)
        self.class_names: list[str] | None = None
        self.file_paths: list[str] | None = None

    def __len__(self) -> int:
        if self.batch_size is None:
            return self.num_samples
        return math.ceil(self.num_samples / self.batch_size)

    def __getitem__(self, index: int) -> Any:
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError(f"{type(self).__name__}: batch index {index} out of range [0, {n}).")
        if self.batch_size is None:  # unbatched: one sample, without the batch axis
            return as_batch_arrays(_first(self._load(self._order[index : index + 1])))
        size = self.batch_size
        return as_batch_arrays(self._load(self._order[index * size : (index + 1) * size]))

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self._order)

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    # ------------------------------------------------------- tf.data-like chaining
    def map(self, fn: Callable, num_parallel_calls: Any = None, **kwargs: Any) -> MappedDataset:
        """Applies ``fn`` to every batch (``fn(*batch)`` when the batch is a tuple)."""
        return MappedDataset(self, fn)

    def take(self, count: int) -> MappedDataset:
        """The first ``count`` batches."""
        return MappedDataset(self, None, limit=count)

    def prefetch(self, buffer_size: Any = None) -> BatchDataset:
        """Returns the dataset itself: batches are already fetched ahead by the
        ``workers`` of ``fit``."""
        return self

    def cache(self, filename: str = "") -> BatchDataset:
        """Returns the dataset itself (files are read at each epoch)."""
        return self

    def repeat(self, count: int | None = None) -> BatchDataset:
        """Returns the dataset itself: ``fit`` iterates it once per epoch."""
        return self


def _first(batch: Any) -> Any:
    if isinstance(batch, (tuple, list)):
        return type(batch)(_first(b) for b in batch)
    if isinstance(batch, dict):
        return {k: _first(v) for k, v in batch.items()}
    return batch[0]


class MappedDataset(PyDataset):
    """A ``BatchDataset`` seen through a function and/or limited to its first batches."""

    def __init__(self, base: PyDataset, fn: Callable | None, limit: int | None = None):
        super().__init__(
            workers=base.workers, use_multiprocessing=base.use_multiprocessing,
            max_queue_size=base.max_queue_size,
        )  # fmt: skip
        self.base, self.fn, self.limit = base, fn, limit
        self.class_names = getattr(base, "class_names", None)
        self.file_paths = getattr(base, "file_paths", None)

    def __len__(self) -> int:
        n = len(self.base)
        return n if self.limit is None or self.limit < 0 else min(n, self.limit)

    def __getitem__(self, index: int) -> Any:
        if not 0 <= index < len(self):
            raise IndexError(f"MappedDataset: batch index {index} out of range [0, {len(self)}).")
        batch = self.base[index]
        if self.fn is None:
            return batch
        return self.fn(*batch) if isinstance(batch, tuple) else self.fn(batch)

    def on_epoch_end(self) -> None:
        self.base.on_epoch_end()

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    map = BatchDataset.map
    take = BatchDataset.take
    prefetch = BatchDataset.prefetch
    cache = BatchDataset.cache
    repeat = BatchDataset.repeat


# ------------------------------------------------------------ directories
def index_directory(
    directory: str,
    labels: Any,
    formats: tuple[str, ...],
    class_names: Sequence[str] | None = None,
    shuffle: bool = True,
    seed: int | None = None,
    follow_links: bool = False,
    verbose: bool = True,
) -> tuple[list[str], np.ndarray | None, list[str] | None]:
    """Lists the files of ``directory`` with an extension in ``formats``.

    With ``labels="inferred"`` each subdirectory is a class (sorted by name, or
    ``class_names`` in that order) and its files, searched recursively, get its
    index. Returns ``(file_paths, labels, class_names)``, shuffled together with
    ``seed`` when ``shuffle``, so a validation split is the same for both subsets.
    """
    if not os.path.isdir(directory):
        raise ValueError(f"Directory {directory!r} does not exist or is not a directory.")
    if labels == "inferred":
        subdirs = [
            d for d in sorted(os.listdir(directory))
            if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")
        ]  # fmt: skip
        if class_names is not None:
            if not set(class_names) <= set(subdirs):
                raise ValueError(
                    "class_names must name subdirectories of the directory; expected "
                    f"{subdirs} or a subset, received class_names={list(class_names)}."
                )
            subdirs = list(class_names)  # the given order
    else:
        if class_names is not None:
            raise ValueError(
                "class_names goes with labels='inferred'; received labels="
                f"{'None' if labels is None else 'a list'} and class_names={list(class_names)}."
            )
        subdirs = [""]
    paths: list[str] = []
    indices: list[int] = []
    for label, subdir in enumerate(subdirs):
        root = os.path.join(directory, subdir)
        walk = sorted(os.walk(root, followlinks=follow_links), key=lambda entry: entry[0])
        for dirpath, _, filenames in walk:
            for name in sorted(filenames):
                if name.lower().endswith(formats):
                    paths.append(os.path.join(dirpath, name))
                    indices.append(label)
    names: list[str] | None
    if labels == "inferred":
        label_array: np.ndarray | None = np.asarray(indices, dtype="int32")
        names = list(subdirs)
    elif labels is None:
        label_array, names = None, None
    else:
        label_array = np.asarray(labels)
        if len(label_array) != len(paths):
            raise ValueError(
                f"labels must have one entry per file found in {directory!r} (sorted by "
                f"path): expected {len(paths)}, received {len(label_array)}."
            )
        names = [str(v) for v in sorted(set(labels))]
    if verbose:
        classes = f" belonging to {len(names)} classes" if names is not None else ""
        print_msg(f"Found {len(paths)} files{classes}.")
    if shuffle:
        # The same permutation as Keras for the same seed and files.
        seed = seed if seed is not None else int(np.random.randint(1_000_000))
        np.random.RandomState(seed).shuffle(paths)
        if label_array is not None:
            np.random.RandomState(seed).shuffle(label_array)
    return paths, label_array, names


def check_label_args(
    caller: str, files: str, labels: Any, class_names: Any, label_mode: str | None
) -> tuple[Any, str | None]:
    """Checks a ``*_dataset_from_directory``'s ``labels``/``class_names``/
    ``label_mode``; returns ``(labels, label_mode)``, both ``None`` when either
    is (no labels at all). ``files`` names the samples (``"image file"``)."""
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                f"{caller}: labels must be 'inferred', None, or a list of integer labels "
                f"(one per {files}, sorted by path); received labels={labels!r}."
            )
        if class_names:
            raise ValueError(
                f"{caller}: class_names goes with labels='inferred'; "
                f"received labels={labels!r} and class_names={class_names!r}."
            )
    if label_mode not in ("int", "categorical", "binary", None):
        raise ValueError(
            f"{caller}: label_mode must be 'int', 'categorical', 'binary' "
            f"or None; received label_mode={label_mode!r}."
        )
    if labels is None or label_mode is None:
        return None, None
    return labels, label_mode


def check_split_args(validation_split: float | None, subset: str | None, shuffle: bool,
                     seed: int | None) -> None:  # fmt: skip
    if validation_split is not None and not 0 < validation_split < 1:
        raise ValueError(
            f"validation_split must be between 0 and 1; received {validation_split!r}."
        )
    if (validation_split is not None) != (subset is not None):
        raise ValueError(
            "validation_split and subset go together: give both or neither; received "
            f"validation_split={validation_split!r}, subset={subset!r}."
        )
    if subset not in (None, "training", "validation", "both"):
        raise ValueError(
            f"subset must be 'training', 'validation' or 'both'; received subset={subset!r}."
        )
    if validation_split and shuffle and seed is None:
        raise ValueError(
            "With validation_split and shuffle=True, give a seed so the training and "
            "validation subsets do not overlap; received seed=None."
        )


def subset_slices(n: int, validation_split: float | None, subset: str | None) -> list[slice]:
    """The sample ranges of the requested subsets (training first, as Keras)."""
    if not validation_split:
        return [slice(0, n)]
    num_val = int(validation_split * n)
    train, val = slice(0, n - num_val), slice(n - num_val, n)
    return {"training": [train], "validation": [val], "both": [train, val]}[subset]


def encode_labels(labels: np.ndarray, label_mode: str | None, num_classes: int) -> Any:
    """Labels as ``label_mode`` asks: ``int`` (int32), ``categorical`` (one-hot
    float32) or ``binary`` (float32 ``(n, 1)``)."""
    if label_mode == "int":
        return labels.astype("int32")
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels]
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    raise ValueError(
        "label_mode must be 'int', 'categorical', 'binary' or None; "
        f"received label_mode={label_mode!r}."
    )


def subset_datasets(
    caller: str,
    not_found: str,
    paths: list[str],
    label_array: np.ndarray | None,
    class_names: list[str] | None,
    label_mode: str | None,
    read: Callable[[list[str], np.ndarray], Any],
    *,
    subset: str | None,
    validation_split: float | None,
    batch_size: int | None,
    shuffle: bool,
    seed: int | None,
    verbose: bool,
    **kwargs: Any,
) -> Any:
    """The ``*_dataset_from_directory`` result: a :class:`BatchDataset` per
    requested subset (a list of two for ``subset="both"``) whose batches are
    ``read(paths, indices)`` (with the encoded labels unless ``label_mode`` is
    ``None``); ``.class_names`` and ``.file_paths`` set. An empty subset raises
    ``ValueError``: ``"<caller>: no <part> <not_found>"``. ``kwargs`` go to
    ``BatchDataset`` (``workers=``)."""
    datasets = []
    for part, piece in zip(
        ["training", "validation"] if subset == "both" else [subset],
        subset_slices(len(paths), validation_split, subset),
    ):
        part_paths = paths[piece]
        if not part_paths:
            raise ValueError(f"{caller}: no {f'{part} ' if part else ''}{not_found}")
        if verbose and validation_split:
            print_msg(f"Using {len(part_paths)} files for {part}.")
        encoded = None
        if label_array is not None:
            encoded = encode_labels(label_array[piece], label_mode, len(class_names or ()))

        def load(indices: np.ndarray, _paths: list[str] = part_paths, _labels: Any = encoded):
            data = read(_paths, indices)
            return data if _labels is None else (data, _labels[indices])

        ds = BatchDataset(load, len(part_paths), batch_size=batch_size,
                          shuffle=shuffle and part != "validation", seed=seed, **kwargs)  # fmt: skip
        ds.class_names = class_names
        ds.file_paths = part_paths
        datasets.append(ds)
    return datasets if subset == "both" else datasets[0]


# ------------------------------------------------------------ split_dataset
def _split_sizes(left: Any, right: Any, total: int) -> tuple[int, int]:
    if left is None and right is None:
        left = 0.5
    for name, size in (("left_size", left), ("right_size", right)):
        if size is None:
            continue
        if type(size) not in (int, float):
            raise TypeError(
                f"split_dataset: {name} must be an int, a float or None; "
                f"received {type(size).__name__}."
            )
        if (isinstance(size, int) and not 0 < size < total) or (
            isinstance(size, float) and not 0 < size < 1
        ):
            raise ValueError(
                f"split_dataset: {name} must be a positive int smaller than {total} or a "
                f"float in (0, 1); received {name}={size!r}."
            )
    if isinstance(left, float) and isinstance(right, float) and left + right > 1:
        raise ValueError(
            f"split_dataset: left_size + right_size must be at most 1; received {left} + {right}."
        )

    def count(size: Any) -> int | None:
        return None if size is None else round(size * total) if isinstance(size, float) else size

    n_left, n_right = count(left), count(right)
    n_left = total - n_right if n_left is None else n_left
    n_right = total - n_left if n_right is None else n_right
    if n_left + n_right > total or n_left == 0 or n_right == 0:
        raise ValueError(
            f"split_dataset: the sizes give {n_left} + {n_right} samples out of {total}; "
            "each side needs at least one and together at most all."
        )
    return n_left, n_right


def split_dataset(
    dataset: Any,
    left_size: int | float | None = None,
    right_size: int | float | None = None,
    shuffle: bool = False,
    seed: int | None = None,
    preferred_backend: str | None = None,
) -> tuple[Any, Any]:
    """Splits a dataset into a left part and a right part (e.g. train/test).

    ``dataset`` is an array, or a tuple/list/dict of arrays with the same first
    dimension: both parts have that same structure (Keras returns two
    ``tf.data.Dataset``; callax returns arrays, which ``fit`` accepts directly).
    A ``PyDataset`` is split by whole batches into two ``PyDataset``.

    Args:
        left_size: samples (int) or fraction (float) in the left part; default:
            the complement of ``right_size``, or half when both are ``None``.
        right_size: likewise for the right part.
        shuffle: shuffle the samples before splitting.
        seed: shuffling seed.
        preferred_backend: accepted for Keras compatibility; ignored.
    """
    del preferred_backend
    if isinstance(dataset, PyDataset):
        n = len(dataset)
        n_left, n_right = _split_sizes(left_size, right_size, n)
        order = np.arange(n)
        if shuffle:
            np.random.RandomState(seed).shuffle(order)
        parts = []
        for idx in (order[:n_left], order[n_left : n_left + n_right]):
            parts.append(BatchDataset(lambda i, _d=dataset: _d[int(i[0])],
                                      len(idx), batch_size=1, order=idx))  # fmt: skip
        return parts[0], parts[1]
    leaves, treedef = jax.tree_util.tree_flatten(dataset)
    if not leaves:
        raise ValueError("split_dataset: the dataset holds no arrays; received an empty structure.")
    arrays = [np.asarray(a) for a in leaves]
    total = len(arrays[0])
    if any(len(a) != total for a in arrays):
        raise ValueError(
            "split_dataset: every array must have the same number of samples; received "
            f"lengths {[len(a) for a in arrays]}."
        )
    n_left, n_right = _split_sizes(left_size, right_size, total)
    order = np.arange(total)
    if shuffle:
        np.random.RandomState(seed).shuffle(order)
    left = [a[order[:n_left]] for a in arrays]
    right = [a[order[n_left : n_left + n_right]] for a in arrays]
    return treedef.unflatten(left), treedef.unflatten(right)
