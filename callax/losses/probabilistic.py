"""Probabilistic losses: cross-entropies (binary, focal, categorical, sparse,
categorical focal, generalized), KL divergence and Poisson.

With ``from_logits=True`` they work on logits through ``log_softmax`` /
softplus forms, exact for any logit size. With probabilities they clip to
``[epsilon, 1 - epsilon]`` like Keras, so 0 and 1 give large finite losses,
never ``inf`` or NaN.

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> loss = losses.SparseCategoricalCrossentropy(from_logits=True)
    >>> round(float(loss(np.array([0, 1]), np.array([[2.0, 0.0], [0.0, 2.0]]))), 4)
    0.1269
    >>> bool(np.isfinite(losses.binary_crossentropy(np.array([[1.0]]), np.array([[0.0]])))[0])
    True
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import LossFunctionWrapper, loss_function_init


def _floats(y_true: Any, y_pred: Any) -> tuple[jax.Array, jax.Array]:
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    return jnp.asarray(y_true).astype(y_pred.dtype), y_pred


def _check_axis(axis: Any, fn: str) -> None:
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"{fn}: axis must be an int; received axis={axis!r}.")


def _elementwise_bce(target: jax.Array, output: jax.Array, from_logits: bool) -> jax.Array:
    if from_logits:
        # max(x, 0) - x z + log(1 + exp(-|x|)): exact, never overflows
        return jnp.maximum(output, 0) - output * target + jnp.log1p(jnp.exp(-jnp.abs(output)))
    eps = config.epsilon()
    p = jnp.clip(output, eps, 1.0 - eps)
    return -(target * jnp.log(p) + (1.0 - target) * jnp.log1p(-p))


def _check_same_shape(y_true: jax.Array, y_pred: jax.Array, fn: str) -> None:
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{fn}: y_true and y_pred must have the same shape"
            + (" (one-hot labels; use sparse_categorical_crossentropy for integer labels)"
               if fn.startswith("categorical") else "")
            + f"; received y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}."
        )  # fmt: skip


def binary_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:  # fmt: skip
    """Binary cross-entropy, averaged over ``axis``.

    ``label_smoothing`` moves labels towards 0.5: ``y * (1 - s) + 0.5 * s``.
    """
    y_true, y_pred = _floats(y_true, y_pred)
    _check_same_shape(y_true, y_pred, "binary_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return jnp.mean(_elementwise_bce(y_true, y_pred, from_logits), axis=axis)


def binary_focal_crossentropy(
    y_true: Any, y_pred: Any, apply_class_balancing: bool = False, alpha: float = 0.25,
    gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
) -> jax.Array:  # fmt: skip
    """Binary cross-entropy scaled by ``(1 - p_t) ** gamma`` (focal loss), averaged over ``axis``.

    With ``apply_class_balancing``, positives are weighted ``alpha`` and
    negatives ``1 - alpha``.
    """
    y_true, y_pred = _floats(y_true, y_pred)
    _check_same_shape(y_true, y_pred, "binary_focal_crossentropy")
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    bce = _elementwise_bce(y_true, y_pred, from_logits)
    prob = jax.nn.sigmoid(y_pred) if from_logits else y_pred
    p_t = y_true * prob + (1.0 - y_true) * (1.0 - prob)
    focal = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return jnp.mean(focal, axis=axis)


def _log_probs(y_pred: jax.Array, from_logits: bool, axis: int) -> jax.Array:
    if from_logits:
        return jax.nn.log_softmax(y_pred, axis=axis)
    # probabilities: renormalise, then clip so log never sees 0
    eps = config.epsilon()
    p = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
    return jnp.log(jnp.clip(p, eps, 1.0 - eps))


def categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, label_smoothing: float = 0.0,
    axis: int = -1,
) -> jax.Array:  # fmt: skip
    """Cross-entropy between one-hot (or soft) labels and predictions along ``axis``.

    ``label_smoothing`` mixes labels with the uniform distribution:
    ``y * (1 - s) + s / num_classes``.
    """
    _check_axis(axis, "categorical_crossentropy")
    y_true, y_pred = _floats(y_true, y_pred)
    _check_same_shape(y_true, y_pred, "categorical_crossentropy")
    if label_smoothing:
        num_classes = y_true.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return -jnp.sum(y_true * _log_probs(y_pred, from_logits, axis), axis=axis)


def _sparse_labels(y_true: jax.Array, y_pred: jax.Array, axis: int) -> jax.Array:
    if y_true.ndim == y_pred.ndim and y_true.shape[axis] == 1:
        y_true = jnp.squeeze(y_true, axis=axis)
    if y_true.ndim != y_pred.ndim - 1:
        raise ValueError(
            "sparse_categorical_crossentropy: y_true must hold integer class ids with one "
            f"axis less than y_pred (or a size-1 axis {axis}); received "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}."
        )
    return y_true


def _sparse_valid_mask(y_true, y_pred, ignore_class=None, axis=-1, **_):
    """Where the label is not ``ignore_class`` (``None`` when nothing is ignored)."""
    if ignore_class is None:
        return None
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    return _sparse_labels(y_true, y_pred, axis) != ignore_class


def sparse_categorical_crossentropy(
    y_true: Any, y_pred: Any, from_logits: bool = False, ignore_class: int | None = None,
    axis: int = -1,
) -> jax.Array:  # fmt: skip
    """Cross-entropy with integer class ids: ``-log p[y_true]`` along ``axis``.

    Entries whose label equals ``ignore_class`` give 0 (and the ``Loss`` class
    also leaves them out of the average).
    """
    _check_axis(axis, "sparse_categorical_crossentropy")
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    y_true = _sparse_labels(jnp.asarray(y_true), y_pred, axis)
    valid = None
    if ignore_class is not None:
        valid = y_true != ignore_class
        y_true = jnp.where(valid, y_true, 0)
    log_probs = jnp.moveaxis(_log_probs(y_pred, from_logits, axis), axis, -1)
    labels = y_true.astype(jnp.int32)[..., None]
    labels = jnp.where(labels < 0, log_probs.shape[-1], labels)  # negative ids must not wrap
    # Gather the label's log-probability; an out-of-range label gives NaN (never a silent 0)
    res = -jnp.take_along_axis(log_probs, labels, axis=-1, mode="fill")[..., 0]
    if valid is not None:
        res = jnp.where(valid, res, 0.0)
    return res


sparse_categorical_crossentropy.mask_fn = _sparse_valid_mask


def kl_divergence(y_true: Any, y_pred: Any) -> jax.Array:
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[epsilon, 1]``."""
    y_true, y_pred = _floats(y_true, y_pred)
    eps = config.epsilon()
    y_true = jnp.clip(y_true, eps, 1.0)
    y_pred = jnp.clip(y_pred, eps, 1.0)
    return jnp.sum(y_true * jnp.log(y_true / y_pred), axis=-1)


