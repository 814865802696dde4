"""``Discretization``: buckets numbers by boundaries (given, or learned by ``adapt``)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.core.layer import Layer
from callax.layers.preprocessing.base_preprocessing import (
    ENCODING_MODES,
    _batches,
    _check_mode,
    _check_sparse,
    encode_categorical,
)


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
