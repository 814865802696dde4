"""The CTC loss (connectionist temporal classification), for sequence labelling
without an alignment between inputs and labels (speech, handwriting).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from callax.losses.loss import Loss, LossFunctionWrapper


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


class CTC(LossFunctionWrapper):
    """CTC loss: ``y_true`` 0-padded integer labels ``(B, L)``, ``y_pred`` logits ``(B, T, C)``."""

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(ctc, name=name, reduction=reduction, dtype=dtype)

    def call(self, y_true, y_pred):
        return ctc(y_true, y_pred)

    def get_config(self) -> dict:
        return Loss.get_config(self)