def poisson(y_true: Any, y_pred: Any) -> jax.Array:
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``."""
    y_true, y_pred = _floats(y_true, y_pred)
    return jnp.mean(y_pred - y_true * jnp.log(y_pred + config.epsilon()), axis=-1)


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy (``"bce"``) for 0/1 labels and probabilities or logits."""

    def __init__(
        self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
        reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self._mirror_fn_kwargs()


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Focal binary cross-entropy: down-weights easy examples by ``(1 - p_t) ** gamma``."""

    def __init__(
        self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
        from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
        reduction="sum_over_batch_size", name="binary_focal_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
            apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self._mirror_fn_kwargs()


class CategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for one-hot labels (``"categorical_crossentropy"``)."""

    def __init__(
        self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
        reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
            from_logits=from_logits, label_smoothing=label_smoothing, axis=axis,
        )  # fmt: skip
        self._mirror_fn_kwargs()


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Cross-entropy for integer labels; ``ignore_class`` entries are left out of the mean."""

    def __init__(
        self, from_logits: bool = False, ignore_class: int | None = None,
        reduction="sum_over_batch_size", axis: int = -1,
        name="sparse_categorical_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            sparse_categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
            from_logits=from_logits, ignore_class=ignore_class, axis=axis,
        )  # fmt: skip
        self._mirror_fn_kwargs()


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence (``"kld"``) between label and predicted distributions."""

    __init__ = loss_function_init(kl_divergence, "kl_divergence")


class Poisson(LossFunctionWrapper):
    """Poisson negative log-likelihood (up to a constant) for count targets."""

    __init__ = loss_function_init(poisson, "poisson")


def categorical_focal_crossentropy(
    y_true: Any, y_pred: Any, alpha: Any = 0.25, gamma: float = 2.0, from_logits: bool = False,
    label_smoothing: float = 0.0, axis: int = -1,
) -> jax.Array:  # fmt: skip
    """Categorical cross-entropy with each class term scaled by ``alpha * (1 - p) ** gamma``.

    ``alpha`` is a float or one weight per class. Probabilities are renormalised
    along ``axis`` and clipped to ``[epsilon, 1 - epsilon]``.

    Example:
        >>> import numpy as np
        >>> from callax import losses
        >>> y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> y_pred = np.array([[0.05, 0.9, 0.05], [0.1, 0.85, 0.05]])
        >>> losses.categorical_focal_crossentropy(y_true, y_pred).round(4)
        Array([3.000e-04, 6.759e-01], dtype=float32)
    """
    _check_axis(axis, "categorical_focal_crossentropy")
    y_true, y_pred = _floats(y_true, y_pred)
    if y_pred.shape and y_pred.shape[-1] == 1:
        # one column is a binary problem: the categorical form is always 0 there
        warnings.warn(
            "categorical_focal_crossentropy expects y_pred of shape (batch_size, num_classes) "
            "with num_classes > 1; use binary_focal_crossentropy for one output unit. "
            f"Received y_pred.shape={y_pred.shape}.",
            SyntaxWarning,
            stacklevel=2,
        )
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[-1]
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    eps = config.epsilon()
    prob = jnp.clip(y_pred / jnp.sum(y_pred, axis=axis, keepdims=True), eps, 1.0 - eps)
    alpha = jnp.asarray(alpha, y_pred.dtype)
    focal = alpha * jnp.power(1.0 - prob, gamma) * (-y_true * jnp.log(prob))
    return jnp.sum(focal, axis=axis)


def _check_q(q: Any, owner: str) -> None:
    if not 0 < q < 1:
        raise ValueError(f"{owner}: q must be in the interval (0, 1); received q={q!r}.")


def categorical_generalized_cross_entropy(y_true: Any, y_pred: Any, q: float) -> jax.Array:
    """Generalized cross-entropy ``(1 - p ** q) / q``, ``p`` the predicted
    probability of the true class (integer labels, shape ``(B,)`` or ``(B, 1)``).

    Small ``q`` behaves like cross-entropy, ``q`` near 1 like the mean absolute error.

    Example:
        >>> import numpy as np
        >>> from callax import losses
        >>> losses.categorical_generalized_cross_entropy(
        ...     np.array([0, 1]), np.array([[0.25, 0.75], [0.5, 0.5]]), q=0.5).round(4)
        Array([1.    , 0.5858], dtype=float32)
    """
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    labels = jnp.asarray(y_true).astype(jnp.int32)
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    p = jnp.sum(y_pred * jax.nn.one_hot(labels, y_pred.shape[-1], dtype=y_pred.dtype), axis=-1)
    return (1.0 - jnp.power(p, q)) / q


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Focal categorical cross-entropy for one-hot labels: down-weights easy examples.

    Example:
        >>> import numpy as np
        >>> from callax import losses
        >>> y_true = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
        >>> y_pred = np.array([[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]])
        >>> round(float(losses.CategoricalFocalCrossentropy()(y_true, y_pred)), 4)
        0.2332
    """

    def __init__(
        self, alpha: Any = 0.25, gamma: float = 2.0, from_logits: bool = False,
        label_smoothing: float = 0.0, axis: int = -1, reduction="sum_over_batch_size",
        name="categorical_focal_crossentropy", dtype=None,
    ):  # fmt: skip
        super().__init__(
            categorical_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
            alpha=alpha, gamma=gamma, from_logits=from_logits, label_smoothing=label_smoothing,
            axis=axis,
        )  # fmt: skip
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Generalized cross-entropy for integer labels, robust to noisy labels.

    Args:
        q: the noise parameter in ``(0, 1)`` (default 0.5).
    """

    def __init__(
        self, q: float = 0.5, reduction="sum_over_batch_size",
        name="categorical_generalized_cross_entropy", dtype=None,
    ):  # fmt: skip
        _check_q(q, f"CategoricalGeneralizedCrossEntropy {name!r}")
        super().__init__(
            categorical_generalized_cross_entropy, name=name, reduction=reduction, dtype=dtype,
            q=q,
        )  # fmt: skip
        self.q = q

    def call(self, y_true, y_pred):
        # integer labels against class scores: no rank alignment
        return categorical_generalized_cross_entropy(y_true, y_pred, q=self.q)
