"""``Reshape``: reshapes the non-batch axes to a target shape."""

from __future__ import annotations

import math

import jax.numpy as jnp

from callax.core.layer import Layer


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
