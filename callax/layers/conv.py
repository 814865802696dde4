"""Convolution layers: Conv1D/2D/3D, DepthwiseConv1D/2D, SeparableConv1D/2D.

Inputs are ``(batch, *spatial, channels)`` (``data_format="channels_last"``, the
default from ``callax.config.image_data_format()``) or ``(batch, channels,
*spatial)``. Kernels use Keras' layout whatever the data format (Conv2D
``kernel`` is ``(kh, kw, in // groups, filters)``), so weights move between Keras
and callax unchanged. Every call is one ``lax.conv_general_dilated`` whose
dimension numbers name that layout: no transposes, no copies.

Example:
    >>> import callax
    >>> conv = callax.layers.Conv2D(8, 3, padding="same", activation="relu")
    >>> conv(callax.ops.ones((2, 28, 28, 1))).shape
    (2, 28, 28, 8)
    >>> conv.kernel.shape, conv.bias.shape
    ((3, 3, 1, 8), (8,))
"""

from __future__ import annotations

import re
from typing import Any

import jax.numpy as jnp
from jax import lax

from callax import activations, constraints, initializers, regularizers
from callax.core.layer import Layer, unique_name
from callax.ops.convolution import (
    _dimension_numbers,
    _lax_padding,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
)

_AXES = {1: "(batch, steps, channels)", 2: "(batch, rows, cols, channels)",
         3: "(batch, depth, rows, cols, channels)"}  # fmt: skip


