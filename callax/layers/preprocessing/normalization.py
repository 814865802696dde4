"""``Normalization`` preprocessing: ``(x - mean) / sqrt(var)``, the statistics given or
learned by ``adapt``."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.core import config
from callax.core.layer import Layer


class Normalization(Layer):
    """Standardizes features: ``(x - mean) / sqrt(variance)``, with the
    statistics either given (``mean``, ``variance``) or computed by ``adapt(data)``.

    Args:
        axis: the axis (or axes) that keep their own statistics (default ``-1``:
            one mean/variance per feature); ``None`` for a single scalar pair.
        mean, variance: the statistics, broadcastable to the kept axes.
        invert: apply the inverse transform (``x * sqrt(variance) + mean``).

    Adapted statistics live in non-trainable weights ``mean``, ``variance`` and
    ``count`` (as Keras), so they are saved with the model.

    Example:
        >>> import numpy as np, callax
        >>> norm = callax.layers.Normalization()
        >>> norm.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> norm(np.array([[1.0, 20.0]])).tolist()
        [[0.0, 0.0]]
    """

    _kernel_call = True

    def __init__(
        self,
        axis: int | tuple[int, ...] | None = -1,
        mean: Any = None,
        variance: Any = None,
        invert: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        if (mean is None) != (variance is None):
            raise ValueError(
                f"Normalization '{self.name}': give both mean and variance, or neither; "
                f"received mean={mean!r} and variance={variance!r}."
            )
        if mean is not None and np.shape(mean) != np.shape(variance):
            raise ValueError(
                f"Normalization '{self.name}': mean and variance must have the same shape; "
                f"received shapes {np.shape(mean)} and {np.shape(variance)}."
            )

    def build(self, input_shape):
        ndim = len(input_shape)
        if any(not -ndim <= a < ndim for a in self.axis):
            raise ValueError(
                f"Normalization '{self.name}': axis values must be in [-{ndim}, {ndim}) for "
                f"inputs of rank {ndim}; received axis={self.axis}."
            )
        keep = tuple(sorted(a % ndim for a in self.axis))
        for a in keep:
            if input_shape[a] is None:
                raise ValueError(
                    f"Normalization '{self.name}': the kept axis {a} must have a known size; "
                    f"received input shape {tuple(input_shape)}."
                )
        self._keep_axis = keep
        self._reduce_axis = tuple(a for a in range(ndim) if a not in keep)
        self._broadcast_shape = tuple(input_shape[a] if a in keep else 1 for a in range(ndim))
        self._build_input_shape = tuple(input_shape)
        stats_shape = tuple(int(input_shape[a]) for a in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(
                shape=stats_shape, name="mean", initializer="zeros", trainable=False
            )
            self.adapt_variance = self.add_weight(
                shape=stats_shape, name="variance", initializer="ones", trainable=False
            )
            self.count = self.add_weight(
                shape=(), name="count", dtype="int32", initializer="zeros", trainable=False
            )
        else:
            self._fixed = tuple(
                self._broadcast_given(np.asarray(v, dtype=np.float32), ndim)
                for v in (self.input_mean, self.input_variance)
            )
        self.built = True

    def _broadcast_given(self, value: np.ndarray, ndim: int) -> np.ndarray:
        if value.ndim > len(self._keep_axis):
            raise ValueError(
                f"Normalization '{self.name}': mean/variance of rank {value.ndim} cannot "
                f"broadcast to the {len(self._keep_axis)} kept axes {self._keep_axis}."
            )
        shape = [1] * ndim
        for i in range(1, value.ndim + 1):  # trailing dims line up with trailing kept axes
            shape[self._keep_axis[-i]] = value.shape[-i]
        return np.broadcast_to(value.reshape(shape), self._broadcast_shape)

    def adapt(self, data: Any) -> None:
        """Computes the mean and variance of ``data`` (an array, or an iterable
        of batches) over the reduced axes and stores them in the weights."""
        if hasattr(data, "shape"):
            batches = [np.asarray(data)]
        else:
            batches = [np.asarray(b[0] if isinstance(b, tuple) else b) for b in data]
            if not batches:
                raise ValueError(
                    f"Normalization '{self.name}': adapt() needs data; received an empty iterable."
                )
        first = batches[0]
        if not self.built:
            self.build(first.shape)
        elif self.input_mean is not None:
            raise ValueError(
                f"Normalization '{self.name}' was given mean and variance; adapt() cannot "
                "change them."
            )
        total_mean = total_var = None
        count = 0
        for batch in batches:
            for a in self._keep_axis:
                if batch.shape[a] != self._build_input_shape[a]:
                    raise ValueError(
                        f"Normalization '{self.name}' was built for inputs of shape "
                        f"{self._build_input_shape}; adapt() received a batch of shape "
                        f"{batch.shape}."
                    )
            batch = batch.astype(np.float64)
            mean = batch.mean(axis=self._reduce_axis)
            var = batch.var(axis=self._reduce_axis)
            n = int(np.prod([batch.shape[a] for a in self._reduce_axis]))
            if total_mean is None:
                total_mean, total_var, count = mean, var, n
                continue
            # Merge two (mean, variance, count) summaries exactly (Chan et al.).
            new_count = count + n
            delta = mean - total_mean
            merged = total_mean + delta * n / new_count
            total_var = (count * total_var + n * var + delta**2 * count * n / new_count) / new_count
            total_mean, count = merged, new_count
        self.adapt_mean.assign(total_mean.astype(np.float32))
        self.adapt_variance.assign(total_var.astype(np.float32))
        self.count.assign(count)

    def _stats(self) -> tuple:
        if self.input_mean is not None:
            return tuple(jnp.asarray(v, self.compute_dtype) for v in self._fixed)
        mean = self.adapt_mean.value.reshape(self._broadcast_shape)
        var = self.adapt_variance.value.reshape(self._broadcast_shape)
        return mean.astype(self.compute_dtype), var.astype(self.compute_dtype)

    def call(self, inputs):
        x = inputs.astype(self.compute_dtype)
        if x.ndim != len(self._broadcast_shape):
            raise ValueError(
                f"Normalization '{self.name}' was built for inputs of rank "
                f"{len(self._broadcast_shape)}; received input with shape {tuple(x.shape)}."
            )
        mean, var = self._stats()
        std = jnp.maximum(jnp.sqrt(var), config.epsilon())
        if self.invert:
            return mean + x * std
        return (x - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        def plain(v):
            return None if v is None else np.asarray(v).tolist()

        return {
            **super().get_config(),
            "axis": self.axis,
            "invert": self.invert,
            "mean": plain(self.input_mean),
            "variance": plain(self.input_variance),
        }
