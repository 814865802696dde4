"""Regularization layers: Dropout."""

from __future__ import annotations

import numbers
from typing import Any

from callax import random
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator


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
