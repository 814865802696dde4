"""Separable convolution layers: SeparableConv1D, SeparableConv2D (a depthwise
convolution followed by a pointwise one)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import lax

from callax.layers.convolutional.base_conv import BaseConv, _check_filters
from callax.layers.convolutional.depthwise_conv import (
    _add_depthwise_kernel,
    _depthwise,
    _init_depthwise,
)
from callax.layers.weight_args import (
    add_bias,
    add_weight_from_args,
    weight_arguments,
)


class SeparableConv(BaseConv):
    """Depthwise convolution then a pointwise (1×…×1) convolution to ``filters``.

    Weights: ``depthwise_kernel`` ``(*kernel_size, in, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, …, 1, in * depth_multiplier, filters)``, ``bias``.
    Strides and dilation apply to the depthwise step.
    """

    @weight_arguments("depthwise", "pointwise", "bias", after="use_bias")
    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: Any = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
        depth_multiplier: int = 1,
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
        self.filters = _check_filters(self._label(), filters)
        _init_depthwise(self, depth_multiplier)

    def build(self, input_shape):
        channels = self._channels_from(input_shape)
        self._input_channels = channels
        self.depthwise_kernel = _add_depthwise_kernel(self, channels, "depthwise_kernel")
        self.pointwise_kernel = add_weight_from_args(
            self,
            "pointwise",
            shape=(1,) * self._rank + (channels * self.depth_multiplier, self.filters),
            name="pointwise_kernel",
        )
        self.bias = add_bias(self, (self.filters,))

    def call(self, inputs):
        self._check_input(inputs)
        x = _depthwise(self, inputs, self.depthwise_kernel.value)
        pointwise = self.pointwise_kernel.value
        if pointwise.dtype != x.dtype:
            pointwise = pointwise.astype(x.dtype)
        if self._channels_first:
            # The pointwise step: stride 1, no padding, no dilation.
            x = lax.conv_general_dilated(
                x, pointwise, (1,) * self._rank, "VALID", dimension_numbers=self._dn
            )
        else:
            # Channels last, a 1×…×1 convolution is a matmul over the last axis.
            x = jnp.matmul(x, jnp.reshape(pointwise, pointwise.shape[-2:]))
        return self._bias_activation(x)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            **self._conv_config(),
            **self._output_config("depthwise", "pointwise"),
        }


class SeparableConv1D(SeparableConv):
    """Depthwise-separable 1-D convolution.

    Example:
        >>> import callax
        >>> callax.layers.SeparableConv1D(6, 3)(callax.ops.ones((1, 8, 4))).shape
        (1, 6, 6)
    """

    _rank = 1


class SeparableConv2D(SeparableConv):
    """Depthwise-separable 2-D convolution.

    Example:
        >>> import callax
        >>> layer = callax.layers.SeparableConv2D(6, 3, depth_multiplier=2)
        >>> layer(callax.ops.ones((1, 8, 8, 4))).shape
        (1, 6, 6, 6)
        >>> layer.depthwise_kernel.shape, layer.pointwise_kernel.shape
        ((3, 3, 4, 2), (1, 1, 8, 6))
    """

    _rank = 2


SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
