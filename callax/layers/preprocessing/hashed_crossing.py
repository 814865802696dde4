"""HashedCrossing: crosses categorical features with the hashing trick, giving the
same bins as Keras 3 (TensorFlow's ``sparse.cross_hashed``: FarmHash
``Fingerprint64`` of each string, integers as they are, combined with
``FingerprintCat64`` from the key ``0xDECAFCAFFE``)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.core.layer import Layer
from callax.layers.preprocessing.string_hash import fingerprint64

_MASK = (1 << 64) - 1
_MUL = 0xC6A4A7935BD1E995
_HASH_KEY = 0xDECAFCAFFE


def _shift_mix(v: int) -> int:
    return v ^ (v >> 47)


def _fingerprint_cat64(fp1: int, fp2: int) -> int:
    result = fp1 ^ _MUL
    result ^= (_shift_mix((fp2 * _MUL) & _MASK) * _MUL) & _MASK
    result = (result * _MUL) & _MASK
    result = (_shift_mix(result) * _MUL) & _MASK
    return _shift_mix(result)


def _feature_hash(value: Any) -> int:
    if isinstance(value, bytes):
        return fingerprint64(value)
    if isinstance(value, str):
        return fingerprint64(value.encode("utf-8"))
    return int(value) & _MASK  # an integer feature is its own hash


class HashedCrossing(Layer):
    """Crosses two or more categorical features (strings or integers, the same
    shape: scalars, ``(batch,)`` or ``(batch, 1)``) into ``num_bins`` bins:
    ``hash(feature_1, ..., feature_n) % num_bins`` per example, with Keras's hashes.

    Runs on the host (numpy), as Keras's does (not inside a jitted function).

    Args:
        num_bins: number of hash bins.
        output_mode: ``"int"`` (bin indices) or ``"one_hot"``.
        sparse: ``True`` is refused (a TensorFlow-only option in Keras).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.HashedCrossing(num_bins=5)
        >>> layer((np.array(["A", "B", "A"]), np.array([101, 101, 102]))).tolist()
        [1, 4, 3]
    """

    supports_jit = False

    def __init__(
        self,
        num_bins: int,
        output_mode: str = "int",
        sparse: bool = False,
        name: str | None = None,
        dtype: Any = None,
        **kwargs: Any,
    ):
        policy_name = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
        if isinstance(policy_name, str) and policy_name.startswith(("int", "uint")):
            dtype = None  # Keras's "int64" for int output: bins come out as int32 here
        super().__init__(name=name, dtype=dtype, **kwargs)
        if not isinstance(num_bins, (int, np.integer)) or isinstance(num_bins, bool) or (
            num_bins <= 0
        ):  # fmt: skip
            raise ValueError(
                f"HashedCrossing '{self.name}': num_bins must be a positive int; received "
                f"num_bins={num_bins!r}."
            )
        if output_mode not in ("int", "one_hot"):
            raise ValueError(
                f"HashedCrossing '{self.name}': output_mode must be 'int' or 'one_hot'; "
                f"received output_mode={output_mode!r}."
            )
        if sparse:
            raise ValueError(
                f"HashedCrossing '{self.name}': sparse=True needs the TensorFlow backend "
                "(as in Keras); received sparse=True."
            )
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = False

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("training", None)
        self.built = True
        return self.call(inputs)

    def _features(self, inputs: Any) -> list[np.ndarray]:
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(
                f"HashedCrossing '{self.name}' is called on a list or tuple of at least two "
                f"inputs; received {type(inputs).__name__} {inputs!r}."
            )
        features = [np.asarray(x) for x in inputs]
        shape = features[0].shape
        for i, f in enumerate(features):
            if f.shape != shape:
                raise ValueError(
                    f"HashedCrossing '{self.name}': every input must have the same shape; "
                    f"received shapes {[tuple(x.shape) for x in features]}."
                )
            if f.dtype.kind not in "iuUSO":
                raise ValueError(
                    f"HashedCrossing '{self.name}': inputs must be integers or strings; "
                    f"received input {i} of dtype {f.dtype}."
                )
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(
                f"HashedCrossing '{self.name}' crosses scalars or batches of scalars (shape "
                f"(batch,) or (batch, 1)); received inputs of shape {shape}."
            )
        return features

    def call(self, inputs: Any) -> Any:
        features = self._features(inputs)
        shape = features[0].shape
        flat = [f.reshape(-1) for f in features]
        bins = np.empty(flat[0].shape[0], np.int64)
        for j in range(bins.shape[0]):
            h = _HASH_KEY
            for f in flat:
                h = _fingerprint_cat64(h, _feature_hash(f[j]))
            bins[j] = h % self.num_bins
        bins = bins.reshape(shape)
        if self.output_mode == "int":
            return jnp.asarray(bins, dtype=jnp.int32)  # Keras: int64 (JAX without x64)
        if len(shape) == 2:  # (batch, 1) -> (batch, num_bins)
            bins = bins[:, 0]
        elif len(shape) == 0:  # one example: (1, num_bins), as Keras gives
            bins = bins.reshape(1)
        return jnp.asarray(np.eye(self.num_bins)[bins], dtype=self.compute_dtype)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        shape = tuple(input_shape[0])
        if self.output_mode == "int":
            return shape
        if shape and shape[-1] == 1:
            shape = shape[:-1]
        return shape + (self.num_bins,)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            **({"dtype": "int64"} if self.output_mode == "int" else {}),
        }
