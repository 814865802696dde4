"""What every convolution layer shares (``BaseConv``: argument checks, padding, bias,
activation) and the regular convolution ``Conv`` behind Conv1D/2D/3D.

Inputs are ``(batch, *spatial, channels)`` (``data_format="channels_last"``, the
default from ``callax.config.image_data_format()``) or ``(batch, channels,
*spatial)``. Kernels use Keras' layout whatever the data format (Conv2D
``kernel`` is ``(kh, kw, in // groups, filters)``), so weights move between Keras
and callax unchanged. Every call is one ``lax.conv_general_dilated`` whose
dimension numbers name that layout: no transposes, no copies (through
``ops.convolution.conv_general``, which on CPU computes single-channel 2-D
convolutions tap by tap: faster there, same values and gradients).

Example:
    >>> import callax
    >>> conv = callax.layers.Conv2D(8, 3, padding="same", activation="relu")
    >>> conv(callax.ops.ones((2, 28, 28, 1))).shape
    (2, 28, 28, 8)
    >>> conv.kernel.shape, conv.bias.shape
    ((3, 3, 1, 8), (8,))
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax import activations
from callax.layers.spatial_layer import SpatialLayer
from callax.layers.weight_args import (
    add_bias,
    add_weight_from_args,
    weight_args_config,
    weight_arguments,
)
from callax.ops.convolution import (
    _dimension_numbers,
    _lax_padding,
    conv_general,
    normalize_padding,
    normalize_tuple,
)


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


def check_strides_or_dilation(label: str, strides: tuple, dilation_rate: tuple) -> None:
    """A ValueError (naming the layer, ``label``) when both strides and dilation
    exceed 1, which a convolution cannot combine."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            f"{label}: strides > 1 cannot be combined with dilation_rate > 1; received "
            f"strides={strides} and dilation_rate={dilation_rate}."
        )


class BaseConv(SpatialLayer):
    """What every convolution shares: argument checks, padding, bias, activation."""

    _allow_causal = False

    def __init__(
        self,
        kernel_size: Any,
        strides: Any,
        padding: Any,
        data_format: str | None,
        dilation_rate: Any,
        activation: Any,
        use_bias: bool,
        **kwargs: Any,
    ) -> None:
        """Checks and sets the arguments every convolution takes; ``kwargs`` are the
        Layer's (``activity_regularizer`` included). The weight arguments are the
        subclasses' (:func:`weight_arguments`)."""
        super().__init__(**kwargs)
        self._init_conv(kernel_size, strides, padding, data_format, dilation_rate)
        self.activation = activations.get(activation)
        self.use_bias = use_bias

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
        check_strides_or_dilation(label, self.strides, self.dilation_rate)
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
        return conv_general(
            x, kernel, self.strides, self._lax_pad, self.dilation_rate, self._dn, groups
        )

    def _output_config(self, *weights: str) -> dict:
        """``activation``, ``use_bias`` and the arguments of ``weights`` and the bias,
        in Keras's order."""
        return {
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            **weight_args_config(self, *weights, "bias"),
        }

    def compute_output_shape(self, input_shape):
        return self._out_shape(input_shape, self.filters)

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
    return _check_positive_int(label, "filters", filters)


def _check_positive_int(label: str, arg: str, value: Any) -> int:
    """``value`` if it is a positive int (not a bool), else a ValueError naming
    the layer (``label``) and the argument ``arg``."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{label}: `{arg}` must be a positive int; received {arg}={value!r}.")
    return value


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

    @weight_arguments("kernel", "bias", after="use_bias")
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
        _check_positive_int(self._label(), "groups", groups)
        if filters % groups:
            raise ValueError(
                f"{self._label()}: `filters` must be a multiple of `groups`; received "
                f"filters={filters}, groups={groups}."
            )
        self.groups = groups

    def build(self, input_shape):
        channels = self._channels_from(input_shape)
        if channels % self.groups:
            raise ValueError(
                f"{self._label()}: the input channels must be a multiple of groups="
                f"{self.groups}; received input shape {tuple(input_shape)}."
            )
        self._input_channels = channels
        self.kernel = add_weight_from_args(
            self,
            "kernel",
            shape=self.kernel_size + (channels // self.groups, self.filters),
            name="kernel",
        )
        self.bias = add_bias(self, (self.filters,))

    def call(self, inputs):
        self._check_input(inputs)
        x = self._conv(inputs, self.kernel.value, self.groups)
        return self._bias_activation(x)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            **self._conv_config(),
            "groups": self.groups,
            **self._output_config("kernel"),
        }
