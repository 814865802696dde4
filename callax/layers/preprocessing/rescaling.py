"""``Rescaling``: ``inputs * scale + offset``."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax.core import config
from callax.core.layer import Layer


class Rescaling(Layer):
    """``inputs * scale + offset`` (e.g. ``Rescaling(1 / 255)`` for images).

    Args:
        scale: a number, or one per channel.
        offset: a number, or one per channel.

    Example:
        >>> import callax
        >>> callax.layers.Rescaling(1 / 255)(callax.ops.array([0.0, 255.0])).tolist()
        [0.0, 1.0]
    """

    _kernel_call = True

    def __init__(self, scale: Any, offset: Any = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset
        self.supports_masking = True
        self.built = True

    def _as_array(self, value: Any) -> jnp.ndarray:
        array = jnp.asarray(value, dtype=self.compute_dtype)
        if array.ndim and config.image_data_format() == "channels_first":
            # Per-channel values broadcast over (channels, height, width).
            array = array.reshape(array.shape + (1,) * (3 - array.ndim))
        return array

    def call(self, inputs):
        x = inputs.astype(self.compute_dtype)
        return x * self._as_array(self.scale) + self._as_array(self.offset)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        def plain(v):
            return np.asarray(v).tolist() if not isinstance(v, (int, float)) else v

        return {**super().get_config(), "scale": plain(self.scale), "offset": plain(self.offset)}
