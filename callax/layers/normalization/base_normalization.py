"""What the normalization layers share: axis checks, float32 statistics and the
``gamma``/``beta`` weights of the affine normalizations."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import constraints, initializers, regularizers
from callax.core.layer import Layer


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
            "beta_regularizer": regularizers.serialize(self.beta_regularizer),
            "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
            "beta_constraint": constraints.serialize(self.beta_constraint),
            "gamma_constraint": constraints.serialize(self.gamma_constraint),
        }

    def _check_rank(self, inputs: jax.Array) -> None:
        built_for = self._build_shapes
        if built_for is not None and len(built_for) != inputs.ndim:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' was built for inputs of rank "
                f"{len(built_for)} (shape {tuple(built_for)}); received input with shape "
                f"{tuple(inputs.shape)}."
            )
