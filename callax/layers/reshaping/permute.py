"""``Permute``: permutes the non-batch axes."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core.layer import Layer


class Permute(Layer):
    """Permutes the non-batch axes: ``dims`` is a permutation of ``1..rank-1``.

    Example:
        >>> import callax
        >>> callax.layers.Permute((2, 1))(callax.ops.ones((4, 3, 5))).shape
        (4, 5, 3)
    """

    _kernel_call = True

    def __init__(self, dims: tuple[int, ...], **kwargs: Any):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                f"Permute '{self.name}': `dims` must be a permutation of 1..{len(self.dims)} "
                f"(axis 0, the batch, stays); received dims={dims!r}."
            )
        self._perm = (0, *self.dims)
        self.built = True

    def call(self, inputs):
        if inputs.ndim != len(self._perm):
            raise ValueError(
                f"Permute '{self.name}' with dims={self.dims} expects inputs of rank "
                f"{len(self._perm)}; received input with shape {tuple(inputs.shape)}."
            )
        return jnp.transpose(inputs, self._perm)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[a] for a in self._perm)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}
