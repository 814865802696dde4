"""Reshaping layers: Flatten, Reshape."""

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


class Reshape(Layer):
    """Reshapes all but the batch axis to ``target_shape`` (one entry may be -1).

    Example:
        >>> import callax
        >>> callax.layers.Reshape((3, -1))(callax.ops.ones((2, 12))).shape
        (2, 3, 4)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(target_shape)
        if sum(d == -1 for d in self.target_shape) > 1:
            raise ValueError(
                f"Reshape '{self.name}': at most one -1 in target_shape; received {target_shape}."
            )
        self.built = True

    def call(self, inputs):
        size = math.prod(inputs.shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and size % known) or (
            -1 not in self.target_shape and size != known
        ):
            raise ValueError(
                f"Reshape '{self.name}': cannot reshape input of shape {tuple(inputs.shape)} "
                f"({size} values per sample) to target shape {self.target_shape}."
            )
        return jnp.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}
