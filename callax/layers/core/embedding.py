"""Embedding: integer indices to dense vectors."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core.layer import Layer
from callax.core.structure import ArrayImpl as _ArrayImpl
from callax.layers.core.lora import LoraMixin
from callax.layers.weight_args import add_weight_from_args, weight_args_config, weight_arguments


@jax.jit
def _id_stats(ids: Any) -> Any:
    """Smallest id, largest id, and whether any float id has a fraction: one
    small host transfer per eager call."""
    floating = jnp.issubdtype(ids.dtype, jnp.floating)
    fractional = jnp.any(ids != jnp.floor(ids)) if floating else jnp.asarray(False)
    return jnp.min(ids), jnp.max(ids), fractional


class Embedding(LoraMixin, Layer):
    _lora_target = "embeddings"
    _lora_names = ("lora_embeddings_a", "lora_embeddings_b")
    _lora_regularizer = "embeddings_regularizer"
    _lora_constraint = "embeddings_constraint"

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

    Shapes: ``(..., )`` integer indices -> ``(..., output_dim)``. Called eagerly
    (concrete ids), an id outside ``[0, input_dim)`` or a non-integer float id
    (``1.5``; ``2.0`` is fine) raises a ``ValueError`` naming it; this reads the
    ids' range back to the host once per call. Under ``jit``/``fit``/tracing ids
    cannot be checked, so such an id gives a row of NaN (as Keras), never a
    valid-looking row of another id.

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

    @weight_arguments("embeddings", after="output_dim", activity_regularizer=False)
    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        mask_zero: bool = False,
        weights: Any = None,
        lora_rank: int | None = None,
        **kwargs: Any,
    ):
        kwargs.pop("input_length", None)  # deprecated in Keras 3 and ignored there
        lora_alpha = kwargs.pop("lora_alpha", None)
        kwargs.pop("quantization_config", None)
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
                raise ValueError(
                    f"Embedding '{self.name}': {arg} must be a positive int; received "
                    f"{arg}={value!r} (of type {type(value).__name__})."
                )
        self._lora_setup(lora_rank, lora_alpha)
        self.input_dim = int(input_dim)
        self.output_dim = int(output_dim)
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
        self.embeddings = add_weight_from_args(
            self, "embeddings", shape=(self.input_dim, self.output_dim), name="embeddings"
        )
        self.built = True
        self._lora_after_build()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # Concrete ids are checked here, before the protocol (the call itself may
        # run traced inside a compiled per-layer kernel, where nothing can raise).
        # `reverse=True` (ReversibleEmbedding) takes hidden states, not ids.
        if args and len(args) == 1 and not kwargs.get("reverse"):
            ids = args[0]
            if type(ids) is _ArrayImpl or isinstance(ids, (np.ndarray, list, np.generic, int)):
                self._check_ids(ids)
        return super().__call__(*args, **kwargs)

    def _check_ids(self, ids: Any) -> None:
        """Raises for an id outside ``[0, input_dim)`` or a fractional float id."""
        dtype = getattr(ids, "dtype", None)  # (a dtype is falsy: no `or` here)
        kind = np.dtype(dtype if dtype is not None else np.asarray(ids).dtype).kind
        if kind not in "iuf":
            return  # call's own TypeError names the dtype
        if type(ids) is _ArrayImpl and any(d.platform != "cpu" for d in ids.devices()):
            # On an accelerator: reduce there, bring back three numbers.
            if ids.size == 0:
                return
            low, high, fractional = jax.device_get(_id_stats(ids))
        else:  # host memory (a CPU array reads as numpy without a copy): a few us
            host = np.asarray(ids)
            if host.size == 0:
                return
            low, high = host.min(), host.max()
            fractional = kind == "f" and bool(np.any(host != np.floor(host)))
        if fractional:
            bad = np.asarray(ids).ravel()
            bad = float(bad[bad != np.floor(bad)][0])
            raise ValueError(
                f"Embedding '{self.name}' expects integer ids (floats are accepted only when "
                f"they hold whole numbers, like 2.0); received a non-integer id {bad} in "
                f"inputs of dtype {np.asarray(ids).dtype}."
            )
        if low < 0 or high >= self.input_dim:
            bad = low if low < 0 else high
            raise ValueError(
                f"Embedding '{self.name}': every id must be in [0, input_dim) = "
                f"[0, {self.input_dim}); received id {int(bad)}. Make input_dim the vocabulary "
                "size (largest id + 1)."
            )

    def call(self, inputs):
        if not jnp.issubdtype(inputs.dtype, jnp.integer):
            if not jnp.issubdtype(inputs.dtype, jnp.floating):
                raise TypeError(
                    f"Embedding '{self.name}' expects integer indices; received inputs of "
                    f"dtype {inputs.dtype}."
                )
            # Keras accepts float-typed ids; a fractional one (unchecked when traced)
            # is sent out of range, to a NaN row, rather than truncated.
            whole = jnp.floor(inputs)
            inputs = jnp.where(whole == inputs, whole, self.input_dim).astype(jnp.int32)
        # Out-of-range ids (negative ones too: no wrapping) give NaN rows.
        inputs = jnp.where(inputs < 0, self.input_dim, inputs)
        table = self._lora_value() if self.lora_enabled else self.embeddings.value
        out = jnp.take(table, inputs, axis=0, mode="fill", fill_value=jnp.nan)
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
            **weight_args_config(self, "embeddings"),
            "mask_zero": self.mask_zero,
            **self._lora_config(),
        }
