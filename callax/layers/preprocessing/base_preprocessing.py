"""What the categorical and string preprocessing layers share: the host path for
string inputs (:class:`HostPreprocessingLayer`) and the categorical encoder.

JAX has no string arrays, so layers that take strings run on the host with numpy:
called on strings (a ``str``, a list of them, or a numpy array of dtype ``str``,
``bytes`` or ``object``), they skip the call protocol and return a ``jax.Array``.
Numeric inputs go through the normal protocol (and may be jitted) where the layer
has a numeric path.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.core.foreign_arrays import is_foreign_array, is_tf_graph_tensor, to_numpy
from callax.core.layer import Layer

ENCODING_MODES = ("one_hot", "multi_hot", "count")


def is_string_input(x: Any) -> bool:
    """Whether ``x`` holds strings (so it must be handled on the host)."""
    if isinstance(x, (str, bytes)):
        return True
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "US":
            return True
        return x.dtype.kind == "O" and x.size > 0 and isinstance(x.flat[0], (str, bytes))
    if isinstance(x, (list, tuple)) and x:
        return is_string_input(x[0])
    return False


def to_str_array(x: Any) -> np.ndarray:
    """A numpy array of Python ``str`` (bytes decoded as UTF-8), same shape."""
    a = np.asarray(x, dtype=object)
    flat = [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in a.reshape(-1)]
    out = np.empty(len(flat), dtype=object)
    out[:] = flat
    return out.reshape(a.shape)


class _OutputSpec:
    def __init__(self, shape: tuple, dtype: str):
        self.shape, self.dtype = shape, dtype


class HostPreprocessingLayer(Layer):
    """A layer whose ``call`` on strings runs on the host (``host_call``).

    ``supports_jit = False`` (as Keras): a model holding one runs its fit/predict
    steps eagerly, so they can take strings."""

    supports_jit = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and is_foreign_array(args[0]) and not is_tf_graph_tensor(args[0]):
            args = (to_numpy(args[0]), *args[1:])  # a TensorFlow string tensor, ...
        if args and is_string_input(args[0]):
            if "_callax_init" not in self.__dict__:
                return super().__call__(*args, **kwargs)  # the protocol's own message
            kwargs.pop("training", None)
            out = self.host_call(args[0], *args[1:], **kwargs)
            self.built = True
            return out
        return super().__call__(*args, **kwargs)

    def host_output_spec(self, inputs: Any) -> Any:
        """Shape and dtype of the output for a symbolic string input
        (``callax.Input(shape=(1,), dtype="string")``): Functional models are built
        without tracing strings through JAX."""
        shape = self.compute_output_shape(tuple(inputs.shape))
        return _OutputSpec(tuple(shape), self._host_output_dtype())

    def _host_output_dtype(self) -> str:
        return "int32" if getattr(self, "output_mode", "int") == "int" else "float32"

    def host_call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(
            f"{type(self).__name__} '{self.name}' takes numeric inputs; received strings."
        )


def encode_categorical(indices: Any, depth: int, mode: str, dtype: Any = "float32",
                       count_weights: Any = None, xp: Any = jnp) -> Any:  # fmt: skip
    """Encodes integer ``indices`` as Keras does: ``one_hot`` (a trailing axis of
    size 1 is replaced, else one is appended), ``multi_hot`` / ``count`` (reduced
    over axis 1 for rank >= 2 inputs, axis 0 for rank 1). Out-of-range indices
    encode as zeros. ``xp`` is ``jax.numpy`` or ``numpy``."""
    if mode == "int":
        return xp.asarray(indices).astype(dtype)
    x = xp.asarray(indices)
    if x.ndim == 0:
        x = x.reshape(1)
    if mode == "one_hot" and x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    hot = (x[..., None] == xp.arange(depth)).astype(dtype)
    if mode == "one_hot":
        return hot
    axis = 1 if x.ndim > 1 else 0
    if mode == "multi_hot":
        return hot.max(axis=axis)
    if count_weights is not None:
        hot = hot * xp.asarray(count_weights)[..., None].astype(dtype)
    return hot.sum(axis=axis)


def _check_mode(owner: Layer, mode: str, allowed: tuple) -> str:
    if mode == "binary":  # Keras 2's name
        mode = "multi_hot"
    if mode not in allowed:
        raise ValueError(
            f"{type(owner).__name__} '{owner.name}': output_mode must be one of {allowed}; "
            f"received output_mode={mode!r}."
        )
    return mode


def _check_sparse(owner: Layer, sparse: bool) -> None:
    """Refuses ``sparse=True`` and sets ``owner.sparse`` (always ``False``)."""
    if sparse:
        raise ValueError(
            f"{type(owner).__name__} '{owner.name}': sparse outputs are a TensorFlow-only "
            "feature of Keras; callax returns dense arrays. Received sparse=True."
        )
    owner.sparse = False


def _batches(data: Any, steps: int | None = None):
    """Batches of ``data`` for ``adapt``: an array (one batch), a PyDataset (its
    ``x``), or any iterable of batches (``(x, y)`` tuples give ``x``)."""
    if isinstance(data, (np.ndarray, str, bytes)) or hasattr(data, "__array__"):
        yield data
        return
    if isinstance(data, (list, tuple)) and (not data or not hasattr(data[0], "__len__")
                                            or isinstance(data[0], (str, bytes))):  # fmt: skip
        yield data
        return
    if hasattr(data, "__getitem__") and hasattr(data, "num_batches"):  # PyDataset
        count = data.num_batches if data.num_batches is not None else steps
        if count is None:
            raise ValueError(
                "adapt() on a PyDataset without a length needs steps=; received steps=None."
            )
        items = (data[i] for i in range(count))
    else:
        items = iter(data)
    for i, batch in enumerate(items):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple):
            batch = batch[0]
        yield batch
