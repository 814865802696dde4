"""What the attention layers share: the masked softmax, the einsum projections and
the merging of query/value/key masks into one attention mask."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.core.lora import LoraMixin
from callax.layers.weight_args import add_weight_from_args, weight_arg_names


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
    (shape ``kernel.shape[contract:]``), with the ``use_bias`` and ``kernel_*``/``bias_*``
    arguments of the attention layer ``owner``. Weight names are Keras's."""

    _kernel_call = True

    def __init__(self, kernel_tail: tuple, contract: int, owner: Layer, **kwargs: Any):
        super().__init__(**kwargs)
        self.kernel_tail = tuple(kernel_tail)
        self.contract = contract
        self.use_bias = owner.use_bias
        for name in weight_arg_names("kernel", "bias"):
            setattr(self, name, getattr(owner, name))
        self._lora_setup(None, None)  # KerasHub's enable_lora finds these by name

    def build(self, input_shape):
        head = tuple(int(d) for d in input_shape[len(input_shape) - self.contract :])
        self.kernel = add_weight_from_args(
            self, "kernel", shape=head + self.kernel_tail, name="kernel"
        )
        self.bias = None
        if self.use_bias:
            self.bias = add_weight_from_args(self, "bias", shape=self.kernel_tail, name="bias")

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
