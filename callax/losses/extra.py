"""More Keras 3 losses: categorical focal and generalized cross-entropy, Dice,
Tversky, Circle (metric learning) and CTC (sequence labelling).

Each comes as a function (per-sample values, or a scalar when ``axis=None``
reduces everything, as for ``dice``) and as a ``Loss`` class with Keras's
constructor arguments and config.

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> y_true = np.array([[1.0, 1.0], [0.0, 0.0]])
    >>> y_pred = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> round(float(losses.dice(y_true, y_pred)), 4)  # 1 - 2 * 1 / (2 + 2)
    0.5
    >>> losses.Tversky(alpha=0.3, beta=0.7).get_config()["beta"]
    0.7
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import jax.numpy as jnp
import optax

from callax.core import config
from callax.losses.loss import Loss, LossFunctionWrapper
from callax.losses.probabilistic import _check_axis, _floats


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


def dice(y_true: Any, y_pred: Any, axis: Any = None) -> jax.Array:
    """Dice loss ``1 - 2 sum(y_true y_pred) / (sum(y_true) + sum(y_pred) + epsilon)``.

    ``axis`` (an int or tuple) says which axes are summed; ``None`` sums all and
    gives one scalar for the batch, as in Keras.
    """
    y_true, y_pred = _floats(y_true, y_pred)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    denom = jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis) + config.epsilon()
    return 1.0 - 2.0 * intersection / denom


def tversky(
    y_true: Any, y_pred: Any, alpha: float = 0.5, beta: float = 0.5, axis: Any = None
) -> jax.Array:
    """Tversky loss ``1 - tp / (tp + alpha * fp + beta * fn + epsilon)`` with soft
    counts ``tp = sum(y_true y_pred)``, ``fp = sum(y_true (1 - y_pred))`` and
    ``fn = sum((1 - y_true) y_pred)`` (Keras's naming). ``alpha = beta = 0.5`` is Dice.
    """
    y_true, y_pred = _floats(y_true, y_pred)
    tp = jnp.sum(y_true * y_pred, axis=axis)
    fp = jnp.sum(y_true * (1.0 - y_pred), axis=axis)
    fn = jnp.sum((1.0 - y_true) * y_pred, axis=axis)
    return 1.0 - tp / (tp + alpha * fp + beta * fn + config.epsilon())


def _label_masks(query: jax.Array, keys: jax.Array, remove_diagonal: bool):
    positive = query.reshape(-1, 1) == keys.reshape(1, -1)
    if remove_diagonal:
        positive = positive & ~jnp.eye(positive.shape[0], positive.shape[1], dtype=bool)
    return positive, query.reshape(-1, 1) != keys.reshape(1, -1)


def circle(
    y_true: Any, y_pred: Any, ref_labels: Any = None, ref_embeddings: Any = None,
    remove_diagonal: bool = True, gamma: float = 80.0, margin: float = 0.4,
) -> jax.Array:  # fmt: skip
    """Circle loss (Sun et al., 2020) over L2-normalised embeddings ``y_pred`` with
    integer labels ``y_true``: one value per query embedding.

    Pairs are compared by cosine distance ``d = max(1 - <a, b>, 0)`` against the
    references (default: the batch itself); positives are pulled below
    ``margin``, negatives pushed above ``1 - margin``, each pair weighted by how
    far it is from its optimum, and ``softplus(logsumexp(pos) + logsumexp(neg))``
    combines them. Queries with a zero loss are left out of the mean (as Keras
    masks them).
    """
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(config.floatx())
    labels = jnp.asarray(y_true).astype(jnp.int32)
    refs = y_pred if ref_embeddings is None else jnp.asarray(ref_embeddings, y_pred.dtype)
    ref_labels = labels if ref_labels is None else jnp.asarray(ref_labels).astype(jnp.int32)
    distances = jnp.maximum(1.0 - y_pred @ refs.T, 0.0)
    positive, negative = _label_masks(labels, ref_labels, remove_diagonal)
    pos_weight = jnp.maximum((margin + distances) * positive, 0.0)
    neg_weight = jnp.maximum((1.0 + margin - distances) * negative, 0.0)
    pos_logits = -gamma * pos_weight * (margin - distances)
    neg_logits = gamma * neg_weight * ((1.0 - margin) - distances)
    pos = jax.nn.logsumexp(jnp.where(positive, pos_logits, -jnp.inf), axis=1)
    neg = jax.nn.logsumexp(jnp.where(negative, neg_logits, -jnp.inf), axis=1)
    return jax.nn.softplus(pos + neg)


def _circle_mask(y_true, y_pred, **kwargs):
    return circle(y_true, y_pred, **kwargs) > 0


circle.mask_fn = _circle_mask


def ctc(y_true: Any, y_pred: Any) -> jax.Array:
    """CTC loss per sequence.

    ``y_true``: ``(batch, max_label_length)`` integer labels, padded with 0 (the
    blank, never a class); ``y_pred``: ``(batch, time, num_classes)`` logits (not
    softmaxed). Every sequence uses all ``time`` steps.

    Example:
        >>> import numpy as np
        >>> from callax import losses
        >>> logits = np.zeros((1, 2, 3))  # uniform over {blank, 1, 2}
        >>> round(float(losses.ctc(np.array([[1, 0]]), logits)[0]), 4)  # -log(3/9)
        1.0986
    """
    y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
    if y_true.ndim != 2:
        raise ValueError(
            "ctc: y_true must be integer labels of shape (batch_size, max_length); "
            f"received y_true.shape={y_true.shape}."
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "ctc: y_pred must be logits of shape (batch_size, max_length, num_classes); "
            f"received y_pred.shape={y_pred.shape}."
        )
    dtype = jnp.promote_types(y_pred.dtype, jnp.float32)
    labels = y_true.astype(jnp.int32)
    # labels sit at the front, padded with blanks: the length is the number of non-blanks
    lengths = jnp.sum(labels != 0, axis=-1)
    label_paddings = (jnp.arange(labels.shape[1])[None, :] >= lengths[:, None]).astype(dtype)
    logit_paddings = jnp.zeros(y_pred.shape[:2], dtype)
    return optax.ctc_loss(y_pred.astype(dtype), logit_paddings, labels, label_paddings, blank_id=0)


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


class Dice(LossFunctionWrapper):
    """Dice loss; ``axis`` chooses the summed axes (``None``: one value for the batch)."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis: Any = None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(LossFunctionWrapper):
    """Tversky loss: Dice with ``alpha``/``beta`` weighting the two kinds of error."""

    def __init__(
        self, alpha: float = 0.5, beta: float = 0.5, reduction="sum_over_batch_size",
        name="tversky", axis: Any = None, dtype=None,
    ):  # fmt: skip
        super().__init__(
            tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha, beta=beta,
            axis=axis,
        )  # fmt: skip
        self.alpha, self.beta, self.axis = alpha, beta, axis


class Circle(LossFunctionWrapper):
    """Circle loss for metric learning: ``y_true`` integer labels, ``y_pred``
    L2-normalised embeddings (see :func:`circle`).

    Example:
        >>> import numpy as np
        >>> from callax import losses
        >>> emb = np.eye(4)[[0, 0, 1, 2]].astype("float32")  # 2 identical, 2 apart
        >>> float(losses.Circle()(np.array([0, 0, 1, 1]), emb)) > 0
        True
    """

    def __init__(
        self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
        reduction="sum_over_batch_size", name="circle", dtype=None,
    ):  # fmt: skip
        super().__init__(
            circle, name=name, reduction=reduction, dtype=dtype, gamma=gamma, margin=margin,
            remove_diagonal=remove_diagonal,
        )  # fmt: skip
        self.gamma, self.margin, self.remove_diagonal = gamma, margin, remove_diagonal

    def call(self, y_true, y_pred):
        # labels (B,) against embeddings (B, D): no rank alignment
        return circle(y_true, y_pred, **self._fn_kwargs)


class CTC(LossFunctionWrapper):
    """CTC loss: ``y_true`` 0-padded integer labels ``(B, L)``, ``y_pred`` logits ``(B, T, C)``."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)

    def get_config(self) -> dict:
        return Loss.get_config(self)
