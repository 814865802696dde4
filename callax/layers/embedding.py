"""Embedding: integer indices to dense vectors."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax import constraints, initializers, regularizers
from callax.core.layer import Layer


def _ser(module, obj):
    return None if obj is None else module.serialize(obj)


class Embedding(Layer):
    """Maps integer indices in ``[0, input_dim)`` to rows of a trainable
    ``embeddings`` matrix of shape ``(input_dim, output_dim)``.

    Args:
        input_dim: vocabulary size (largest index + 1).
        output_dim: size of each embedding vector.
        embeddings_initializer: default ``"uniform"`` (uniform in [-0.05, 0.05]).
        embeddings_regularizer, embeddings_constraint: as in Keras.
        mask_zero: whether index 0 is padding; then ``compute_mask(inputs)``
            returns ``inputs != 0`` (pass it as ``mask=`` to an RNN or attention
            layer) and ``input_dim`` should count index 0.
        weights: optional initial ``[embeddings]`` array list.

    Shapes: ``(..., )`` integer indices -> ``(..., output_dim)``. Out-of-range
    indices are clamped (JAX gathers never fail on device).

    Example:
        >>> import callax
        >>> emb = callax.layers.Embedding(10, 4, mask_zero=True)
        >>> ids = callax.ops.array([[1, 2, 0]])
        >>> emb(ids).shape
        (1, 3, 4)
        >>> emb.compute_mask(ids).tolist()
        [[True, True, False]]
    """

    _kernel_call = True

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        weights: Any = None,
        lora_rank: int | None = None,
        **kwargs: Any,
    ):
        kwargs.pop("input_length", None)  # deprecated in Keras 3 and ignored there
        kwargs.pop("lora_alpha", None)
        kwargs.pop("quantization_config", None)
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Embedding '{self.name}': {arg} must be a positive int; received "
                    f"{arg}={value!r} (of type {type(value).__name__})."
                )
        if lora_rank is not None:
            raise ValueError(
                f"Embedding '{self.name}': LoRA is not supported by callax; received "
                f"lora_rank={lora_rank!r}."
            )
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
        if isinstance(embeddings_initializer, str) and embeddings_initializer in (
            "uniform",
            "normal",
        ):
            # Keras's short aliases for RandomUniform / RandomNormal with default ranges.
            embeddings_initializer = "random_" + embeddings_initializer
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.autocast = False  # indices must stay integers
        if weights is not None:
            self.build()
            values = weights if isinstance(weights, (list, tuple)) else [weights]
            if len(values) != 1 or tuple(np.shape(values[0])) != self.embeddings.shape:
                raise ValueError(
                    f"Embedding '{self.name}': weights must be [array of shape "
                    f"{self.embeddings.shape}]; received shapes "
                    f"{[tuple(np.shape(v)) for v in values]}."
                )
            self.embeddings.assign(values[0])

    def build(self, input_shape: Any = None) -> None:
        if self.built:
            return
        self.embeddings = self.add_weight(
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            name="embeddings",
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
        )
        self.built = True

    def call(self, inputs):
        if not jnp.issubdtype(inputs.dtype, jnp.integer):
            if not jnp.issubdtype(inputs.dtype, jnp.floating):
                raise TypeError(
                    f"Embedding '{self.name}' expects integer indices; received inputs of "
                    f"dtype {inputs.dtype}."
                )
            inputs = inputs.astype(jnp.int32)  # Keras accepts float-typed indices too
        out = jnp.take(self.embeddings.value, inputs, axis=0, mode="clip")
        return out.astype(self.compute_dtype)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """``inputs != 0`` when ``mask_zero``, else ``None``."""
        if not self.mask_zero:
            return None
        return jnp.not_equal(jnp.asarray(inputs), 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        return {
            **super().get_config(),
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": _ser(regularizers, self.embeddings_regularizer),
            "embeddings_constraint": _ser(constraints, self.embeddings_constraint),
            "mask_zero": self.mask_zero,
        }