def keras_default_name(cls: type) -> str:
    """Keras' default layer name: ``Conv2D`` -> ``conv2d``, ``MaxPooling2D`` ->
    ``max_pooling2d`` (a digit does not start a new word)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", cls.__name__)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _ser(module: Any, obj: Any) -> Any:
    return None if obj is None else module.serialize(obj)


class SpatialLayer(Layer):
    """Shared by convolution and pooling layers: Keras default names, the
    ``data_format`` axes, and the input-rank/channel checks."""

    _rank = 2
    # Pure calls (no Python side effects): eager calls may run as one cached kernel.
    _kernel_call = True

    def __init__(self, **kwargs: Any):
        if kwargs.get("name") is None:
            kwargs["name"] = unique_name(keras_default_name(type(self)))
        super().__init__(**kwargs)

    def _set_data_format(self, data_format: str | None) -> None:
        self.data_format = normalize_data_format(data_format, self._label())
        self._channels_first = self.data_format == "channels_first"
        self._channel_axis = 1 if self._channels_first else -1

    def _label(self) -> str:
        return f"{type(self).__name__} '{self.name}'"

    def _expected_layout(self) -> str:
        layout = _AXES[self._rank]
        if self._channels_first:
            layout = layout.replace(", channels)", ")").replace("(batch, ", "(batch, channels, ")
        return layout

    def _check_rank(self, shape: tuple) -> None:
        if shape is None or len(shape) != self._rank + 2:
            raise ValueError(
                f"{self._label()} expects inputs of rank {self._rank + 2} "
                f"{self._expected_layout()}; received input with shape "
                f"{None if shape is None else tuple(shape)}."
            )

    def _check_input(self, inputs: Any) -> None:
        """Rank, then the channel count the layer was built for (static: free)."""
        shape = tuple(inputs.shape)
        self._check_rank(shape)
        expected = getattr(self, "_input_channels", None)
        if expected is not None and shape[self._channel_axis] != expected:
            raise ValueError(
                f"{self._label()} was built for inputs with {expected} channels "
                f"(axis {self._channel_axis}, data_format={self.data_format!r}); received "
                f"input with shape {shape}."
            )

    def _channels_from(self, input_shape: tuple) -> int:
        self._check_rank(input_shape)
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError(
                f"{self._label()} needs the channel axis ({self._channel_axis}) of its input "
                f"to be known; received input shape {tuple(input_shape)}."
            )
        return int(channels)


def conv_output_length(length, kernel, stride, dilation, padding):
    """Output length of one spatial axis (``None`` stays ``None``)."""
    if length is None:
        return None
    k = (kernel - 1) * dilation + 1
    if isinstance(padding, str):
        if padding in ("same", "causal"):
            return -(-length // stride)
        return max(0, -(-(length - k + 1) // stride))
    low, high = padding
    return max(0, (length + low + high - k) // stride + 1)


class BaseConv(SpatialLayer):
    """What every convolution shares: argument checks, padding, bias, activation."""

    _allow_causal = False

    def _init_conv(self, kernel_size, strides, padding, data_format, dilation_rate):
        rank, label = self._rank, self._label()
        self._set_data_format(data_format)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size", label)
        self.strides = normalize_tuple(strides, rank, "strides", label)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate", label)
        allowed = ("valid", "same", "causal") if self._allow_causal else ("valid", "same")
        self.padding = normalize_padding(padding, allowed, label)
        for arg in ("kernel_size", "strides", "dilation_rate"):
            if min(getattr(self, arg)) <= 0:
                raise ValueError(
                    f"{label}: `{arg}` must be strictly positive; received "
                    f"{arg}={getattr(self, arg)}."
                )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"{label}: strides > 1 cannot be combined with dilation_rate > 1; received "
                f"strides={self.strides} and dilation_rate={self.dilation_rate}."
            )
        self._dn = _dimension_numbers(rank, self._channels_first)
        self._lax_pad = self._padding_pairs()

    def _padding_pairs(self) -> Any:
        if self.padding == "causal":
            # Causal: all of the receptive field's padding on the left, so output t
            # sees inputs up to t only.
            return [((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)]
        return _lax_padding(self.padding, self._rank)

    def _output_spatial(self, spatial: tuple) -> tuple:
        pads = self.padding if isinstance(self.padding, str) else self._lax_pad
        return tuple(
            conv_output_length(
                n,
                self.kernel_size[i],
                self.strides[i],
                self.dilation_rate[i],
                pads if isinstance(pads, str) else pads[i],
            )  # fmt: skip
            for i, n in enumerate(spatial)
        )

    def _out_shape(self, input_shape: tuple, channels: int) -> tuple:
        input_shape = tuple(input_shape)
        if self._channels_first:
            return (input_shape[0], channels) + self._output_spatial(input_shape[2:])
        return (input_shape[0],) + self._output_spatial(input_shape[1:-1]) + (channels,)

    def _bias_activation(self, x):
        if self.bias is not None:
            bias = self.bias.value
            if self._channels_first:
                bias = jnp.reshape(bias, bias.shape + (1,) * self._rank)
            x = x + bias
        return self.activation(x)

    def _conv(self, x, kernel, groups: int = 1):
        if kernel.dtype != x.dtype:
            kernel = kernel.astype(x.dtype)
        return lax.conv_general_dilated(
            x, kernel, window_strides=self.strides, padding=self._lax_pad,
            rhs_dilation=self.dilation_rate, dimension_numbers=self._dn,
            feature_group_count=groups,
        )  # fmt: skip

    def get_config(self) -> dict:
        # Keras lists activity_regularizer (None included) in every conv config.
        return {"activity_regularizer": None, **super().get_config()}

    def _conv_config(self) -> dict:
        return {
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
        }


def _check_filters(label: str, filters: Any) -> int:
    if isinstance(filters, bool) or not isinstance(filters, int) or filters <= 0:
        raise ValueError(
            f"{label}: `filters` must be a positive int; received filters={filters!r}."
        )
    return filters


class Conv(BaseConv):
    """N-D convolution: ``activation(conv(inputs, kernel) + bias)``.

    Args:
        filters: number of output channels.
        kernel_size: int or tuple of ``rank`` ints.
        strides: int or tuple (default 1); cannot exceed 1 together with dilation.
        padding: ``"valid"``, ``"same"`` (``"causal"`` too for Conv1D), or
            explicit ``(low, high)`` pairs, one per spatial axis.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: int or tuple (default 1).
        groups: split the input channels into this many groups, each convolved
            with ``filters // groups`` filters.
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, bias_constraint: as for ``Dense``.

    ``kernel`` has shape ``(*kernel_size, in_channels // groups, filters)``.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: Any = "valid",
        data_format: str | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
        groups: int = 1,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_conv(kernel_size, strides, padding, data_format, dilation_rate)
        self.filters = _check_filters(self._label(), filters)
        if isinstance(groups, bool) or not isinstance(groups, int) or groups <= 0:
            raise ValueError(
                f"{self._label()}: `groups` must be a positive int; received {groups!r}."
            )
        if filters % groups:
            raise ValueError(
                f"{self._label()}: `filters` must be a multiple of `groups`; received "
                f"filters={filters}, groups={groups}."
            )
        self.groups = groups
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        channels = self._channels_from(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{self._label()}: the input channels must be a multiple of groups="
                f"{self.groups}; received input shape {tuple(input_shape)}."
            )
        self._input_channels = channels
        self.kernel = self.add_weight(
            shape=self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer, name="kernel",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.bias = (
            self.add_weight(
                shape=(self.filters,),
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
        x = self._conv(inputs, self.kernel.value, self.groups)
        return self._bias_activation(x)

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._conv_config(),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
            "bias_regularizer": _ser(regularizers, self.bias_regularizer),
            "kernel_constraint": _ser(constraints, self.kernel_constraint),
            "bias_constraint": _ser(constraints, self.bias_constraint),
        }


class Conv1D(Conv):
    """1-D convolution over ``(batch, steps, channels)``; ``padding="causal"``
    pads only the past, so output ``t`` depends on inputs ``<= t``.

    Example:
        >>> import callax
        >>> callax.layers.Conv1D(4, 3, padding="causal")(callax.ops.ones((2, 10, 3))).shape
        (2, 10, 4)
    """

    _rank = 1
    _allow_causal = True


class Conv2D(Conv):
    """2-D convolution over ``(batch, rows, cols, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.Conv2D(4, (3, 3), strides=2)(callax.ops.ones((2, 9, 9, 3))).shape
        (2, 4, 4, 4)
    """

    _rank = 2


class Conv3D(Conv):
    """3-D convolution over ``(batch, depth, rows, cols, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.Conv3D(2, 3)(callax.ops.ones((1, 5, 5, 5, 1))).shape
        (1, 3, 3, 3, 2)
    """

    _rank = 3


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
            "depthwise_regularizer": _ser(regularizers, self.depthwise_regularizer),
            "bias_regularizer": _ser(regularizers, self.bias_regularizer),
            "depthwise_constraint": _ser(constraints, self.depthwise_constraint),
            "bias_constraint": _ser(constraints, self.bias_constraint),
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


class SeparableConv(BaseConv):
    """Depthwise convolution then a pointwise (1×…×1) convolution to ``filters``.

    Weights: ``depthwise_kernel`` ``(*kernel_size, in, depth_multiplier)``,
    ``pointwise_kernel`` ``(1, …, 1, in * depth_multiplier, filters)``, ``bias``.
    Strides and dilation apply to the depthwise step.
    """

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
        depthwise_initializer: Any = "glorot_uniform",
        pointwise_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        depthwise_regularizer: Any = None,
        pointwise_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        depthwise_constraint: Any = None,
        pointwise_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._init_conv(kernel_size, strides, padding, data_format, dilation_rate)
        self.filters = _check_filters(self._label(), filters)
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
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        channels = self._channels_from(input_shape)
        self._input_channels = channels
        self.depthwise_kernel = self.add_weight(
            shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, name="depthwise_kernel",
            regularizer=self.depthwise_regularizer, constraint=self.depthwise_constraint,
        )  # fmt: skip
        self.pointwise_kernel = self.add_weight(
            shape=(1,) * self._rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, name="pointwise_kernel",
            regularizer=self.pointwise_regularizer, constraint=self.pointwise_constraint,
        )  # fmt: skip
        self.bias = (
            self.add_weight(
                shape=(self.filters,),
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

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape, self.filters)

    def get_config(self):
        return {
            **super().get_config(),
            "depth_multiplier": self.depth_multiplier,
            "filters": self.filters,
            **self._conv_config(),
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": _ser(regularizers, self.depthwise_regularizer),
            "pointwise_regularizer": _ser(regularizers, self.pointwise_regularizer),
            "bias_regularizer": _ser(regularizers, self.bias_regularizer),
            "depthwise_constraint": _ser(constraints, self.depthwise_constraint),
            "pointwise_constraint": _ser(constraints, self.pointwise_constraint),
            "bias_constraint": _ser(constraints, self.bias_constraint),
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


# Keras' aliases.
Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
