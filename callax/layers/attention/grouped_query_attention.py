"""GroupedQueryAttention (Ainslie et al., 2023): Keras 3's layer, with its weight
structure, so weights move between Keras and callax."""

from __future__ import annotations

import math
from typing import Any

import jax.numpy as jnp

from callax.layers.attention.base_attention import _masked_softmax
from callax.layers.attention.projected_attention import _ProjectedAttention
from callax.layers.regularization.dropout import Dropout
from callax.layers.weight_args import weight_args_config, weight_arguments


class GroupedQueryAttention(_ProjectedAttention):
    """Grouped-query attention: ``num_query_heads`` query heads share
    ``num_key_value_heads`` key/value heads (each key/value head serves
    ``num_query_heads // num_key_value_heads`` query heads).

    ``query (B, T, dim)``, ``value (B, S, dim_v)`` and optional ``key (B, S, dim_k)``
    are projected per head, scores ``softmax(q . k / sqrt(head_dim))`` combine the
    values and an output projection returns ``(B, T, dim)``.

    Args:
        head_dim: size of each attention head.
        num_query_heads: number of query heads.
        num_key_value_heads: number of key and value heads; must divide
            ``num_query_heads``.
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: whether the projections have biases.
        flash_attention: accepted for Keras compatibility (the result is the same
            attention); ``True`` with ``dropout > 0`` is an error, as in Keras.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
            activity_regularizer, kernel_constraint, bias_constraint: for the
            projections.
        seed: dropout seed.
        use_gate, sliding_window: Keras 3.15's optional sigmoid output gate and
            banded attention window.

    Weights (Keras's structure and order): sublayers ``query`` with kernel
    ``(dim, num_query_heads, head_dim)``, ``key`` and ``value`` with kernels
    ``(dim, num_key_value_heads, head_dim)``, ``attention_output`` with kernel
    ``(num_query_heads, head_dim, dim)``; biases are the kernels' trailing axes.

    ``call(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)``; masks are booleans, ``attention_mask`` ``(B, T, S)``,
    scores ``(B, num_query_heads, T, S)``.

    Example:
        >>> import callax
        >>> gqa = callax.layers.GroupedQueryAttention(
        ...     head_dim=4, num_query_heads=4, num_key_value_heads=2)
        >>> q, v = callax.ops.ones((1, 3, 8)), callax.ops.ones((1, 5, 8))
        >>> out, scores = gqa(q, v, return_attention_scores=True)
        >>> out.shape, scores.shape
        ((1, 3, 8), (1, 4, 3, 5))
        >>> gqa.key_dense.kernel.shape
        (8, 2, 4)
    """

    _kernel_call = True
    _owner = "GroupedQueryAttention"

    @weight_arguments("kernel", "bias", after="flash_attention")
    def __init__(
        self,
        head_dim: int,
        num_query_heads: int,
        num_key_value_heads: int,
        dropout: float = 0.0,
        use_bias: bool = True,
        sliding_window: int | None = None,
        flash_attention: bool | None = None,
        use_gate: bool = False,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.head_dim = self._positive_int("head_dim", head_dim)
        self.num_query_heads = self._positive_int("num_query_heads", num_query_heads)
        self.num_key_value_heads = self._positive_int("num_key_value_heads", num_key_value_heads)
        if num_query_heads % num_key_value_heads:
            raise ValueError(
                f"GroupedQueryAttention '{self.name}': num_query_heads must be divisible by "
                f"num_key_value_heads; received num_query_heads={num_query_heads} and "
                f"num_key_value_heads={num_key_value_heads}."
            )
        self.num_repeats = num_query_heads // num_key_value_heads
        self._init_projections(dropout, use_bias, use_gate, seed, sliding_window, flash_attention)
        if flash_attention and dropout > 0:
            raise ValueError(
                f"GroupedQueryAttention '{self.name}': dropout is not supported with "
                f"flash_attention=True; set dropout=0.0. Received dropout={dropout!r}."
            )
        self._inverse_sqrt_head_dim = 1.0 / math.sqrt(float(self.head_dim))

    # --------------------------------------------------------------- build
    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        for arg, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(shape) != 3:
                raise ValueError(
                    f"GroupedQueryAttention '{self.name}' expects {arg} of rank 3 (batch, "
                    f"sequence, features); received {arg} shape {tuple(shape)}."
                )
        if value_shape[1] is not None and key_shape[1] is not None:
            if int(value_shape[1]) != int(key_shape[1]):
                raise ValueError(
                    f"GroupedQueryAttention '{self.name}': key and value must have the same "
                    f"sequence length; received value shape {tuple(value_shape)} and key "
                    f"shape {tuple(key_shape)}."
                )
        self.feature_dim = int(query_shape[-1])
        q_heads = (self.num_query_heads, self.head_dim)
        kv_heads = (self.num_key_value_heads, self.head_dim)
        # Keras's creation order (query, key, [gate], value, output) for weight loading.
        self._query_dense = self._projection(q_heads, 1, "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._projection(kv_heads, 1, "key")
        self._key_dense.build(key_shape)
        if self.use_gate:
            self._gate_dense = self._projection(q_heads, 1, "gate")
            self._gate_dense.build(query_shape)
        self._value_dense = self._projection(kv_heads, 1, "value")
        self._value_dense.build(value_shape)
        self._output_dense = self._projection((self.feature_dim,), 2, "attention_output")
        self._output_dense.build((None, None, *q_heads))
        for sub in self._sublayers():
            sub.built = True
        self._dropout_layer = Dropout(self.dropout, seed=self.seed) if self.dropout > 0 else None

    def _sublayers(self):
        gate = [self._gate_dense] if self.use_gate else []
        return [self._query_dense, self._key_dense, *gate, self._value_dense, self._output_dense]

    # The sublayers live under Keras's attribute names (``_query_dense``...), which are
    # also their weight-file groups; public read-only aliases:
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)
    _dot_product_equation = "bquh,bkuh->buqk"
    _combine_equation = "buqk,bkuh->bquh"

    # ---------------------------------------------------------------- call
    def _expand_key_value_heads(self, x):
        # Each key/value head serves `num_repeats` consecutive query heads.
        return jnp.repeat(x, self.num_repeats, axis=2)

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           use_causal_mask=False):  # fmt: skip
        """Attention of projected ``(B, T, heads, head_dim)`` tensors (keys and values
        already repeated to ``num_query_heads``); returns ``(output, scores)``."""
        if use_causal_mask:
            causal = jnp.tril(jnp.ones((query.shape[1], key.shape[1]), bool))[None]
            attention_mask = (
                causal if attention_mask is None
                else jnp.logical_and(jnp.asarray(attention_mask).astype(bool), causal)
            )  # fmt: skip
        query = query * jnp.asarray(self._inverse_sqrt_head_dim, query.dtype)
        scores = jnp.einsum(self._dot_product_equation, query, key)
        probs = self._masked_softmax(scores, attention_mask)
        dropped = probs
        if self._dropout_layer is not None:
            dropped = self._dropout_layer(probs, training=training)
        return jnp.einsum(self._combine_equation, dropped, value), probs

    def _masked_softmax(self, scores, attention_mask=None):
        """Softmax of ``(B, heads, T, S)`` scores over keys; ``attention_mask``
        (``(B, T, S)``) is broadcast over the heads."""
        if attention_mask is not None:
            attention_mask = jnp.asarray(attention_mask).astype(bool)
            while attention_mask.ndim < scores.ndim:
                attention_mask = jnp.expand_dims(attention_mask, -3)
        return _masked_softmax(scores, attention_mask, 1)

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "head_dim": self.head_dim,
            "num_query_heads": self.num_query_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "sliding_window": self.sliding_window,
            "dropout": self.dropout,
            **weight_args_config(self, "kernel", "bias"),
            "seed": self.seed,
        }


GroupQueryAttention = GroupedQueryAttention
