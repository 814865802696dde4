"""``Hashing``: hashes strings or integers into a fixed number of bins (Keras's bins)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.layers.preprocessing.base_preprocessing import (
    ENCODING_MODES,
    HostPreprocessingLayer,
    _check_mode,
    _check_sparse,
    encode_categorical,
)
from callax.layers.preprocessing.string_hash import fingerprint64, siphash64


class Hashing(HostPreprocessingLayer):
    """Hashes strings (or integers, through their decimal text) into ``num_bins``
    bins with the same hashes as Keras: FarmHash ``Fingerprint64``, or SipHash-2-4
    keyed by ``salt`` (see :mod:`callax.layers.preprocessing.string_hash`), so bins match Keras's.

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
