"""``Merge``: the base of the elementwise merging layers (list checks, broadcasting,
masks)."""

from __future__ import annotations

import functools

import jax.numpy as jnp

from callax.core.layer import Layer


def check_shape_list(layer: Layer, input_shape, what: str, minimum: int) -> None:
    """A merging layer's ``build`` check: ``input_shape`` is a list of at least
    ``minimum`` shapes (``what`` says so in the error)."""
    if (
        not isinstance(input_shape, (list, tuple))
        or len(input_shape) < minimum
        or not all(isinstance(s, (list, tuple)) for s in input_shape)
    ):
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}' must be called on a list of {what}; "
            f"received input shape {input_shape}."
        )


class Merge(Layer):
    """Base: ``call(inputs)`` takes a list of at least two tensors of one shape."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        check_shape_list(self, input_shape, "at least 2 tensors", minimum=2)

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
