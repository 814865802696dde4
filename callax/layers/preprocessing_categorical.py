"""Categorical preprocessing layers: ``CategoryEncoding``, ``Discretization`` and
``Hashing``, plus what the string layers share: the host path for string inputs
(:class:`HostPreprocessingLayer`) and the categorical encoder.

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

from callax.core.layer import Layer
from callax.layers.string_hash import fingerprint64, siphash64

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
    if sparse:
        raise ValueError(
            f"{type(owner).__name__} '{owner.name}': sparse outputs are a TensorFlow-only "
            "feature of Keras; callax returns dense arrays. Received sparse=True."
        )


class CategoryEncoding(Layer):
    """Encodes integer categories as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of categories (inputs in ``[0, num_tokens)``).
        output_mode: ``"multi_hot"`` (default), ``"one_hot"`` or ``"count"``.
        sparse: must be ``False`` (dense outputs only).

    ``call(inputs, count_weights=None)``: ``count_weights`` weights each input in
    ``"count"`` mode.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.CategoryEncoding(num_tokens=4, output_mode="count")
        >>> layer(np.array([[0, 1, 1, 3], [2, 2, 0, 0]])).tolist()
        [[1.0, 2.0, 0.0, 1.0], [2.0, 0.0, 2.0, 0.0]]
    """

    _kernel_call = True

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot",
                 sparse: bool = False, **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        self.output_mode = _check_mode(self, output_mode, ENCODING_MODES)
        if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens < 1:
            raise ValueError(
                f"CategoryEncoding '{self.name}': num_tokens must be a positive int; "
                f"received num_tokens={num_tokens!r}."
            )
        _check_sparse(self, sparse)
        self.num_tokens = num_tokens
        self.sparse = False
        self.built = True

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                f"CategoryEncoding '{self.name}': count_weights is only used with "
                f"output_mode='count'; received output_mode={self.output_mode!r}."
            )
        return encode_categorical(inputs, self.num_tokens, self.output_mode,
                                  self.compute_dtype, count_weights)  # fmt: skip

    def compute_output_shape(self, input_shape, count_weights_shape=None):
        shape = tuple(input_shape)
        if not shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            keep = shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape
            return keep + (self.num_tokens,)
        rest = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        return rest + (self.num_tokens,)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}  # fmt: skip


class Discretization(Layer):
    """Buckets numbers by ranges: bucket ``i`` holds ``boundaries[i-1] <= x <
    boundaries[i]`` (``len(bin_boundaries) + 1`` buckets).

    Args:
        bin_boundaries: sorted boundaries; or leave ``None`` and give ``num_bins``
            and call ``adapt(data)``, which sets the boundaries at the
            ``1/num_bins, 2/num_bins, ...`` quantiles of the data (exact quantiles
            computed with numpy; Keras uses an ``epsilon``-approximate summary, so
            adapted boundaries can differ slightly on large data).
        num_bins: the number of buckets for ``adapt``.
        epsilon: Keras's approximation tolerance, kept for config compatibility.
        output_mode: ``"int"`` (bucket index), ``"one_hot"``, ``"multi_hot"``, ``"count"``.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
        >>> layer(np.array([[-1.5, 1.0, 3.4, 0.5]])).tolist()
        [[0, 2, 3, 1]]
    """

    _kernel_call = True

    def __init__(self, bin_boundaries: Any = None, num_bins: int | None = None,
                 epsilon: float = 0.01, output_mode: str = "int", sparse: bool = False,
                 dtype: Any = None, name: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(dtype=dtype, name=name, **kwargs)
        self.output_mode = _check_mode(self, output_mode, ("int",) + ENCODING_MODES)
        _check_sparse(self, sparse)
        if bin_boundaries is not None and num_bins is not None:
            raise ValueError(
                f"Discretization '{self.name}': give either bin_boundaries or num_bins, not "
                f"both; received bin_boundaries={bin_boundaries!r} and num_bins={num_bins!r}."
            )
        if bin_boundaries is None and num_bins is None:
            raise ValueError(
                f"Discretization '{self.name}' needs bin_boundaries or num_bins (then "
                "adapt()); received neither."
            )
        if num_bins is not None and (not isinstance(num_bins, int) or num_bins < 1):
            raise ValueError(
                f"Discretization '{self.name}': num_bins must be a positive int; received "
                f"num_bins={num_bins!r}."
            )
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in np.asarray(bin_boundaries).reshape(-1)]
            if any(b > a for a, b in zip(bin_boundaries[1:], bin_boundaries)):
                raise ValueError(
                    f"Discretization '{self.name}': bin_boundaries must be sorted; "
                    f"received bin_boundaries={bin_boundaries!r}."
                )
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.sparse = False
        self.built = True

    @property
    def output_dtype(self) -> str:
        return "int32" if self.output_mode == "int" else self.compute_dtype

    def _depth(self) -> int:
        if self.bin_boundaries is not None:
            return len(self.bin_boundaries) + 1
        return self.num_bins

    def adapt(self, data: Any, steps: int | None = None) -> None:
        """Sets ``bin_boundaries`` at the quantiles of ``data`` (an array, or an
        iterable of batches such as a PyDataset; ``steps`` limits the batches)."""
        if self.num_bins is None:
            raise ValueError(
                f"Discretization '{self.name}' was given bin_boundaries; adapt() needs "
                "num_bins instead. Received num_bins=None."
            )
        values = [np.asarray(b, np.float64).reshape(-1) for b in _batches(data, steps)]
        values = np.concatenate(values) if values else np.zeros((0,))
        if values.size == 0:
            raise ValueError(f"Discretization '{self.name}': adapt() received no data.")
        qs = np.arange(1, self.num_bins) / self.num_bins
        self.bin_boundaries = np.quantile(values, qs).astype(np.float32).tolist()
        self.__dict__.pop("_kernel", None)  # boundaries are baked into a compiled kernel

    def call(self, inputs):
        if self.bin_boundaries is None:
            raise ValueError(
                f"Discretization '{self.name}' has no bin boundaries yet: call adapt() "
                "first (or pass bin_boundaries)."
            )
        x = jnp.asarray(inputs)
        bounds = jnp.asarray(self.bin_boundaries, dtype=jnp.float32)
        idx = jnp.searchsorted(bounds, x.astype(jnp.float32), side="right").astype(jnp.int32)
        return encode_categorical(idx, self._depth(), self.output_mode, self.output_dtype)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        depth = self._depth()
        if self.output_mode == "one_hot":
            keep = shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape
            return keep + (depth,)
        return ((shape[0],) + shape[2:] if len(shape) >= 2 else ()) + (depth,)

    def get_config(self):
        # Keras's keys exactly: its Discretization takes no `trainable` argument.
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype_policy.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> Discretization:
        config = dict(config)
        boundaries = None
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            # An adapted layer has both; the constructor takes one.
            boundaries = config.pop("bin_boundaries")
        layer = cls(**config)
        if boundaries is not None:
            layer.bin_boundaries = [float(b) for b in boundaries]
        return layer


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


class Hashing(HostPreprocessingLayer):
    """Hashes strings (or integers, through their decimal text) into ``num_bins``
    bins with the same hashes as Keras: FarmHash ``Fingerprint64``, or SipHash-2-4
    keyed by ``salt`` (see :mod:`callax.layers.string_hash`), so bins match Keras's.

    Runs on the host (numpy); not inside a jitted function.

    Args:
        num_bins: the number of bins, the mask bin included.
        mask_value: a value mapped to bin 0 (the others hash into ``1..num_bins-1``).
        salt: an int or two ints: use the keyed SipHash.
        output_mode: ``"int"``, ``"one_hot"``, ``"multi_hot"`` or ``"count"``.

    Example:
        >>> import callax
        >>> callax.layers.Hashing(num_bins=3)([["A"], ["B"], ["C"]]).tolist()
        [[1], [0], [1]]
    """

    def __init__(self, num_bins: int, mask_value: Any = None, salt: Any = None,
                 output_mode: str = "int", sparse: bool = False, **kwargs: Any):  # fmt: skip
        if kwargs.get("dtype") in ("int32", "int64"):
            kwargs.pop("dtype")  # Keras's integer dtype for "int" outputs: int32 here
        super().__init__(**kwargs)
        if not isinstance(num_bins, int) or isinstance(num_bins, bool) or num_bins <= 0:
            raise ValueError(
                f"Hashing '{self.name}': num_bins must be a positive int; received "
                f"num_bins={num_bins!r}."
            )
        self.output_mode = _check_mode(self, output_mode, ("int",) + ENCODING_MODES)
        _check_sparse(self, sparse)
        if isinstance(salt, int):
            salt = [salt, salt]
        elif salt is not None:
            salt = [int(s) for s in salt]
            if len(salt) != 2:
                raise ValueError(
                    f"Hashing '{self.name}': salt must be an int or two ints; received "
                    f"salt={salt!r}."
                )
        self.num_bins = num_bins
        self.mask_value = mask_value
        self.salt = salt
        self.sparse = False
        self.built = True

    @property
    def input_dtype(self) -> str:
        return "string"

    def _hash(self, token: str) -> int:
        if self.salt is not None:
            return siphash64(token, (self.salt[0], self.salt[1]))
        return fingerprint64(token)

    def _bins(self, values: np.ndarray) -> np.ndarray:
        bins = self.num_bins
        masked = self.mask_value is not None and bins > 1
        if masked:
            bins -= 1
        flat = values.reshape(-1)
        out = np.empty(flat.shape, np.int64)
        for i, v in enumerate(flat):
            if masked and v == self.mask_value:
                out[i] = 0
                continue
            if isinstance(v, (float, np.floating)):
                v = int(v)  # Keras casts floats to int64 before hashing
            token = v.decode("utf-8") if isinstance(v, bytes) else str(v)
            out[i] = self._hash(token) % bins + (1 if masked else 0)
        return out.reshape(values.shape)

    def host_call(self, inputs):
        values = np.asarray(inputs, dtype=object)
        if self.output_mode == "one_hot" and values.ndim and values.shape[-1] == 1:
            values = values.reshape(values.shape[:-1])
        idx = self._bins(values)
        dtype = "int32" if self.output_mode == "int" else self.compute_dtype
        out = encode_categorical(idx, self.num_bins, self.output_mode, dtype, xp=np)
        return jnp.asarray(out)

    def call(self, inputs):
        # Numeric inputs arrive as arrays: hash their values on the host (eager only).
        import jax

        if isinstance(inputs, jax.core.Tracer):
            raise TypeError(
                f"Hashing '{self.name}' hashes on the host and cannot run inside a "
                "jitted function; apply it in the data pipeline instead. Received a "
                "traced array."
            )
        values = np.asarray(inputs)
        return self.host_call(values.astype(np.int64) if values.dtype.kind == "f" else values)

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.output_mode == "int":
            return shape
        if self.output_mode == "one_hot":
            keep = shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape
            return keep + (self.num_bins,)
        return ((shape[0],) + shape[2:] if len(shape) >= 2 else ()) + (self.num_bins,)

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "salt": self.salt,
            "mask_value": self.mask_value,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
        }
