"""The ``Wrapper`` base class, and small layers: ActivityRegularization, RMSNormalization,
SpectralNormalization, AdditiveAttention."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import initializers, regularizers
from callax.core.input_spec import InputSpec, assert_input_compatibility  # noqa: F401 (re-export)
from callax.core.layer import Layer
from callax.layers.attention import Attention


# --------------------------------------------------------------------- Wrapper
class Wrapper(Layer):
    """Base class of layers that wrap another layer (``self.layer``).

    ``build`` builds the wrapped layer; ``get_config`` stores it serialized under
    ``"layer"`` and ``from_config`` rebuilds it, as in Keras.

    Example:
        >>> import callax
        >>> class Doubled(callax.layers.Wrapper):
        ...     def call(self, x):
        ...         return 2 * self.layer(x)
        >>> Doubled(callax.layers.Dense(3))(callax.ops.ones((2, 4))).shape
        (2, 3)
    """

    def __init__(self, layer: Layer, **kwargs: Any):
        if not isinstance(layer, Layer):
            raise ValueError(
                f"{type(self).__name__}: layer must be a callax layer instance; received "
                f"layer={layer!r}."
            )
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer.built = True

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def get_config(self):
        from callax.layers.wrappers import serialize_layer

        return {**super().get_config(), "layer": serialize_layer(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Wrapper:
        from callax.layers.wrappers import deserialize_layer

        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects=custom_objects)
        return cls(layer, **config)


# -------------------------------------------------------- ActivityRegularization
class ActivityRegularization(Layer):
    """Returns its input unchanged and adds ``l1 * sum(|x|) + l2 * sum(x**2)``
    (divided by the batch size, as every activity penalty) to ``losses``.

    Example:
        >>> import callax
        >>> layer = callax.layers.ActivityRegularization(l1=0.5)
        >>> _ = layer(callax.ops.ones((2, 3)))
        >>> float(layer.losses[0])
        1.5
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):
        kwargs.pop("activity_regularizer", None)  # always the l1/l2 penalty
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}


# ------------------------------------------------------------- RMSNormalization
class RMSNormalization(Layer):
    """``x / sqrt(mean(x**2 over axis) + epsilon) * scale`` (Zhang & Sennrich, 2019):
    layer normalization without centering.

    Args:
        axis: the axis or axes normalized over (``scale`` has their sizes).
        epsilon: added to the mean square.

    Example:
        >>> import callax
        >>> layer = callax.layers.RMSNormalization()
        >>> layer(callax.ops.array([[3.0, 4.0]])).shape, layer.scale.shape
        ((1, 2), (2,))
    """

    _kernel_call = True

    def __init__(self, axis: int | list[int] = -1, epsilon: float = 1e-6, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis
        self.epsilon = epsilon

    def build(self, input_shape):
        rank = len(input_shape)
        axes = sorted(self.axis) if isinstance(self.axis, (list, tuple)) else [self.axis]
        for a in axes:
            if not -rank <= a < rank:
                raise ValueError(
                    f"RMSNormalization '{self.name}': axis {a} is out of range for inputs of "
                    f"rank {rank}; received input shape {input_shape}."
                )
        self.axis = axes  # Keras stores the normalized list (it shows in the config)
        self.scale = self.add_weight(
            shape=tuple(input_shape[a] for a in axes), initializer="ones", name="scale"
        )

    def call(self, inputs):
        dtype = inputs.dtype
        # Statistics in at least float32, for stability under mixed precision.
        x = inputs.astype(jnp.promote_types(dtype, jnp.float32))
        axes = tuple(a % x.ndim for a in self.axis)
        rrms = jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + self.epsilon)
        scale = self.scale.value.astype(x.dtype)
        # Place the scale's axes among the input's (others broadcast as size 1).
        shape = [1] * x.ndim
        for a, size in zip(axes, scale.shape):
            shape[a] = size
        return (x * rrms * scale.reshape(shape)).astype(dtype)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}


# -------------------------------------------------------- SpectralNormalization
def _l2_normalize(x: jax.Array) -> jax.Array:
    return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(jnp.square(x)), 1e-12))


