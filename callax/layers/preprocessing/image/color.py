"""Color image layers: RandomContrast, RandomBrightness, RandomGrayscale,
RandomInvert, Solarization, AutoContrast, RandomSaturation, RandomHue,
RandomColorJitter, RandomColorDegeneration, RandomPosterization, Equalization.

Keras 3's names, arguments, defaults and configs, for one image
``(height, width, channels)`` or a batch ``(batch, height, width, channels)``
(``data_format="channels_first"`` puts channels before height and width).

As in Keras 3, the random layers' ``call`` defaults to ``training=True``: a
standalone call, or ``model(x)``, augments; ``predict``/``evaluate`` (and an
explicit ``training=False``) pass images through. Each sample draws its own
values from the layer's ``SeedGenerator``, so the layers work eagerly, in
``stateless_call`` and inside compiled steps. ``value_range`` is the range the
pixels live in (``(0, 255)`` by default; ``(0, 1)`` for scaled images).

Example:
    >>> import numpy as np, callax
    >>> x = np.arange(16.0).reshape(1, 4, 4, 1)
    >>> callax.layers.CenterCrop(2, 2)(x)[0, :, :, 0].tolist()
    [[5.0, 6.0], [9.0, 10.0]]
    >>> callax.layers.RandomBrightness((0.1, 0.1), value_range=(0, 10))(x).max().item()
    10.0
"""

from __future__ import annotations

import types
from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.layers.preprocessing.image.base_image_layer import (
    _FactorImageLayer,
    _ImageLayer,
    _pair_factor,
    _per_sample,
    _RandomImageLayer,
    _value_range,
)
from callax.ops import image as image_ops


# -------------------------------------------------------------------- colour
class RandomContrast(_RandomImageLayer):
    """While training, scales each image's deviation from its per-channel mean by
    a random factor in ``[1 - lower, 1 + upper]``, then clips to ``value_range``.

    Args:
        factor: a pair ``(lower, upper)`` (factors in ``[1 - lower, 1 + upper]``;
            ``(-a, a)`` fixes the factor at ``1 + a``), or a number ``f`` in
            ``[0, 1]``, which Keras 3 reads as ``(0, f)`` (factors in ``[1, 1 + f]``).
        value_range: the pixel range (default ``(0, 255)``).
        seed: int for a reproducible sequence.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomContrast((-0.5, 0.5), value_range=(0, 1))
        >>> layer(np.array([[[[0.2], [0.6]]]])).ravel().tolist()  # factor 1.5 exactly
        [0.10000000149011612, 0.7000000476837158]
    """

    _config_attrs = ("factor", "value_range")

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, **kwargs)
        self._set_factor(factor, (0, 1), value_range, sort_range=False)

    def _augment(self, images, key):
        lower, upper = self.factor
        scale = _per_sample(key, images.shape[0], 1.0 - lower, 1.0 + upper).astype(images.dtype)
        mean = jnp.mean(images, axis=self._spatial_axes, keepdims=True)
        out = (images - mean) * scale + mean
        return jnp.clip(out, self.value_range[0], self.value_range[1])


class RandomBrightness(_RandomImageLayer):
    """While training, adds to each image a random delta of ``factor`` times the
    width of ``value_range``, then clips to ``value_range``.

    Args:
        factor: a number ``f`` in ``[-1, 1]`` (deltas in ``[-|f|, |f|]``) or a pair.
        value_range: the pixel range (default ``(0, 255)``).
        seed: int for a reproducible sequence.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomBrightness((0.5, 0.5), value_range=(0, 1))
        >>> layer(np.array([[[[0.2], [0.6]]]])).ravel().tolist()
        [0.699999988079071, 1.0]
    """

    _config_attrs = ("factor", "value_range")

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, **kwargs)
        self._set_factor(factor, (-1, 1), value_range)

    def _augment(self, images, key):
        low, high = self.value_range
        delta = _per_sample(key, images.shape[0], *self.factor) * (high - low)
        return jnp.clip(images + delta.astype(images.dtype), low, high)


class RandomGrayscale(_RandomImageLayer):
    """While training, turns each image to grayscale with probability ``factor``
    (keeping its channel count).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomGrayscale(factor=1.0)
        >>> layer(np.array([[[1.0, 0.0, 0.0]]])).tolist()
        [[[0.29890000820159912, 0.29890000820159912, 0.29890000820159912]]]
    """

    _casts = False  # gray or not, the images keep their dtype (as Keras)
    _config_attrs = ("factor",)

    def __init__(self, factor: float = 0.5, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not (
                0 <= factor <= 1):  # fmt: skip
            raise ValueError(
                f"{self._who}: factor must be a probability in [0, 1]; received factor={factor!r}."
            )
        self.factor = factor

    def _augment(self, images, key):
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format)
        apply = _per_sample(key, images.shape[0], 0.0, 1.0) < self.factor
        return jnp.where(apply, gray, images)


