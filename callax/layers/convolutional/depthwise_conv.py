"""Depthwise convolution layers: DepthwiseConv1D, DepthwiseConv2D (each input
channel convolved with its own ``depth_multiplier`` filters)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.layers.convolutional.base_conv import BaseConv, _check_positive_int
from callax.layers.weight_args import (
    add_bias,
    add_weight_from_args,
    weight_arguments,
)


class DepthwiseConv(BaseConv):
    """Depthwise convolution: each input channel convolved with its own
    ``depth_multiplier`` filters (output channels ``in * depth_multiplier``).

    ``kernel`` has shape ``(*kernel_size, in_channels, depth_multiplier)`` and
    is named ``kernel`` as in Keras 3 (``depthwise_kernel`` is an alias).
    """

    @weight_arguments("depthwise", "bias", after="use_bias")
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
        **kwargs: Any,
    ):
        super().__init__(
            kernel_size,
            strides,
            padding,
            data_format,
            dilation_rate,
            activation,
            use_bias,
            **kwargs,
        )
        _init_depthwise(self, depth_multiplier)

    @property
    def depthwise_kernel(self):
        return self.kernel

    def build(self, input_shape):
        channels = self._channels_from(input_shape)
        self._input_channels = channels
        self.kernel = _add_depthwise_kernel(self, channels, "kernel")
        self.bias = add_bias(self, (channels * self.depth_multiplier,))

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
            **self._output_config("depthwise"),
        }


def _init_depthwise(layer: BaseConv, depth_multiplier: Any) -> None:
    """Checks and sets ``depth_multiplier`` (DepthwiseConv and SeparableConv)."""
    layer.depth_multiplier = _check_positive_int(
        layer._label(), "depth_multiplier", depth_multiplier
    )


def _add_depthwise_kernel(layer: BaseConv, channels: int, name: str):
    """The depthwise kernel ``(*kernel_size, channels, depth_multiplier)``, created
    from the ``depthwise_*`` arguments under ``name`` (Keras: ``kernel`` for
    DepthwiseConv, ``depthwise_kernel`` for SeparableConv)."""
    return add_weight_from_args(
        layer, "depthwise", shape=layer.kernel_size + (channels, layer.depth_multiplier),
        name=name,
    )  # fmt: skip


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
