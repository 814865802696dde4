"""Noise and structured-dropout layers: GaussianNoise, GaussianDropout,
AlphaDropout, SpatialDropout1D/2D/3D. All are the identity unless training, and
draw from a :class:`~callax.core.seed_generator.SeedGenerator` (state in a
variable, so they work eagerly, in ``stateless_call`` and in compiled steps)."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

from callax import random
from callax.core import config
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator


def _check_rate(layer: Layer, rate: Any, upper_inclusive: bool = False) -> float:
    ok = isinstance(rate, (int, float)) and not isinstance(rate, bool)
    ok = ok and (0 <= rate <= 1 if upper_inclusive else 0 <= rate < 1)
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(
            f"{type(layer).__name__} '{layer.name}': rate must be a number in {interval}; "
            f"received rate={rate!r}."
        )
    return float(rate)


class _RandomLayer(Layer):
    _kernel_call = "training"  # a compiled kernel only pays off when noise is drawn

    def __init__(self, seed: int | None, **kwargs: Any):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed, name=f"{self.name}_seed_generator")
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class GaussianNoise(_RandomLayer):
    """Adds zero-mean Gaussian noise of standard deviation ``stddev`` while training.

    Example:
        >>> import callax
        >>> layer = callax.layers.GaussianNoise(0.1, seed=0)
        >>> x = callax.ops.ones((2, 3))
        >>> bool((layer(x) == x).all()), bool((layer(x, training=True) == x).all())
        (True, False)
    """

    def __init__(self, stddev: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed, **kwargs)
        if not isinstance(stddev, (int, float)) or stddev < 0:
            raise ValueError(
                f"GaussianNoise '{self.name}': stddev must be a non-negative number; "
                f"received stddev={stddev!r}."
            )
        self.stddev = float(stddev)

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            noise = random.normal(
                inputs.shape, stddev=self.stddev, dtype=inputs.dtype, seed=self.seed_generator
            )
            return inputs + noise
        return inputs

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(_RandomLayer):
    """Multiplies inputs by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` while training.

    Example:
        >>> import callax
        >>> layer = callax.layers.GaussianDropout(0.2, seed=0)
        >>> layer(callax.ops.ones((2, 3)), training=True).shape
        (2, 3)
    """

    def __init__(self, rate: float, seed: int | None = None, **kwargs: Any):
        super().__init__(seed, **kwargs)
        self.rate = _check_rate(self, rate)

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = random.normal(
                inputs.shape, mean=1.0, stddev=stddev, dtype=inputs.dtype, seed=self.seed_generator
            )
            return inputs * noise
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(_RandomLayer):
    """Dropout for self-normalizing networks (SELU): dropped units are set to
    SELU's negative saturation value and an affine correction keeps the mean
    and variance of the inputs.

    Example:
        >>> import callax
        >>> layer = callax.layers.AlphaDropout(0.2, seed=0)
        >>> layer(callax.ops.ones((2, 3)), training=True).shape
        (2, 3)
    """

    _ALPHA = 1.6732632423543772848170429916717
    _SCALE = 1.0507009873554804934193349852946

    def __init__(
        self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any
    ):
        super().__init__(seed, **kwargs)
        self.rate = _check_rate(self, rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def call(self, inputs, training=False):
        if not (training and self.rate > 0):
            return inputs
        shape = inputs.shape
        if self.noise_shape is not None:
            shape = tuple(s if n is None else n for s, n in zip(inputs.shape, self.noise_shape))
        keep = random.uniform(shape, seed=self.seed_generator) >= self.rate
        keep = keep.astype(inputs.dtype)
        alpha_p = -self._ALPHA * self._SCALE
        a = ((1 - self.rate) * (1 + self.rate * alpha_p**2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (inputs * keep + alpha_p * (1 - keep)) + b

    def get_config(self):
        return {
            **super().get_config(),
            "rate": self.rate,
            "noise_shape": self.noise_shape,
            "seed": self.seed,
        }


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
