"""Metric-learning losses: Circle loss over embeddings and their integer labels.

Example:
    >>> import numpy as np
    >>> from callax import losses
    >>> emb = np.eye(4)[[0, 0, 1, 2]].astype("float32")  # 2 identical, 2 apart
    >>> losses.circle(np.array([0, 0, 1, 1]), emb).shape
    (4,)
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core import config
from callax.losses.loss import LossFunctionWrapper


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
        self._mirror_fn_kwargs()

    def call(self, y_true, y_pred):
        # labels (B,) against embeddings (B, D): no rank alignment
        return circle(y_true, y_pred, **self._fn_kwargs)
