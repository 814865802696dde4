"""``RMSNormalization``: layer normalization without centering (Zhang & Sennrich, 2019)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.input_spec import InputSpec, assert_input_compatibility  # noqa: F401 (re-export)
from callax.core.layer import Layer


# ------------------------------------------------------------- RMSNormalization
class RMSNormalization(Layer):
    """``x / sqrt(mean(x**2 over axis) + epsilon) * scale`` (Zhang & Sennrich, 2019):
    layer normalization without centering.

    Args:
        axis: the axis or axes normalized over (``scale`` has their sizes).
        epsilon: added to the mean square.

    Example:
        >>> import callax
        >>> layer = callax.layers.RMSNormalization()
        >>> layer(callax.ops.array([[3.0, 4.0]])).shape, layer.scale.shape
        ((1, 2), (2,))
    """

    _kernel_call = True

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-6, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        rank = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(
                    f"RMSNormalization '{self.name}': axis {a} is out of range for inputs of "
                    f"rank {rank}; received input shape {input_shape}."
                )
        self.axis = axes  # Keras stores the normalized list (it shows in the config)
        self.scale = self.add_weight(
            shape=tuple(input_shape[a] for a in axes), initializer="ones", name="scale"
        )

    def call(self, inputs):
        dtype = inputs.dtype
        # Statistics in at least float32, for stability under mixed precision.
        x = inputs.astype(jnp.promote_types(dtype, jnp.float32))
        axes = tuple(a % x.ndim for a in self.axis)
        rrms = jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + self.epsilon)
        scale = self.scale.value.astype(x.dtype)
        # Place the scale's axes among the input's (others broadcast as size 1).
        shape = [1] * x.ndim
        for a, size in zip(axes, scale.shape):
            shape[a] = size
        return (x * rrms * scale.reshape(shape)).astype(dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
