"""Regression metrics: mean squared/absolute/percentage/log errors, RMSE,
log-cosh, cosine similarity, and the R2 score.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.RootMeanSquaredError()
    >>> float(m(np.zeros((2, 1)), np.array([[3.0], [4.0]])))  # sqrt((9 + 16) / 2)
    3.535...
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import losses
from callax.losses.loss import squeeze_or_expand_to_same_rank
from callax.metrics.metric import Metric
from callax.metrics.reduction import (
    LossMean,
    Mean,
    MeanMetricWrapper,
    _divide_no_nan,
    loss_mean_init,
)


class MeanSquaredError(LossMean):
    """Mean of squared errors."""

    __init__ = loss_mean_init(losses.mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossMean):
    """Mean of absolute errors."""

    __init__ = loss_mean_init(losses.mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossMean):
    """Mean absolute percentage error."""

    __init__ = loss_mean_init(
        losses.mean_absolute_percentage_error, "mean_absolute_percentage_error"
    )


class MeanSquaredLogarithmicError(LossMean):
    """Mean squared logarithmic error."""

    __init__ = loss_mean_init(
        losses.mean_squared_logarithmic_error, "mean_squared_logarithmic_error"
    )


class LogCoshError(LossMean):
    """Mean of the log-cosh of the errors."""

    __init__ = loss_mean_init(losses.log_cosh, "logcosh")


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine similarity between labels and predictions along ``axis`` (1 when aligned)."""

    def __init__(self, name: str = "cosine_similarity", dtype: Any = None, axis: int = -1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self._direction = "up"


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Cosine similarity along ``axis`` (the negative of the loss of the same name)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


class RootMeanSquaredError(Mean):
    """``sqrt(mean((y_true - y_pred) ** 2))`` over every entry seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = jnp.asarray(y_pred, self.dtype)
        y_true = jnp.asarray(y_true, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(jnp.square(y_true - y_pred), sample_weight=sample_weight)

    def result(self) -> jax.Array:
        return jnp.sqrt(_divide_no_nan(self.total.value, self.count.value))


class R2Score(Metric):
    """Coefficient of determination, ``1 - SS_res / SS_tot`` per output column.

    Args:
        class_aggregation: ``"uniform_average"`` (default), ``"variance_weighted_average"``
            or ``None`` (one score per column).
        num_regressors: for the adjusted R2 (0: plain R2).

    Its state has one entry per output column, created from the first batch (or
    ``build(y_true_shape, y_pred_shape)``). 1-D inputs count as one column.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.R2Score()
        >>> float(m(np.array([[1.0], [2.0], [3.0]]), np.array([[1.0], [2.0], [4.0]])))
        0.5
    """

    def __init__(
        self, class_aggregation: str | None = "uniform_average", num_regressors: int = 0,
        name: str = "r2_score", dtype: Any = None,
    ):  # fmt: skip
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if class_aggregation not in ("uniform_average", "variance_weighted_average", None):
            raise ValueError(
                f"R2Score {name!r}: class_aggregation must be 'uniform_average', "
                f"'variance_weighted_average' or None; received {class_aggregation!r}."
            )
        if not isinstance(num_regressors, int) or num_regressors < 0:
            raise ValueError(
                f"R2Score {name!r}: num_regressors must be an int >= 0; "
                f"received {num_regressors!r}."
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable((), "zeros", name="num_samples")
        self.built = False

    def build(self, y_true_shape: Any = None, y_pred_shape: Any = None) -> None:
        if self.built:
            return
        shape = tuple(y_pred_shape if y_pred_shape is not None else y_true_shape or ())
        if len(shape) not in (1, 2) or (len(shape) == 2 and shape[-1] is None):
            raise ValueError(
                f"R2Score {self.name!r} expects inputs of shape (batch_size, output_dim) with "
                f"output_dim known; received y_true shape {y_true_shape}, y_pred shape "
                f"{y_pred_shape}."
            )
        columns = 1 if len(shape) == 1 else int(shape[-1])
        self.squared_sum = self.add_variable((columns,), "zeros", name="squared_sum")
        self.sum = self.add_variable((columns,), "zeros", name="sum")
        self.total_mse = self.add_variable((columns,), "zeros", name="residual")
        self.count = self.add_variable((columns,), "zeros", name="count")
        self.built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true = jnp.asarray(y_true, self.dtype)
        y_pred = jnp.asarray(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_pred.ndim == 1:
            y_true, y_pred = y_true[:, None], y_pred[:, None]
        self.build(y_true.shape, y_pred.shape)
        weight = jnp.asarray(1.0 if sample_weight is None else sample_weight, self.dtype)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = jnp.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        self.sum.assign(self.sum.value + jnp.sum(weighted, axis=0))
        self.squared_sum.assign(self.squared_sum.value + jnp.sum(y_true * weighted, axis=0))
        residual = jnp.sum(jnp.square(y_true - y_pred) * weight, axis=0)
        self.total_mse.assign(self.total_mse.value + residual)
        self.count.assign(self.count.value + jnp.sum(weight, axis=0))
        self.num_samples.assign(self.num_samples.value + y_true.size)

    def result(self) -> jax.Array:
        if not self.built:
            return jnp.asarray(0.0, self.dtype)
        mean = self.sum.value / self.count.value
        total = self.squared_sum.value - self.sum.value * mean
        raw = 1.0 - self.total_mse.value / total
        raw = jnp.where(jnp.isinf(raw), 0.0, raw)  # constant labels: no variance to explain
        if self.class_aggregation == "uniform_average":
            score = jnp.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = jnp.sum(total * raw) / jnp.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n = self.num_samples.value
            p = float(self.num_regressors)
            adjusted = 1.0 - (1.0 - score) * (n - 1.0) / jnp.where(n - p - 1.0 > 0, n - p - 1.0, 1)
            # too few samples for the adjustment: fall back to the plain score (as Keras)
            score = jnp.where(n - p - 1.0 > 0, adjusted, score)
        return score

    def reset_state(self) -> None:
        for v in self.variables:
            v.assign(jnp.zeros(v.shape, v.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}  # fmt: skip