class RandomInvert(_RandomImageLayer):
    """While training, inverts images (``value_range[1] - x``): each image draws
    a probability in ``factor`` and is inverted with that probability.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (probabilities in ``[0, f]``) or a pair.
        value_range: the pixel range (default ``(0, 255)``).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomInvert((1.0, 1.0), value_range=(0, 1))
        >>> layer(np.array([[[[0.25], [1.0]]]])).ravel().tolist()
        [0.75, 0.0]
    """

    _config_attrs = ("factor", "value_range")

    def __init__(self, factor: Any = 1.0, value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._set_factor(factor, (0, 1), value_range, sort_range=False)

    def _augment(self, images, key):
        kp, kt = jax.random.split(key)
        n = images.shape[0]
        apply = _per_sample(kt, n, 0.0, 1.0) < _per_sample(kp, n, *self.factor)
        return jnp.where(apply, self.value_range[1] - images, images)


def _rescale(images, source, target):
    if tuple(source) == tuple(target):
        return images
    return (images - source[0]) / (source[1] - source[0]) * (target[1] - target[0]) + target[0]


class Solarization(_RandomImageLayer):
    """While training, adds a random ``addition`` (``addition_factor`` of 255, on
    images rescaled to ``[0, 255]``), clips, and inverts (``255 - x``) every pixel
    at or above a random ``threshold`` (``threshold_factor`` of 255).

    Args:
        addition_factor: a number ``f`` in ``[0, 1]`` (range ``(0, f)``) or a pair.
        threshold_factor: likewise; with the default 0 every pixel is inverted.
        value_range: the pixel range (default ``(0, 255)``).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.Solarization(threshold_factor=(0.5, 0.5), value_range=(0, 1))
        >>> layer(np.array([[[[0.25], [0.75]]]])).ravel().tolist()
        [0.25, 0.25]
    """

    _config_attrs = ("value_range", "addition_factor", "threshold_factor")

    def __init__(self, addition_factor: Any = 0.0, threshold_factor: Any = 0.0,
                 value_range: Any = (0, 255), seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._factor(addition_factor, "addition_factor")
        self.threshold_factor = self._factor(threshold_factor, "threshold_factor")
        self.value_range = _value_range(value_range, self._who)

    def _factor(self, factor, name):
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            factor = (0, factor)
        lower, upper = _pair_factor(factor, (0, 1), self._who, name)
        if lower < 0:
            raise ValueError(
                f"{self._who}: {name} must be a number or a pair of numbers in [0, 1]; "
                f"received {name}={factor!r}."
            )
        return (lower, upper)

    def _augment(self, images, key):
        x = _rescale(images, self.value_range, (0, 255))
        ka, kt = jax.random.split(key)
        n = x.shape[0]
        addition = _per_sample(ka, n, *(255.0 * f for f in self.addition_factor))
        threshold = _per_sample(kt, n, *(255.0 * f for f in self.threshold_factor))
        x = jnp.clip(x + addition.astype(x.dtype), 0, 255)
        x = jnp.where(x < threshold, x, 255 - x)
        return _rescale(x, (0, 255), self.value_range)


class AutoContrast(_ImageLayer):
    """Stretches each image channel to fill ``value_range`` (its minimum maps to
    the low end, its maximum to the high end); constant channels are unchanged.
    Applied in training and inference alike (as Keras).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.AutoContrast(value_range=(0, 1))
        >>> layer(np.array([[[[0.25], [0.5]]]])).ravel().tolist()
        [0.0, 1.0]
    """

    _config_attrs = ("value_range",)

    def __init__(self, value_range: Any = (0, 255), **kwargs: Any):
        super().__init__(**kwargs)
        self.value_range = _value_range(value_range, self._who)

    def _apply(self, images, training):
        x = _rescale(self._float(images), self.value_range, (0, 255))
        low = jnp.min(x, axis=self._spatial_axes, keepdims=True)
        high = jnp.max(x, axis=self._spatial_axes, keepdims=True)
        spread = high - low
        stretched = (x - low) * (255.0 / jnp.where(spread > 0, spread, 1.0))
        out = _rescale(jnp.clip(stretched, 0.0, 255.0), (0, 255), self.value_range)
        return jnp.where(spread > 0, out, images.astype(out.dtype))


def _hsv_channels(layer, images):
    hsv = image_ops.rgb_to_hsv(images, data_format=layer.data_format)
    axis = -1 if layer.data_format == "channels_last" else 1
    return [jnp.take(hsv, i, axis=axis) for i in range(3)], axis


class RandomSaturation(_FactorImageLayer):
    """While training, scales each image's HSV saturation by ``f / (1 - f)``,
    ``f`` drawn from ``factor`` (so ``0.5`` keeps it, ``1`` saturates fully, ``0``
    makes the image gray), clipping saturation to ``value_range`` (Keras 3's rule).

    Args:
        factor: a pair in ``[-1, 1]``, or a number ``f`` (range ``(-f, f)``, as Keras).
        value_range: the pixel range (default ``(0, 255)``).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomSaturation((0.0, 0.0), value_range=(0, 1))
        >>> layer(np.array([[[0.2, 0.4, 0.8]]])).round(4).tolist()  # gray: s = 0
        [[[0.8, 0.8, 0.8]]]
    """

    _factor_bounds = (-1, 1)

    def _augment(self, images, key):
        f = jax.random.uniform(key, (images.shape[0],), minval=self.factor[0],
                               maxval=self.factor[1])  # fmt: skip
        f = (f / (1 - f + config.epsilon())).astype(images.dtype).reshape(-1, 1, 1)
        (h, s, v), axis = _hsv_channels(self, images)
        s = jnp.clip(s * f, self.value_range[0], self.value_range[1])
        return image_ops.hsv_to_rgb(jnp.stack([h, s, v], axis=axis), data_format=self.data_format)


class RandomHue(_FactorImageLayer):
    """While training, rotates each image's hue by ``±f / 2`` of the colour wheel,
    ``f`` drawn from ``factor`` and the sign by a coin flip.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (range ``(0, f)``) or a pair.
        value_range: the pixel range (default ``(0, 255)``).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomHue((2 / 3, 2 / 3), value_range=(0, 1))
        >>> out = layer(np.array([[[1.0, 0.0, 0.0]]])).round(4).tolist()  # red turns
        >>> out in ([[[0.0, 0.0, 1.0]]], [[[0.0, 1.0, 0.0]]])  # blue or green
        True
    """

    _factor_bounds = (0, 1)
    _sort_range = False

    def _augment(self, images, key):
        images = _rescale(images, self.value_range, (0, 1))
        k_sign, k_f = jax.random.split(key)
        n = images.shape[0]
        sign = jnp.where(jax.random.uniform(k_sign, (n,)) > 0.5, -1.0, 1.0)
        f = jax.random.uniform(k_f, (n,), minval=self.factor[0], maxval=self.factor[1])
        delta = (sign * f * 0.5).astype(images.dtype).reshape(-1, 1, 1)
        (h, s, v), axis = _hsv_channels(self, images)
        h = h + delta
        h = jnp.where(h > 1.0, h - 1.0, jnp.where(h < 0.0, h + 1.0, h))
        rgb = image_ops.hsv_to_rgb(jnp.stack([h, s, v], axis=axis), data_format=self.data_format)
        return _rescale(jnp.clip(rgb, 0, 1), (0, 1), self.value_range)


class RandomColorJitter(_RandomImageLayer):
    """While training, applies random brightness, contrast, saturation and hue
    changes, in that order, each only when its factor is given (see
    ``RandomBrightness``, ``RandomContrast``, ``RandomSaturation``, ``RandomHue``).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomColorJitter(value_range=(0, 1), brightness_factor=0.2,
        ...                                          hue_factor=0.1, seed=0)
        >>> layer(np.random.rand(2, 4, 4, 3)).shape
        (2, 4, 4, 3)
    """

    _config_attrs = (
        "value_range",
        "brightness_factor",
        "contrast_factor",
        "saturation_factor",
        "hue_factor",
    )

    def __init__(self, value_range: Any = (0, 255), brightness_factor: Any = None,
                 contrast_factor: Any = None, saturation_factor: Any = None,
                 hue_factor: Any = None, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = value_range
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        common = {"value_range": value_range, "seed": seed, "data_format": self.data_format}
        kinds = ((RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor))  # fmt: skip
        # The steps only lend their transforms (the jitter's own generator drives
        # them, as Keras): kept in a plain namespace so they are not tracked as
        # sublayers that are never called.
        self._steps = types.SimpleNamespace(
            layers=[None if f is None else cls(f, **common) for cls, f in kinds]
        )

    random_brightness = property(lambda self: self._steps.layers[0])
    random_contrast = property(lambda self: self._steps.layers[1])
    random_saturation = property(lambda self: self._steps.layers[2])
    random_hue = property(lambda self: self._steps.layers[3])

    def _augment(self, images, key):
        for step, k in zip(self._steps.layers, jax.random.split(key, 4)):
            if step is not None:
                images = step._augment(images, k)
        return images


class RandomColorDegeneration(_FactorImageLayer):
    """While training, blends each image towards its grayscale version:
    ``x + f * (gray - x)``, ``f`` drawn from ``factor`` (negative values push
    colours further from gray), clipped to ``value_range``.

    Args:
        factor: a number ``f`` in ``[-1, 1]`` (range ``(-f, f)``, as Keras) or a pair.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomColorDegeneration((1.0, 1.0), value_range=(0, 1))
        >>> layer(np.array([[[1.0, 0.0, 0.0]]])).round(4).tolist()
        [[[0.2989, 0.2989, 0.2989]]]
    """

    _factor_bounds = (-1, 1)

    def _augment(self, images, key):
        f = _per_sample(key, images.shape[0], *self.factor).astype(images.dtype)
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format)
        return jnp.clip(images + f * (gray - images), *self.value_range)


class RandomPosterization(_FactorImageLayer):
    """While training, keeps only the top ``bits`` bits of each 8-bit pixel value
    (images are rescaled from ``value_range`` to ``[0, 255]`` and back), ``bits``
    drawn per image from ``factor``.

    Args:
        factor: bits in ``[1, 8]``: a number ``f`` (range ``(1, f)``) or a pair; a
            pair of equal numbers fixes the bits, otherwise they are drawn from
            ``[lower, upper)`` (as Keras).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomPosterization((2, 2), value_range=(0, 1))
        >>> layer(np.array([[[[0.3], [0.9]]]])).ravel().round(4).tolist()  # 64/255, 192/255
        [0.251, 0.7529]
    """

    _factor_bounds = (1, 8)

    def _augment(self, images, key):
        n = images.shape[0]
        low, high = int(self.factor[0]), int(self.factor[1])
        if low != high:
            bits = jax.random.randint(key, (n,), low, high)
        else:
            bits = jnp.full((n,), low)
        shift = (8 - bits).astype(jnp.uint8).reshape(n, 1, 1, 1)
        pixels = _rescale(images, self.value_range, (0, 255)).astype(jnp.uint8)
        kept = jnp.left_shift(jnp.right_shift(pixels, shift), shift)
        return _rescale(kept.astype(images.dtype), (0, 255), self.value_range)


class Equalization(_ImageLayer):
    """While training, equalizes the histogram of each channel (``bins`` bins
    over ``[0, 255]`` after rescaling from ``value_range``): values map through
    the cumulative histogram so they spread over the whole range. As Keras 3,
    one histogram per channel covers the whole batch, and a channel with a
    single occupied bin is left as it is.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.Equalization()
        >>> layer(np.array([[[[10.0], [20.0], [20.0], [30.0]]]])).ravel().tolist()
        [0.0, 170.0, 170.0, 255.0]
    """

    _kernel_call = "training"

    _config_attrs = ("value_range", "bins")

    def __init__(self, value_range: Any = (0, 255), bins: int = 256,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        self.bins = bins
        self.value_range = _value_range(value_range, self._who)

    def _apply(self, images, training):
        if not training:
            return images
        images = self._float(images)
        axis = -1 if self.data_format == "channels_last" else 1
        channels = jnp.moveaxis(_rescale(images, self.value_range, (0, 255)), axis, 0)
        out = jax.vmap(self._equalize)(channels.reshape(channels.shape[0], -1))
        out = _rescale(out.reshape(channels.shape), (0, 255), self.value_range)
        return jnp.moveaxis(out, 0, axis)

    def _equalize(self, values):
        bins = self.bins
        index = jnp.clip((values * (bins - 1) / 255.0).astype(jnp.int32), 0, bins - 1)
        hist = jnp.zeros(bins, jnp.int32).at[index].add(1)
        cdf = jnp.cumsum(hist)
        cdf_min = cdf[jnp.argmax(cdf > 0)]
        span = cdf[-1] - cdf_min
        table = jnp.clip(jnp.round((cdf - cdf_min) * 255 / jnp.where(span == 0, 1, span)), 0, 255)
        lookup = jnp.clip(values / 255.0 * (bins - 1), 0, bins - 1).astype(jnp.int32)
        equalized = table[lookup].astype(values.dtype)
        return jnp.where(jnp.count_nonzero(hist) <= 1, values, equalized)
