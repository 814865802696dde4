"""``Concatenate`` and its functional form ``concatenate``."""

from __future__ import annotations

import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.merging.base_merge import check_shape_list


class Concatenate(Layer):
    """Joins a list of tensors along ``axis``; other dimensions must match.

    Example:
        >>> import callax
        >>> a, b = callax.ops.ones((2, 3)), callax.ops.zeros((2, 5))
        >>> callax.layers.Concatenate()([a, b]).shape
        (2, 8)
    """

    _kernel_call = True

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True

    def build(self, input_shape):
        check_shape_list(self, input_shape, "tensors", minimum=1)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(
                f"Concatenate '{self.name}' must be called on a list of tensors; received "
                f"{type(inputs).__name__}."
            )
        shapes = [tuple(x.shape) for x in inputs]
        rank = len(shapes[0])
        axis = self.axis % rank if rank else 0
        for s in shapes:
            if len(s) != rank or any(
                a != b for i, (a, b) in enumerate(zip(s, shapes[0])) if i != axis
            ):
                raise ValueError(
                    f"Concatenate '{self.name}' needs inputs with matching shapes except on "
                    f"the concat axis ({self.axis}); received shapes {shapes}."
                )
        return jnp.concatenate(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def concatenate(inputs, axis=-1, **kwargs):
    return Concatenate(axis=axis, **kwargs)(inputs)
