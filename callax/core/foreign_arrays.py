"""Other libraries' arrays, turned into NumPy at the edge: torch, TensorFlow, pandas.

A layer called on a torch tensor, a TensorFlow eager tensor or a pandas
DataFrame converts it once, where it enters (step 3 of the call protocol), as
``fit`` does with its data (``callax.training.foreign_data``): a view where the
library allows it (torch CPU tensors, TensorFlow eager tensors), a copy
otherwise (a torch CUDA tensor comes to the host first). Nothing deeper sees a
foreign type.

Objects are classified by reading ``sys.modules``: a torch tensor cannot exist
unless torch was imported, so no library is imported just to test
``isinstance`` (programs that never use it never pay for it).

Example:
    >>> import numpy as np
    >>> is_foreign_array(np.zeros(2)), to_numpy([1.0]) == [1.0]
    (False, True)
"""

from __future__ import annotations

import sys
from typing import Any

import jax
import numpy as np


def class_in(x: Any, module_prefix: str, names: tuple[str, ...]) -> bool:
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
    return "tensorflow" in sys.modules and class_in(x, "tensorflow.", ("Tensor",))


def is_tf_graph_tensor(x: Any) -> bool:
    """A symbolic TensorFlow tensor: one inside a ``tf.function`` or a
    ``tf.data.Dataset.map`` function, which has no value to convert yet."""
    tf = sys.modules.get("tensorflow")
    return (
        tf is not None
        and class_in(x, "tensorflow.", ("Tensor",))
        and bool(tf.is_symbolic_tensor(x))
    )


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