class SpectralNormalization(Wrapper):
    """Divides the wrapped layer's ``kernel`` (or ``embeddings``) by its largest
    singular value, estimated by power iteration (Miyato et al., 2018).

    In training calls, ``power_iterations`` steps refine the non-trainable
    ``vector_u`` (shape ``(1, kernel.shape[-1])``) and the normalized kernel is
    assigned, then the wrapped layer runs. Inference calls use the kernel as is.

    Example:
        >>> import callax
        >>> sn = callax.layers.SpectralNormalization(callax.layers.Dense(3, name="d"), name="sn")
        >>> sn(callax.ops.ones((2, 4)), training=True).shape
        (2, 3)
        >>> [w.path for w in sn.weights]
        ['sn/d/kernel', 'sn/vector_u', 'sn/d/bias']
    """

    def __init__(self, layer: Layer, power_iterations: int = 1, **kwargs: Any):
        super().__init__(layer, **kwargs)
        if not isinstance(power_iterations, int) or power_iterations <= 0:
            raise ValueError(
                f"SpectralNormalization '{self.name}': power_iterations must be a positive "
                f"int; received power_iterations={power_iterations!r}."
            )
        self.power_iterations = power_iterations

    def build(self, input_shape):
        super().build(input_shape)
        kernel = getattr(self.layer, "kernel", None)
        if kernel is None:
            kernel = getattr(self.layer, "embeddings", None)
        if kernel is None:
            raise ValueError(
                f"SpectralNormalization '{self.name}': the wrapped layer must have a `kernel` "
                f"or `embeddings` weight; received {type(self.layer).__name__} "
                f"'{self.layer.name}'."
            )
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        self.kernel = kernel
        self.kernel_shape = tuple(kernel.shape)
        self.vector_u = self.add_weight(
            shape=(1, self.kernel_shape[-1]),
            initializer=initializers.TruncatedNormal(stddev=0.02),
            trainable=False, name="vector_u", dtype=kernel.dtype,
        )  # fmt: skip
        # Keras files the kernel among this wrapper's own variables too, first:
        # the same weight order and the same .weights.h5 layout as Keras.
        self._own_variables.insert(0, kernel)

    def normalized_weights(self) -> tuple[jax.Array, jax.Array]:
        """``(new vector_u, kernel / sigma)`` after ``power_iterations`` steps."""
        kernel = self.kernel.value
        w = kernel.reshape(-1, self.kernel_shape[-1])
        u = self.vector_u.value.astype(w.dtype)
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w.T)
            u = _l2_normalize(v @ w)
        u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
        sigma = (v @ w) @ u.T  # (1, 1): the top singular value's estimate
        return u.astype(self.vector_u.dtype), (kernel / sigma).astype(kernel.dtype)

    def call(self, inputs, training=False):
        if training:
            new_u, new_kernel = self.normalized_weights()
            # An all-zero kernel has no direction to normalize: leave it alone.
            zero = jnp.all(self.kernel.value == 0)
            self.vector_u.assign(jnp.where(zero, self.vector_u.value, new_u))
            self.kernel.assign(jnp.where(zero, self.kernel.value, new_kernel))
        outputs = self.layer(inputs)
        return outputs.astype(inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}


# ------------------------------------------------------------ AdditiveAttention
class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention over ``[query, value]`` or
    ``[query, value, key]``: scores ``sum(scale * tanh(query + key), axis=-1)``.

    Args:
        use_scale: learn a per-dimension ``scale`` of shape ``(dim,)`` (default True).
        dropout: dropout on the attention weights (training only).

    ``call`` takes the same arguments as ``Attention``'s.

    Example:
        >>> import callax
        >>> att = callax.layers.AdditiveAttention()
        >>> q, v = callax.ops.ones((2, 3, 4)), callax.ops.ones((2, 5, 4))
        >>> att([q, v]).shape, att.scale.shape
        ((2, 3, 4), (4,))
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any):
        kwargs.pop("score_mode", None)  # always additive
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        if not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(
                f"AdditiveAttention '{self.name}' must be called on a list [query, value] or "
                f"[query, value, key]; received an array of shape {tuple(input_shape)}."
            )
        self._validate(input_shape)
        self.concat_score_weight = None
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(
                shape=(input_shape[0][-1],), name="scale", initializer="glorot_uniform"
            )

    def _calculate_scores(self, query, key):
        inner = jnp.tanh(query[..., :, None, :] + key[..., None, :, :])
        if self.scale is not None:
            inner = self.scale.value * inner
        return jnp.sum(inner, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode", None)
        return config
