"""ReversibleEmbedding: an embedding that can also project hidden states back to logits."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core import masking as _masking
from callax.layers.core.embedding import Embedding
from callax.layers.weight_args import weight_arguments


class ReversibleEmbedding(Embedding):
    """An ``Embedding`` that, called with ``reverse=True``, maps hidden vectors of
    size ``output_dim`` back to ``input_dim`` logits (a language model's output
    layer sharing the input embedding, as in Keras 3's ``layers.ReversibleEmbedding``).

    Args:
        input_dim: vocabulary size.
        output_dim: hidden size.
        tie_weights: ``True`` (default): the reverse projection is
            ``x @ embeddings.T``. ``False``: it uses a separate trainable
            ``reverse_embeddings`` matrix of shape ``(output_dim, input_dim)``,
            created with the embeddings' initializer.
        embeddings_initializer, embeddings_regularizer, embeddings_constraint,
        mask_zero: as in ``Embedding``.
        reverse_dtype: dtype the reverse matmul runs in (inputs and kernel are
            cast to it); ``None`` keeps the compute dtype.
        logit_soft_cap: if set, reverse logits become
            ``tanh(logits / logit_soft_cap) * logit_soft_cap``.

    Call arguments:
        inputs: integer ids (forward) or hidden states (``reverse=True``).
        reverse: which direction to run.

    Example:
        >>> import numpy as np, callax
        >>> emb = callax.layers.ReversibleEmbedding(10, 4)
        >>> hidden = emb(np.array([[1, 2, 3]]))
        >>> hidden.shape, emb(hidden, reverse=True).shape
        ((1, 3, 4), (1, 3, 10))
    """

    # The forward call attaches its mask itself (a reverse call must not get one),
    # which a per-layer compiled kernel could not carry out: run op by op.
    _kernel_call = False

    @weight_arguments("embeddings", after="tie_weights", activity_regularizer=False)
    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        tie_weights: bool = True,
        mask_zero: bool = False,
        reverse_dtype: Any = None,
        logit_soft_cap: float | None = None,
        *,
        weight_args: dict,
        **kwargs: Any,
    ):
        # Embedding declares the same weight arguments: hand them on.
        super().__init__(input_dim, output_dim, mask_zero=mask_zero, **weight_args, **kwargs)
        if logit_soft_cap is not None and (
            isinstance(logit_soft_cap, bool)
            or not isinstance(logit_soft_cap, (int, float))
            or logit_soft_cap <= 0
        ):
            raise ValueError(
                f"ReversibleEmbedding '{self.name}': logit_soft_cap must be None or a "
                f"positive number; received logit_soft_cap={logit_soft_cap!r}."
            )
        if reverse_dtype is not None:
            try:
                jnp.dtype(reverse_dtype)
            except TypeError as error:
                raise ValueError(
                    f"ReversibleEmbedding '{self.name}': reverse_dtype must be None or a "
                    f"dtype name; received reverse_dtype={reverse_dtype!r}."
                ) from error
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap

    def build(self, input_shape: Any = None) -> None:
        if self.built:
            return
        super().build(input_shape)
        if not self.tie_weights:
            self.reverse_embeddings = self.add_weight(
                shape=(self.output_dim, self.input_dim),
                initializer=self.embeddings_initializer,
                name="reverse_embeddings",
            )

    def call(self, inputs, reverse: bool = False):
        if not reverse:
            outputs = super().call(inputs)
            if self.mask_zero:
                _masking.set_mask(outputs, jnp.not_equal(inputs, 0))
            return outputs
        if jnp.issubdtype(inputs.dtype, jnp.integer):
            raise TypeError(
                f"ReversibleEmbedding '{self.name}': reverse=True expects floating hidden "
                f"states of shape (..., {self.output_dim}); received integer inputs of "
                f"dtype {inputs.dtype}."
            )
        if inputs.shape[-1] != self.output_dim:
            raise ValueError(
                f"ReversibleEmbedding '{self.name}': reverse=True expects inputs whose last "
                f"dimension is output_dim={self.output_dim}; received shape {inputs.shape}."
            )
        if self.tie_weights:
            kernel = jnp.transpose(self._lora_value())
        else:
            kernel = self.reverse_embeddings.value
        if self.reverse_dtype is not None:
            inputs = inputs.astype(self.reverse_dtype)
            kernel = kernel.astype(self.reverse_dtype)
        logits = jnp.matmul(inputs, kernel)
        if self.logit_soft_cap is not None:
            cap = self.logit_soft_cap
            logits = jnp.tanh(logits / cap) * cap
        return logits

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        # The forward call attaches ``inputs != 0`` itself; a reverse call has no mask.
        return None

    def compute_output_shape(self, input_shape, reverse: bool = False):
        if reverse:
            return tuple(input_shape)[:-1] + (self.input_dim,)
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "tie_weights": self.tie_weights,
            "reverse_dtype": self.reverse_dtype,
            "logit_soft_cap": self.logit_soft_cap,
        }
