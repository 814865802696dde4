"""Confusion-matrix metrics: Precision, Recall, AUC, the raw counts
(TruePositives, FalsePositives, TrueNegatives, FalseNegatives), and the
operating-point metrics (PrecisionAtRecall, RecallAtPrecision,
SensitivityAtSpecificity, SpecificityAtSensitivity), which report the best value
of one rate among the thresholds where the other reaches its target.

Counts are accumulated per threshold: a prediction is positive at threshold
``t`` when ``y_pred > t``; a label is positive when it is non-zero. Each update
costs ``O(N log T)`` (a sorted search of every prediction among the thresholds,
then a cumulative sum), not ``O(N T)``.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.Precision()
    >>> m.update_state(np.array([0, 1, 1, 1]), np.array([1.0, 1.0, 0.0, 0.6]))
    >>> round(float(m.result()), 4)  # tp = 2, fp = 1
    0.6667
    >>> float(metrics.AUC()(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8])))
    0.75
    >>> m = metrics.PrecisionAtRecall(recall=0.5)
    >>> m.update_state(np.array([0, 0, 0, 1, 1]), np.array([0.0, 0.3, 0.8, 0.3, 0.8]))
    >>> float(m.result())  # threshold ~0.5 keeps half the positives with precision 1/2
    0.5
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core import config
from callax.losses.loss import squeeze_or_expand_to_same_rank
from callax.metrics.metric import Metric
from callax.metrics.reduction import _divide_no_nan

NEG_INF = -1e10  # what top_k filtering gives to the predictions it drops


def _parse_thresholds(thresholds: Any, default: float, owner: str) -> list[float]:
    values = [default] if thresholds is None else thresholds
    if isinstance(values, (int, float)):
        values = [values]
    values = [float(t) for t in values]
    for t in values:
        if not (0.0 <= t <= 1.0) and t != NEG_INF:
            raise ValueError(
                f"{owner}: thresholds must be in [0, 1]; received thresholds={thresholds!r}."
            )
    return values


def _filter_top_k(x: jax.Array, k: int) -> jax.Array:
    """Keeps the ``k`` largest values of each row; the rest become ``NEG_INF``."""
    _, idx = jax.lax.top_k(x, k)
    keep = jnp.sum(jax.nn.one_hot(idx, x.shape[-1], dtype=x.dtype), axis=-2)
    return x * keep + NEG_INF * (1 - keep)


def confusion_counts(
    y_true: Any, y_pred: Any, thresholds: Any, sample_weight: Any = None, top_k: int | None = None,
    class_id: int | None = None, dtype: Any = None,
) -> dict[str, jax.Array]:  # fmt: skip
    """Weighted ``tp``, ``fp``, ``tn``, ``fn`` at each threshold (each of shape ``(T,)``)."""
    dtype = dtype or config.floatx()
    y_pred = jnp.asarray(y_pred, dtype)
    y_true = jnp.asarray(y_true)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if sample_weight is not None:
        sample_weight = jnp.asarray(sample_weight, dtype)
        y_pred_b, sample_weight = squeeze_or_expand_to_same_rank(y_pred, sample_weight)
        if 0 < sample_weight.ndim < y_pred_b.ndim:
            sample_weight = sample_weight.reshape(
                sample_weight.shape + (1,) * (y_pred_b.ndim - sample_weight.ndim)
            )
        sample_weight = jnp.broadcast_to(sample_weight, y_pred.shape)
    if class_id is not None:
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
        if sample_weight is not None:
            sample_weight = sample_weight[..., class_id]
    labels = (y_true != 0).reshape(-1)
    preds = y_pred.reshape(-1)
    weights = jnp.ones_like(preds) if sample_weight is None else sample_weight.reshape(-1)

    thresholds = np.asarray(thresholds, np.float64)
    order = np.argsort(thresholds, kind="stable")
    sorted_t = jnp.asarray(thresholds[order], dtype)
    num_t = len(thresholds)
    # Positive at sorted threshold i  <=>  i < (number of thresholds strictly below the pred)
    n_below = jnp.searchsorted(sorted_t, preds, side="left")

    def positives_above(w):  # sum of w over predictions positive at each sorted threshold
        hist = jax.ops.segment_sum(w, n_below, num_segments=num_t + 1)
        return jnp.cumsum(hist[::-1])[::-1][1:]

    pos_w = jnp.where(labels, weights, 0)
    neg_w = jnp.where(labels, 0, weights)
    tp_sorted, fp_sorted = positives_above(pos_w), positives_above(neg_w)
    inverse = np.argsort(order)
    tp, fp = tp_sorted[inverse], fp_sorted[inverse]
    return {"tp": tp, "fp": fp, "fn": jnp.sum(pos_w) - tp, "tn": jnp.sum(neg_w) - fp}


class _ConfusionMetric(Metric):
    """Shared state handling: one variable per count, one entry per threshold."""

    _counts: tuple[str, ...] = ()
    _names = {"tp": "true_positives", "fp": "false_positives",
              "tn": "true_negatives", "fn": "false_negatives"}  # fmt: skip

    def _make_state(self, num_thresholds: int, num_labels: int | None = None) -> None:
        shape = (num_thresholds,) if num_labels is None else (num_thresholds, num_labels)
        for key in self._counts:
            setattr(self, self._names[key], self.add_variable(
                shape, "zeros", name=self._names[key]))  # fmt: skip

    def _accumulate(self, y_true, y_pred, sample_weight, **kwargs) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                  dtype=self.dtype, **kwargs)  # fmt: skip
        for key in self._counts:
            var = getattr(self, self._names[key])
            var.assign(var.value + counts[key])


class _CountMetric(_ConfusionMetric):
    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = _parse_thresholds(thresholds, 0.5, type(self).__name__)
        self.accumulator = self.add_variable((len(self.thresholds),), "zeros", name="accumulator")

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight, dtype=self.dtype)
        self.accumulator.assign(self.accumulator.value + counts[self._count])

    def result(self) -> jax.Array:
        value = self.accumulator.value
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_CountMetric):
    """The weighted number of true positives (at each threshold)."""

    _count = "tp"


class FalsePositives(_CountMetric):
    """The weighted number of false positives (at each threshold)."""

    _count = "fp"


class TrueNegatives(_CountMetric):
    """The weighted number of true negatives (at each threshold)."""

    _count = "tn"


class FalseNegatives(_CountMetric):
    """The weighted number of false negatives (at each threshold)."""

    _count = "fn"


class _PrecisionRecall(_ConfusionMetric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else NEG_INF
        self.thresholds = _parse_thresholds(thresholds, default, type(self).__name__)
        self._make_state(len(self.thresholds))

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        self._accumulate(y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}  # fmt: skip


class Precision(_PrecisionRecall):
    """``tp / (tp + fp)``: the fraction of predicted positives that are positive.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5); a list
            gives one precision per threshold.
        top_k: count only each row's ``k`` highest predictions as positive.
        class_id: compute the metric for this class (column) only.
    """

    _counts = ("tp", "fp")

    def result(self) -> jax.Array:
        tp, fp = self.true_positives.value, self.false_positives.value
        value = _divide_no_nan(tp, tp + fp)
        return value[0] if len(self.thresholds) == 1 else value


class Recall(_PrecisionRecall):
    """``tp / (tp + fn)``: the fraction of positives predicted positive (arguments as ``Precision``)."""

    _counts = ("tp", "fn")

    def result(self) -> jax.Array:
        tp, fn = self.true_positives.value, self.false_negatives.value
        value = _divide_no_nan(tp, tp + fn)
        return value[0] if len(self.thresholds) == 1 else value


class AUC(_ConfusionMetric):
    """Area under the ROC or precision-recall curve, from counts at fixed thresholds.

    Args:
        num_thresholds: thresholds evenly spaced in [0, 1] (default 200).
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"`` (trapezoids for ROC; the
            Davis-Goadrich interpolation for PR), ``"minoring"`` or ``"majoring"``
            (lower/upper Riemann sums).
        thresholds: explicit thresholds in [0, 1] instead of ``num_thresholds``.
        multi_label: ``True``: each column of ``(batch, labels)`` predictions is its
            own binary problem; the result is the mean of the per-label AUCs (or
            their ``label_weights``-weighted mean). ``False``: every entry is one
            binary decision.
        num_labels: with ``multi_label``, the number of labels (else taken from the
            first batch).
        label_weights: with ``multi_label``, one weight per label for the mean.
        from_logits: apply a sigmoid to predictions first.
    """

    _counts = ("tp", "fp", "tn", "fn")

    def __init__(
        self, num_thresholds: int = 200, curve: str = "ROC",
        summation_method: str = "interpolation", name: str | None = None, dtype: Any = None,
        thresholds: Any = None, multi_label: bool = False, num_labels: int | None = None,
        label_weights: Any = None, from_logits: bool = False,
    ):  # fmt: skip
        super().__init__(name=name or "auc", dtype=dtype)
        self._direction = "up"
        curve = str(curve).upper()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC {self.name!r}: curve must be 'ROC' or 'PR'; received {curve!r}.")
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f"AUC {self.name!r}: summation_method must be 'interpolation', 'minoring' or "
                f"'majoring'; received {summation_method!r}."
            )
        self.curve = curve
        self.summation_method = summation_method
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = label_weights
        self.from_logits = from_logits
        eps = config.epsilon()
        if thresholds is not None:
            inner = sorted(_parse_thresholds(thresholds, 0.5, "AUC"))
            self._init_from_thresholds = True
            num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    f"AUC {self.name!r}: num_thresholds must be > 1; "
                    f"received num_thresholds={num_thresholds}."
                )
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._init_from_thresholds = False
        self.num_thresholds = num_thresholds
        # the end thresholds sit just outside [0, 1] so predictions of exactly 0 or 1 count
        self.thresholds = [0.0 - eps] + inner + [1.0 + eps]
        if not self.multi_label:
            self._make_state(num_thresholds)
        elif num_labels is not None:
            self._make_state(num_thresholds, int(num_labels))
        else:
            self.built = False  # the number of labels comes from the first batch

    def build(self, y_true_shape: Any = None, y_pred_shape: Any = None) -> None:
        if self.multi_label and not self.built:
            if not y_pred_shape or y_pred_shape[-1] is None:
                raise ValueError(
                    f"AUC {self.name!r}: multi_label=True needs predictions of shape "
                    f"(batch, labels) with a known number of labels; received {y_pred_shape}."
                )
            self.num_labels = int(y_pred_shape[-1])
            self._make_state(self.num_thresholds, self.num_labels)
        self.built = True

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = jnp.asarray(y_pred, self.dtype)
        if self.from_logits:
            y_pred = jax.nn.sigmoid(y_pred)
        if not self.multi_label:
            self._accumulate(y_true, y_pred, sample_weight)
            return
        if not self.built:
            self.build(None, tuple(y_pred.shape))
        labels = y_pred.shape[-1]
        y_true = jnp.broadcast_to(jnp.asarray(y_true), y_pred.shape).reshape(-1, labels)
        y_pred = y_pred.reshape(-1, labels)
        if sample_weight is None:
            weights = jnp.ones_like(y_pred)
        else:
            weights = jnp.asarray(sample_weight, self.dtype)
            if weights.ndim == 1 and y_pred.ndim == 2 and weights.shape[0] == y_pred.shape[0]:
                weights = weights[:, None]
            weights = jnp.broadcast_to(weights, y_pred.shape).reshape(-1, labels)

        def per_label(t, p, w):  # one label's column: counts of shape (thresholds,)
            return confusion_counts(t, p, self.thresholds, w, dtype=self.dtype)

        counts = jax.vmap(per_label, in_axes=1, out_axes=1)(y_true, y_pred, weights)
        for key in self._counts:
            var = getattr(self, self._names[key])
            var.assign(var.value + counts[key])

    def _interpolate_pr_auc(self) -> jax.Array:
        # Between two thresholds, tp and p = tp + fp vary linearly; integrating
        # precision = tp / p over recall in closed form gives each interval's area.
        tp, fp, fn = (
            self.true_positives.value,
            self.false_positives.value,
            self.false_negatives.value,
        )
        p = tp + fp
        dtp = tp[:-1] - tp[1:]
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, jnp.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = jnp.where(both, _divide_no_nan(p[:-1], jnp.maximum(p[1:], 0)), 1.0)
        area = _divide_no_nan(slope * (dtp + intercept * jnp.log(ratio)),
                              jnp.maximum(tp[1:] + fn[1:], 0))  # fmt: skip
        return self._over_labels(jnp.sum(area, axis=0))

    def _over_labels(self, by_label: jax.Array) -> jax.Array:
        """The multi-label result: the (weighted) mean of the per-label AUCs."""
        if not self.multi_label:
            return by_label
        if self.label_weights is None:
            return jnp.mean(by_label)
        w = jnp.asarray(self.label_weights, by_label.dtype)
        return _divide_no_nan(jnp.sum(by_label * w), jnp.sum(w))

    def result(self) -> jax.Array:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolate_pr_auc()
        tp, fp = self.true_positives.value, self.false_positives.value
        tn, fn = self.true_negatives.value, self.false_negatives.value
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = jnp.minimum(y[:-1], y[1:])
        else:
            heights = jnp.maximum(y[:-1], y[1:])
        return self._over_labels(jnp.sum((x[:-1] - x[1:]) * heights, axis=0))

    def get_config(self) -> dict:
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": self.label_weights, "from_logits": self.from_logits}  # fmt: skip
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


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
