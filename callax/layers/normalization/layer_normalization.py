"""``LayerNormalization`` (Keras 3's names, defaults and weights)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.layers.normalization.base_normalization import (
    _AffineNormBase,
    _axis_argument,
    _float32_or_wider,
    _normalize_axes,
)
from callax.layers.weight_args import weight_arguments


class LayerNormalization(_AffineNormBase):
    """Normalizes each example over ``axis`` (by default the last):
    ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    Args:
        axis: int or list of ints, the axes normalized (and the shape of ``gamma``).
        epsilon: added to the variance.
        center, scale: whether to use ``beta`` / ``gamma``.
        rms_scaling: deprecated Keras option (scales by the variance, no ``beta``).
        beta_initializer, gamma_initializer, regularizers, constraints: as in Keras.

    Example:
        >>> import callax
        >>> ln = callax.layers.LayerNormalization()
        >>> y = ln(callax.ops.array([[1.0, 2.0, 3.0]]))
        >>> [round(v, 3) for v in y[0].tolist()]
        [-1.224, 0.0, 1.224]
    """

    _config_args = ("axis", "epsilon", "rms_scaling")

    @weight_arguments("beta", "gamma", after="scale", activity_regularizer=False)
    def __init__(
        self,
        axis: int | list[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        **kwargs: Any,
    ):
        rms_scaling = bool(kwargs.pop("rms_scaling", False))
        super().__init__(**kwargs)
        self.axis = _axis_argument(self, axis)
        self.epsilon = float(epsilon)
        self.rms_scaling = rms_scaling
        self._init_affine(center, scale)
        self.supports_masking = True

    def build(self, input_shape):
        axes = _normalize_axes(self, self.axis, len(input_shape))
        shape = tuple(input_shape[a] for a in axes)
        if any(d is None for d in shape):
            raise ValueError(
                f"LayerNormalization '{self.name}' needs the normalized axes {self.axis} to "
                f"have known sizes; received input shape {tuple(input_shape)}."
            )
        self._make_affine(
            shape, self.scale or self.rms_scaling, self.center and not self.rms_scaling
        )

    def call(self, inputs):
        self._check_rank(inputs)
        x = _float32_or_wider(inputs)
        axes = _normalize_axes(self, self.axis, x.ndim)
        bshape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]
        mean = jnp.mean(x, axis=axes, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
        inv = jax.lax.rsqrt(var + self.epsilon)
        if self.rms_scaling:
            out = self._times_gamma(x * inv, x.dtype, bshape)
            return out.astype(self.compute_dtype)
        inv = self._times_gamma(inv, x.dtype, bshape)
        out = self._plus_beta((x - mean) * inv, x.dtype, bshape)
        return out.astype(self.compute_dtype)
