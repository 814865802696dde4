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
import numpy as np

# A length at least this large means "endless": grain's ``repeat()`` reports
# ``sys.maxsize`` (divided by the batch size after ``batch``); no real epoch is
# 2**40 batches long.
ENDLESS_LENGTH = 1 << 40


def _class_in(x: Any, module_prefix: str, names: tuple[str, ...]) -> bool:
    """Whether a class in ``type(x)``'s MRO is one of ``names`` from ``module_prefix``."""
    return any(
        cls.__name__ in names and cls.__module__.startswith(module_prefix)
        for cls in type(x).__mro__
    )


def _pandas_types() -> tuple[type, ...]:
    pd = sys.modules.get("pandas")
    return (pd.DataFrame, pd.Series) if pd is not None else ()


def is_foreign_array(x: Any) -> bool:
    """A pandas DataFrame/Series, or a torch/TensorFlow tensor (an array to slice)."""
    if isinstance(x, (np.ndarray, jax.Array)):
        return False
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(x, torch.Tensor):
        return True
    if isinstance(x, _pandas_types()):
        return True
    return "tensorflow" in sys.modules and _class_in(x, "tensorflow.", ("Tensor",))


def to_numpy(a: Any) -> Any:
    """One leaf as a numpy array (a view when possible); numpy, JAX and plain
    Python values are returned unchanged."""
    if a is None or isinstance(a, (np.ndarray, np.generic, jax.Array, int, float, bool, str)):
        return a
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(a, torch.Tensor):
        return _torch_to_numpy(torch, a)
    if isinstance(a, _pandas_types()):
        return a.to_numpy()
    if hasattr(a, "__array__"):  # tf.Tensor (a view of CPU tensors), other array-likes
        return np.asarray(a)
    if hasattr(a, "__dlpack__"):
        return np.from_dlpack(a)
    return a


def _torch_to_numpy(torch: Any, t: Any) -> np.ndarray:
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    if t.dtype == torch.bfloat16:  # numpy has no bfloat16: same bits, ml_dtypes' type
        import ml_dtypes

        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    return t.resolve_conj().resolve_neg().numpy()


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
    if "tensorflow" in sys.modules and _class_in(x, "tensorflow.", ("DatasetV2",)):
        return "tf.data.Dataset"
    if "torch" in sys.modules and _class_in(x, "torch.utils.data", ("DataLoader",)):
        return "torch DataLoader"
    if "grain" in sys.modules and _class_in(
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
