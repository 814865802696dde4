"""Regression losses: squared, absolute, percentage, log errors, Huber, log-cosh, cosine.

Each comes as a function returning per-sample values (the last axis averaged)
and as a ``Loss`` class that weights and reduces them.

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> y_true, y_pred = np.array([[0.0, 1.0]]), np.array([[1.0, 1.0]])
    >>> losses.mean_squared_error(y_true, y_pred)
    Array([0.5], dtype=float32)
    >>> float(losses.MeanAbsoluteError()(y_true, y_pred))
    0.5
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import (
    LossFunctionWrapper,
    loss_function_init,
    squeeze_or_expand_to_same_rank,
)


def _prepare(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    y_true = jnp.asarray(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def mean_squared_error(y_true: Any, y_pred: Any) -> jax.Array:
    """``mean((y_true - y_pred) ** 2, axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return jnp.mean(jnp.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> jax.Array:
    """``mean(abs(y_true - y_pred), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return jnp.mean(jnp.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> jax.Array:
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    diff = jnp.abs((y_true - y_pred) / jnp.maximum(jnp.abs(y_true), config.epsilon()))
    return 100.0 * jnp.mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> jax.Array:
    """``mean((log(1 + y_pred) - log(1 + y_true)) ** 2, axis=-1)``; negatives clip to epsilon."""
    y_true, y_pred = _prepare(y_true, y_pred)
    eps = config.epsilon()
    first = jnp.log1p(jnp.maximum(y_pred, eps))
    second = jnp.log1p(jnp.maximum(y_true, eps))
    return jnp.mean(jnp.square(first - second), axis=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> jax.Array:
    """Quadratic for errors up to ``delta``, linear beyond: ``mean(..., axis=-1)``."""
    y_true, y_pred = _prepare(y_true, y_pred)
    delta = jnp.asarray(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = jnp.abs(error)
    quadratic = 0.5 * jnp.square(error)
    linear = delta * abs_error - 0.5 * jnp.square(delta)
    return jnp.mean(jnp.where(abs_error <= delta, quadratic, linear), axis=-1)


def log_cosh(y_true: Any, y_pred: Any) -> jax.Array:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, stable for large errors."""
    y_true, y_pred = _prepare(y_true, y_pred)
    x = y_pred - y_true
    # log(cosh(x)) = x + log1p(exp(-2x)) - log(2); softplus keeps it finite for |x| large
    return jnp.mean(x + jax.nn.softplus(-2.0 * x) - math.log(2.0), axis=-1)


def _l2_normalize(x: jax.Array, axis: int) -> jax.Array:
    square_sum = jnp.sum(jnp.square(x), axis=axis, keepdims=True)
    return x * jax.lax.rsqrt(jnp.maximum(square_sum, config.epsilon()))


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 when aligned."""
    y_true, y_pred = _prepare(y_true, y_pred)
    return -jnp.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), axis=axis)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors (``"mse"``)."""

    __init__ = loss_function_init(mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors (``"mae"``)."""

    __init__ = loss_function_init(mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """Mean absolute percentage error (``"mape"``)."""

    __init__ = loss_function_init(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared logarithmic error (``"msle"``)."""

    __init__ = loss_function_init(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class Huber(LossFunctionWrapper):
    """Huber loss: quadratic for ``|error| <= delta``, linear beyond."""

    def __init__(
        self, delta: float = 1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None
    ):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """Logarithm of the hyperbolic cosine of the error."""

    __init__ = loss_function_init(log_cosh, "log_cosh")


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity along ``axis`` (-1 for identical directions)."""

    def __init__(
        self, axis: int = -1, reduction="sum_over_batch_size", name="cosine_similarity", dtype=None
    ):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype, axis=axis)
