"""``BatchNormalization`` (Keras 3's names, defaults and weights)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.kernels import LayerKernel
from callax.layers.normalization.base_normalization import (
    _AffineNormBase,
    _float32_or_wider,
    _normalize_axes,
)
from callax.layers.weight_args import weight_args_config, weight_arguments


class BatchNormalization(_AffineNormBase):
    """Normalizes with batch statistics while training and with moving averages
    of them at inference: ``gamma * (x - mean) / sqrt(var + epsilon) + beta``.

    While training (``training=True`` and the layer is trainable) the batch
    statistics are used and ``moving_mean``/``moving_variance`` are updated as
    ``moving = moving * momentum + batch * (1 - momentum)``. The update is an
    ``assign``, so inside ``stateless_call`` (and compiled training steps) it is
    returned with the non-trainable variables instead of applied. As in Keras 3,
    ``layer.trainable = False`` makes the layer run in inference mode.

    Args:
        axis: the features axis (normalized per feature; other axes are reduced).
        momentum: moving-average momentum.
        epsilon: added to the variance.
        center, scale: whether to add ``beta`` / multiply by ``gamma``.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer,
        beta_constraint, gamma_constraint: as in Keras.
        synchronized: accepted and always in effect: under ``callax.distribution``
            the step is one SPMD program, so the batch statistics are those of the
            global batch (Keras's JAX backend refuses ``True``).
        renorm, renorm_clipping, renorm_momentum: accepted for Keras configs; only
            ``renorm=False`` is supported.

    Weights (Keras order): ``gamma``, ``beta`` (trainable), ``moving_mean``,
    ``moving_variance`` (non-trainable), each of shape ``(features,)``.

    Example:
        >>> import callax
        >>> bn = callax.layers.BatchNormalization()
        >>> x = callax.random.normal((8, 3), seed=0) * 5 + 2
        >>> y = bn(x, training=True)
        >>> bool(abs(float(y.mean())) < 1e-4)
        True
        >>> [w.name for w in bn.weights]
        ['gamma', 'beta', 'moving_mean', 'moving_variance']
    """

    _config_args = ("axis", "momentum", "epsilon")

    @weight_arguments(
        "beta",
        "gamma",
        "moving_mean",
        "moving_variance",
        after="scale",
        activity_regularizer=False,
    )
    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        renorm: bool = False,
        renorm_clipping: Any = None,
        renorm_momentum: float = 0.99,
        synchronized: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)) or isinstance(axis, bool):
            raise TypeError(
                f"BatchNormalization '{self.name}': axis must be a single int; "
                f"received axis={axis!r}."
            )
        if renorm:
            raise ValueError(
                f"BatchNormalization '{self.name}': renorm=True is not supported by callax; "
                f"received renorm={renorm!r}."
            )
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.renorm = renorm
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.synchronized = synchronized
        self._init_affine(center, scale)
        self.supports_masking = True

    def build(self, input_shape):
        ndim = len(input_shape)
        (axis,) = _normalize_axes(self, self.axis, ndim)
        if input_shape[axis] is None:
            raise ValueError(
                f"BatchNormalization '{self.name}' needs the size of axis {self.axis} to be "
                f"known; received input shape {tuple(input_shape)}."
            )
        shape = (int(input_shape[axis]),)
        self._make_affine(shape, self.scale, self.center)
        self.moving_mean = self.add_weight(
            shape=shape, name="moving_mean", initializer=self.moving_mean_initializer,
            trainable=False, autocast=False,
        )  # fmt: skip
        self.moving_variance = self.add_weight(
            shape=shape, name="moving_variance", initializer=self.moving_variance_initializer,
            trainable=False, autocast=False,
        )  # fmt: skip

    def _make_kernel(self):
        # `call` branches on `self.trainable`, which the compiled-kernel cache key
        # does not include: keep one kernel cache per trainable value.
        kernels = self.__dict__.setdefault("_kernels_by_trainable", {})
        kernel = kernels.get(self.trainable)
        if kernel is None:
            kernel = kernels[self.trainable] = LayerKernel(self)
        return kernel

    def _moments(self, x, reduce_axes, mask):
        if mask is None:
            mean = jnp.mean(x, axis=reduce_axes)
            # Biased variance, as Keras; computed around the mean for accuracy.
            var = jnp.mean(jnp.square(x - jnp.expand_dims(mean, reduce_axes)), axis=reduce_axes)
            return mean, var
        weights = jnp.broadcast_to(jnp.expand_dims(mask.astype(bool), -1), x.shape)
        w = weights.astype(x.dtype)
        total = jnp.sum(w, axis=reduce_axes, keepdims=True) + 1e-7
        mean = jnp.sum(jnp.where(weights, x, 0), axis=reduce_axes, keepdims=True) / total
        var = jnp.sum(jnp.where(weights, jnp.square(x - mean), 0), axis=reduce_axes, keepdims=True)
        return jnp.squeeze(mean, reduce_axes), jnp.squeeze(var / total, reduce_axes)

    def call(self, inputs, training=None, mask=None):
        self._check_rank(inputs)
        if mask is not None and mask.ndim != inputs.ndim - 1:
            raise ValueError(
                f"BatchNormalization '{self.name}': the mask must have one dimension less "
                f"than the inputs (shape {tuple(inputs.shape)}); received mask with shape "
                f"{tuple(mask.shape)}."
            )
        x = _float32_or_wider(inputs)
        ndim = x.ndim
        axis = self.axis % ndim
        reduce_axes = tuple(a for a in range(ndim) if a != axis)
        bshape = [1] * ndim
        bshape[axis] = x.shape[axis]
        if training and self.trainable:
            mean, var = self._moments(x, reduce_axes, mask)
            m = self.momentum
            self.moving_mean.assign(self.moving_mean.value * m + mean * (1.0 - m))
            self.moving_variance.assign(self.moving_variance.value * m + var * (1.0 - m))
        else:
            mean, var = self.moving_mean.value, self.moving_variance.value
        inv = jax.lax.rsqrt(var.astype(x.dtype) + self.epsilon)
        inv = self._times_gamma(inv, x.dtype)
        offset = self._plus_beta(-mean.astype(x.dtype) * inv, x.dtype)
        out = x * inv.reshape(bshape) + offset.reshape(bshape)
        return out.astype(self.compute_dtype)

    def get_config(self):
        return {
            **super().get_config(),
            **weight_args_config(self, "moving_mean", "moving_variance"),
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
            "synchronized": self.synchronized,
        }
