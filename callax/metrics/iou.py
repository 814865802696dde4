"""Intersection-over-union metrics: ``IoU``, ``MeanIoU``, ``BinaryIoU``,
``OneHotIoU`` and ``OneHotMeanIoU``.

Predictions and labels are accumulated in a ``(num_classes, num_classes)``
confusion matrix (rows: labels, columns: predictions), the variable
``total_confusion_matrix`` as in Keras; the result is the mean over the target
classes of ``tp / (tp + fp + fn)``, counting only classes that were seen.

As in Keras, the state is ``int32`` unless a ``dtype`` is given, so fractional
sample weights are truncated (pass ``dtype="float32"`` to weight by fractions).

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> m = metrics.MeanIoU(num_classes=2)
    >>> m.update_state(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    >>> round(float(m.result()), 4)  # each class: 1 / (2 + 2 - 1)
    0.3333
    >>> m.total_confusion_matrix.numpy().tolist()
    [[1, 1], [1, 1]]
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.metrics.metric import Metric


class _IoUBase(Metric):
    """The shared confusion-matrix state and update."""

    def __init__(
        self, num_classes: int, name: str | None = None, dtype: Any = None,
        ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
        axis: int = -1,
    ):  # fmt: skip
        super().__init__(name=name, dtype=dtype or "int32")
        self._direction = "up"
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: num_classes must be a positive int; "
                f"received num_classes={num_classes!r}."
            )
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(
            (num_classes, num_classes), "zeros", name="total_confusion_matrix"
        )

    @property
    def total_confusion_matrix(self):
        return self.total_cm

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = jnp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = jnp.argmax(y_pred, axis=self.axis)
        # class ids: floats truncate as Keras's cast does
        y_true = y_true.astype(jnp.int32).reshape(-1)
        y_pred = y_pred.astype(jnp.int32).reshape(-1)
        if y_true.shape != y_pred.shape:
            raise ValueError(
                f"{type(self).__name__} {self.name!r}: y_true and y_pred must hold one class id "
                f"per entry; received {y_true.size} labels and {y_pred.size} predictions."
            )
        if sample_weight is None:
            weight = jnp.ones(y_true.shape, self.dtype)
        else:
            sample_weight = jnp.asarray(sample_weight)
            is_int_state = jnp.issubdtype(jnp.dtype(self.dtype), jnp.integer)
            if is_int_state and jnp.issubdtype(sample_weight.dtype, jnp.floating):
                warnings.warn(
                    f"{type(self).__name__} {self.name!r}: float sample weights are cast to the "
                    f"metric's dtype {self.dtype} and truncated; pass integer weights or "
                    f"dtype='float32'. Received sample_weight of dtype {sample_weight.dtype}.",
                    stacklevel=2,
                )
            weight = jnp.broadcast_to(sample_weight.reshape(-1), y_true.shape).astype(self.dtype)
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid = valid & (y_true != self.ignore_class)
        weight = jnp.where(valid, weight, 0).astype(self.dtype)
        cell = jnp.where(valid, y_true * n + y_pred, 0)
        counts = jax.ops.segment_sum(weight, cell, num_segments=n * n)
        self.total_cm.assign(self.total_cm.value + counts.reshape(n, n).astype(self.dtype))

    def _iou(self, target_class_ids: Sequence[int]) -> jax.Array:
        cm = self.total_cm.value.astype(jnp.float32)
        tp = jnp.diagonal(cm)
        denominator = jnp.sum(cm, axis=0) + jnp.sum(cm, axis=1) - tp
        ids = jnp.asarray(list(target_class_ids), jnp.int32)
        tp, denominator = tp[ids], denominator[ids]
        seen = denominator > 1e-9  # classes never seen count in neither the sum nor the mean
        iou = jnp.where(seen, tp / (denominator + config.epsilon()), 0.0)
        return jnp.sum(iou) / (jnp.sum(seen.astype(jnp.float32)) + config.epsilon())


def _check_targets(owner: str, target_class_ids: Any, num_classes: int) -> list[int]:
    ids = list(target_class_ids)
    if not ids or max(ids) >= num_classes or min(ids) < 0:
        raise ValueError(
            f"{owner}: target_class_ids must be class ids in [0, {num_classes}); "
            f"received target_class_ids={target_class_ids!r}."
        )
    return ids


class IoU(_IoUBase):
    """The mean IoU over ``target_class_ids``.

    Args:
        num_classes: the number of classes (the confusion matrix is ``num_classes`` square).
        target_class_ids: the classes whose IoUs are averaged.
        ignore_class: a label id left out entirely (e.g. a "void" class).
        sparse_y_true, sparse_y_pred: ``False`` takes the argmax along ``axis`` first.
        axis: the class axis for dense inputs.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.IoU(num_classes=2, target_class_ids=[0])
        >>> round(float(m(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))), 4)
        0.3333
    """

    def __init__(
        self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
        dtype: Any = None, ignore_class: int | None = None, sparse_y_true: bool = True,
        sparse_y_pred: bool = True, axis: int = -1,
    ):  # fmt: skip
        super().__init__(
            num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip
        self.target_class_ids = _check_targets(
            f"{type(self).__name__} {self.name!r}", target_class_ids, num_classes
        )

    def result(self) -> jax.Array:
        return self._iou(self.target_class_ids)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}  # fmt: skip


class BinaryIoU(IoU):
    """IoU for binary labels and scores: a score ``>= threshold`` predicts class 1.

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.3)
        >>> round(float(m(np.array([0, 1, 0, 1]), np.array([0.1, 0.2, 0.4, 0.7]))), 4)
        0.3333
    """

    def __init__(
        self, target_class_ids: Sequence[int] = (0, 1), threshold: float = 0.5,
        name: str | None = None, dtype: Any = None,
    ):  # fmt: skip
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        y_pred = (jnp.asarray(y_pred, jnp.float32) >= self.threshold).astype(jnp.int32)
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}  # fmt: skip


class MeanIoU(IoU):
    """The mean IoU over all ``num_classes`` classes (arguments as :class:`IoU`)."""

    def __init__(
        self, num_classes: int, name: str | None = None, dtype: Any = None,
        ignore_class: int | None = None, sparse_y_true: bool = True, sparse_y_pred: bool = True,
        axis: int = -1,
    ):  # fmt: skip
        num = num_classes if isinstance(num_classes, int) and num_classes > 0 else 1
        super().__init__(
            num_classes, list(range(num)), name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}  # fmt: skip


class OneHotIoU(IoU):
    """:class:`IoU` for one-hot labels (and, unless ``sparse_y_pred``, class scores)."""

    def __init__(
        self, num_classes: int, target_class_ids: Sequence[int], name: str | None = None,
        dtype: Any = None, ignore_class: int | None = None, sparse_y_pred: bool = False,
        axis: int = -1,
    ):  # fmt: skip
        super().__init__(
            num_classes, target_class_ids, name=name, dtype=dtype, ignore_class=ignore_class,
            sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}  # fmt: skip


class OneHotMeanIoU(MeanIoU):
    """:class:`MeanIoU` for one-hot labels (and, unless ``sparse_y_pred``, class scores).

    Example:
        >>> import numpy as np
        >>> from callax import metrics
        >>> m = metrics.OneHotMeanIoU(num_classes=3, dtype="float32")
        >>> y_true = np.eye(3)[[2, 0, 1, 0]]
        >>> y_pred = np.array([[.2, .3, .5], [.1, .2, .7], [.5, .3, .1], [.1, .4, .5]])
        >>> round(float(m(y_true, y_pred, sample_weight=np.array([.1, .2, .3, .4]))), 4)
        0.0476
    """

    def __init__(
        self, num_classes: int, name: str | None = None, dtype: Any = None,
        ignore_class: int | None = None, sparse_y_pred: bool = False, axis: int = -1,
    ):  # fmt: skip
        super().__init__(
            num_classes, name=name, dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
            sparse_y_pred=sparse_y_pred, axis=axis,
        )  # fmt: skip

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}  # fmt: skip
