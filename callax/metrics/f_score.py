"""F-beta and F1 scores from per-class true/false positive and false negative counts.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.F1Score(average="micro", threshold=0.5)
    >>> y_true = np.array([[1, 0], [0, 1], [1, 0]])
    >>> y_pred = np.array([[0.9, 0.2], [0.7, 0.6], [0.3, 0.1]])
    >>> round(float(m(y_true, y_pred)), 4)  # tp=2, fp=1, fn=1
    0.6667
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.metrics.metric import Metric


class FBetaScore(Metric):
    """``(1 + beta^2) P R / (beta^2 P + R)`` per class, then averaged.

    Args:
        average: ``None`` (one score per class), ``"micro"`` (counts pooled over
            classes), ``"macro"`` (plain mean of class scores) or ``"weighted"``
            (mean weighted by each class's number of positive labels).
        beta: weight of recall relative to precision (a float > 0).
        threshold: predictions above it are positive; ``None`` marks each row's
            highest prediction positive.

    Inputs are ``(batch_size, num_classes)``; the state is created from the first
    batch's shape (or ``build(y_true_shape, y_pred_shape)``).
    """

    def __init__(
        self, average: str | None = None, beta: float = 1.0, threshold: float | None = None,
        name: str = "fbeta_score", dtype: Any = None,
    ):  # fmt: skip
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        owner = f"{type(self).__name__} {name!r}"
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(
                f"{owner}: average must be None, 'micro', 'macro' or 'weighted'; "
                f"received average={average!r}."
            )
        if not isinstance(beta, float) or beta <= 0.0:
            raise ValueError(f"{owner}: beta must be a float > 0; received beta={beta!r}.")
        if threshold is not None and (
            not isinstance(threshold, float) or not 0.0 < threshold <= 1.0
        ):
            raise ValueError(
                f"{owner}: threshold must be None or a float in (0, 1]; "
                f"received threshold={threshold!r}."
            )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self.built = False

    def build(self, y_true_shape: Any = None, y_pred_shape: Any = None) -> None:
        if self.built:
            return
        shapes_ok = (
            y_true_shape is not None and y_pred_shape is not None
            and len(y_true_shape) == 2 and len(y_pred_shape) == 2
            and y_pred_shape[-1] is not None
        )  # fmt: skip
        if not shapes_ok:
            raise ValueError(
                f"{type(self).__name__} {self.name!r} expects 2D inputs of shape "
                f"(batch_size, num_classes) with num_classes known; received "
                f"y_true.shape={y_true_shape}, y_pred.shape={y_pred_shape}."
            )
        shape = () if self.average == "micro" else (int(y_pred_shape[-1]),)
        self.true_positives = self.add_variable(shape, "zeros", name="true_positives")
        self.false_positives = self.add_variable(shape, "zeros", name="false_positives")
        self.false_negatives = self.add_variable(shape, "zeros", name="false_negatives")
        self.intermediate_weights = self.add_variable(shape, "zeros", name="intermediate_weights")
        self.built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        self.build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            # the row's maximum is the positive; an all-zero row stays all-negative
            row_max = jnp.max(y_pred, axis=-1, keepdims=True)
            predicted = (y_pred >= row_max) & (jnp.abs(y_pred) > 1e-9)
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(self.dtype)

        def weighted_sum(values: jax.Array) -> jax.Array:
            if sample_weight is not None:
                weight = jnp.asarray(sample_weight, self.dtype).reshape(-1)
                values = values * weight[:, None]
            return jnp.sum(values, axis=self.axis)

        for var, values in (
            (self.true_positives, predicted * y_true),
            (self.false_positives, predicted * (1.0 - y_true)),
            (self.false_negatives, (1.0 - predicted) * y_true),
            (self.intermediate_weights, y_true),
        ):
            var.assign(var.value + weighted_sum(values))

    def result(self) -> jax.Array:
        if not self.built:
            return jnp.asarray(0.0, self.dtype)
        eps = config.epsilon()
        tp = self.true_positives.value
        precision = tp / (tp + self.false_positives.value + eps)
        recall = tp / (tp + self.false_negatives.value + eps)
        b2 = self.beta**2
        score = (1.0 + b2) * precision * recall / (b2 * precision + recall + eps)
        if self.average == "weighted":
            w = self.intermediate_weights.value
            return jnp.sum(score * w / (jnp.sum(w) + eps))
        if self.average is not None:
            return jnp.mean(score)
        return score

    def reset_state(self) -> None:
        for v in self.variables:
            v.assign(jnp.zeros(v.shape, v.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}  # fmt: skip


class F1Score(FBetaScore):
    """The F-beta score with ``beta=1``: the harmonic mean of precision and recall."""

    def __init__(
        self, average: str | None = None, threshold: float | None = None,
        name: str = "f1_score", dtype: Any = None,
    ):  # fmt: skip
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
