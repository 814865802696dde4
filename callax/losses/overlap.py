"""Overlap losses for segmentation: Dice and Tversky (soft counts of the
overlap between a predicted and a true mask).

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> y_true = np.array([[1.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(float(losses.dice(y_true, y_pred)), 4)  # 1 - 2 * 1 / (2 + 2)
    0.5
    >>> losses.Tversky(alpha=0.3, beta=0.7).get_config()["beta"]
    0.7
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import LossFunctionWrapper
from callax.losses.probabilistic import _floats


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> jax.Array:
    """Dice loss ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + epsilon)``.

    ``axis`` (an int or tuple) says which axes are summed; ``None`` sums all and
    gives one scalar for the batch, as in Keras.
    """
    y_true, y_pred = _floats(y_true, y_pred)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    denom = jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis) + config.epsilon()
    return 1.0 - 2.0 * intersection / denom


def tversky(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None
) -> jax.Array:
    """Tversky loss ``1 - tp / (tp + alpha * fp + beta * fn + epsilon)`` with soft
    counts ``tp = sum(y_true y_pred)``, ``fp = sum(y_true (1 - y_pred))`` and
    ``fn = sum((1 - y_true) y_pred)`` (Keras's naming). ``alpha = beta = 0.5`` is Dice.
    """
    y_true, y_pred = _floats(y_true, y_pred)
    tp = jnp.sum(y_true * y_pred, axis=axis)
    fp = jnp.sum(y_true * (1.0 - y_pred), axis=axis)
    fn = jnp.sum((1.0 - y_true) * y_pred, axis=axis)
    return 1.0 - tp / (tp + alpha * fp + beta * fn + config.epsilon())


class Dice(LossFunctionWrapper):
    """Dice loss; ``axis`` chooses the summed axes (``None``: one value for the batch)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis: Any = None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """Tversky loss: Dice with ``alpha``/``beta`` weighting the two kinds of error."""

    def __init__(
        self, alpha: float = 0.5, beta: float = 0.5, reduction="sum_over_batch_size",
        name="tversky", axis: Any = None, dtype=None,
    ):  # fmt: skip
        super().__init__(
            tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta,
            axis=axis,
        )  # fmt: skip
        self._mirror_fn_kwargs()
