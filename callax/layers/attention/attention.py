"""``Attention``: dot-product (Luong) attention, with concat scores as an option."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import random
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator


class Attention(Layer):
    """Dot-product (Luong-style) attention over ``[query, value]`` or
    ``[query, value, key]``: ``softmax(query @ key^T [* scale]) @ value``.

    Args:
        use_scale: learn a scalar ``scale`` multiplying the scores.
        score_mode: ``"dot"`` or ``"concat"`` (``sum(tanh(q + k))``, Bahdanau-like).
        dropout: dropout on the attention weights (training only).
        seed: dropout seed.

    ``call(inputs, mask=None, training=False, return_attention_scores=False,
    use_causal_mask=False)``: ``mask=[query_mask, value_mask]`` booleans.

    Example:
        >>> import callax
        >>> att = callax.layers.Attention()
        >>> q, v = callax.ops.ones((2, 3, 4)), callax.ops.ones((2, 5, 4))
        >>> att([q, v]).shape
        (2, 3, 4)
    """

    _kernel_call = True

    def __init__(self, use_scale: bool = False, score_mode: str = "dot", dropout: float = 0.0,
                 seed: int | None = None, **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                f"Attention '{self.name}': score_mode must be 'dot' or 'concat'; received "
                f"score_mode={score_mode!r}."
            )
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        if self.dropout > 0:
            self.seed_generator = SeedGenerator(seed, name=f"{self.name}_seed_generator")
        self.supports_masking = True

    def _validate(self, inputs, mask=None) -> None:
        if not isinstance(inputs, (list, tuple)) or not 2 <= len(inputs) <= 3:
            if isinstance(inputs, (list, tuple)):
                got = f"a list of length {len(inputs)}"
            elif hasattr(inputs, "shape"):
                got = f"an array of shape {tuple(inputs.shape)}"
            else:
                got = f"{type(inputs).__name__}"
            raise ValueError(
                f"{type(self).__name__} '{self.name}' must be called on a list [query, value] "
                f"or [query, value, key]; received {got}."
            )
        if mask is not None and (not isinstance(mask, (list, tuple)) or not 2 <= len(mask) <= 3):
            raise ValueError(
                f"{type(self).__name__} '{self.name}': mask must be a list [query_mask, "
                f"value_mask]; received mask={mask!r}."
            )

    def build(self, input_shape):
        self._validate(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(shape=(), name="scale", initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(
                shape=(), name="concat_score_weight", initializer="ones"
            )

    def _calculate_scores(self, query, key):
        if self.score_mode == "dot":
            scores = query @ jnp.swapaxes(key, -1, -2)
            if self.scale is not None:
                scores = scores * self.scale.value
            return scores
        q = query[..., :, None, :]
        k = key[..., None, :, :]
        inner = q + k if self.scale is None else self.scale.value * (q + k)
        return self.concat_score_weight.value * jnp.sum(jnp.tanh(inner), axis=-1)

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):  # fmt: skip
        self._validate(inputs, mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores = self._calculate_scores(q, k)
        score_mask = None if v_mask is None else jnp.asarray(v_mask).astype(bool)[..., None, :]
        if use_causal_mask:
            tq, tv = scores.shape[-2], scores.shape[-1]
            causal = jnp.tril(jnp.ones((1, tq, tv), bool))
            score_mask = causal if score_mask is None else jnp.logical_and(score_mask, causal)
        if score_mask is not None:
            big = 65504.0 if scores.dtype == jnp.float16 else 1.0e9
            scores = jnp.where(score_mask, scores, scores - big)
        weights = jax.nn.softmax(scores, axis=-1)
        applied = weights
        if training and self.dropout > 0:
            applied = random.dropout(weights, self.dropout, seed=self.seed_generator)
        out = applied @ v
        if q_mask is not None:
            out = jnp.where(jnp.asarray(q_mask).astype(bool)[..., None], out, 0)
        if return_attention_scores:
            return out, applied  # Keras returns the weights after dropout here
        return out

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or mask[0] is None:
            return None
        return jnp.asarray(mask[0])

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (input_shape[1][-1],)

    def get_config(self):
        return {
            **super().get_config(),
            "use_scale": self.use_scale,
            "score_mode": self.score_mode,
            "dropout": self.dropout,
            "seed": self.seed,
        }
