"""Losses, by class, function or name, as in ``keras.losses``.

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> losses.get("mse")  # a name gives the function
    <function mean_squared_error at ...>
    >>> losses.get("CategoricalCrossentropy")  # a class name gives an instance
    <CategoricalCrossentropy name=categorical_crossentropy>
    >>> loss = losses.deserialize(losses.serialize(losses.Huber(delta=2.0)))
    >>> loss.get_config()
    {'name': 'huber_loss', 'reduction': 'sum_over_batch_size', 'delta': 2.0}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from callax.core.registry import NameRegistry
from callax.losses.ctc import CTC, ctc
from callax.losses.hinge import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from callax.losses.loss import Loss, LossFunctionWrapper, reduce_weighted_values
from callax.losses.metric_learning import Circle, circle
from callax.losses.overlap import Dice, Tversky, dice, tversky
from callax.losses.probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    kl_divergence,
    poisson,
    sparse_categorical_crossentropy,
)
from callax.losses.regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)

# Keras 3 aliases (keras.losses has these functions under the short names too)
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
huber_loss = huber

_CLASSES: tuple[type, ...] = (
    Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber, LogCosh,
    CosineSimilarity, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge,
    CategoricalHinge, CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, Dice,
    Tversky, Circle, CTC,
)  # fmt: skip
_FUNCTIONS: tuple[Callable, ...] = (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, huber, log_cosh, cosine_similarity, binary_crossentropy,
    binary_focal_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
    kl_divergence, poisson, hinge, squared_hinge, categorical_hinge,
    categorical_focal_crossentropy, categorical_generalized_cross_entropy, dice, tversky,
    circle, ctc,
)  # fmt: skip
_ALIASES: dict[str, Callable] = {
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
    "kld": kl_divergence, "KLD": kl_divergence,
    "kullback_leibler_divergence": kl_divergence,
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "cce": categorical_crossentropy, "CCE": categorical_crossentropy,
    "scce": sparse_categorical_crossentropy, "SCCE": sparse_categorical_crossentropy,
    "huber_loss": huber,
}  # fmt: skip
_REGISTRY = NameRegistry(
    "loss",
    "keras.losses",
    classes=_CLASSES,
    functions=_FUNCTIONS,
    aliases=_ALIASES,
    base=Loss,
)
ALL_OBJECTS: dict[str, Any] = _REGISTRY.names

# One rule for every family: callax.core.registry. A name gives the function, a
# class name an instance; functions are written as Keras writes them.
get, serialize, deserialize = _REGISTRY.get, _REGISTRY.serialize, _REGISTRY.deserialize


def is_binary_or_sparse_categorical(y_true_shape: Any, y_pred_shape: Any) -> tuple[bool, bool]:
    """Keras's rule: binary when the output has one unit; sparse when labels
    have a lower rank, or one column against several outputs."""
    y_true_shape, y_pred_shape = tuple(y_true_shape), tuple(y_pred_shape)
    true_last = y_true_shape[-1] if y_true_shape else None
    pred_last = y_pred_shape[-1] if y_pred_shape else None
    is_binary = pred_last == 1
    is_sparse = len(y_true_shape) < len(y_pred_shape) or (
        true_last == 1 and pred_last is not None and pred_last > 1
    )
    return is_binary, is_sparse


def resolve_crossentropy(identifier: Any, y_true_shape: Any, y_pred_shape: Any) -> Any:
    """``"crossentropy"``/``"ce"`` as the binary, sparse or categorical
    cross-entropy function that fits the shapes (as Keras's ``compile`` does);
    any other identifier goes through :func:`get`.

    Example:
        >>> from callax import losses
        >>> losses.resolve_crossentropy("ce", (32,), (32, 10)).__name__
        'sparse_categorical_crossentropy'
    """
    if not (isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce")):
        return get(identifier)
    is_binary, is_sparse = is_binary_or_sparse_categorical(y_true_shape, y_pred_shape)
    if is_binary:
        return binary_crossentropy
    if is_sparse:
        return sparse_categorical_crossentropy
    return categorical_crossentropy


__all__ = [
    "Loss", "LossFunctionWrapper", "reduce_weighted_values", "serialize", "deserialize", "get",
    "resolve_crossentropy", "is_binary_or_sparse_categorical", "mse", "MSE", "mae", "MAE",
    "mape", "MAPE", "msle", "MSLE", "kld", "KLD", "kullback_leibler_divergence", "bce", "BCE",
    "huber_loss", *_REGISTRY.classes, *_REGISTRY.functions,
]  # fmt: skip
