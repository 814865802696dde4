"""``GroupNormalization`` (Keras 3's names, defaults and weights)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.layers.normalization.base_normalization import (
    _AffineNormBase,
    _float32_or_wider,
    _normalize_axes,
)
from callax.layers.weight_args import weight_arguments


class GroupNormalization(_AffineNormBase):
    """Normalizes each example over groups of channels (and all other non-batch
    axes). ``groups=1`` is layer normalization over all axes, ``groups=-1``
    instance normalization (one channel per group).

    Args:
        groups: number of groups; must divide the number of channels (or ``-1``).
        axis: the channels axis.
        epsilon, center, scale, initializers, regularizers, constraints: as in Keras.

    Example:
        >>> import callax
        >>> gn = callax.layers.GroupNormalization(groups=2)
        >>> gn(callax.random.normal((2, 5, 4), seed=0)).shape
        (2, 5, 4)
        >>> gn.gamma.shape
        (4,)
    """

    _config_args = ("groups", "axis", "epsilon")

    @weight_arguments("beta", "gamma", after="scale", activity_regularizer=False)
    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if (
            not isinstance(groups, int)
            or isinstance(groups, bool)
            or (groups <= 0 and groups != -1)
        ):
            raise ValueError(
                f"GroupNormalization '{self.name}': groups must be a positive int or -1 "
                f"(instance normalization); received groups={groups!r}."
            )
        self.groups = groups
        self.axis = axis
        self.epsilon = float(epsilon)
        self._init_affine(center, scale)
        self.supports_masking = True

    def build(self, input_shape):
        (axis,) = _normalize_axes(self, self.axis, len(input_shape))
        dim = input_shape[axis]
        if dim is None:
            raise ValueError(
                f"GroupNormalization '{self.name}' needs the channels axis {self.axis} to have "
                f"a known size; received input shape {tuple(input_shape)}."
            )
        if self.groups == -1:
            self.groups = int(dim)
        if dim < self.groups or dim % self.groups:
            raise ValueError(
                f"GroupNormalization '{self.name}': the number of channels ({dim}) must be a "
                f"multiple of groups and at least groups ({self.groups}); received input "
                f"shape {tuple(input_shape)}."
            )
        self._make_affine((int(dim),), self.scale, self.center)

    def call(self, inputs):
        self._check_rank(inputs)
        x = _float32_or_wider(inputs)
        ndim = x.ndim
        axis = self.axis % ndim
        channels = x.shape[axis]
        gshape = list(x.shape)
        gshape[axis : axis + 1] = [self.groups, channels // self.groups]
        xg = x.reshape(gshape)
        reduce_axes = tuple(a for a in range(1, ndim + 1) if a != axis)
        mean = jnp.mean(xg, axis=reduce_axes, keepdims=True)
        var = jnp.mean(jnp.square(xg - mean), axis=reduce_axes, keepdims=True)
        out = (xg - mean) * jax.lax.rsqrt(var + self.epsilon)
        out = out.reshape(x.shape)
        bshape = [1] * ndim
        bshape[axis] = channels
        out = self._plus_beta(self._times_gamma(out, x.dtype, bshape), x.dtype, bshape)
        return out.astype(self.compute_dtype)
