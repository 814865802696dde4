"""``Masking``: marks timesteps whose features all equal ``mask_value`` as masked."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core.layer import Layer


class Masking(Layer):
    """Masks timesteps whose features all equal ``mask_value``.

    Outputs the input with those timesteps set to 0; ``compute_mask(inputs)``
    returns the boolean mask ``(batch, steps)`` (True = keep). callax does not
    propagate masks between layers yet: pass ``compute_mask``'s result to the
    layers that take a ``mask`` argument yourself.

    Example:
        >>> import callax
        >>> x = callax.ops.array([[[1.0, 2.0], [0.0, 0.0]]])
        >>> layer = callax.layers.Masking()
        >>> layer(x).tolist(), layer.compute_mask(x).tolist()
        ([[[1.0, 2.0], [0.0, 0.0]]], [[True, False]])
    """

    _kernel_call = True

    def __init__(self, mask_value: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return jnp.any(jnp.asarray(inputs) != self.mask_value, axis=-1)

    def call(self, inputs):
        keep = jnp.any(inputs != self.mask_value, axis=-1, keepdims=True)
        return jnp.where(keep, inputs, jnp.zeros((), inputs.dtype))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
