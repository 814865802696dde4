"""Image augmentation layers: RandomFlip, RandomRotation, RandomTranslation, RandomZoom.

Keras 3's names and arguments, for ``(batch, height, width, channels)`` images
(or one unbatched ``(height, width, channels)`` image). They transform only while
training (``training=True``, as inside ``fit``) and are the identity otherwise.
Each sample draws its own transform from the layer's ``SeedGenerator``, so the
layers work eagerly, in ``stateless_call`` and inside compiled steps.

Geometric layers resample with ``jax.scipy.ndimage.map_coordinates`` (bilinear or
nearest) and fill outside points by ``fill_mode``: ``"reflect"`` (Keras's
default), ``"wrap"``, ``"nearest"`` or ``"constant"`` (``fill_value``).

Example:
    >>> import numpy as np, callax
    >>> flip = callax.layers.RandomFlip("horizontal", seed=0)
    >>> x = np.arange(4.0).reshape(1, 1, 4, 1)
    >>> flip(x).ravel().tolist()                      # not training: unchanged
    [0.0, 1.0, 2.0, 3.0]
    >>> flip(x, training=True).ravel().tolist() in ([0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0])
    True
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax.scipy.ndimage import map_coordinates

from callax.layers.preprocessing.image.base_image_layer import _RandomImageLayer

_FILL_MODES = ("reflect", "wrap", "nearest", "constant")
_ORDER = {"bilinear": 1, "nearest": 0}


def _range(factor: Any, name: str, who: str) -> tuple[float, float]:
    """``factor`` as ``(lower, upper)``: a number ``f`` means ``(-f, f)``."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2:
            raise ValueError(f"{who}: {name} must be a number or a pair; received {factor!r}.")
        lower, upper = float(factor[0]), float(factor[1])
    else:
        lower, upper = -abs(float(factor)), abs(float(factor))
    if lower > upper:
        raise ValueError(f"{who}: {name} lower bound exceeds upper; received {factor!r}.")
    return lower, upper


class _GeometricLayer(_RandomImageLayer):
    """The shared random-image base, with the conventions of Keras's geometric
    layers: always channels-last, no ``data_format`` argument or config entry, no
    dict inputs, and the input returned as it is (not cast) outside training."""

    _casts = False

    def __init__(self, seed: int | None = None, **kwargs: Any):
        super().__init__(seed=seed, data_format="channels_last", **kwargs)

    def call(self, inputs, training=True):
        # As in Keras 3: a plain call augments; fit passes training=True and
        # predict/evaluate training=False (identity).
        if not training:
            return inputs
        if inputs.ndim not in (3, 4):
            raise ValueError(
                f"{self._who} expects images of shape (batch, height, width, channels) "
                f"or (height, width, channels); received input with shape "
                f"{tuple(inputs.shape)}."
            )
        return super().call(inputs, training)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["data_format"]  # not an argument of these layers
        return config


class RandomFlip(_GeometricLayer):
    """Flips each image horizontally and/or vertically with probability 1/2.

    Args:
        mode: ``"horizontal"``, ``"vertical"`` or ``"horizontal_and_vertical"``.
        seed: int for a reproducible sequence of flips.
    """

    _config_attrs = ("mode",)

    def __init__(self, mode: str = "horizontal_and_vertical", seed: int | None = None, **kwargs):
        if mode not in ("horizontal", "vertical", "horizontal_and_vertical"):
            raise ValueError(
                "RandomFlip: mode must be 'horizontal', 'vertical' or "
                f"'horizontal_and_vertical'; received mode={mode!r}."
            )
        super().__init__(seed, **kwargs)
        self.mode = mode

    def _augment(self, images, key):
        n = images.shape[0]
        kh, kv = jax.random.split(key)
        if self.mode != "vertical":
            flip = jax.random.bernoulli(kh, 0.5, (n, 1, 1, 1))
            images = jnp.where(flip, images[:, :, ::-1, :], images)
        if self.mode != "horizontal":
            flip = jax.random.bernoulli(kv, 0.5, (n, 1, 1, 1))
            images = jnp.where(flip, images[:, ::-1, :, :], images)
        return images


