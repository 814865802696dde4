"""What the normalization layers share: axis checks, float32 statistics and the
``gamma``/``beta`` weights of the affine normalizations."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.weight_args import add_weight_from_args, weight_args_config


def _float32_or_wider(x: jax.Array) -> jax.Array:
    # Statistics of half-precision inputs overflow easily: compute them in float32.
    if x.dtype in (jnp.float16, jnp.bfloat16) or not jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(jnp.float32)
    return x


def _axis_argument(layer: Layer, axis: Any) -> int | list:
    """The ``axis`` argument as kept and serialized: an int, or a list for a list or
    tuple of axes; a TypeError for anything else (checked against the rank in build)."""
    if isinstance(axis, (list, tuple)):
        return list(axis)
    if not isinstance(axis, int) or isinstance(axis, bool):
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}': axis must be an int or a list/tuple of "
            f"ints; received axis={axis!r}."
        )
    return axis


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


def _affine_value(weight: Any, dtype: Any, shape: tuple | None) -> jax.Array:
    value = weight.value.astype(dtype)
    return value if shape is None else value.reshape(shape)


class _AffineNormBase(Layer):
    """Shared ``gamma``/``beta`` handling for the normalization layers."""

    _kernel_call = True  # side-effect free: eager calls may run as one compiled kernel
    # The hyper-parameters the config lists before center/scale, in Keras's order.
    _config_args: tuple[str, ...] = ()

    def _init_affine(self, center: bool, scale: bool) -> None:
        """Sets ``center`` and ``scale``; the ``beta_*``/``gamma_*`` arguments are set by
        the subclass's :func:`weight_arguments`."""
        self.center = bool(center)
        self.scale = bool(scale)
        self.gamma = None
        self.beta = None

    def _make_affine(self, shape: tuple, make_gamma: bool, make_beta: bool) -> None:
        # Keras creates gamma first, then beta; weight order matters for loading.
        if make_gamma:
            self.gamma = add_weight_from_args(
                self, "gamma", shape=shape, name="gamma", autocast=False
            )
        if make_beta:
            self.beta = add_weight_from_args(self, "beta", shape=shape, name="beta", autocast=False)

    def _times_gamma(self, x: jax.Array, dtype: Any, shape: tuple | None = None) -> jax.Array:
        """``x * gamma`` (gamma cast to ``dtype``, reshaped to ``shape`` when given);
        ``x`` itself without gamma."""
        return x if self.gamma is None else x * _affine_value(self.gamma, dtype, shape)

    def _plus_beta(self, x: jax.Array, dtype: Any, shape: tuple | None = None) -> jax.Array:
        """``x + beta`` (beta cast to ``dtype``, reshaped to ``shape`` when given);
        ``x`` itself without beta."""
        return x if self.beta is None else x + _affine_value(self.beta, dtype, shape)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            **{name: getattr(self, name) for name in self._config_args},
            "center": self.center,
            "scale": self.scale,
            **weight_args_config(self, "beta", "gamma"),
        }

    def _check_rank(self, inputs: jax.Array) -> None:
        built_for = self._build_shapes
        if built_for is not None and len(built_for) != inputs.ndim:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' was built for inputs of rank "
                f"{len(built_for)} (shape {tuple(built_for)}); received input with shape "
                f"{tuple(inputs.shape)}."
            )
