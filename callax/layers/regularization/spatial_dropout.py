"""Spatial dropout layers: SpatialDropout1D/2D/3D drop whole feature maps."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax import random
from callax.core import config
from callax.layers.regularization.random_layer import _check_rate, _RandomLayer


class _SpatialDropout(_RandomLayer):
    """Drops whole feature maps: one keep/drop decision per (example, channel)."""

    _rank = 1

    def __init__(
        self, rate: float, data_format: str | None = None, seed: int | None = None, **kwargs: Any
    ):
        super().__init__(seed, **kwargs)
        self.rate = _check_rate(self, rate, upper_inclusive=True)
        data_format = data_format or config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': data_format must be 'channels_last' or "
                f"'channels_first'; received data_format={data_format!r}."
            )
        self.data_format = data_format

    def _noise_shape(self, shape: tuple) -> tuple:
        ones = (1,) * self._rank
        if self.data_format == "channels_first":
            return (shape[0], shape[1]) + ones
        return (shape[0],) + ones + (shape[-1],)

    def call(self, inputs, training=False):
        if inputs.ndim != self._rank + 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of rank {self._rank + 2}; "
                f"received input with shape {tuple(inputs.shape)}."
            )
        if not (training and self.rate > 0):
            return inputs
        if self.rate >= 1:
            return jnp.zeros_like(inputs)
        noise_shape = self._noise_shape(tuple(inputs.shape))
        return random.dropout(inputs, self.rate, noise_shape=noise_shape, seed=self.seed_generator)

    def get_config(self):
        config_ = {**super().get_config(), "rate": self.rate, "seed": self.seed}
        if self._rank > 1:
            config_["data_format"] = self.data_format
        return config_


class SpatialDropout1D(_SpatialDropout):
    """Drops entire channels of ``(batch, steps, channels)`` inputs while training.

    Example:
        >>> import callax
        >>> layer = callax.layers.SpatialDropout1D(0.5, seed=0)
        >>> y = layer(callax.ops.ones((4, 3, 8)), training=True)
        >>> bool(((y == y[:, :1]).all()))  # same decision at every step
        True
    """

    _rank = 1

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        kwargs.pop("data_format", None)  # 1D inputs are always channels-last in Keras
        super().__init__(rate, "channels_last", seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Drops entire channels of 4D inputs while training.

    Example:
        >>> import callax
        >>> callax.layers.SpatialDropout2D(0.5)(callax.ops.ones((1, 4, 4, 2))).shape
        (1, 4, 4, 2)
    """

    _rank = 2


class SpatialDropout3D(_SpatialDropout):
    """Drops entire channels of 5D inputs while training.

    Example:
        >>> import callax
        >>> callax.layers.SpatialDropout3D(0.5)(callax.ops.ones((1, 2, 2, 2, 3))).shape
        (1, 2, 2, 2, 3)
    """

    _rank = 3
