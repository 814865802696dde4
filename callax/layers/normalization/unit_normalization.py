"""``UnitNormalization``: scales inputs to unit L2 norm along an axis."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.normalization.base_normalization import (
    _axis_argument,
    _float32_or_wider,
    _normalize_axes,
)


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over ``axis``.

    Example:
        >>> import callax
        >>> y = callax.layers.UnitNormalization()(callax.ops.array([[3.0, 4.0]]))
        >>> [round(v, 4) for v in y[0].tolist()]
        [0.6, 0.8]
    """

    _kernel_call = True

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = _axis_argument(self, axis)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axes = tuple(_normalize_axes(self, self.axis, inputs.ndim))
        x = _float32_or_wider(inputs)
        square_sum = jnp.sum(jnp.square(x), axis=axes, keepdims=True)
        # rsqrt capped at 1/epsilon keeps all-zero rows at zero instead of NaN.
        inv = jnp.minimum(jax.lax.rsqrt(square_sum), 1e12)
        return (x * inv).astype(self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
