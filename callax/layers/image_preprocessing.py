"""Image preprocessing layers: Resizing, CenterCrop, RandomCrop, RandomContrast,
RandomBrightness, RandomGrayscale, RandomInvert, Solarization, AutoContrast,
RandomErasing, RandomSaturation, RandomHue, RandomColorJitter.

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
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator
from callax.ops import image as image_ops

_RESIZE_METHODS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area")


def _pair_factor(factor: Any, bounds: tuple[float, float], who: str, name: str = "factor"):
    """Keras's factor rule: a pair is sorted; a number ``f`` means
    ``(max(-|f|, low), |f|)``; everything within ``bounds``."""
    low, high = bounds
    message = (
        f"{who}: {name} must be a number or a pair of numbers in [{low}, {high}]; "
        f"received {name}={factor!r}."
    )
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(message)
        lower, upper = sorted(factor)
        return (lower, upper)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise ValueError(message)
    if not low <= factor <= high:
        raise ValueError(message)
    factor = abs(factor)
    return (max(-factor, low), factor)


def _value_range(value_range: Any, who: str) -> list:
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(
            f"{who}: value_range must be a pair of numbers (low, high); received "
            f"value_range={value_range!r}."
        )
    return sorted(value_range)


class _ImageLayer(Layer):
    """Shared: data format, rank check, configs. Subclasses implement
    ``_apply(images, training)`` on rank-4 images."""

    _kernel_call = True

    def __init__(self, data_format: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        data_format = data_format or config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{self._who}: data_format must be 'channels_last' or 'channels_first'; "
                f"received data_format={data_format!r}."
            )
        self.data_format = data_format
        self.supports_masking = False
        self.built = True

    @property
    def _who(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    @property
    def _spatial_axes(self) -> tuple[int, int]:
        return (1, 2) if self.data_format == "channels_last" else (2, 3)

    def _batched(self, inputs):
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f"{self._who} expects images of rank 3 (height, width, channels) or 4 "
                f"(batch, height, width, channels); received input with shape "
                f"{tuple(inputs.shape)}."
            )
        return (inputs[None], True) if inputs.ndim == 3 else (inputs, False)

    def _float(self, images):
        return images.astype(self.compute_dtype)

    def call(self, inputs, training=True):
        if isinstance(inputs, dict):
            return self._call_dict(inputs, training)
        images, unbatched = self._batched(inputs)
        out = self._apply(images, training)
        return out[0] if unbatched else out

    def _call_dict(self, data: dict, training) -> dict:
        """Keras's dict form: ``{"images": ..., "labels": ...}``; these layers
        transform the images and pass labels through unchanged."""
        unknown = sorted(set(data) - {"images", "labels"})
        if "images" not in data or unknown:
            raise ValueError(
                f"{self._who} takes a dict with 'images' (and optionally 'labels'); "
                f"received keys {sorted(data)}."
            )
        return {**data, "images": self.call(data["images"], training=training)}

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class _RandomImageLayer(_ImageLayer):
    _kernel_call = "training"  # compiled per layer only when it transforms

    def __init__(self, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed, name=self.name)

    def _apply(self, images, training):
        if not training:
            return self._inference(images)
        key = jax.random.wrap_key_data(self.seed_generator.next(), impl="threefry2x32")
        return self._augment(images, key)

    def _inference(self, images):
        return self._float(images)

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}


def _per_sample(key, n: int, low: float, high: float):
    """One uniform draw per sample, shaped to broadcast over an image batch."""
    return jax.random.uniform(key, (n, 1, 1, 1), minval=low, maxval=high)


# ------------------------------------------------------------------ geometry
class Resizing(_ImageLayer):
    """Resizes images to ``(height, width)`` (see ``callax.ops.image.resize``).

    Args:
        height, width: the output size.
        interpolation: ``"bilinear"`` (default), ``"nearest"``, ``"bicubic"``,
            ``"lanczos3"``, ``"lanczos5"`` or ``"area"``.
        crop_to_aspect_ratio: crop the largest centred window of the target aspect
            ratio first, so images are not distorted.
        pad_to_aspect_ratio: pad the short side evenly with ``fill_value`` first.
        fill_mode: ``"constant"``.
        fill_value: the padding value.
        antialias: low-pass filter when downsampling.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> import callax
        >>> callax.layers.Resizing(2, 3)(callax.ops.ones((4, 8, 8, 3))).shape
        (4, 2, 3, 3)
    """

    def __init__(self, height: int, width: int, interpolation: str = "bilinear",
                 crop_to_aspect_ratio: bool = False, pad_to_aspect_ratio: bool = False,
                 fill_mode: str = "constant", fill_value: float = 0.0, antialias: bool = False,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(data_format=data_format, **kwargs)
        if interpolation not in _RESIZE_METHODS:
            raise ValueError(
                f"{self._who}: interpolation must be one of {_RESIZE_METHODS}; received "
                f"interpolation={interpolation!r}."
            )
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(
                f"{self._who}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio can "
                "be True; received both True."
            )
        self.height, self.width = height, width
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio
        self.pad_to_aspect_ratio = pad_to_aspect_ratio
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.antialias = bool(antialias)

    def _apply(self, images, training):
        return image_ops.resize(
            images, (self.height, self.width), interpolation=self.interpolation,
            antialias=self.antialias, crop_to_aspect_ratio=self.crop_to_aspect_ratio,
            pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
            fill_value=self.fill_value, data_format=self.data_format,
        )  # fmt: skip

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias}  # fmt: skip


def _crop_or_fit(layer, images, top: int, left: int):
    """Crops ``(layer.height, layer.width)`` at ``(top, left)``, or, for images too
    small, crops the centred window of the target aspect ratio and resizes it."""
    h_axis, w_axis = layer._spatial_axes
    h, w = images.shape[h_axis], images.shape[w_axis]
    if h >= layer.height and w >= layer.width:
        starts = [0] * 4
        starts[h_axis], starts[w_axis] = top, left
        sizes = list(images.shape)
        sizes[h_axis], sizes[w_axis] = layer.height, layer.width
        return jax.lax.dynamic_slice(images, starts, sizes)
    return image_ops.resize(images, (layer.height, layer.width), crop_to_aspect_ratio=True,
                            data_format=layer.data_format)  # fmt: skip


class CenterCrop(_ImageLayer):
    """Crops the central ``(height, width)`` window; images smaller than that are
    cropped to the target aspect ratio and resized up (as Keras).

    Example:
        >>> import callax
        >>> callax.layers.CenterCrop(2, 3)(callax.ops.ones((4, 8, 8, 3))).shape
        (4, 2, 3, 3)
    """

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def _apply(self, images, training):
        images = self._float(images)
        h_axis, w_axis = self._spatial_axes
        top = (images.shape[h_axis] - self.height) // 2
        left = (images.shape[w_axis] - self.width) // 2
        return _crop_or_fit(self, images, top, left)

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


class RandomCrop(_RandomImageLayer):
    """While training, crops a random ``(height, width)`` window (one position per
    batch, as Keras); images not larger than that on both sides get Keras 3's
    fallback (a window starting where the centred window of the target aspect
    ratio starts, resized to the target). At inference images pass through
    unchanged (Keras 3's behaviour).

    Example:
        >>> import callax
        >>> callax.layers.RandomCrop(2, 3, seed=0)(callax.ops.ones((4, 8, 8, 3))).shape
        (4, 2, 3, 3)
    """

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def _augment(self, images, key):
        images = self._float(images)
        h_axis, w_axis = self._spatial_axes
        h, w = images.shape[h_axis], images.shape[w_axis]
        if h > self.height and w > self.width:
            kh, kw = jax.random.split(key)
            top = jax.random.randint(kh, (), 0, h - self.height + 1)
            left = jax.random.randint(kw, (), 0, w - self.width + 1)
            return _crop_or_fit(self, images, top, left)
        # Keras 3: start where the centred window of the target aspect ratio starts,
        # take up to (height, width) from there, and resize what that gives.
        ch = max(min(h, int(float(w * self.height) / self.width)), 1)
        cw = max(min(w, int(float(h * self.width) / self.height)), 1)
        top, left = int(float(h - ch) / 2), int(float(w - cw) / 2)
        index = [slice(None)] * 4
        index[h_axis] = slice(top, top + self.height)
        index[w_axis] = slice(left, left + self.width)
        images = images[tuple(index)]
        if (images.shape[h_axis], images.shape[w_axis]) != (self.height, self.width):
            images = image_ops.resize(images, (self.height, self.width),
                                      data_format=self.data_format)  # fmt: skip
        return images

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width}


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

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, **kwargs)
        self.factor = _pair_factor(factor, (0, 1), self._who)
        _value_range(value_range, self._who)
        self.value_range = value_range

    def _augment(self, images, key):
        images = self._float(images)
        lower, upper = self.factor
        scale = _per_sample(key, images.shape[0], 1.0 - lower, 1.0 + upper).astype(images.dtype)
        mean = jnp.mean(images, axis=self._spatial_axes, keepdims=True)
        out = (images - mean) * scale + mean
        return jnp.clip(out, self.value_range[0], self.value_range[1])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


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

    def __init__(self, factor: Any, value_range: Any = (0, 255), seed: int | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, **kwargs)
        self.factor = _pair_factor(factor, (-1, 1), self._who)
        self.value_range = _value_range(value_range, self._who)

    def _augment(self, images, key):
        images = self._float(images)
        low, high = self.value_range
        delta = _per_sample(key, images.shape[0], *self.factor) * (high - low)
        return jnp.clip(images + delta.astype(images.dtype), low, high)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomGrayscale(_RandomImageLayer):
    """While training, turns each image to grayscale with probability ``factor``
    (keeping its channel count).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomGrayscale(factor=1.0)
        >>> layer(np.array([[[1.0, 0.0, 0.0]]])).tolist()
        [[[0.29890000820159912, 0.29890000820159912, 0.29890000820159912]]]
    """

    def __init__(self, factor: float = 0.5, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not (
                0 <= factor <= 1):  # fmt: skip
            raise ValueError(
                f"{self._who}: factor must be a probability in [0, 1]; received factor={factor!r}."
            )
        self.factor = factor

    def _inference(self, images):
        return images

    def _augment(self, images, key):
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format)
        apply = _per_sample(key, images.shape[0], 0.0, 1.0) < self.factor
        return jnp.where(apply, gray, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


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

    def __init__(self, factor: Any = 1.0, value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (0, 1), self._who)
        _value_range(value_range, self._who)
        self.value_range = value_range

    def _augment(self, images, key):
        images = self._float(images)
        kp, kt = jax.random.split(key)
        n = images.shape[0]
        apply = _per_sample(kt, n, 0.0, 1.0) < _per_sample(kp, n, *self.factor)
        return jnp.where(apply, self.value_range[1] - images, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


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
        x = _rescale(self._float(images), self.value_range, (0, 255))
        ka, kt = jax.random.split(key)
        n = x.shape[0]
        addition = _per_sample(ka, n, *(255.0 * f for f in self.addition_factor))
        threshold = _per_sample(kt, n, *(255.0 * f for f in self.threshold_factor))
        x = jnp.clip(x + addition.astype(x.dtype), 0, 255)
        x = jnp.where(x < threshold, x, 255 - x)
        return _rescale(x, (0, 255), self.value_range)

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "addition_factor": self.addition_factor,
                "threshold_factor": self.threshold_factor}  # fmt: skip


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

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range}


class RandomErasing(_RandomImageLayer):
    """While training, erases a random rectangle of each image with probability
    drawn from ``factor``: the rectangle's sides are ``sqrt(s)`` of the image's
    (``s`` drawn from ``scale``, per side), and it is filled with ``fill_value``
    (or, by default, Gaussian noise times ``value_range[1]``), clipped to
    ``value_range``.

    Args:
        factor: a number ``f`` in ``[0, 1]`` (probabilities in ``[0, f]``) or a pair.
        scale: a number or pair in ``[0, 1]``: the erased fraction of each side, squared.
        fill_value: a number, one value per channel (3), or ``None`` for noise.
        value_range: the pixel range (default ``(0, 255)``).

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.RandomErasing((1.0, 1.0), scale=(1.0, 1.0), fill_value=0.0)
        >>> layer(np.ones((1, 2, 2, 1))).ravel().tolist()  # the whole image
        [0.0, 0.0, 0.0, 0.0]
    """

    def __init__(self, factor: Any = 1.0, scale: Any = (0.02, 0.33), fill_value: Any = None,
                 value_range: Any = (0, 255), seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (0, 1), self._who)
        self.scale = _pair_factor(scale, (0, 1), self._who, "scale")
        if not (fill_value is None or isinstance(fill_value, (int, float)) or (
                isinstance(fill_value, (tuple, list)) and len(fill_value) == 3)):  # fmt: skip
            raise ValueError(
                f"{self._who}: fill_value must be None, a number or 3 numbers (one per "
                f"channel); received fill_value={fill_value!r}."
            )
        _value_range(value_range, self._who)
        self.fill_value, self.value_range = fill_value, value_range

    def _augment(self, images, key):
        images = self._float(images)
        n = images.shape[0]
        h_axis, w_axis = self._spatial_axes
        h, w = images.shape[h_axis], images.shape[w_axis]
        k_size, k_x, k_y, k_p, k_t, k_fill = jax.random.split(key, 6)
        sides = jnp.sqrt(jax.random.uniform(k_size, (n, 2), minval=self.scale[0],
                                            maxval=self.scale[1]))  # fmt: skip
        width, height = sides[:, 0] * w, sides[:, 1] * h
        x0 = jax.random.uniform(k_x, (n,)) * (w - width)
        y0 = jax.random.uniform(k_y, (n,)) * (h - height)
        shape = [1, 1, 1, 1]
        shape[h_axis] = h
        rows = jnp.arange(h, dtype=images.dtype).reshape(shape)
        shape = [1, 1, 1, 1]
        shape[w_axis] = w
        cols = jnp.arange(w, dtype=images.dtype).reshape(shape)

        def per_image(v):
            return v.reshape(n, 1, 1, 1).astype(images.dtype)

        inside = ((cols >= per_image(x0)) & (cols < per_image(x0 + width))
                  & (rows >= per_image(y0)) & (rows < per_image(y0 + height)))  # fmt: skip
        apply = _per_sample(k_t, n, 0.0, 1.0) < _per_sample(k_p, n, *self.factor)
        if self.fill_value is None:
            fill = jax.random.normal(k_fill, images.shape, images.dtype) * self.value_range[1]
        else:
            fill = jnp.asarray(self.fill_value, images.dtype)
            if fill.ndim:  # one value per channel
                fill = fill.reshape((3, 1, 1) if self.data_format == "channels_first" else (3,))
        fill = jnp.clip(fill, self.value_range[0], self.value_range[1])
        return jnp.where(inside & apply, fill, images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "scale": self.scale,
                "fill_value": self.fill_value, "value_range": self.value_range}  # fmt: skip


def _hsv_channels(layer, images):
    hsv = image_ops.rgb_to_hsv(images, data_format=layer.data_format)
    axis = -1 if layer.data_format == "channels_last" else 1
    return [jnp.take(hsv, i, axis=axis) for i in range(3)], axis


class RandomSaturation(_RandomImageLayer):
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

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (-1, 1), self._who)
        self.value_range = _value_range(value_range, self._who)

    def _augment(self, images, key):
        images = self._float(images)
        f = jax.random.uniform(key, (images.shape[0],), minval=self.factor[0],
                               maxval=self.factor[1])  # fmt: skip
        f = (f / (1 - f + config.epsilon())).astype(images.dtype).reshape(-1, 1, 1)
        (h, s, v), axis = _hsv_channels(self, images)
        s = jnp.clip(s * f, self.value_range[0], self.value_range[1])
        return image_ops.hsv_to_rgb(jnp.stack([h, s, v], axis=axis), data_format=self.data_format)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomHue(_RandomImageLayer):
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

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (0, 1), self._who)
        _value_range(value_range, self._who)
        self.value_range = value_range

    def _augment(self, images, key):
        images = _rescale(self._float(images), self.value_range, (0, 1))
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

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


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
        images = self._float(images)
        for step, k in zip(self._steps.layers, jax.random.split(key, 4)):
            if step is not None:
                images = step._augment(images, k)
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range,
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor}  # fmt: skip
