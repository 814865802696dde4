"""Hinge losses for classifiers with -1/1 (or 0/1) labels and one-hot labels.

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> losses.hinge(np.array([[1.0, 0.0]]), np.array([[0.5, -2.0]]))
    Array([0.25], dtype=float32)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import LossFunctionWrapper, loss_function_init


def _floats(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


def _signed_labels(y_true: jax.Array) -> jax.Array:
    """0/1 labels become -1/1; labels already in another form stay as they are."""
    is_binary = jnp.all((y_true == 0) | (y_true == 1))
    return jnp.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels are mapped to -1/1."""
    y_true, y_pred = _floats(y_true, y_pred)
    return jnp.mean(jnp.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0), axis=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """``mean(max(1 - y_true * y_pred, 0) ** 2, axis=-1)``; 0/1 labels are mapped to -1/1."""
    y_true, y_pred = _floats(y_true, y_pred)
    return jnp.mean(jnp.square(jnp.maximum(1.0 - _signed_labels(y_true) * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true: Any, y_pred: Any) -> jax.Array:
    """``max(neg - pos + 1, 0)`` with ``pos`` the true class's score and ``neg`` the best other."""
    y_true, y_pred = _floats(y_true, y_pred)
    pos = jnp.sum(y_true * y_pred, axis=-1)
    neg = jnp.max((1.0 - y_true) * y_pred, axis=-1)
    return jnp.maximum(neg - pos + 1.0, 0.0)


class Hinge(LossFunctionWrapper):
    """Hinge loss."""

    __init__ = loss_function_init(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss."""

    __init__ = loss_function_init(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot labels."""

    __init__ = loss_function_init(categorical_hinge, "categorical_hinge")
