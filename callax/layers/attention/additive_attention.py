"""``AdditiveAttention``: Bahdanau-style attention (``tanh`` of the summed query and key)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core.input_spec import InputSpec, assert_input_compatibility  # noqa: F401 (re-export)
from callax.layers.attention.attention import Attention


# ------------------------------------------------------------ AdditiveAttention
class AdditiveAttention(Attention):
    """Additive (Bahdanau-style) attention over ``[query, value]`` or
    ``[query, value, key]``: scores ``sum(scale * tanh(query + key), axis=-1)``.

    Args:
        use_scale: learn a per-dimension ``scale`` of shape ``(dim,)`` (default True).
        dropout: dropout on the attention weights (training only).

    ``call`` takes the same arguments as ``Attention``'s.

    Example:
        >>> import callax
        >>> att = callax.layers.AdditiveAttention()
        >>> q, v = callax.ops.ones((2, 3, 4)), callax.ops.ones((2, 5, 4))
        >>> att([q, v]).shape, att.scale.shape
        ((2, 3, 4), (4,))
    """

    def __init__(self, use_scale: bool = True, dropout: float = 0.0, **kwargs: Any):
        kwargs.pop("score_mode", None)  # always additive
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        if not all(isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError(
                f"AdditiveAttention '{self.name}' must be called on a list [query, value] or "
                f"[query, value, key]; received an array of shape {tuple(input_shape)}."
            )
        self._validate(input_shape)
        self.concat_score_weight = None
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(
                shape=(input_shape[0][-1],), name="scale", initializer="glorot_uniform"
            )

    def _calculate_scores(self, query, key):
        inner = jnp.tanh(query[..., :, None, :] + key[..., None, :, :])
        if self.scale is not None:
            inner = self.scale.value * inner
        return jnp.sum(inner, axis=-1)

    def get_config(self):
        config = super().get_config()
        config.pop("score_mode", None)
        return config
