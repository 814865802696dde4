"""Convolution and pooling ops (``keras.ops.nn``): conv, depthwise_conv,
separable_conv, conv_transpose, max_pool, average_pool.

Layouts follow Keras: inputs ``(batch, *spatial, channels)`` for
``data_format="channels_last"`` (the default) or ``(batch, channels, *spatial)``
for ``"channels_first"``; kernels ``(*spatial, in // groups, out)`` whatever the
data format. Each op is one ``lax.conv_general_dilated`` / ``lax.reduce_window``
whose dimension numbers describe that layout, so nothing is transposed.

Example:
    >>> from callax import ops
    >>> x = ops.ones((1, 5, 5, 2))
    >>> ops.conv(x, ops.ones((3, 3, 2, 4)), padding="same").shape
    (1, 5, 5, 4)
    >>> ops.max_pool(x, 2).shape
    (1, 2, 2, 2)
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from callax.core import config
from callax.ops.dispatch import op

__all__ = [
    "conv", "depthwise_conv", "separable_conv", "conv_transpose", "max_pool", "average_pool",
]  # fmt: skip

_SPATIAL_LETTERS = {1: "W", 2: "HW", 3: "DHW"}


# ------------------------------------------------------------------ helpers
def normalize_tuple(value: Any, n: int, name: str, owner: str = "") -> tuple[int, ...]:
    """``3`` -> ``(3, 3)``; ``(2, 3)`` stays; anything else is a ``ValueError``."""
    prefix = f"{owner}: " if owner else ""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return (int(value),) * n
    try:
        out = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        out = None
    if out is None or len(out) != n:
        raise ValueError(
            f"{prefix}`{name}` must be an int or a tuple of {n} ints; received {name}={value!r}."
        )
    return out


def normalize_data_format(value: str | None, owner: str = "") -> str:
    value = config.image_data_format() if value is None else str(value).lower()
    if value not in ("channels_last", "channels_first"):
        prefix = f"{owner}: " if owner else ""
        raise ValueError(
            f"{prefix}`data_format` must be 'channels_last' or 'channels_first'; "
            f"received data_format={value!r}."
        )
    return value


def normalize_padding(value: Any, allowed: Sequence[str], owner: str = "") -> Any:
    """A lower-case padding name from ``allowed``, or explicit ``(low, high)`` pairs."""
    if isinstance(value, (list, tuple)):
        return value
    padding = str(value).lower()
    if padding not in allowed:
        prefix = f"{owner}: " if owner else ""
        raise ValueError(
            f"{prefix}`padding` must be one of {sorted(allowed)} or a list of (low, high) pairs; "
            f"received padding={value!r}."
        )
    return padding


@functools.lru_cache(maxsize=64)
def _dimension_numbers(rank: int, channels_first: bool, kernel_spec: str = "IO"):
    spatial = _SPATIAL_LETTERS[rank]
    lhs = "NC" + spatial if channels_first else "N" + spatial + "C"
    return lax.ConvDimensionNumbers(
        *lax.conv_general_permutations((lhs, spatial + kernel_spec, lhs))
    )


def _lax_padding(padding: Any, rank: int) -> Any:
    if isinstance(padding, str):
        return padding.upper()
    pairs = list(padding)
    if len(pairs) != rank:
        raise ValueError(
            f"Explicit `padding` needs one (low, high) pair per spatial dimension ({rank}); "
            f"received padding={padding!r}."
        )
    return [(int(p), int(p)) if np.ndim(p) == 0 else (int(p[0]), int(p[1])) for p in pairs]


def _split(inputs: jax.Array, data_format: str | None, what: str) -> tuple[int, bool, int]:
    """``(spatial rank, channels_first, channels)`` of ``inputs``, checked."""
    data_format = normalize_data_format(data_format)
    rank = inputs.ndim - 2
    if rank not in _SPATIAL_LETTERS:
        raise ValueError(
            f"{what} expects inputs of rank 3, 4 or 5 (batch, *spatial, channels); "
            f"received inputs with shape {tuple(inputs.shape)}."
        )
    channels_first = data_format == "channels_first"
    channels = inputs.shape[1] if channels_first else inputs.shape[-1]
    return rank, channels_first, channels


def _check_kernel_rank(kernel: jax.Array, rank: int, what: str, inputs: jax.Array) -> None:
    if kernel.ndim != rank + 2:
        raise ValueError(
            f"{what}: inputs of shape {tuple(inputs.shape)} need a kernel of rank {rank + 2} "
            f"(*spatial, in, out); received kernel with shape {tuple(kernel.shape)}."
        )


# ------------------------------------------------------------ convolutions
@op
def conv(
    inputs: Any,
    kernel: Any,
    strides: int | Sequence[int] = 1,
    padding: Any = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> jax.Array:
    """N-D convolution (cross-correlation, as in Keras).

    ``kernel`` is ``(*spatial, in_channels // groups, out_channels)``; the number of
    groups is ``in_channels // kernel.shape[-2]``. ``padding`` is ``"valid"``,
    ``"same"`` or one ``(low, high)`` pair per spatial dimension.

    Example:
        >>> from callax import ops
        >>> ops.conv(ops.ones((1, 4, 1)), ops.ones((2, 1, 1))).tolist()
        [[[2.0], [2.0], [2.0]]]
    """
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    rank, channels_first, channels = _split(inputs, data_format, "conv")
    _check_kernel_rank(kernel, rank, "conv", inputs)
    per_group = kernel.shape[-2]
    if per_group <= 0 or channels % per_group:
        raise ValueError(
            f"conv: the input channels ({channels}) must be a multiple of the kernel's "
            f"input-channel axis (kernel.shape[-2]); received inputs with shape "
            f"{tuple(inputs.shape)} and kernel with shape {tuple(kernel.shape)}."
        )
    groups = channels // per_group
    if kernel.shape[-1] % groups:
        raise ValueError(
            f"conv: with {groups} groups the kernel's output axis must be a multiple of "
            f"{groups}; received kernel with shape {tuple(kernel.shape)}."
        )
    return lax.conv_general_dilated(
        inputs,
        kernel.astype(inputs.dtype) if kernel.dtype != inputs.dtype else kernel,
        window_strides=normalize_tuple(strides, rank, "strides"),
        padding=_lax_padding(normalize_padding(padding, ("valid", "same")), rank),
        rhs_dilation=normalize_tuple(dilation_rate, rank, "dilation_rate"),
        dimension_numbers=_dimension_numbers(rank, channels_first),
        feature_group_count=groups,
    )


@op
def depthwise_conv(
    inputs: Any,
    kernel: Any,
    strides: int | Sequence[int] = 1,
    padding: Any = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> jax.Array:
    """Convolves each input channel with its own ``depth_multiplier`` filters.

    ``kernel`` is ``(*spatial, in_channels, depth_multiplier)``; output channel
    ``c * depth_multiplier + m`` comes from input channel ``c`` and filter ``m``.

    Example:
        >>> from callax import ops
        >>> ops.depthwise_conv(ops.ones((1, 5, 5, 3)), ops.ones((3, 3, 3, 2))).shape
        (1, 3, 3, 6)
    """
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    rank, channels_first, channels = _split(inputs, data_format, "depthwise_conv")
    _check_kernel_rank(kernel, rank, "depthwise_conv", inputs)
    if kernel.shape[-2] != channels:
        raise ValueError(
            f"depthwise_conv: the kernel's input axis (kernel.shape[-2]) must equal the input "
            f"channels ({channels}); received kernel with shape {tuple(kernel.shape)}."
        )
    # (*k, in, mult) -> (*k, 1, in * mult): a free row-major reshape whose output
    # order (c * mult + m) is exactly grouped convolution's, one group per channel.
    kernel = jnp.reshape(kernel, kernel.shape[:-2] + (1, channels * kernel.shape[-1]))
    return lax.conv_general_dilated(
        inputs,
        kernel.astype(inputs.dtype) if kernel.dtype != inputs.dtype else kernel,
        window_strides=normalize_tuple(strides, rank, "strides"),
        padding=_lax_padding(normalize_padding(padding, ("valid", "same")), rank),
        rhs_dilation=normalize_tuple(dilation_rate, rank, "dilation_rate"),
        dimension_numbers=_dimension_numbers(rank, channels_first),
        feature_group_count=channels,
    )


@op
def separable_conv(
    inputs: Any,
    depthwise_kernel: Any,
    pointwise_kernel: Any,
    strides: int | Sequence[int] = 1,
    padding: Any = "valid",
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> jax.Array:
    """A depthwise convolution followed by a 1×…×1 pointwise convolution.

    ``depthwise_kernel`` is ``(*spatial, in, depth_multiplier)`` and
    ``pointwise_kernel`` ``(1, …, 1, in * depth_multiplier, out)``; strides and
    dilation apply to the depthwise step.

    Example:
        >>> from callax import ops
        >>> ops.separable_conv(
        ...     ops.ones((1, 5, 5, 3)), ops.ones((3, 3, 3, 2)), ops.ones((1, 1, 6, 4))
        ... ).shape
        (1, 3, 3, 4)
    """
    x = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(x, pointwise_kernel, 1, "valid", data_format, 1)


def conv_transpose_padding(
    kernel_size: int, stride: int, dilation: int, padding: str, output_padding: int | None
) -> tuple[int, int]:
    """Low/high padding of the stride-dilated input that gives Keras' output size.

    ``valid``: output ``(n - 1) * s + max(k, s)`` (``+ output_padding - max(k, s) + k``
    when given); ``same``: ``n * s`` (``(n - 1) * s + k % 2 + output_padding`` when
    given), where ``k`` is the dilated kernel size. The extra row of an odd total
    goes low, but never more than ``k - 1`` low.
    """
    k = (kernel_size - 1) * dilation + 1
    if padding == "valid":
        extra = max(k, stride) - k if output_padding is None else output_padding
        return k - 1, k - 1 + extra
    total = stride + k - 2 if output_padding is None else k + k % 2 - 2 + output_padding
    low = min((total + 1) // 2, k - 1)
    return low, total - low


def conv_transpose_output_length(
    length: int | None,
    kernel_size: int,
    stride: int,
    dilation: int,
    padding: str,
    output_padding: int | None,
) -> int | None:
    if length is None:
        return None
    low, high = conv_transpose_padding(kernel_size, stride, dilation, padding, output_padding)
    k = (kernel_size - 1) * dilation + 1
    return (length - 1) * stride + 1 + low + high - k + 1


@op
def conv_transpose(
    inputs: Any,
    kernel: Any,
    strides: int | Sequence[int] = 1,
    padding: str = "valid",
    output_padding: int | Sequence[int] | None = None,
    data_format: str | None = None,
    dilation_rate: int | Sequence[int] = 1,
) -> jax.Array:
    """Transposed convolution (the gradient of ``conv`` with respect to its input).

    ``kernel`` is ``(*spatial, out_channels, in_channels)`` as in Keras'
    ``Conv*DTranspose``. Computed as one convolution of the stride-dilated input
    with the spatially flipped kernel, whose axes the dimension numbers swap.

    Example:
        >>> from callax import ops
        >>> ops.conv_transpose(ops.ones((1, 3, 3, 2)), ops.ones((3, 3, 4, 2)), 2).shape
        (1, 7, 7, 4)
        >>> ops.conv_transpose(ops.ones((1, 3, 3, 2)), ops.ones((3, 3, 4, 2)), 2, "same").shape
        (1, 6, 6, 4)
    """
    inputs, kernel = jnp.asarray(inputs), jnp.asarray(kernel)
    rank, channels_first, channels = _split(inputs, data_format, "conv_transpose")
    _check_kernel_rank(kernel, rank, "conv_transpose", inputs)
    if kernel.shape[-1] != channels:
        raise ValueError(
            f"conv_transpose: the kernel's last axis must equal the input channels "
            f"({channels}); received kernel with shape {tuple(kernel.shape)}."
        )
    padding = normalize_padding(padding, ("valid", "same"))
    if not isinstance(padding, str):
        raise ValueError(
            f"conv_transpose: `padding` must be 'valid' or 'same'; received padding={padding!r}."
        )
    strides = normalize_tuple(strides, rank, "strides")
    dilation = normalize_tuple(dilation_rate, rank, "dilation_rate")
    out_pad = (
        (None,) * rank
        if output_padding is None
        else normalize_tuple(output_padding, rank, "output_padding")
    )
    pads = [
        conv_transpose_padding(kernel.shape[i], strides[i], dilation[i], padding, out_pad[i])
        for i in range(rank)
    ]
    flipped = lax.rev(kernel, tuple(range(rank)))
    return lax.conv_general_dilated(
        inputs,
        flipped.astype(inputs.dtype) if flipped.dtype != inputs.dtype else flipped,
        window_strides=(1,) * rank,
        padding=pads,
        lhs_dilation=strides,
        rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(rank, channels_first, "OI"),
    )


# ---------------------------------------------------------------- pooling
def _pool_args(inputs, pool_size, strides, padding, data_format, what):
    inputs = jnp.asarray(inputs)
    rank, channels_first, _ = _split(inputs, data_format, what)
    pool = normalize_tuple(pool_size, rank, "pool_size")
    strides = pool if strides is None else normalize_tuple(strides, rank, "strides")
    padding = normalize_padding(padding, ("valid", "same"))
    if not isinstance(padding, str):
        raise ValueError(f"{what}: `padding` must be 'valid' or 'same'; received {padding!r}.")
    if channels_first:
        window, step = (1, 1) + pool, (1, 1) + strides
    else:
        window, step = (1,) + pool + (1,), (1,) + strides + (1,)
    return inputs, rank, channels_first, window, step, padding.upper()


@op
def max_pool(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> jax.Array:
    """Max over sliding windows of the spatial axes (``strides`` defaults to ``pool_size``).

    Example:
        >>> from callax import ops
        >>> ops.max_pool(ops.arange(4.0).reshape(1, 4, 1), 2).tolist()
        [[[1.0], [3.0]]]
    """
    inputs, _, _, window, step, padding = _pool_args(
        inputs, pool_size, strides, padding, data_format, "max_pool"
    )
    return window_max(inputs, window, step, padding)


def window_max(inputs: jax.Array, window: tuple, step: tuple, padding: Any) -> jax.Array:
    """``lax.reduce_window`` max. The initial value must be a concrete (numpy)
    scalar: JAX recognises the differentiable max reduction only then (a
    ``jnp`` array is a tracer under ``jit`` and leaves the op without a VJP)."""
    if jnp.issubdtype(inputs.dtype, jnp.floating):
        init = np.array(-np.inf, inputs.dtype)
    else:
        init = np.array(jnp.iinfo(inputs.dtype).min, inputs.dtype)
    return lax.reduce_window(inputs, init, lax.max, window, step, padding)


def window_sum(inputs: jax.Array, window: tuple, step: tuple, padding: Any) -> jax.Array:
    """``lax.reduce_window`` sum, with a concrete zero (see :func:`window_max`)."""
    return lax.reduce_window(inputs, np.array(0, inputs.dtype), lax.add, window, step, padding)


def _window_counts(length, size, stride, padding):
    """How many real (unpadded) elements each output window covers, per position."""
    (low, high), = lax.padtype_to_pads((length,), (size,), (stride,), padding)  # fmt: skip
    starts = np.arange(0, length + low + high - size + 1, stride) - low
    return np.minimum(starts + size, length) - np.maximum(starts, 0)


@op
def average_pool(
    inputs: Any,
    pool_size: int | Sequence[int],
    strides: int | Sequence[int] | None = None,
    padding: str = "valid",
    data_format: str | None = None,
) -> jax.Array:
    """Mean over sliding windows of the spatial axes; with ``padding="same"`` each
    window is averaged over its real elements only (padding is not counted).

    Example:
        >>> from callax import ops
        >>> ops.average_pool(ops.arange(3.0).reshape(1, 3, 1), 2, padding="same").tolist()
        [[[0.5], [2.0]]]
    """
    inputs, rank, channels_first, window, step, padding = _pool_args(
        inputs, pool_size, strides, padding, data_format, "average_pool"
    )
    summed = window_sum(inputs, window, step, padding)
    if padding == "VALID":
        return summed / np.prod(window)
    # Window sizes are static: build the divisor in numpy, one constant for XLA.
    spatial = inputs.shape[2:] if channels_first else inputs.shape[1:-1]
    offset = 2 if channels_first else 1
    counts = np.ones((), np.float32)
    for i, length in enumerate(spatial):
        c = _window_counts(length, window[offset + i], step[offset + i], padding)
        counts = np.multiply.outer(counts, c)
    counts = counts[None, None] if channels_first else counts[None, ..., None]
    return summed / jnp.asarray(counts, summed.dtype)
