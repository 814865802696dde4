"""What the image preprocessing layers share: ``_ImageLayer`` (data format, rank
checks, dict inputs, configs) and ``_RandomImageLayer`` (a seed, and the identity
unless training)."""

from __future__ import annotations

from typing import Any

import jax

from callax.core import config
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator

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
    # The attributes each class adds to ``get_config`` (under their own names);
    # gathered from every class of the hierarchy, so subclasses list only theirs.
    _config_attrs: tuple[str, ...] = ()

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
        config = {**super().get_config(), "data_format": self.data_format}
        for cls in reversed(type(self).__mro__):
            for attr in vars(cls).get("_config_attrs", ()):
                config[attr] = getattr(self, attr)
        return config


class _RandomImageLayer(_ImageLayer):
    """Shared: a seed, and the identity (cast to the compute dtype, unless the
    class sets ``_casts = False``) outside training. Subclasses implement
    ``_augment(images, key)`` on rank-4 images, cast likewise."""

    _kernel_call = "training"  # compiled per layer only when it transforms
    _casts = True
    _config_attrs = ("seed",)

    def __init__(self, seed: int | None = None, data_format: str | None = None, **kwargs: Any):
        super().__init__(data_format=data_format, **kwargs)
        self.seed = seed
        self.seed_generator = SeedGenerator(seed, name=self.name)

    def _apply(self, images, training):
        if self._casts:
            images = self._float(images)
        if not training:
            return images
        key = jax.random.wrap_key_data(self.seed_generator.next(), impl="threefry2x32")
        return self._augment(images, key)

    def _set_factor(self, factor: Any, bounds: tuple, value_range: Any, sort_range: bool = True):
        """Checks and sets ``factor`` (Keras's pair rule within ``bounds``) and
        ``value_range``: sorted, or kept as given where Keras keeps it so."""
        self.factor = _pair_factor(factor, bounds, self._who)
        checked = _value_range(value_range, self._who)
        self.value_range = checked if sort_range else value_range


class _FactorImageLayer(_RandomImageLayer):
    """A random image layer with Keras's ``(factor, value_range=(0, 255),
    data_format=None, seed=None)`` constructor: ``factor`` within the class's
    ``_factor_bounds``, ``value_range`` sorted unless ``_sort_range`` is false."""

    _config_attrs = ("factor", "value_range")
    _factor_bounds: tuple = (0, 1)
    _sort_range = True

    def __init__(
        self,
        factor: Any,
        value_range: Any = (0, 255),
        data_format: str | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self._set_factor(factor, self._factor_bounds, value_range, sort_range=self._sort_range)


def _per_sample(key, n: int, low: float, high: float):
    """One uniform draw per sample, shaped to broadcast over an image batch."""
    return jax.random.uniform(key, (n, 1, 1, 1), minval=low, maxval=high)
