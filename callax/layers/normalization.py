"""Normalization layers: BatchNormalization, LayerNormalization,
GroupNormalization, UnitNormalization (Keras 3 names, defaults and weights)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import constraints, initializers, regularizers
from callax.core.layer import Layer


def _ser(module, obj):
    return None if obj is None else module.serialize(obj)


def _float32_or_wider(x: jax.Array) -> jax.Array:
    # Statistics of half-precision inputs overflow easily: compute them in float32.
    if x.dtype in (jnp.float16, jnp.bfloat16) or not jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(jnp.float32)
    return x


def _normalize_axes(layer: Layer, axis: Any, ndim: int) -> list[int]:
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    out = []
    for a in axes:
        if not isinstance(a, int) or not -ndim <= a < ndim:
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': axis must be an int (or list of ints) "
                f"in [-{ndim}, {ndim}) for inputs of rank {ndim}; received axis={axis!r}."
            )
        out.append(a % ndim)
    return sorted(set(out))


class _AffineNormBase(Layer):
    """Shared ``gamma``/``beta`` handling for the normalization layers."""

    _kernel_call = True  # side-effect free: eager calls may run as one compiled kernel

    def _init_affine(self, center, scale, beta_initializer, gamma_initializer,
                     beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint):  # fmt: skip
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = None
        self.beta = None

    def _make_affine(self, shape: tuple, make_gamma: bool, make_beta: bool) -> None:
        # Keras creates gamma first, then beta; weight order matters for loading.
        if make_gamma:
            self.gamma = self.add_weight(
                shape=shape, name="gamma", initializer=self.gamma_initializer,
                regularizer=self.gamma_regularizer, constraint=self.gamma_constraint,
                autocast=False,
            )  # fmt: skip
        if make_beta:
            self.beta = self.add_weight(
                shape=shape, name="beta", initializer=self.beta_initializer,
                regularizer=self.beta_regularizer, constraint=self.beta_constraint,
                autocast=False,
            )  # fmt: skip

    def _affine_config(self) -> dict:
        return {
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": _ser(regularizers, self.beta_regularizer),
            "gamma_regularizer": _ser(regularizers, self.gamma_regularizer),
            "beta_constraint": _ser(constraints, self.beta_constraint),
            "gamma_constraint": _ser(constraints, self.gamma_constraint),
        }

    def _check_rank(self, inputs: jax.Array) -> None:
        built_for = self._build_shapes
        if built_for is not None and len(built_for) != inputs.ndim:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' was built for inputs of rank "
                f"{len(built_for)} (shape {tuple(built_for)}); received input with shape "
                f"{tuple(inputs.shape)}."
            )


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

    def __init__(
        self,
        axis: int = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
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
        self._init_affine(center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint,
                          gamma_constraint)  # fmt: skip
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
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
        from callax.core.kernels import LayerKernel

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
        if self.gamma is not None:
            inv = inv * self.gamma.value.astype(x.dtype)
        offset = -mean.astype(x.dtype) * inv
        if self.beta is not None:
            offset = offset + self.beta.value.astype(x.dtype)
        out = x * inv.reshape(bshape) + offset.reshape(bshape)
        return out.astype(self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            **self._affine_config(),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
            "renorm": self.renorm,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
            "synchronized": self.synchronized,
        }


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

    def __init__(
        self,
        axis: int | list[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        **kwargs: Any,
    ):
        rms_scaling = bool(kwargs.pop("rms_scaling", False))
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(
                f"LayerNormalization '{self.name}': axis must be an int or a list/tuple of "
                f"ints; received axis={axis!r}."
            )
        self.axis = axis
        self.epsilon = float(epsilon)
        self.rms_scaling = rms_scaling
        self._init_affine(center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint,
                          gamma_constraint)  # fmt: skip
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
            out = x * inv
            if self.gamma is not None:
                out = out * self.gamma.value.astype(x.dtype).reshape(bshape)
            return out.astype(self.compute_dtype)
        if self.gamma is not None:
            inv = inv * self.gamma.value.astype(x.dtype).reshape(bshape)
        out = (x - mean) * inv
        if self.beta is not None:
            out = out + self.beta.value.astype(x.dtype).reshape(bshape)
        return out.astype(self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "axis": self.axis,
            "epsilon": self.epsilon,
            "rms_scaling": self.rms_scaling,
            **self._affine_config(),
        }


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

    def __init__(
        self,
        groups: int = 32,
        axis: int = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
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
        self._init_affine(center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint,
                          gamma_constraint)  # fmt: skip
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
        if self.gamma is not None:
            out = out * self.gamma.value.astype(x.dtype).reshape(bshape)
        if self.beta is not None:
            out = out + self.beta.value.astype(x.dtype).reshape(bshape)
        return out.astype(self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "groups": self.groups,
            "axis": self.axis,
            "epsilon": self.epsilon,
            **self._affine_config(),
        }


class UnitNormalization(Layer):
    """Scales each example to unit L2 norm over ``axis``.

    Example:
        >>> import callax
        >>> y = callax.layers.UnitNormalization()(callax.ops.array([[3.0, 4.0]]))
        >>> [round(v, 4) for v in y[0].tolist()]
        [0.6, 0.8]
    """

    _kernel_call = True

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            axis = list(axis)
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError(
                f"UnitNormalization '{self.name}': axis must be an int or a list/tuple of "
                f"ints; received axis={axis!r}."
            )
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        axes = tuple(_normalize_axes(self, self.axis, inputs.ndim))
        x = _float32_or_wider(inputs)
        square_sum = jnp.sum(jnp.square(x), axis=axes, keepdims=True)
        # rsqrt capped at 1/epsilon keeps all-zero rows at zero instead of NaN.
        inv = jnp.minimum(jax.lax.rsqrt(square_sum), 1e12)
        return (x * inv).astype(self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
