"""Accuracy metrics: exact, binary (thresholded), categorical (one-hot),
sparse categorical (integer ids) and their top-k forms.

Each function returns 1.0/0.0 per sample; each class is the running (weighted)
mean of its function.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.SparseCategoricalAccuracy()
    >>> m.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]]))
    >>> float(m.result())
    0.5
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import squeeze_or_expand_to_same_rank
from callax.metrics.reduction import MeanMetricWrapper


def _as_float(x: Any) -> jax.Array:
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.floating) else x.astype(config.floatx())


def accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where ``y_pred == y_true`` exactly, else 0.0."""
    y_pred = _as_float(y_pred)
    y_true = jnp.asarray(y_true).astype(y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return (y_true == y_pred).astype(config.floatx())


def binary_accuracy(y_true: Any, y_pred: Any, threshold: float = 0.5) -> jax.Array:
    """1.0 where ``(y_pred > threshold)`` equals the 0/1 label, else 0.0."""
    y_pred = _as_float(y_pred)
    y_true = jnp.asarray(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    predicted = (y_pred > threshold).astype(y_true.dtype)
    return (y_true == predicted).astype(config.floatx())


def categorical_accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where ``argmax(y_pred) == argmax(y_true)`` (one-hot labels), else 0.0."""
    y_pred = _as_float(y_pred)
    y_true = jnp.asarray(y_true)
    return (jnp.argmax(y_true, axis=-1) == jnp.argmax(y_pred, axis=-1)).astype(config.floatx())


def sparse_categorical_accuracy(y_true: Any, y_pred: Any) -> jax.Array:
    """1.0 where ``argmax(y_pred) == y_true`` (integer ids, ``(B,)`` or ``(B, 1)``), else 0.0."""
    y_pred = _as_float(y_pred)
    y_true = jnp.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
    predicted = jnp.argmax(y_pred, axis=-1)
    return (y_true.astype(y_pred.dtype) == predicted.astype(y_pred.dtype)).astype(config.floatx())


def _in_top_k(targets: jax.Array, scores: jax.Array, k: int) -> jax.Array:
    """Whether each target id is among the ``k`` highest scores of its row.

    Counts the classes scoring strictly higher than the target's, so ties are
    resolved in the target's favour (as ``in_top_k`` does).
    """
    num_classes = scores.shape[-1]
    targets = targets.astype(jnp.int32)
    valid = (targets >= 0) & (targets < num_classes)
    target_score = jnp.take_along_axis(
        scores, jnp.clip(targets, 0, num_classes - 1)[..., None], axis=-1
    )
    higher = jnp.sum(scores > target_score, axis=-1)
    return valid & (higher < k) & jnp.isfinite(target_score[..., 0])


def top_k_categorical_accuracy(y_true: Any, y_pred: Any, k: int = 5) -> jax.Array:
    """1.0 where the one-hot label's class is among the ``k`` highest predictions."""
    y_pred = _as_float(y_pred)
    targets = jnp.argmax(jnp.asarray(y_true), axis=-1)
    return _in_top_k(targets, y_pred, k).astype(config.floatx())


def sparse_top_k_categorical_accuracy(
    y_true: Any, y_pred: Any, k: int = 5, from_sorted_ids: bool = False
) -> jax.Array:
    """1.0 where the integer label is among the ``k`` highest predictions.

    With ``from_sorted_ids=True``, ``y_pred`` holds class ids sorted by score
    (best first) and the label must be among its first ``k`` columns.
    """
    y_pred = jnp.asarray(y_pred)
    y_true = jnp.asarray(y_true)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = jnp.squeeze(y_true, -1)
    if from_sorted_ids:
        hits = jnp.any(y_pred[..., :k] == y_true[..., None].astype(y_pred.dtype), axis=-1)
        return hits.astype(config.floatx())
    return _in_top_k(y_true, _as_float(y_pred), k).astype(config.floatx())


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels exactly."""

    def __init__(self, name: str = "accuracy", dtype: Any = None):
        super().__init__(accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often thresholded predictions match 0/1 labels."""

    def __init__(self, name: str = "binary_accuracy", dtype: Any = None, threshold: float = 0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the one-hot label."""

    def __init__(self, name: str = "categorical_accuracy", dtype: Any = None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max prediction matches the integer label."""

    def __init__(self, name: str = "sparse_categorical_accuracy", dtype: Any = None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot label is among the top ``k`` predictions."""

    def __init__(self, k: int = 5, name: str = "top_k_categorical_accuracy", dtype: Any = None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the top ``k`` predictions."""

    def __init__(
        self, k: int = 5, name: str = "sparse_top_k_categorical_accuracy", dtype: Any = None,
        from_sorted_ids: bool = False,
    ):  # fmt: skip
        kwargs = {"from_sorted_ids": True} if from_sorted_ids else {}
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k, **kwargs)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"
