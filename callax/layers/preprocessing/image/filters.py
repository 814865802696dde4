"""Filtering image layers: RandomSharpness, RandomGaussianBlur."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.layers.preprocessing.image.base_image_layer import (
    _FactorImageLayer,
    _pair_factor,
    _per_sample,
    _RandomImageLayer,
    _value_range,
)
from callax.ops import image as image_ops


class RandomSharpness(_FactorImageLayer):
    """While training, blends each image with a smoothed copy (3x3 kernel, centre
    weight 5/13, zero padding): ``x + (1 - 2f) * (smooth - x)``, ``f`` drawn from
    ``factor`` (``f = 0.5`` keeps the image, ``1`` sharpens, ``0`` blurs),
    clipped to ``value_range``.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (range ``(0, f)``) or a pair.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomSharpness((0.5, 0.5))
        >>> x = np.random.rand(1, 4, 4, 3) * 255
        >>> bool(np.allclose(layer(x), x, atol=1e-4))
        True
    """

    def _augment(self, images, key):
        x = jnp.moveaxis(images, 1, -1) if self.data_format == "channels_first" else images
        channels = x.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = jnp.array([[a, a, a], [a, b, a], [a, a, a]], x.dtype)
        kernel = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels))
        smooth = jax.lax.conv_general_dilated(
            x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=channels, precision=jax.lax.Precision.HIGHEST,
        )  # fmt: skip
        f = 2.0 * _per_sample(key, x.shape[0], *self.factor).astype(x.dtype)
        out = jnp.clip(x + (1.0 - f) * (smooth - x), *self.value_range)
        return jnp.moveaxis(out, -1, 1) if self.data_format == "channels_first" else out


class RandomGaussianBlur(_RandomImageLayer):
    """While training, blurs each image with probability drawn from ``factor``,
    by a Gaussian of ``kernel_size`` whose two standard deviations are drawn
    (once per batch, as Keras) from ``sigma``; clipped to ``value_range``.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (probabilities in ``[0, f]``) or a pair.
        kernel_size: an odd number, or a pair of odd numbers ``(height, width)``.
        sigma: a number ``s`` in ``[0, 1]`` (range ``(0, s)``) or a pair.

    Example:
        >>> import callax
        >>> layer = callax.layers.RandomGaussianBlur(factor=1.0, sigma=(1.0, 1.0))
        >>> layer(callax.ops.ones((2, 5, 5, 3)) * 100).shape
        (2, 5, 5, 3)
    """

    _config_attrs = ("factor", "kernel_size", "sigma", "value_range")

    def __init__(self, factor: Any = 1.0, kernel_size: Any = 3, sigma: Any = 1.0,
                 value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (0, 1), self._who)
        sizes = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
        if len(sizes) != 2 or any(not isinstance(k, int) or k % 2 == 0 for k in sizes):
            raise ValueError(
                f"{self._who}: kernel_size must be an odd number or a pair of odd numbers; "
                f"received kernel_size={kernel_size!r}."
            )
        self.kernel_size = sizes
        self.sigma = _pair_factor(sigma, (0, 1), self._who, "sigma")
        _value_range(value_range, self._who)
        self.value_range = value_range

    def _augment(self, images, key):
        kp, kt, ks = jax.random.split(key, 3)
        n = images.shape[0]
        apply = _per_sample(kt, n, 0.0, 1.0) < _per_sample(kp, n, *self.factor)
        sigma = jax.random.uniform(ks, (2,), minval=self.sigma[0], maxval=self.sigma[1]) + 1e-6
        blurred = image_ops.gaussian_blur(images, self.kernel_size, sigma, self.data_format)
        return jnp.clip(jnp.where(apply, blurred, images), *self.value_range)
