"""``Merge``: the base of the elementwise merging layers (list checks, broadcasting,
masks)."""

from __future__ import annotations

import functools

import jax.numpy as jnp

from callax.core.layer import Layer


class Merge(Layer):
    """Base: ``call(inputs)`` takes a list of at least two tensors of one shape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) < 2
            or not all(isinstance(s, (list, tuple)) for s in input_shape)
        ):
            raise ValueError(
                f"{type(self).__name__} '{self.name}' must be called on a list of at least "
                f"2 tensors; received input shape {input_shape}."
            )

    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' must be called on a list of at least 2 "
                f"tensors; received {type(inputs).__name__}."
            )
        shapes = [tuple(x.shape) for x in inputs]
        try:
            jnp.broadcast_shapes(*shapes)
        except ValueError:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' needs inputs of compatible shapes; "
                f"received shapes {shapes}."
            ) from None

    def call(self, inputs):
        self._check(inputs)
        return functools.reduce(self._merge, inputs)
