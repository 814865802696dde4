"""``MixUp``: blends pairs of images and their labels (Zhang et al., 2018)."""

from __future__ import annotations

from typing import Any

import jax

from callax.layers.preprocessing.image.base_image_layer import (
    _RandomImageLayer,
)


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

    _casts = False  # the identity at inference; _augment casts
    _config_attrs = ("alpha",)

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
