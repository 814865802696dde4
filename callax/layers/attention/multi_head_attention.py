"""``MultiHeadAttention`` with Keras's weight structure, so weights move between
Keras and callax."""

from __future__ import annotations

import math
import string
from typing import Any

import jax.numpy as jnp

from callax.layers.attention.base_attention import _masked_softmax
from callax.layers.attention.projected_attention import _ProjectedAttention
from callax.layers.regularization.dropout import Dropout
from callax.layers.weight_args import weight_args_config, weight_arguments


class MultiHeadAttention(_ProjectedAttention):
    """Multi-head scaled dot-product attention (Vaswani et al., 2017).

    ``query (B, T, dim)``, ``value (B, S, dim_v)`` and optional ``key`` are
    projected per head, scores ``softmax(q . k / sqrt(key_dim))`` combine the
    values, and an output projection returns ``(B, T, output_shape or dim)``.
    Inputs may have several attention axes (``attention_axes``), e.g. images.

    Args:
        num_heads: number of heads.
        key_dim: size of each head for query and key.
        value_dim: size of each head for value (default ``key_dim``).
        dropout: dropout rate on the attention probabilities (training only).
        use_bias: whether the projections have biases.
        output_shape: last dimension(s) of the output (default: query's last dim).
        attention_axes: axes attended over (default: all but batch, heads, features).
        kernel_initializer, bias_initializer, regularizers, constraints: for the
            projections.
        seed: dropout seed.

    Weights (Keras's structure): sublayers ``query``/``key``/``value`` with
    ``kernel (dim, num_heads, key_dim)`` and ``bias (num_heads, key_dim)``, and
    ``attention_output`` with ``kernel (num_heads, value_dim, dim)``, ``bias (dim,)``.

    ``call(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
    attention_mask=None, return_attention_scores=False, training=None,
    use_causal_mask=False)``; masks are booleans, ``attention_mask`` ``(B, T, S)``.

    Example:
        >>> import callax
        >>> mha = callax.layers.MultiHeadAttention(num_heads=2, key_dim=4)
        >>> q, v = callax.ops.ones((1, 3, 8)), callax.ops.ones((1, 5, 8))
        >>> out, scores = mha(q, v, return_attention_scores=True)
        >>> out.shape, scores.shape
        ((1, 3, 8), (1, 2, 3, 5))
        >>> mha.query_dense.kernel.shape
        (8, 2, 4)
    """

    _kernel_call = True
    _owner = "MultiHeadAttention"

    @weight_arguments("kernel", "bias", after="flash_attention")
    def __init__(
        self,
        num_heads: int,
        key_dim: int,
        value_dim: int | None = None,
        dropout: float = 0.0,
        use_bias: bool = True,
        output_shape: Any = None,
        attention_axes: Any = None,
        flash_attention: bool | None = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        sliding_window = kwargs.pop("sliding_window", None)
        use_gate = bool(kwargs.pop("use_gate", False))
        super().__init__(**kwargs)
        self.num_heads = self._positive_int("num_heads", num_heads)
        self.key_dim = self._positive_int("key_dim", key_dim)
        self._init_projections(dropout, use_bias, use_gate, seed, sliding_window, flash_attention)
        self.value_dim = value_dim if value_dim else key_dim
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_shape = None if output_shape is None else tuple(output_shape)
        if attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            attention_axes = (attention_axes,)
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self.key_dim))

    # --------------------------------------------------------------- build
    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        if tuple(value_shape[1:-1]) != tuple(key_shape[1:-1]):
            raise ValueError(
                f"MultiHeadAttention '{self.name}': key and value must have the same shape "
                f"apart from the last axis; received value shape {tuple(value_shape)} and key "
                f"shape {tuple(key_shape)}."
            )
        rank = len(query_shape)
        if rank < 3:
            raise ValueError(
                f"MultiHeadAttention '{self.name}' expects query of rank >= 3 (batch, ..., "
                f"features); received query shape {tuple(query_shape)}."
            )
        if len(value_shape) != rank or len(key_shape) != rank:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': query, key and value must have the same "
                f"rank; received query shape {tuple(query_shape)}, key shape "
                f"{tuple(key_shape)} and value shape {tuple(value_shape)}."
            )
        self._attn_axes = self._resolve_axes(rank)
        self._query_shape = tuple(query_shape)
        heads = (self.num_heads, self.key_dim)
        # Created in Keras's order (query, key, [gate], value, output) for weight loading.
        self.query_dense = self._projection(heads, 1, "query")
        self.query_dense.build(query_shape)
        self.key_dense = self._projection(heads, 1, "key")
        self.key_dense.build(key_shape)
        if self.use_gate:
            self.gate_dense = self._projection((self.num_heads, self.value_dim), 1, "gate")
            self.gate_dense.build(query_shape)
        self.value_dense = self._projection((self.num_heads, self.value_dim), 1, "value")
        self.value_dense.build(value_shape)
        out_shape = self._output_shape or (int(query_shape[-1]),)
        self.output_dense = self._projection(out_shape, 2, "attention_output")
        self.output_dense.build(tuple(query_shape[:-1]) + (self.num_heads, self.value_dim))
        for sub in self._sublayers():
            sub.built = True
        self.dropout_layer = Dropout(self.dropout, seed=self.seed) if self.dropout > 0 else None

    def _sublayers(self):
        gate = [self.gate_dense] if self.use_gate else []
        return [self.query_dense, self.key_dense, *gate, self.value_dense, self.output_dense]

    def _resolve_axes(self, rank: int) -> tuple[int, ...]:
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = []
        for a in self.attention_axes:
            if not isinstance(a, int) or not -rank <= a < rank or a % rank in (0, rank - 1):
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': attention_axes must index the "
                    f"non-batch, non-feature axes of query (rank {rank}); received "
                    f"attention_axes={self.attention_axes}."
                )
            axes.append(a % rank)
        return tuple(sorted(set(axes)))

    # ---------------------------------------------------------------- call
    def _equations(self, rank: int) -> tuple[str, str]:
        """Einsum equations for scores and combination over projected tensors of
        rank ``rank + 1`` (``(B, *axes, heads, dim)``)."""
        letters = string.ascii_lowercase
        n = rank + 1  # projected rank
        heads = n - 2
        attn = self._attn_axes
        batch_axes = [a for a in range(n - 2) if a not in attn]
        q = "".join(letters[i] for i in range(n))
        k = list(q)
        for j, a in enumerate(attn):  # key's attended axes get their own letters
            k[a] = letters[n + j]
        k = "".join(k)
        scores = (
            "".join(q[a] for a in batch_axes) + q[heads] + "".join(q[a] for a in attn)
            + "".join(k[a] for a in attn)
        )  # fmt: skip
        dot = f"{k},{q}->{scores}"
        v_out = q[: n - 1] + letters[n + len(attn)]  # value dim gets a fresh letter
        value = k[: n - 1] + letters[n + len(attn)]
        combine = f"{scores},{value}->{v_out}"
        return dot, combine

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):  # fmt: skip
        # Keras's signature: libraries (KerasHub) override `call` and call this with
        # projected (B, T, heads, dim) tensors and a (B, T, S) mask.
        if use_causal_mask and attention_mask is None:
            t, s = query.shape[1], key.shape[1]
            attention_mask = jnp.tril(jnp.ones((t, s), bool))[None]
        dot, combine = self._equations(query.ndim - 1)
        query = query * jnp.asarray(self._inverse_sqrt_key_dim, query.dtype)
        scores = jnp.einsum(dot, key, query)
        n_attn = len(self._attn_axes)
        if attention_mask is not None:
            # (B, T, S) -> (B, 1, T, S): insert the heads axis (and any missing ones).
            while attention_mask.ndim < scores.ndim:
                attention_mask = jnp.expand_dims(attention_mask, -2 * n_attn - 1)
        probs = _masked_softmax(scores, attention_mask, n_attn)
        dropped = probs
        if self.dropout_layer is not None:
            dropped = self.dropout_layer(probs, training=training)
        return jnp.einsum(combine, dropped, value), probs

    # Keras's private names, which layers built on Keras's MultiHeadAttention use
    # (KerasHub's CachedMultiHeadAttention projects with `_query_dense` etc.).
    _query_dense = property(lambda self: self.query_dense)
    _key_dense = property(lambda self: self.key_dense)
    _value_dense = property(lambda self: self.value_dense)
    _output_dense = property(lambda self: self.output_dense)
    _gate_dense = property(lambda self: self.gate_dense)
    _num_heads = property(lambda self: self.num_heads)
    _key_dim = property(lambda self: self.key_dim)
    _value_dim = property(lambda self: self.value_dim)
    _dropout = property(lambda self: self.dropout)
    _use_bias = property(lambda self: self.use_bias)
    _attention_axes = property(lambda self: self._attn_axes)
    _dot_product_equation = property(lambda self: self._equations(len(self._query_shape))[0])
    _combine_equation = property(lambda self: self._equations(len(self._query_shape))[1])

    def _masked_softmax(self, attention_scores, attention_mask=None):
        """Softmax of ``(B, heads, T, S)`` scores over the attended key axes,
        ``attention_mask`` (``(B, T, S)``) broadcast over the heads."""
        n_attn = len(self._attn_axes)
        if attention_mask is not None:
            attention_mask = jnp.asarray(attention_mask).astype(bool)
            while attention_mask.ndim < attention_scores.ndim:
                attention_mask = jnp.expand_dims(attention_mask, -2 * n_attn - 1)
        return _masked_softmax(attention_scores, attention_mask, n_attn)

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        if self._output_shape:
            return tuple(query_shape[:-1]) + self._output_shape
        return tuple(query_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": self.use_gate,
            "output_shape": self._output_shape,
            "attention_axes": self.attention_axes,
            "sliding_window": self.sliding_window,
            **weight_args_config(self, "kernel", "bias"),
            "seed": self.seed,
        }
