"""``Flatten``: flattens the non-batch axes into one."""

from __future__ import annotations

import math

import jax.numpy as jnp

from callax.core import config
from callax.core.layer import Layer


class Flatten(Layer):
    """Flattens all but the batch axis: ``(batch, ...) -> (batch, prod(...))``.

    Example:
        >>> import callax
        >>> callax.layers.Flatten()(callax.ops.ones((2, 3, 4))).shape
        (2, 12)
    """

    def __init__(self, data_format: str | None = None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format or config.image_data_format()
        self.built = True

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = jnp.moveaxis(inputs, 1, -1)
        return jnp.reshape(inputs, (inputs.shape[0], -1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        return (input_shape[0], None if None in rest else math.prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}
