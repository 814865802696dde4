"""Metrics, by class, function or name, as in ``keras.metrics``.

Every metric keeps its state in ``callax.Variable``s and has a stateless API
(``stateless_update_state``/``stateless_result``/``stateless_reset_state``) for
compiled training steps.

Example:
    >>> import numpy as np
    >>> from callax import metrics
    >>> metrics.get("auc")
    <AUC name=auc>
    >>> m = metrics.resolve_accuracy("accuracy", "sparse_categorical_crossentropy", (8,), (8, 10))
    >>> type(m).__name__, m.name
    ('SparseCategoricalAccuracy', 'accuracy')
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callax import losses as _losses
from callax.core.names import to_snake_case
from callax.core.registry import NameRegistry
from callax.losses import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    is_binary_or_sparse_categorical,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from callax.metrics.accuracy import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from callax.metrics.confusion import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from callax.metrics.correlation import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from callax.metrics.f_score import F1Score, FBetaScore
from callax.metrics.iou import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from callax.metrics.metric import Metric
from callax.metrics.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from callax.metrics.reduction import Mean, MeanMetricWrapper, Sum
from callax.metrics.regression import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)

_CLASSES: tuple[type, ...] = (
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC,
    Precision, Recall, TruePositives, FalsePositives, TrueNegatives, FalseNegatives,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, LogCoshError, CosineSimilarity, R2Score, F1Score, FBetaScore,
    BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy, KLDivergence,
    Poisson, Hinge, SquaredHinge, CategoricalHinge, IoU, MeanIoU, BinaryIoU, OneHotIoU,
    OneHotMeanIoU, PearsonCorrelation, ConcordanceCorrelation, PrecisionAtRecall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity,
)  # fmt: skip
_FUNCTIONS: tuple[Callable, ...] = (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, binary_crossentropy,
    binary_focal_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, kl_divergence, poisson, hinge,
    squared_hinge, categorical_hinge, categorical_focal_crossentropy, pearson_correlation,
    concordance_correlation,
)  # fmt: skip
# Names resolve as Keras resolves them: snake-case class names give the class
# ("mean_squared_error" -> MeanSquaredError), other function names the function.
_ALIASES: dict[str, Any] = {
    **{to_snake_case(cls.__name__): cls for cls in _CLASSES},
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "rmse": RootMeanSquaredError, "auc": AUC,
}  # fmt: skip
_REGISTRY = NameRegistry(
    "metric",
    "keras.metrics",
    classes=_CLASSES,
    functions=_FUNCTIONS,
    aliases=_ALIASES,
    more_functions=_losses._REGISTRY.functions,  # a function config may name any loss function
    base=Metric,
)
ALL_OBJECTS: dict[str, Any] = _REGISTRY.names

# One rule for every family: callax.core.registry. Class names and their snake
# case give an instance, other function names the function.
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize
serialize_fn = _REGISTRY.serialize_function


def deserialize_fn(config: Any, custom_objects: dict | None = None) -> Callable:
    """A function from :func:`serialize_fn`'s config or a function name."""
    if callable(config):
        return config
    return _REGISTRY.function_from_config(config, custom_objects)


def _loss_kind(loss: Any) -> str | None:
    """'binary', 'sparse' or 'categorical' when the loss says which, else None."""
    name = loss if isinstance(loss, str) else getattr(loss, "__name__", None)
    if name is None:
        name = type(loss).__name__
        fn = getattr(loss, "fn", None)
        if fn is not None:
            name = getattr(fn, "__name__", name)
    name = to_snake_case(str(name)).lower()
    if name == "bce" or "binary" in name:
        return "binary"
    if "sparse" in name or name == "scce":
        return "sparse"
    if "categorical" in name or name == "cce":
        return "categorical"
    return None


def resolve_accuracy(identifier: Any, loss: Any, y_true_shape: Any, y_pred_shape: Any) -> Metric:
    """The metric ``compile(metrics=[identifier])`` means, as a ``Metric`` object.

    ``"accuracy"``/``"acc"`` become ``BinaryAccuracy``, ``SparseCategoricalAccuracy``
    or ``CategoricalAccuracy`` by Keras 3's rule on the shapes (one output unit:
    binary; labels of lower rank, or one label column against several outputs:
    sparse; else categorical). When a shape is unknown (``None``), the loss
    decides. ``"crossentropy"``/``"ce"`` resolve the same way to the matching
    cross-entropy. Any other identifier goes through :func:`get`; functions are
    wrapped in ``MeanMetricWrapper``; a string identifier becomes the metric's name;
    metrics whose state depends on the data (``F1Score``, ``R2Score``) are built
    from the shapes, so their stateless API works in the first compiled step.

    Example:
        >>> from callax import metrics
        >>> metrics.resolve_accuracy("acc", "binary_crossentropy", (8, 1), (8, 1))
        <BinaryAccuracy name=acc>
        >>> metrics.resolve_accuracy("mse", None, (8, 1), (8, 1))
        <MeanSquaredError name=mse>
    """
    if identifier is None:
        raise ValueError("resolve_accuracy: expected a metric identifier; received None.")
    key = identifier.lower() if isinstance(identifier, str) else None
    if key in ("accuracy", "acc", "crossentropy", "ce"):
        if y_true_shape is not None and y_pred_shape is not None and len(y_pred_shape) > 0:
            is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
            kind = "binary" if is_binary else "sparse" if is_sparse else "categorical"
        else:
            kind = _loss_kind(loss) or "categorical"
        if key in ("accuracy", "acc"):
            cls = {"binary": BinaryAccuracy, "sparse": SparseCategoricalAccuracy,
                   "categorical": CategoricalAccuracy}[kind]  # fmt: skip
            return cls(name=identifier)
        fn = {"binary": binary_crossentropy, "sparse": sparse_categorical_crossentropy,
              "categorical": categorical_crossentropy}[kind]  # fmt: skip
        return MeanMetricWrapper(fn, name=identifier)
    obj = get(identifier)
    if not isinstance(obj, Metric):
        obj = MeanMetricWrapper(
            obj, name=getattr(obj, "__name__", None) or getattr(obj, "name", None)
        )
    if isinstance(identifier, str):
        obj.name = identifier
    if not obj.built and y_true_shape is not None and y_pred_shape is not None:
        # state shaped by the data (F1Score, R2Score) exists before any compiled step
        obj.build(tuple(y_true_shape), tuple(y_pred_shape))
    return obj


__all__ = [
    "Metric", "get", "serialize", "deserialize", "resolve_accuracy", "serialize_fn",
    "deserialize_fn", *_REGISTRY.classes, *_REGISTRY.functions,
]  # fmt: skip
