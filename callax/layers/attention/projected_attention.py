"""``_ProjectedAttention``: what ``MultiHeadAttention`` and ``GroupedQueryAttention``
share: the projection arguments, the per-head projection sublayers, the mask
merging and the call (project, attend, gate, project back)."""

from __future__ import annotations

from typing import Any

import jax

from callax.core.layer import Layer
from callax.layers.attention.base_attention import _Projection, merge_attention_masks


class _ProjectedAttention(Layer):
    """Base of the attention layers with Keras's ``query``/``key``/``value``/
    ``attention_output`` projections (and the optional sigmoid ``gate``).

    Subclasses keep the projections reachable as ``_query_dense``, ``_key_dense``,
    ``_value_dense``, ``_output_dense`` and (with ``use_gate``) ``_gate_dense`` (Keras's
    names), define ``_compute_attention(q, k, v, mask, training)`` and name
    themselves in error messages with ``_owner``.
    """

    _owner = "Attention"

    def _positive_int(self, arg: str, value: Any) -> int:
        """``value`` if it is a positive int (not a bool), else a ValueError naming the
        layer and ``arg``."""
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ValueError(
                f"{self._owner} '{self.name}': {arg} must be a positive int; received "
                f"{arg}={value!r}."
            )
        return value

    def _init_projections(
        self,
        dropout: float,
        use_bias: bool,
        use_gate: bool,
        seed: int | None,
        sliding_window: int | None,
        flash_attention: bool | None,
    ) -> None:
        """Checks ``dropout`` and ``sliding_window`` and sets the arguments every
        projection and the attention share (the ``kernel_*``/``bias_*`` ones are the
        subclass's :func:`weight_arguments`)."""
        if not 0 <= dropout <= 1:
            raise ValueError(
                f"{self._owner} '{self.name}': dropout must be in [0, 1]; received "
                f"dropout={dropout!r}."
            )
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.use_gate = bool(use_gate)
        self.seed = seed
        if sliding_window is not None and (
            not isinstance(sliding_window, int)
            or isinstance(sliding_window, bool)
            or sliding_window <= 0
        ):
            raise ValueError(
                f"{self._owner} '{self.name}': sliding_window must be a positive int or None; "
                f"received sliding_window={sliding_window!r}."
            )
        self.sliding_window = sliding_window
        self.flash_attention = flash_attention
        self.supports_masking = True

    def _projection(self, tail: tuple, contract: int, name: str) -> _Projection:
        """An (unbuilt) projection to ``tail`` contracting the input's last
        ``contract`` axes, with this layer's initializers, regularizers and constraints."""
        return _Projection(tail, contract, self, name=name, dtype=self.dtype_policy)

    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None,
                                key_mask=None, attention_mask=None,
                                use_causal_mask=False):  # fmt: skip
        """The ``(B, T, S)`` boolean mask merging every mask given (or ``None``)."""
        return merge_attention_masks(query.shape[1], value.shape[1], query_mask, value_mask,
                                     key_mask, attention_mask, use_causal_mask,
                                     self.sliding_window)  # fmt: skip

    def _expand_key_value_heads(self, x):
        """Projected keys or values as the query heads see them (the identity
        here; grouped-query attention repeats each head)."""
        return x

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        return_attention_scores=False,
        training=None,
        use_causal_mask=False,
    ):
        key = value if key is None else key
        features = self._query_dense.kernel.shape[0]
        if query.shape[-1] != features:
            raise ValueError(
                f"{self._owner} '{self.name}' was built for query features {features}; "
                f"received query with shape {tuple(query.shape)}."
            )
        mask = self._compute_attention_mask(
            query, value, query_mask, value_mask, key_mask, attention_mask, use_causal_mask
        )
        gate = jax.nn.sigmoid(self._gate_dense(query)) if self.use_gate else None
        q = self._query_dense(query)
        k = self._expand_key_value_heads(self._key_dense(key))
        v = self._expand_key_value_heads(self._value_dense(value))
        output, scores = self._compute_attention(q, k, v, mask, training)
        if gate is not None:
            output = output * gate
        output = self._output_dense(output)
        if return_attention_scores:
            return output, scores
        return output
