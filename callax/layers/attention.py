"""Attention layers: MultiHeadAttention (Keras's weight structure) and
Attention (dot-product / concat scores)."""

from __future__ import annotations

import math
import string
from typing import Any

import jax
import jax.numpy as jnp

from callax import constraints, initializers, random, regularizers
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator
from callax.layers.lora import LoraMixin
from callax.layers.regularization import Dropout


def _ser(module, obj):
    return None if obj is None else module.serialize(obj)


def _masked_softmax(scores: jax.Array, mask: jax.Array | None, n_axes: int = 1) -> jax.Array:
    """Softmax over the last ``n_axes`` axes (all the key's attended axes)."""
    axes = tuple(range(-n_axes, 0))
    if mask is None:
        return jax.nn.softmax(scores, axis=axes)
    big_negative = -3e4 if scores.dtype == jnp.float16 else -1e9
    probs = jax.nn.softmax(jnp.where(mask, scores, big_negative), axis=axes)
    # A row with every key masked gives zeros, not a uniform distribution.
    return jnp.where(mask, probs, 0.0)


class _Projection(LoraMixin, Layer):
    """The ``EinsumDense`` sublayers of MultiHeadAttention: contracts the last
    ``contract`` input axes with the leading axes of ``kernel`` and adds ``bias``
    (shape ``kernel.shape[contract:]``). Weight names are Keras's."""

    _kernel_call = True

    def __init__(self, kernel_tail: tuple, contract: int, use_bias: bool, kernel_initializer,
                 bias_initializer, kernel_regularizer, bias_regularizer, kernel_constraint,
                 bias_constraint, **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        self.kernel_tail = tuple(kernel_tail)
        self.contract = contract
        self.use_bias = use_bias
        self.kernel_initializer = kernel_initializer
        self.bias_initializer = bias_initializer
        self.kernel_regularizer = kernel_regularizer
        self.bias_regularizer = bias_regularizer
        self.kernel_constraint = kernel_constraint
        self.bias_constraint = bias_constraint
        self._lora_setup(None, None)  # KerasHub's enable_lora finds these by name

    def build(self, input_shape):
        head = tuple(int(d) for d in input_shape[len(input_shape) - self.contract :])
        self.kernel = self.add_weight(
            shape=head + self.kernel_tail, name="kernel", initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=self.kernel_tail, name="bias", initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip

    def call(self, inputs):
        axes = (tuple(range(inputs.ndim - self.contract, inputs.ndim)), tuple(range(self.contract)))
        kernel = self._lora_value() if self.lora_enabled else self.kernel.value
        out = jnp.tensordot(inputs, kernel, axes=axes)
        if self.bias is not None:
            out = out + self.bias.value
        return out


def merge_attention_masks(t: int, s: int, query_mask: Any, value_mask: Any, key_mask: Any,
                          attention_mask: Any, use_causal_mask: bool,
                          sliding_window: int | None) -> Any:  # fmt: skip
    """The ``(B, T, S)`` boolean mask merging every mask given (``None`` if none is):
    query ``(B, T)``, value/key ``(B, S)``, causal, a sliding window ``|t - s| < w``,
    and an explicit ``attention_mask``. Shared by MultiHeadAttention and
    GroupedQueryAttention."""
    mask = None

    def merge(m):
        nonlocal mask
        mask = m if mask is None else jnp.logical_and(mask, m)

    if query_mask is not None:
        merge(jnp.asarray(query_mask).astype(bool)[..., :, None])
    if value_mask is not None:
        merge(jnp.asarray(value_mask).astype(bool)[..., None, :])
    if key_mask is not None:
        merge(jnp.asarray(key_mask).astype(bool)[..., None, :])
    if use_causal_mask:
        merge(jnp.tril(jnp.ones((t, s), bool))[None])
    if sliding_window is not None:
        rows, cols = jnp.arange(t)[:, None], jnp.arange(s)[None, :]
        merge((jnp.abs(rows - cols) < sliding_window)[None])
    if attention_mask is not None:
        merge(jnp.asarray(attention_mask).astype(bool))
    return mask


class MultiHeadAttention(Layer):
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
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        seed: int | None = None,
        **kwargs: Any,
    ):
        sliding_window = kwargs.pop("sliding_window", None)
        use_gate = bool(kwargs.pop("use_gate", False))
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for arg, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"MultiHeadAttention '{self.name}': {arg} must be a positive int; "
                    f"received {arg}={value!r}."
                )
        if not 0 <= dropout <= 1:
            raise ValueError(
                f"MultiHeadAttention '{self.name}': dropout must be in [0, 1]; received "
                f"dropout={dropout!r}."
            )
        if sliding_window is not None and (
            not isinstance(sliding_window, int) or sliding_window <= 0
        ):
            raise ValueError(
                f"MultiHeadAttention '{self.name}': sliding_window must be a positive int or "
                f"None; received sliding_window={sliding_window!r}."
            )
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.value_dim = value_dim if value_dim else key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        self.use_gate = use_gate
        self.sliding_window = sliding_window
        if isinstance(output_shape, int):
            output_shape = (output_shape,)
        self._output_shape = None if output_shape is None else tuple(output_shape)
        if attention_axes is not None and not isinstance(attention_axes, (list, tuple)):
            attention_axes = (attention_axes,)
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self.key_dim))
        self.supports_masking = True

    # --------------------------------------------------------------- build
    def _projection(self, tail: tuple, contract: int, name: str) -> _Projection:
        return _Projection(
            tail, contract, self.use_bias, self.kernel_initializer, self.bias_initializer,
            self.kernel_regularizer, self.bias_regularizer, self.kernel_constraint,
            self.bias_constraint, name=name, dtype=self.dtype_policy,
        )  # fmt: skip

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

    def _attention_mask(self, query, value, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask):  # fmt: skip
        return merge_attention_masks(query.shape[1], value.shape[1], query_mask, value_mask,
                                     key_mask, attention_mask, use_causal_mask,
                                     self.sliding_window)  # fmt: skip

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
        if query.shape[-1] != self.query_dense.kernel.shape[0]:
            raise ValueError(
                f"MultiHeadAttention '{self.name}' was built for query features "
                f"{self.query_dense.kernel.shape[0]}; received query with shape "
                f"{tuple(query.shape)}."
            )
        mask = self._attention_mask(query, value, query_mask, value_mask, key_mask,
                                    attention_mask, use_causal_mask)  # fmt: skip
        gate = self.gate_dense(query) if self.use_gate else None
        q = self.query_dense(query)
        k = self.key_dense(key)
        v = self.value_dense(value)
        output, scores = self._compute_attention(q, k, v, mask, training)
        if gate is not None:
            output = output * jax.nn.sigmoid(gate)
        output = self.output_dense(output)
        if return_attention_scores:
            return output, scores
        return output

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
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
            "bias_regularizer": _ser(regularizers, self.bias_regularizer),
            "kernel_constraint": _ser(constraints, self.kernel_constraint),
            "bias_constraint": _ser(constraints, self.bias_constraint),
            "seed": self.seed,
        }


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
