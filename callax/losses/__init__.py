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

from callax.core.identifiers import resolve
from callax.losses.extra import (
    CTC,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    Circle,
    Dice,
    Tversky,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    circle,
    ctc,
    dice,
    tversky,
)
from callax.losses.hinge import (
    CategoricalHinge,
    Hinge,
    SquaredHinge,
    categorical_hinge,
    hinge,
    squared_hinge,
)
from callax.losses.loss import Loss, LossFunctionWrapper, reduce_weighted_values
from callax.losses.probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
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

_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError,
        MeanAbsolutePercentageError, MeanSquaredLogarithmicError, Huber, LogCosh,
        CosineSimilarity, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
        SparseCategoricalCrossentropy, KLDivergence, Poisson, Hinge, SquaredHinge,
        CategoricalHinge, CategoricalFocalCrossentropy, CategoricalGeneralizedCrossEntropy, Dice,
        Tversky, Circle, CTC,
    )
}  # fmt: skip
_FUNCTIONS: dict[str, Callable] = {
    fn.__name__: fn
    for fn in (
        mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_logarithmic_error, huber, log_cosh, cosine_similarity, binary_crossentropy,
        binary_focal_crossentropy, categorical_crossentropy, sparse_categorical_crossentropy,
        kl_divergence, poisson, hinge, squared_hinge, categorical_hinge,
        categorical_focal_crossentropy, categorical_generalized_cross_entropy, dice, tversky,
        circle, ctc,
    )
}  # fmt: skip
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
ALL_OBJECTS: dict[str, Any] = {**_CLASSES, **_FUNCTIONS, **_ALIASES}


def _lookup(name: str, custom_objects: dict | None = None) -> Any:
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    obj = ALL_OBJECTS.get(name)
    if obj is None:
        try:  # objects registered with the saving registry (when it exists)
            from callax import saving

            obj = saving.get_registered_object(name, custom_objects)
        except (ImportError, AttributeError):
            obj = None
    return obj


def serialize(loss: Any) -> Any:
    """A Keras-format config for a ``Loss`` instance or a loss function."""
    if loss is None:
        return None
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__,
                "config": loss.get_config(), "registered_name": None}  # fmt: skip
    if callable(loss) and hasattr(loss, "__name__"):
        return {"module": "builtins", "class_name": "function", "config": loss.__name__,
                "registered_name": "function"}  # fmt: skip
    raise ValueError(f"Cannot serialize loss {loss!r}: expected a Loss instance or a function.")


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """A loss (instance or function) from a name or a config made by :func:`serialize`."""
    if isinstance(config, str):
        obj = _lookup(config, custom_objects)
        if obj is None:
            raise ValueError(f"Unknown loss {config!r}. Known names: {sorted(ALL_OBJECTS)}.")
        return obj
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Could not deserialize loss: expected a name or a dict with 'class_name' and "
            f"'config'; received {config!r}."
        )
    class_name, inner = config["class_name"], config.get("config")
    if class_name in ("function", "__function__"):
        return deserialize(inner, custom_objects)
    name = config.get("registered_name") or class_name
    cls = _lookup(name, custom_objects) or _lookup(class_name, custom_objects)
    if cls is None:
        raise ValueError(f"Unknown loss class {class_name!r}. Known classes: {sorted(_CLASSES)}.")
    return cls.from_config(dict(inner or {}))


def get(identifier: Any) -> Any:
    """A loss from a name (function, or instance for a class name), a config
    dict, a ``Loss`` class or instance, or a function; ``None`` gives ``None``."""
    return resolve(identifier, "loss", _lookup, deserialize, ALL_OBJECTS)


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
    "huber_loss", *_CLASSES, *_FUNCTIONS,
]  # fmt: skip
