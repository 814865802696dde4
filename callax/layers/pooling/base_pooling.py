"""The pooling bases: ``Pooling`` (window pooling, behind MaxPooling1D/2D/3D and
AveragePooling1D/2D/3D) and ``GlobalPooling`` (behind the global poolings).

Window pooling is one ``lax.reduce_window`` over the layout as it is (no
transposes). ``padding="same"`` averages over the real elements of each window
only, as Keras does; the divisor is a constant computed once from the static shape.

Example:
    >>> import callax
    >>> callax.layers.MaxPooling2D()(callax.ops.ones((2, 28, 28, 8))).shape
    (2, 14, 14, 8)
    >>> callax.layers.GlobalAveragePooling2D(keepdims=True)(callax.ops.ones((2, 5, 5, 8))).shape
    (2, 1, 1, 8)
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.layers.convolutional.base_conv import conv_output_length
from callax.layers.spatial_layer import SpatialLayer
from callax.ops.convolution import (
    _window_counts,
    normalize_padding,
    normalize_tuple,
    window_max,
    window_sum,
)


class Pooling(SpatialLayer):
    """Max or average over sliding windows of the spatial axes.

    Args:
        pool_size: int or tuple of ``rank`` ints.
        strides: int or tuple; default ``pool_size``.
        padding: ``"valid"`` or ``"same"`` (output ``ceil(n / stride)``).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
    """

    _reducer = "max"

    def __init__(
        self,
        pool_size: int | tuple[int, ...] = 2,
        strides: int | tuple[int, ...] | None = None,
        padding: str = "valid",
        data_format: str | None = None,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(name=name, **kwargs)
        label = self._label()
        self._set_data_format(data_format)
        self.pool_size = normalize_tuple(pool_size, self._rank, "pool_size", label)
        self.strides = (
            self.pool_size
            if strides is None
            else normalize_tuple(strides, self._rank, "strides", label)
        )
        if min(self.pool_size) <= 0 or min(self.strides) <= 0:
            raise ValueError(
                f"{label}: `pool_size` and `strides` must be strictly positive; received "
                f"pool_size={self.pool_size}, strides={self.strides}."
            )
        self.padding = normalize_padding(padding, ("valid", "same"), label)
        if not isinstance(self.padding, str):
            raise ValueError(f"{label}: `padding` must be 'valid' or 'same'; received {padding!r}.")
        if self._channels_first:
            self._window, self._step = (1, 1) + self.pool_size, (1, 1) + self.strides
        else:
            self._window = (1,) + self.pool_size + (1,)
            self._step = (1,) + self.strides + (1,)
        self._divisors: dict[tuple, Any] = {}
        self.built = True

    def _spatial(self, shape: tuple) -> tuple:
        return tuple(shape[2:]) if self._channels_first else tuple(shape[1:-1])

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        pad = self.padding.upper()
        if self._reducer == "max":
            return window_max(inputs, self._window, self._step, pad)
        summed = window_sum(inputs, self._window, self._step, pad)
        if self.padding == "valid":
            return summed / np.prod(self.pool_size)
        return summed / self._divisor(self._spatial(inputs.shape)).astype(summed.dtype)

    def _divisor(self, spatial: tuple) -> np.ndarray:
        """How many real elements each ``same``-padded window covers (a numpy
        constant, cached per input size)."""
        counts = self._divisors.get(spatial)
        if counts is None:
            counts = np.ones((), np.float32)
            for n, k, s in zip(spatial, self.pool_size, self.strides):
                counts = np.multiply.outer(counts, _window_counts(n, k, s, "SAME"))
            counts = counts[None, None] if self._channels_first else counts[None, ..., None]
            self._divisors[spatial] = counts
        return counts

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        out = tuple(
            conv_output_length(n, k, s, 1, self.padding)
            for n, k, s in zip(self._spatial(input_shape), self.pool_size, self.strides)
        )
        if self._channels_first:
            return input_shape[:2] + out
        return (input_shape[0],) + out + (input_shape[-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        }


class GlobalPooling(SpatialLayer):
    """Max or mean over all spatial axes.

    Args:
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        keepdims: keep the spatial axes with length 1.
    """

    _reducer = "max"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self._set_data_format(data_format)
        self.keepdims = bool(keepdims)
        first = 2 if self._channels_first else 1
        self._axes = tuple(range(first, first + self._rank))
        self.built = True

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        if self._reducer == "max":
            return jnp.max(inputs, axis=self._axes, keepdims=self.keepdims)
        return jnp.mean(inputs, axis=self._axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels = input_shape[self._channel_axis]
        if self.keepdims:
            ones = (1,) * self._rank
            return (
                (input_shape[0], channels) + ones
                if self._channels_first
                else (input_shape[0],) + ones + (channels,)
            )
        return (input_shape[0], channels)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}
