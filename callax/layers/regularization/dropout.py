"""Dropout layers: Dropout, GaussianDropout and AlphaDropout. All are the identity
unless training, and draw from a :class:`~callax.core.seed_generator.SeedGenerator`
(state in a variable, so they work eagerly, in ``stateless_call`` and in compiled
steps)."""

from __future__ import annotations

import math
import numbers
from typing import Any

from callax import random
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator
from callax.layers.regularization.random_layer import _check_rate, _RandomLayer


class Dropout(Layer):
    """Zeroes inputs with probability ``rate`` while training, scaling the kept
    ones by ``1 / (1 - rate)`` so expectations match inference (identity).

    Args:
        rate: fraction of inputs to drop, in ``[0, 1)``.
        noise_shape: shape of the keep mask, ``None`` entries taken from the input
            (``(None, 1, None)`` drops whole timesteps' features alike).
        seed: int for a reproducible mask sequence.

    Example:
        >>> import callax
        >>> d = callax.layers.Dropout(0.5, seed=0)
        >>> x = callax.ops.ones((2, 4))
        >>> bool((d(x) == x).all())               # not training: identity
        True
        >>> sorted(set(d(x, training=True).ravel().tolist())) in ([0.0, 2.0], [2.0])
        True
    """

    _kernel_call = "training"  # a compiled kernel only pays off when dropping

    def __init__(self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, numbers.Real) or not 0 <= rate <= 1:
            raise ValueError(f"Dropout '{self.name}': rate must be in [0, 1]; received {rate!r}.")
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.seed_generator = SeedGenerator(seed, name=self.name) if rate > 0 else None
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            if self.rate >= 1:
                return inputs * 0
            return random.dropout(
                inputs, self.rate, noise_shape=self.noise_shape, seed=self.seed_generator
            )
        return inputs

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "noise_shape": self.noise_shape,
                "seed": self.seed}  # fmt: skip


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
