"""``Activation``: applies an activation function, given by name or callable."""

from __future__ import annotations

from typing import Any

from callax import activations
from callax.core.layer import Layer


class Activation(Layer):
    """Applies an activation function by name or callable.

    Example:
        >>> import callax
        >>> callax.layers.Activation("relu")(callax.ops.array([-1.0, 1.0])).tolist()
        [0.0, 1.0]
    """

    _kernel_call = True

    def __init__(self, activation: Any, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}