class _AffineLayer(_GeometricLayer):
    """Shared resampling: subclasses give, per sample, a 2x2 matrix ``A`` and an
    offset ``t`` mapping output pixel coordinates to source coordinates
    (``src = A @ (dst - center) + center + t``)."""

    _config_attrs = ("fill_mode", "interpolation", "fill_value")

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):  # fmt: skip
        who = type(self).__name__
        if fill_mode not in _FILL_MODES:
            raise ValueError(
                f"{who}: fill_mode must be one of {_FILL_MODES}; received fill_mode={fill_mode!r}."
            )
        if interpolation not in _ORDER:
            raise ValueError(
                f"{who}: interpolation must be 'bilinear' or 'nearest'; received "
                f"interpolation={interpolation!r}."
            )
        super().__init__(seed, **kwargs)
        self.fill_mode, self.interpolation, self.fill_value = fill_mode, interpolation, fill_value

    def _augment(self, images, key):
        n, h, w, _ = images.shape
        matrices, offsets = self._sample(key, n, h, w)
        center = jnp.array([(h - 1) / 2.0, (w - 1) / 2.0])
        grid = jnp.stack(jnp.meshgrid(jnp.arange(h), jnp.arange(w), indexing="ij"), 0)
        grid = grid.reshape(2, -1).astype(jnp.float32) - center[:, None]
        order = _ORDER[self.interpolation]

        def warp(image, matrix, offset):
            coords = matrix @ grid + (center + offset)[:, None]

            def channel(c):
                out = map_coordinates(c, [coords[0], coords[1]], order=order,
                                      mode=self.fill_mode, cval=self.fill_value)  # fmt: skip
                return out.reshape(h, w)

            return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)

        out = jax.vmap(warp)(images.astype(jnp.float32), matrices, offsets)
        return out.astype(images.dtype)


class RandomRotation(_AffineLayer):
    """Rotates each image by a random angle, ``factor`` times 2π (counter-clockwise
    for positive values).

    Args:
        factor: a number ``f`` (angles in ``[-f, f] * 2π``) or a pair ``(lower, upper)``.
        fill_mode, interpolation, seed, fill_value: see the module docstring.
    """

    _config_attrs = ("factor",)

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):  # fmt: skip
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self._bounds = _range(factor, "factor", "RandomRotation")

    def _sample(self, key, n, h, w):
        lower, upper = self._bounds
        theta = jax.random.uniform(key, (n,), minval=lower, maxval=upper) * 2 * math.pi
        cos, sin = jnp.cos(theta), jnp.sin(theta)
        # Image rows grow downwards: a counter-clockwise turn on screen samples the
        # source through the inverse rotation in (row, col) coordinates.
        matrices = jnp.stack([jnp.stack([cos, sin], -1), jnp.stack([-sin, cos], -1)], -2)
        return matrices, jnp.zeros((n, 2))


class RandomTranslation(_AffineLayer):
    """Shifts each image by random fractions of its height and width.

    Args:
        height_factor, width_factor: a number ``f`` (shift in ``[-f, f]`` of the
            size) or a pair ``(lower, upper)``; positive moves down / right.
    """

    _config_attrs = ("height_factor", "width_factor")

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):  # fmt: skip
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _range(height_factor, "height_factor", "RandomTranslation")
        self._w = _range(width_factor, "width_factor", "RandomTranslation")

    def _sample(self, key, n, h, w):
        kh, kw = jax.random.split(key)
        dy = jax.random.uniform(kh, (n,), minval=self._h[0], maxval=self._h[1]) * h
        dx = jax.random.uniform(kw, (n,), minval=self._w[0], maxval=self._w[1]) * w
        return jnp.broadcast_to(jnp.eye(2), (n, 2, 2)), -jnp.stack([dy, dx], -1)


class RandomZoom(_AffineLayer):
    """Zooms each image by a random factor (positive: zoom out, negative: zoom in).

    Args:
        height_factor: a number ``f`` (zoom in ``[-f, f]``) or a pair.
        width_factor: likewise; ``None`` keeps the aspect ratio (the height zoom).
    """

    _config_attrs = ("height_factor", "width_factor")

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):  # fmt: skip
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.height_factor, self.width_factor = height_factor, width_factor
        self._h = _range(height_factor, "height_factor", "RandomZoom")
        self._w = None if width_factor is None else _range(width_factor, "width_factor",
                                                            "RandomZoom")  # fmt: skip

    def _sample(self, key, n, h, w):
        kh, kw = jax.random.split(key)
        zy = 1.0 + jax.random.uniform(kh, (n,), minval=self._h[0], maxval=self._h[1])
        zx = (
            zy
            if self._w is None
            else 1.0 + jax.random.uniform(kw, (n,), minval=self._w[0], maxval=self._w[1])
        )
        matrices = jax.vmap(lambda a, b: jnp.diag(jnp.stack([a, b])))(zy, zx)
        return matrices, jnp.zeros((n, 2))
