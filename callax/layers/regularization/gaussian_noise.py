"""``GaussianNoise``: adds zero-mean Gaussian noise while training."""

from __future__ import annotations

from typing import Any

from callax import random
from callax.layers.regularization.random_layer import _RandomLayer


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
