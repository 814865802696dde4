"""Data from other libraries, turned into numpy at the edge: torch, TensorFlow, grain, pandas.

``fit``/``evaluate``/``predict`` take, besides numpy/JAX arrays, Python generators
and PyDatasets:

- a torch ``DataLoader``; ``torch.Tensor`` as arrays too;
- a ``tf.data.Dataset`` (finite, or endless with ``steps_per_epoch``); ``tf.Tensor`` as arrays;
- a grain ``MapDataset``, ``IterDataset`` or ``DataLoader``;
- pandas ``DataFrame``/``Series`` (and dicts or lists of them) as arrays, so
  ``batch_size``, ``shuffle`` and ``validation_split`` work on them;
- any other iterable of batches whose leaves numpy reads (``__array__``, ``__dlpack__``).

Each leaf becomes a numpy array once, here, as it leaves its library: a view
where the library allows it (torch CPU tensors, TensorFlow eager tensors), a copy
otherwise (a torch CUDA tensor comes to the host first). Nothing deeper in the
loop sees a foreign type.

Objects are classified by reading ``sys.modules``: a torch tensor cannot exist
unless torch was imported, so no library is ever imported just to test
``isinstance`` (and programs that never use it never pay for it).

Example:
    >>> import numpy as np
    >>> batch_to_numpy(([1.0, 2.0], np.zeros(2)))[1].dtype
    dtype('float64')
    >>> describe_stream(b for b in []).kind
    'generator'
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import jax

from callax.core.foreign_arrays import class_in, is_foreign_array, to_numpy

# A length at least this large means "endless": grain's ``repeat()`` reports
# ``sys.maxsize`` (divided by the batch size after ``batch``); no real epoch is
# 2**40 batches long.
ENDLESS_LENGTH = 1 << 40


def batch_to_numpy(batch: Any) -> Any:
    """Every leaf of a batch (tuples, lists, dicts of them) through :func:`to_numpy`."""
    return jax.tree_util.tree_map(to_numpy, batch)


def tree_to_numpy(x: Any) -> Any:
    """Foreign arrays (pandas, torch, TensorFlow) anywhere in dicts/lists/tuples as
    numpy arrays; everything else (nested Python lists of numbers included) kept."""
    if isinstance(x, dict):
        return {k: tree_to_numpy(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(tree_to_numpy(v) for v in x)
    return to_numpy(x) if is_foreign_array(x) else x


# ------------------------------------------------------------------ streams


@dataclass
class Stream:
    """What ``fit`` needs to know about a source of batches.

    Attributes:
        kind: a name for messages ("tf.data.Dataset", "torch DataLoader", ...).
        open: returns a fresh iterator over one pass of raw batches; ``None`` for a
            one-shot iterator (a generator), which is its own single stream.
        num_batches: batches per pass when known without iterating, else ``None``.
        endless: the source repeats forever (an epoch needs ``steps_per_epoch``).
    """

    kind: str
    open: Callable[[], Iterator] | None
    num_batches: int | None = None
    endless: bool = False


def _length(x: Any) -> int | None:
    try:
        return int(len(x))
    except (TypeError, ValueError, NotImplementedError):
        return None


def _foreign_kind(x: Any) -> str | None:
    """The kind of dataset: "tf.data.Dataset", "torch DataLoader", "grain MapDataset"
    (read by class name), or ``None``."""
    if "tensorflow" in sys.modules and class_in(x, "tensorflow.", ("DatasetV2",)):
        return "tf.data.Dataset"
    if "torch" in sys.modules and class_in(x, "torch.utils.data", ("DataLoader",)):
        return "torch DataLoader"
    if "grain" in sys.modules and class_in(
        x, "grain", ("MapDataset", "IterDataset", "DataLoader")
    ):  # fmt: skip
        return f"grain {type(x).__name__}"
    return None


def describe_stream(x: Any) -> Stream:
    """The :class:`Stream` for a dataset, generator or iterable of batches."""
    kind = _foreign_kind(x)
    if kind == "tf.data.Dataset":
        cardinality = int(x.cardinality())  # never len(): it raises for endless datasets
        infinite = cardinality == -1  # tf.data.INFINITE_CARDINALITY (-2: unknown)
        return Stream(kind, x.as_numpy_iterator, cardinality if cardinality >= 0 else None,
                      infinite)  # fmt: skip
    if kind is not None:  # torch DataLoader, grain: len() when they have one
        n = _length(x)
        endless = n is not None and n >= ENDLESS_LENGTH
        return Stream(kind, x.__iter__, None if endless else n, endless)
    if isinstance(x, Iterator):
        return Stream("generator" if _is_generator(x) else "iterator", None, None)
    return Stream(f"iterable ({type(x).__name__})", x.__iter__, _length(x))


def _is_generator(x: Any) -> bool:
    import types

    return isinstance(x, types.GeneratorType)
