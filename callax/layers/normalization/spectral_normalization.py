"""``SpectralNormalization``: divides a wrapped layer's kernel by its largest
singular value, estimated by power iteration (Miyato et al., 2018)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import initializers
from callax.core.input_spec import InputSpec, assert_input_compatibility  # noqa: F401 (re-export)
from callax.core.layer import Layer
from callax.layers.core.wrapper import Wrapper


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
