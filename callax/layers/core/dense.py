"""``Dense``: ``activation(inputs @ kernel + bias)``, the densely connected layer."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

from callax import activations
from callax.core.layer import Layer
from callax.layers.core.lora import LoraMixin
from callax.layers.weight_args import (
    add_bias,
    add_weight_from_args,
    weight_args_config,
    weight_arguments,
)


class Dense(LoraMixin, Layer):
    """``activation(inputs @ kernel + bias)`` over the last axis of ``inputs``.

    Args:
        units: size of the last axis of the output.
        activation: name or callable (default: none).
        use_bias: whether to add ``bias``.
        kernel_initializer, bias_initializer: names or initializers.
        kernel_regularizer, bias_regularizer, activity_regularizer: penalties.
        kernel_constraint, bias_constraint: projections after each update.

    Shapes: ``(..., in) -> (..., units)``; ``kernel`` is ``(in, units)`` as in Keras.

    Example:
        >>> import callax
        >>> layer = callax.layers.Dense(4, activation="relu")
        >>> layer(callax.ops.ones((2, 3))).shape
        (2, 4)
        >>> layer.kernel.shape, layer.bias.shape
        ((3, 4), (4,))
    """

    _kernel_call = True

    @weight_arguments("kernel", "bias", after="use_bias")
    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not isinstance(units, int) or units <= 0:
            raise ValueError(
                f"Dense '{self.name}': units must be a positive int; received {units!r}."
            )
        if quantization_config is not None:
            raise ValueError(
                f"Dense '{self.name}': quantization is not supported by callax; received "
                f"quantization_config={quantization_config!r}."
            )
        self._lora_setup(lora_rank, lora_alpha)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.supports_masking = True

    def build(self, input_shape):
        if input_shape is None or len(input_shape) < 1 or input_shape[-1] is None:
            raise ValueError(
                f"Dense '{self.name}' needs inputs whose last dimension is known; "
                f"received input shape {input_shape}."
            )
        self.kernel = add_weight_from_args(
            self, "kernel", shape=(input_shape[-1], self.units), name="kernel"
        )
        self.bias = add_bias(self, (self.units,))
        self._lora_after_build()

    def call(self, inputs):
        if type(inputs) is np.ndarray:
            # The protocol leaves only string/object arrays on the host (for the
            # text layers); anything else arrives as a JAX array.
            inputs = _numeric_host_input(self, inputs)
        kernel = self._lora_value() if self.lora_enabled else self.kernel.value
        if inputs.ndim == 0 or inputs.shape[-1] != kernel.shape[0]:
            raise ValueError(
                f'Input 0 of layer "{self.name}" is incompatible with the layer: expected '
                f"axis -1 of input shape to have value {kernel.shape[0]} (the layer was built "
                f"for inputs of shape {self._build_shapes}), but received input with shape "
                f"{tuple(inputs.shape)}."
            )
        x = jnp.matmul(inputs, kernel)
        if self.bias is not None:
            x = x + self.bias.value
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_args_config(self, "kernel", "bias"),
            **self._lora_config(),
        }


def _numeric_host_input(layer: Layer, inputs: np.ndarray) -> Any:
    """An object array of numbers is converted (as Keras does); strings and
    other objects cannot be multiplied: a ``TypeError`` naming the layer."""
    what = "strings" if inputs.dtype.kind in "US" else "Python objects"
    if inputs.dtype.kind == "O":
        try:
            return jnp.asarray(inputs.astype(layer.compute_dtype))
        except (TypeError, ValueError):
            pass
    raise TypeError(
        f"{type(layer).__name__} '{layer.name}' multiplies its inputs by a weight matrix, so "
        "inputs must be numeric (float, int or bool); turn text into numbers first (e.g. "
        "with a StringLookup or TextVectorization layer). Received inputs of dtype "
        f"{inputs.dtype} ({what}) and shape {inputs.shape}."
    )
