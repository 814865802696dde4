"""``RandomErasing``: fills random rectangles of each image (Zhong et al., 2017)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.layers.preprocessing.image.base_image_layer import (
    _pair_factor,
    _per_sample,
    _RandomImageLayer,
    _value_range,
)


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

    _config_attrs = ("factor", "scale", "fill_value", "value_range")

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
