"""More photometric image layers: RandomColorDegeneration, RandomPosterization,
RandomSharpness, RandomGaussianBlur, Equalization, MixUp; and Pipeline
(preprocessing layers applied in turn).

Same conventions as ``callax/layers/image_preprocessing.py``: Keras 3's arguments,
defaults and configs; ``call`` defaults to ``training=True`` (a plain call or
``model(x)`` augments; ``predict``/``evaluate`` pass images through); one draw
per image from the layer's ``SeedGenerator``; ``value_range`` is the pixel range.

Example:
    >>> import numpy as np, callax
    >>> layer = callax.layers.RandomPosterization((1, 1), value_range=(0, 255))
    >>> layer(np.array([[[[100.0], [200.0]]]])).ravel().tolist()  # keep 1 bit
    [0.0, 128.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.image_preprocessing import (
    _ImageLayer,
    _pair_factor,
    _per_sample,
    _RandomImageLayer,
    _rescale,
    _value_range,
)
from callax.ops import image as image_ops


class RandomColorDegeneration(_RandomImageLayer):
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

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (-1, 1), self._who)
        self.value_range = _value_range(value_range, self._who)

    def _augment(self, images, key):
        images = self._float(images)
        f = _per_sample(key, images.shape[0], *self.factor).astype(images.dtype)
        gray = image_ops.rgb_to_grayscale(images, data_format=self.data_format)
        return jnp.clip(images + f * (gray - images), *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomPosterization(_RandomImageLayer):
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

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (1, 8), self._who)
        self.value_range = _value_range(value_range, self._who)

    def _augment(self, images, key):
        images = self._float(images)
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

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


class RandomSharpness(_RandomImageLayer):
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

    def __init__(self, factor: Any, value_range: Any = (0, 255), data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = _pair_factor(factor, (0, 1), self._who)
        self.value_range = _value_range(value_range, self._who)

    def _augment(self, images, key):
        images = self._float(images)
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

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "value_range": self.value_range}


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
        images = self._float(images)
        kp, kt, ks = jax.random.split(key, 3)
        n = images.shape[0]
        apply = _per_sample(kt, n, 0.0, 1.0) < _per_sample(kp, n, *self.factor)
        sigma = jax.random.uniform(ks, (2,), minval=self.sigma[0], maxval=self.sigma[1]) + 1e-6
        blurred = image_ops.gaussian_blur(images, self.kernel_size, sigma, self.data_format)
        return jnp.clip(jnp.where(apply, blurred, images), *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor, "kernel_size": self.kernel_size,
                "sigma": self.sigma, "value_range": self.value_range}  # fmt: skip


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

    def get_config(self):
        return {**super().get_config(), "value_range": self.value_range, "bins": self.bins}


class Pipeline(Layer):
    """Applies preprocessing layers one after the other (Keras 3's
    ``keras.layers.Pipeline``); ``training`` (default ``True``) reaches each.

    Unlike ``Sequential`` it is a plain layer: no ``fit``, no input shape.

    Example:
        >>> import callax
        >>> pipe = callax.layers.Pipeline([callax.layers.Resizing(4, 4),
        ...                                callax.layers.RandomBrightness(0.1, seed=0)])
        >>> pipe(callax.ops.ones((2, 8, 8, 3)) * 100).shape
        (2, 4, 4, 3)
    """

    def __init__(self, layers: Sequence[Layer], name: str | None = None, **kwargs: Any):
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)) or not all(isinstance(x, Layer) for x in layers):
            raise ValueError(
                f"Pipeline '{self.name}': layers must be a list of layers; received "
                f"layers={layers!r}."
            )
        self._pipeline_layers = list(layers)

    @property
    def layers(self) -> list[Layer]:
        return self._pipeline_layers

    def call(self, inputs, training=True):
        for layer in self._pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self) -> dict:
        from callax.layers.wrappers import serialize_layer

        return {"layers": [serialize_layer(x) for x in self._pipeline_layers], "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> Pipeline:
        from callax.layers.wrappers import deserialize_layer

        layers = config.get("layers")
        if not isinstance(layers, (list, tuple)):
            raise ValueError(
                "Pipeline.from_config: the config needs 'layers', a list of serialized layers; "
                f"received layers={layers!r}."
            )
        return cls(**{**config, "layers": [deserialize_layer(x) for x in layers]})


class MixUp(_RandomImageLayer):
    """While training, blends each image (and its label, for dict inputs
    ``{"images": ..., "labels": ...}``) with another image of the batch:
    ``w * x + (1 - w) * x[perm]``, ``perm`` a random permutation and ``w`` drawn
    per image from ``Beta(alpha, alpha)``.

    Example:
        >>> import numpy as np, callax
        >>> mix = callax.layers.MixUp(alpha=0.2, seed=0)
        >>> out = mix({"images": np.random.rand(4, 8, 8, 3), "labels": np.eye(4)})
        >>> out["images"].shape, np.allclose(out["labels"].sum(-1), 1.0)
        ((4, 8, 8, 3), True)
    """

    def __init__(self, alpha: float = 0.2, data_format: str | None = None,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.alpha = alpha

    def _draw(self, key, n: int):
        k_perm, k_w = jax.random.split(key)
        return jax.random.permutation(k_perm, n), jax.random.beta(k_w, self.alpha, self.alpha, (n,))

    @staticmethod
    def _mix(values, perm, weight):
        weight = weight.astype(values.dtype).reshape((-1,) + (1,) * (values.ndim - 1))
        return weight * values + (1.0 - weight) * values[perm]

    def _augment(self, images, key):
        images = self._float(images)
        return self._mix(images, *self._draw(key, images.shape[0]))

    def _inference(self, images):
        return images

    def _call_dict(self, data: dict, training) -> dict:
        if not training or "labels" not in data:
            return super()._call_dict(data, training)
        images, unbatched = self._batched(data["images"])
        labels = data["labels"][None] if unbatched else data["labels"]
        key = jax.random.wrap_key_data(self.seed_generator.next(), impl="threefry2x32")
        perm, weight = self._draw(key, images.shape[0])
        images = self._mix(self._float(images), perm, weight)
        labels = self._mix(labels.astype(images.dtype), perm, weight)
        if unbatched:
            images, labels = images[0], labels[0]
        return {**data, "images": images, "labels": labels}

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}
