"""Resizing and cropping image layers: Resizing, CenterCrop, RandomCrop."""

from __future__ import annotations

from typing import Any

import jax

from callax.layers.preprocessing.image.base_image_layer import (
    _RESIZE_METHODS,
    _ImageLayer,
    _RandomImageLayer,
)
from callax.ops import image as image_ops


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

    _config_attrs = (
        "height",
        "width",
        "interpolation",
        "crop_to_aspect_ratio",
        "pad_to_aspect_ratio",
        "fill_mode",
        "fill_value",
        "antialias",
    )

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

    _config_attrs = ("height", "width")

    def __init__(self, height: int, width: int, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def _apply(self, images, training):
        images = self._float(images)
        h_axis, w_axis = self._spatial_axes
        top = (images.shape[h_axis] - self.height) // 2
        left = (images.shape[w_axis] - self.width) // 2
        return _crop_or_fit(self, images, top, left)


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

    _config_attrs = ("height", "width")

    def __init__(self, height: int, width: int, seed: int | None = None,
                 data_format: str | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.height, self.width = height, width

    def _augment(self, images, key):
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
