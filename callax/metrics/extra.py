"""More Keras 3 metrics: Pearson and concordance correlation, and the
operating-point metrics ``PrecisionAtRecall``, ``RecallAtPrecision``,
``SensitivityAtSpecificity`` and ``SpecificityAtSensitivity``.

The operating-point metrics accumulate true/false positive/negative counts at
``num_thresholds`` thresholds evenly spaced over ``[0, 1]`` (the machinery of
``Precision``/``AUC``), then report the best value of one rate among the
thresholds where the other reaches its target.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.PrecisionAtRecall(recall=0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0.0, 0.3, 0.8, 0.3, 0.8]))
    >>> float(m.result())  # threshold ~0.5 keeps half the positives with precision 1/2
    0.5
    >>> round(float(metrics.pearson_correlation(np.array([1., 2., 3.]), np.array([2., 4., 7.]))), 4)
    0.9934
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import squeeze_or_expand_to_same_rank
from callax.metrics.confusion import _ConfusionMetric
from callax.metrics.reduction import MeanMetricWrapper, _divide_no_nan


def _aligned(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    return squeeze_or_expand_to_same_rank(jnp.asarray(y_true, y_pred.dtype), y_pred)


def pearson_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Pearson correlation between ``y_true`` and ``y_pred`` along ``axis`` (one per sample).

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> metrics.pearson_correlation(np.array([[1., 2., 3.]]), np.array([[3., 2., 1.]]))
        Array([-1.], dtype=float32)
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    t = y_true - jnp.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - jnp.mean(y_pred, axis=axis, keepdims=True)
    t = t / jnp.std(t, axis=axis, keepdims=True)
    p = p / jnp.std(p, axis=axis, keepdims=True)
    return jnp.mean(t * p, axis=axis)


def concordance_correlation(y_true: Any, y_pred: Any, axis: int = -1) -> jax.Array:
    """Lin's concordance correlation ``2 cov / (var_t + var_p + (mean_t - mean_p)^2)``
    along ``axis``: 1 only when predictions equal the labels.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> x = np.array([[1., 2., 3.]])
        >>> metrics.concordance_correlation(x, x + 1.0).round(4)  # correlated but offset
        Array([0.5714], dtype=float32)
    """
    y_true, y_pred = _aligned(y_true, y_pred)
    mean_t = jnp.mean(y_true, axis=axis, keepdims=True)
    mean_p = jnp.mean(y_pred, axis=axis, keepdims=True)
    var_t = jnp.var(y_true, axis=axis, keepdims=True)
    var_p = jnp.var(y_pred, axis=axis, keepdims=True)
    norm = var_t + var_p + jnp.square(mean_t - mean_p) + config.epsilon()
    return jnp.mean(2.0 * (y_true - mean_t) * (y_pred - mean_p) / norm, axis=axis)


class _Correlation(MeanMetricWrapper):
    _fn_default: Any

    def __init__(self, name: str | None = None, dtype: Any = None, axis: int = -1):
        fn = type(self)._fn_default
        super().__init__(fn, name=name or fn.__name__, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class PearsonCorrelation(_Correlation):
    """The mean over samples of the Pearson correlation along ``axis``.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.PearsonCorrelation()
        >>> float(m(np.array([[1., 2., 3.]]), np.array([[2., 4., 6.]])))
        1.0
    """

    _fn_default = staticmethod(pearson_correlation)

    def __init__(self, name: str = "pearson_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class ConcordanceCorrelation(_Correlation):
    """The mean over samples of the concordance correlation along ``axis``."""

    _fn_default = staticmethod(concordance_correlation)

    def __init__(self, name: str = "concordance_correlation", dtype: Any = None, axis: int = -1):
        super().__init__(name=name, dtype=dtype, axis=axis)


class _OperatingPoint(_ConfusionMetric):
    """Counts at evenly spaced thresholds; ``result`` maximises one rate subject to
    another reaching ``self.value``."""

    _counts = ("tp", "fp", "tn", "fn")
    _target: str  # the constrained argument's name: "recall", "precision", ...

    def __init__(
        self, value: float, num_thresholds: int = 200, class_id: int | None = None,
        name: str | None = None, dtype: Any = None,
    ):  # fmt: skip
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        owner = f"{type(self).__name__} {self.name!r}"
        if isinstance(value, bool) or not 0 <= value <= 1:
            raise ValueError(
                f"{owner}: {self._target} must be in the range [0, 1]; "
                f"received {self._target}={value!r}."
            )
        if (
            isinstance(num_thresholds, bool)
            or not isinstance(num_thresholds, int)
            or (num_thresholds <= 0)
        ):
            raise ValueError(
                f"{owner}: num_thresholds must be an integer > 0; "
                f"received num_thresholds={num_thresholds!r}."
            )
        self.value = value
        setattr(self, self._target, value)
        self.num_thresholds = num_thresholds
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
        else:
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0, *inner, 1.0]
        self._make_state(len(self.thresholds))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        # scores outside [0, 1] count as 0 or 1
        y_pred = jnp.clip(jnp.asarray(y_pred, self.dtype), 0.0, 1.0)
        self._accumulate(y_true, y_pred, sample_weight, class_id=self.class_id)

    def _rates(self) -> dict[str, jax.Array]:
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = _divide_no_nan(tp, tp + fn)
        return {"recall": recall, "sensitivity": recall,
                "precision": _divide_no_nan(tp, tp + fp),
                "specificity": _divide_no_nan(tn, tn + fp)}  # fmt: skip

    def _best(self, constrained: str, dependent: str) -> jax.Array:
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return jnp.max(jnp.where(feasible, rates[dependent], 0.0), initial=0.0)

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._target: self.value}  # fmt: skip


class PrecisionAtRecall(_OperatingPoint):
    """The best precision among thresholds whose recall is at least ``recall``.

    Args:
        recall: the target recall in [0, 1].
        num_thresholds: thresholds evenly spaced in [0, 1] (default 200).
        class_id: compute the metric for this class (column) only.
    """

    _target = "recall"

    def __init__(
        self, recall: float, num_thresholds: int = 200, class_id: int | None = None,
        name: str | None = None, dtype: Any = None,
    ):  # fmt: skip
        super().__init__(recall, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self) -> jax.Array:
        return self._best("recall", "precision")


class RecallAtPrecision(_OperatingPoint):
    """The best recall among thresholds whose precision is at least ``precision``."""

    _target = "precision"

    def __init__(
        self, precision: float, num_thresholds: int = 200, class_id: int | None = None,
        name: str | None = None, dtype: Any = None,
    ):  # fmt: skip
        super().__init__(precision, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self) -> jax.Array:
        return self._best("precision", "recall")


class SensitivityAtSpecificity(_OperatingPoint):
    """The best sensitivity (recall) among thresholds whose specificity is at least
    ``specificity``."""

    _target = "specificity"

    def __init__(
        self, specificity: float, num_thresholds: int = 200, class_id: int | None = None,
        name: str | None = None, dtype: Any = None,
    ):  # fmt: skip
        super().__init__(specificity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self) -> jax.Array:
        return self._best("specificity", "sensitivity")


class SpecificityAtSensitivity(_OperatingPoint):
    """The best specificity among thresholds whose sensitivity (recall) is at least
    ``sensitivity``.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.SpecificityAtSensitivity(0.5)
        >>> float(m(np.array([0, 0, 0, 1, 1]), np.array([0.0, 0.3, 0.8, 0.3, 0.8])))
        0.6666...
    """

    _target = "sensitivity"

    def __init__(
        self, sensitivity: float, num_thresholds: int = 200, class_id: int | None = None,
        name: str | None = None, dtype: Any = None,
    ):  # fmt: skip
        super().__init__(sensitivity, num_thresholds, class_id, name=name, dtype=dtype)

    def result(self) -> jax.Array:
        return self._best("sensitivity", "specificity")
