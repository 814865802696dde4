"""Transposed convolution layers: Conv1DTranspose, Conv2DTranspose, Conv3DTranspose.

``kernel`` is ``(*kernel_size, filters, in_channels)`` as in Keras. The call is
one ``lax.conv_general_dilated`` of the stride-dilated input with the spatially
flipped kernel; the dimension numbers read the kernel's axes as (out, in), so
the kernel is never transposed. Output sizes and padding match Keras exactly.

Example:
    >>> import callax
    >>> up = callax.layers.Conv2DTranspose(4, 3, strides=2, padding="same")
    >>> up(callax.ops.ones((1, 7, 7, 8))).shape, up.kernel.shape
    ((1, 14, 14, 4), (3, 3, 4, 8))
"""

from __future__ import annotations

from typing import Any

from jax import lax

from callax.layers.convolutional.base_conv import BaseConv, _check_filters
from callax.layers.weight_args import (
    add_bias,
    add_weight_from_args,
    weight_arguments,
)
from callax.ops.convolution import (
    _dimension_numbers,
    conv_transpose_output_length,
    conv_transpose_padding,
    normalize_tuple,
)


class ConvTranspose(BaseConv):
    """N-D transposed convolution (``activation(conv_transpose(x, kernel) + bias)``).

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: ints or tuples of ``rank`` ints.
        padding: ``"valid"`` (output ``(n - 1) * s + max(k, s)``) or ``"same"``
            (output ``n * s``), ``k`` the dilated kernel size.
        output_padding: int or tuple, each strictly less than its stride; then
            the output is ``(n - 1) * s + k - 2 * pad + output_padding`` with
            ``pad`` 0 (valid) or ``k // 2`` (same).
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        activation, use_bias, initializers, regularizers, constraints: as for ``Conv2D``.
    """

    @weight_arguments("kernel", "bias", after="use_bias")
    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        output_padding: int | tuple[int, ...] | None = None,
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
        if not isinstance(self.padding, str):
            raise ValueError(
                f"{self._label()}: `padding` must be 'valid' or 'same'; received "
                f"padding={padding!r}."
            )
        self.filters = _check_filters(self._label(), filters)
        if output_padding is None:
            self.output_padding = None
        else:
            self.output_padding = normalize_tuple(
                output_padding, self._rank, "output_padding", self._label()
            )
            for i, (p, s) in enumerate(zip(self.output_padding, self.strides)):
                if not 0 <= p < s:
                    raise ValueError(
                        f"{self._label()}: `output_padding` must be >= 0 and strictly less "
                        f"than `strides` on every axis (axis {i}: {p} vs stride {s}); received "
                        f"output_padding={self.output_padding}, strides={self.strides}."
                    )
        # Kernel axes (*spatial, out, in): "OI" where a forward conv has "IO".
        self._dn = _dimension_numbers(self._rank, self._channels_first, "OI")
        out_pad = self.output_padding or (None,) * self._rank
        self._lax_pad = [
            conv_transpose_padding(k, s, d, self.padding, p)
            for k, s, d, p in zip(self.kernel_size, self.strides, self.dilation_rate, out_pad)
        ]

    def build(self, input_shape):
        channels = self._channels_from(input_shape)
        self._input_channels = channels
        self.kernel = add_weight_from_args(
            self, "kernel", shape=self.kernel_size + (self.filters, channels), name="kernel"
        )
        self.bias = add_bias(self, (self.filters,))

    def call(self, inputs):
        self._check_input(inputs)
        kernel = lax.rev(self.kernel.value, tuple(range(self._rank)))
        if kernel.dtype != inputs.dtype:
            kernel = kernel.astype(inputs.dtype)
        x = lax.conv_general_dilated(
            inputs, kernel, window_strides=(1,) * self._rank, padding=self._lax_pad,
            lhs_dilation=self.strides, rhs_dilation=self.dilation_rate,
            dimension_numbers=self._dn,
        )  # fmt: skip
        return self._bias_activation(x)

    def _output_spatial(self, spatial: tuple) -> tuple:
        out_pad = self.output_padding or (None,) * self._rank
        return tuple(
            conv_transpose_output_length(
                n,
                self.kernel_size[i],
                self.strides[i],
                self.dilation_rate[i],
                self.padding,
                out_pad[i],
            )  # fmt: skip
            for i, n in enumerate(spatial)
        )

    def get_config(self):
        config = {**super().get_config(), "filters": self.filters, **self._conv_config()}
        config["output_padding"] = self.output_padding
        return {
            **config,
            **self._output_config("kernel"),
        }


class Conv1DTranspose(ConvTranspose):
    """1-D transposed convolution over ``(batch, steps, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.Conv1DTranspose(2, 3, strides=2)(callax.ops.ones((1, 5, 4))).shape
        (1, 11, 2)
    """

    _rank = 1


class Conv2DTranspose(ConvTranspose):
    """2-D transposed convolution over ``(batch, rows, cols, channels)``.

    Example:
        >>> import callax
        >>> callax.layers.Conv2DTranspose(2, 2, strides=2)(callax.ops.ones((1, 4, 4, 3))).shape
        (1, 8, 8, 2)
    """

    _rank = 2


class Conv3DTranspose(ConvTranspose):
    """3-D transposed convolution over ``(batch, depth, rows, cols, channels)``.

    Keras puts ``data_format`` before ``output_padding`` in this class's
    signature; so does callax.

    Example:
        >>> import callax
        >>> callax.layers.Conv3DTranspose(2, 2, strides=2)(callax.ops.ones((1, 2, 2, 2, 3))).shape
        (1, 4, 4, 4, 2)
    """

    _rank = 3

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, ...],
        strides: int | tuple[int, ...] = 1,
        padding: str = "valid",
        data_format: str | None = None,
        output_padding: int | tuple[int, ...] | None = None,
        dilation_rate: int | tuple[int, ...] = 1,
        **kwargs: Any,
    ):
        super().__init__(
            filters, kernel_size, strides, padding, output_padding=output_padding,
            data_format=data_format, dilation_rate=dilation_rate, **kwargs,
        )  # fmt: skip


# Keras' aliases.
Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose,
)  # fmt: skip
