"""``RepeatVector``: repeats a ``(batch, features)`` input ``n`` times along a new axis."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core.layer import Layer


class RepeatVector(Layer):
    """Repeats a ``(batch, features)`` input ``n`` times: ``(batch, n, features)``.

    Example:
        >>> import callax
        >>> callax.layers.RepeatVector(3)(callax.ops.ones((2, 4))).shape
        (2, 3, 4)
    """

    _kernel_call = True

    def __init__(self, n: int, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
            raise ValueError(
                f"RepeatVector '{self.name}': `n` must be a positive int; received n={n!r}."
            )
        self.n = n
        self.built = True

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(
                f"RepeatVector '{self.name}' expects inputs of rank 2 (batch, features); "
                f"received input with shape {tuple(inputs.shape)}."
            )
        return jnp.broadcast_to(inputs[:, None, :], (inputs.shape[0], self.n, inputs.shape[1]))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
