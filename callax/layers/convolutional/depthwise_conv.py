"""Depthwise convolution layers: DepthwiseConv1D, DepthwiseConv2D (each input
channel convolved with its own ``depth_multiplier`` filters)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax import activations, constraints, initializers, regularizers
from callax.layers.convolutional.base_conv import BaseConv


class DepthwiseConv(BaseConv):
    """Depthwise convolution: each input channel convolved with its own
    ``depth_multiplier`` filters (output channels ``in * depth_multiplier``).

    ``kernel`` has shape ``(*kernel_size, in_channels, depth_multiplier)`` and
    is named ``kernel`` as in Keras 3 (``depthwise_kernel`` is an alias).
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: Any = "valid",
        depth_multiplier: int = 1,
        data_format: str | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
        activation: Any = None,
        use_bias: bool = True,
        depthwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_conv(kernel_size, strides, padding, data_format, dilation_rate)
        if (
            isinstance(depth_multiplier, bool)
            or not isinstance(depth_multiplier, int)
            or (depth_multiplier <= 0)
        ):
            raise ValueError(
                f"{self._label()}: `depth_multiplier` must be a positive int; received "
                f"depth_multiplier={depth_multiplier!r}."
            )
        self.depth_multiplier = depth_multiplier
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    @property
    def depthwise_kernel(self):
        return self.kernel

    def build(self, input_shape):
        channels = self._channels_from(input_shape)
        self._input_channels = channels
        self.kernel = self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, name="kernel",
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint,
        )  # fmt: skip
        self.bias = (
            self.add_weight(
                shape=(channels * self.depth_multiplier,),
                initializer=self.bias_initializer,
                name="bias",
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )  # fmt: skip
            if self.use_bias
            else None
        )

    def call(self, inputs):
        self._check_input(inputs)
        return self._bias_activation(_depthwise(self, inputs, self.kernel.value))

    def compute_output_shape(self, input_shape):
        channels = input_shape[self._channel_axis]
        return self._out_shape(
            input_shape, None if channels is None else channels * self.depth_multiplier
        )

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            **self._conv_config(),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


def _depthwise(layer: BaseConv, x, kernel):
    # (*k, in, mult) -> (*k, 1, in * mult) is a free reshape whose output order
    # (c * mult + m) is grouped convolution's with one group per input channel.
    channels = kernel.shape[-2]
    kernel = jnp.reshape(kernel, kernel.shape[:-2] + (1, channels * kernel.shape[-1]))
    return layer._conv(x, kernel, groups=channels)


class DepthwiseConv1D(DepthwiseConv):
    """Depthwise 1-D convolution.

    Example:
        >>> import callax
        >>> callax.layers.DepthwiseConv1D(3, depth_multiplier=2)(callax.ops.ones((1, 8, 4))).shape
        (1, 6, 8)
    """

    _rank = 1


class DepthwiseConv2D(DepthwiseConv):
    """Depthwise 2-D convolution.

    Example:
        >>> import callax
        >>> layer = callax.layers.DepthwiseConv2D(3, padding="same")
        >>> layer(callax.ops.ones((1, 8, 8, 4))).shape, layer.kernel.shape
        ((1, 8, 8, 4), (3, 3, 4, 1))
    """

    _rank = 2
