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
import itertools
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.custom_derivatives import SymbolicZero

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


# ------------------------------------------------ CPU convolution gradients
# XLA:CPU (jax 0.10.2) runs 2-D convolutions with few input channels far below its
# matmul speed. For those, ``_conv2d_cpu`` is a ``jax.custom_jvp`` that computes
# the convolution as a sum over kernel taps of (shifted window) @ (tap matrix),
# and writes its tangent in the kernel the same way, so reverse mode transposes it
# into one ``window^T @ cotangent`` GEMM per tap (the weight gradient). The tangent
# in the input stays XLA's own convolution (its transpose, the input gradient, is
# XLA's). Built from ordinary primitives, it keeps jvp, vmap and higher-order
# derivatives. GPU and TPU keep XLA's native convolution.
#
# The rule, from benchmarks/conv_ops.py on the shared 2-core AMD EPYC (one XLA
# thread, CPU time, medians of 3-5 interleaved rounds; benchmarks/README.md,
# "CPU convolution gradients (issue 13 item 3)"):
#   1 input channel (the CNN's first conv, 128x28x28x1 -> 32, 3x3): forward
#     0.71 ms vs XLA 1.57; weight gradient per-tap 6.0 ms vs XLA 6.7 (2 threads
#     under load: 2.2 vs 4.6 and 19 vs 28 ms). Each tap is a broadcast
#     multiply-add that XLA fuses.
#   3 channels (32x32x32x3 -> 32, same): taps lose 10x (forward 30 ms vs 3.2,
#     weight 21 vs 2.4: a dot with a 3-long contraction takes a slow path).
#   8-64 channels: XLA wins every weight formulation (per-tap, channel-major
#     per-tap, im2col in either order, conv_general_dilated_patches): e.g. the
#     CNN's second conv 16.3 ms vs 21.6-46.6, 32x16x16x64 10.9 vs 27.8-56.4.
# Hence: only single-channel inputs take this route. The other weight forms stay
# selectable (``WEIGHT_FORMS``) so the probe can re-measure them on other CPUs.

_NHWC = lax.ConvDimensionNumbers(*lax.conv_general_permutations(("NHWC", "HWIO", "NHWC")))

_TAPS_MAX_CHANNELS = 1


def cpu_conv_plan(
    input_shape: tuple, kernel_shape: tuple, dtype: Any, strides: tuple, dilation: tuple,
    groups: int, dimension_numbers: Any,
) -> tuple[str, str] | None:  # fmt: skip
    """``(forward, weight)`` formulations for a CPU convolution, or ``None`` for XLA's.

    Only 2-D channels-last float32 convolutions without groups or dilation, with at
    most ``_TAPS_MAX_CHANNELS`` input channels and a kernel larger than 1x1 qualify,
    and only on the CPU backend (GPU and TPU keep XLA's native convolution).

    Example:
        >>> from callax.ops.convolution import cpu_conv_plan, _NHWC
        >>> cpu_conv_plan((128, 28, 28, 1), (3, 3, 1, 32), "float32", (1, 1), (1, 1), 1, _NHWC)
        ('taps', 'taps')
        >>> cpu_conv_plan((128, 13, 13, 32), (3, 3, 32, 64), "float32", (1, 1), (1, 1), 1, _NHWC)
        >>> cpu_conv_plan((8, 9, 9, 1), (3, 3, 1, 8), "float32", (1, 1), (2, 2), 1, _NHWC) is None
        True
    """
    if (
        len(input_shape) != 4
        or dimension_numbers != _NHWC
        or groups != 1
        or any(d != 1 for d in dilation)
        or np.dtype(dtype) != np.float32
        or input_shape[-1] > _TAPS_MAX_CHANNELS
        or kernel_shape[0] * kernel_shape[1] == 1  # a 1x1 convolution is a product already
        or jax.default_backend() != "cpu"
    ):
        return None
    return "taps", "taps"


def _explicit_pads(padding: Any, spatial: tuple, window: tuple, strides: tuple) -> tuple:
    if isinstance(padding, str):
        padding = lax.padtype_to_pads(spatial, window, strides, padding)
    return tuple((int(lo), int(hi)) for lo, hi in padding)


def _windows(
    x: jax.Array, kernel_shape: tuple, strides: tuple, pads: tuple, channel_major: bool = False
) -> list:
    """The ``kh * kw`` shifted (strided) windows of NHWC ``x`` that meet each kernel
    tap, in the kernel's row-major tap order: each ``(batch, out_h, out_w, channels)``,
    or ``(channels, batch, out_h, out_w)`` with ``channel_major`` (``x`` is then
    transposed once, before slicing)."""
    x = lax.pad(x, np.array(0, x.dtype), ((0, 0, 0), (*pads[0], 0), (*pads[1], 0), (0, 0, 0)))
    if channel_major:
        x = jnp.transpose(x, (3, 0, 1, 2))
    h_axis = 2 if channel_major else 1
    h, w = x.shape[h_axis], x.shape[h_axis + 1]
    kh, kw = kernel_shape[:2]
    oh, ow = (h - kh) // strides[0] + 1, (w - kw) // strides[1] + 1
    wins = []
    for i in range(kh):
        for j in range(kw):
            start, limit, step = [0] * 4, list(x.shape), [1] * 4
            start[h_axis], start[h_axis + 1] = i, j
            limit[h_axis] = i + (oh - 1) * strides[0] + 1
            limit[h_axis + 1] = j + (ow - 1) * strides[1] + 1
            step[h_axis], step[h_axis + 1] = strides
            wins.append(lax.slice(x, start, limit, step))
    return wins


# Weight-gradient formulations (the transpose of ``_kernel_linear``), all GEMMs
# ("native" in a plan means XLA's own):
#   "taps"        per tap, NHWC window^T @ cotangent (contracting batch, h, w)
#   "cm_taps"     per tap, channel-major window (c, pixels) @ cotangent (pixels, out)
#   "im2col"      channel-major windows stacked, ONE (taps * c, pixels) @ (pixels, out)
#   "im2col_nhwc" NHWC windows concatenated on channels, ONE GEMM
WEIGHT_FORMS = ("taps", "cm_taps", "im2col", "im2col_nhwc")


def _kernel_linear(x: jax.Array, dk: jax.Array, strides: tuple, pads: tuple, weight: str):
    """``conv(x, dk)`` as sums of window-by-tap products, linear in ``dk``; reverse
    mode transposes it into the weight-gradient GEMMs named by ``weight``."""
    kh, kw, c, o = dk.shape
    channel_major = weight in ("cm_taps", "im2col")
    wins = _windows(x, dk.shape, strides, pads, channel_major)
    # Contract the window's channel axis with the tap's input axis: the output is
    # NHWC either way; the transpose contracts the remaining (pixel) axes with the
    # cotangent's.
    contract = (((0 if channel_major else 3,), (0,)), ((), ()))
    if weight in ("im2col", "im2col_nhwc"):
        stacked = jnp.concatenate(wins, axis=0 if channel_major else 3)
        return lax.dot_general(stacked, dk.reshape(kh * kw * c, o), contract)
    taps = dk.reshape(kh * kw, c, o)
    out = None
    for t, win in enumerate(wins):
        term = lax.dot_general(win, lax.index_in_dim(taps, t, keepdims=False), contract)
        out = term if out is None else out + term
    return out


@functools.partial(jax.custom_jvp, nondiff_argnums=(2, 3, 4, 5))
def _conv2d_cpu(x, kernel, strides: tuple, pads: tuple, forward: str, weight: str):
    if forward == "taps":
        out = None
        taps = kernel.reshape(-1, *kernel.shape[2:])
        for t, win in enumerate(_windows(x, kernel.shape, strides, pads)):
            term = win @ taps[t]
            out = term if out is None else out + term
        return out
    return lax.conv_general_dilated(x, kernel, strides, pads, dimension_numbers=_NHWC)


def _conv2d_cpu_jvp(strides, pads, forward, weight, primals, tangents):
    x, kernel = primals
    dx, dk = tangents
    out = _conv2d_cpu(x, kernel, strides, pads, forward, weight)
    terms = []
    if not isinstance(dx, SymbolicZero):
        terms.append(lax.conv_general_dilated(dx, kernel, strides, pads, dimension_numbers=_NHWC))
    if not isinstance(dk, SymbolicZero):
        if weight == "native":  # XLA's own weight gradient (the transpose of this conv)
            terms.append(lax.conv_general_dilated(x, dk, strides, pads, dimension_numbers=_NHWC))
        else:
            terms.append(_kernel_linear(x, dk, strides, pads, weight))
    if not terms:
        return out, jnp.zeros_like(out)
    return out, terms[0] if len(terms) == 1 else terms[0] + terms[1]


_conv2d_cpu.defjvp(_conv2d_cpu_jvp, symbolic_zeros=True)


def conv_general(
    inputs: jax.Array, kernel: jax.Array, strides: tuple, padding: Any, dilation: tuple,
    dimension_numbers: Any, groups: int = 1,
) -> jax.Array:  # fmt: skip
    """``lax.conv_general_dilated`` (``rhs_dilation=dilation``), with the CPU route above.

    ``padding`` is ``"VALID"``, ``"SAME"`` or ``(low, high)`` pairs; the kernel is cast
    to the input dtype. Where :func:`cpu_conv_plan` returns a plan the value is the
    same convolution, computed and differentiated by the faster CPU formulations.

    Example:
        >>> import jax.numpy as jnp
        >>> from callax.ops.convolution import conv_general, _NHWC
        >>> conv_general(jnp.ones((1, 4, 4, 1)), jnp.ones((3, 3, 1, 2)), (1, 1), "VALID",
        ...              (1, 1), _NHWC).tolist()[0][0]
        [[9.0, 9.0], [9.0, 9.0]]
    """
    if kernel.dtype != inputs.dtype:
        kernel = kernel.astype(inputs.dtype)
    strides, dilation = tuple(strides), tuple(dilation)
    plan = cpu_conv_plan(
        inputs.shape, kernel.shape, inputs.dtype, strides, dilation, groups, dimension_numbers
    )
    if plan is not None:
        pads = _explicit_pads(padding, inputs.shape[1:3], kernel.shape[:2], strides)
        return _conv2d_cpu(inputs, kernel, strides, pads, *plan)
    return lax.conv_general_dilated(
        inputs, kernel, window_strides=strides, padding=padding, rhs_dilation=dilation,
        dimension_numbers=dimension_numbers, feature_group_count=groups,
    )  # fmt: skip


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
    return conv_general(
        inputs,
        kernel,
        normalize_tuple(strides, rank, "strides"),
        _lax_padding(normalize_padding(padding, ("valid", "same")), rank),
        normalize_tuple(dilation_rate, rank, "dilation_rate"),
        _dimension_numbers(rank, channels_first),
        groups,
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
    ``jnp`` array is a tracer under ``jit`` and leaves the op without a VJP).

    On CPU, floating windows of at most ``_SLICED_MAX_WINDOW`` elements go through
    :func:`_sliced_window_max` instead (same values, same gradients).
    """
    if jnp.issubdtype(inputs.dtype, jnp.floating):
        init = np.array(-np.inf, inputs.dtype)
        if (
            isinstance(padding, str)
            and int(np.prod(window)) <= _SLICED_MAX_WINDOW
            and jax.default_backend() == "cpu"
        ):
            pads = tuple(lax.padtype_to_pads(inputs.shape, window, step, padding))
            return _sliced_window_max(inputs, tuple(window), tuple(step), pads)
    else:
        init = np.array(jnp.iinfo(inputs.dtype).min, inputs.dtype)
    return lax.reduce_window(inputs, init, lax.max, window, step, padding)


# XLA:CPU differentiates a reduce_window max into select_and_scatter, a slow loop:
# in the small CNN's training step (2x2 pools after 26x26x32 and 11x11x64 maps,
# batch 128) it was ~60 % of the step (one thread: step 136-200 ms with it,
# 76 ms with a max of the four strided slices instead). The sliced form is a
# custom_jvp whose tangent picks, per output, the tangent of the FIRST maximum in
# row-major window order -- select_and_scatter's choice, so ties (all-zero
# windows after a relu) route the gradient exactly as before; plain jnp.maximum
# would split it. Reverse mode turns the selects into fused element-wise loops.
# Windows up to 3x3 (9 slices); larger ones keep reduce_window.
_SLICED_MAX_WINDOW = 9


def _window_slices(x: jax.Array, window: tuple, step: tuple) -> list:
    """One strided slice of ``x`` per window offset, in row-major window order."""
    out = [(n - w) // s + 1 for n, w, s in zip(x.shape, window, step)]
    return [
        lax.slice(x, offsets, [o + (m - 1) * s + 1 for o, m, s in zip(offsets, out, step)], step)
        for offsets in itertools.product(*(range(w) for w in window))
    ]


def _pad_with(x: jax.Array, value: float, pads: tuple) -> jax.Array:
    if not any(lo or hi for lo, hi in pads):
        return x
    return lax.pad(x, np.array(value, x.dtype), [(lo, hi, 0) for lo, hi in pads])


@functools.partial(jax.custom_jvp, nondiff_argnums=(1, 2, 3))
def _sliced_window_max(x: jax.Array, window: tuple, step: tuple, pads: tuple) -> jax.Array:
    return functools.reduce(lax.max, _window_slices(_pad_with(x, -np.inf, pads), window, step))


@_sliced_window_max.defjvp
def _sliced_window_max_jvp(window, step, pads, primals, tangents):
    (x,), (t,) = primals, tangents
    out = _sliced_window_max(x, window, step, pads)
    values = _window_slices(_pad_with(x, -np.inf, pads), window, step)
    grads = _window_slices(_pad_with(t, 0, pads), window, step)
    # Walk the offsets backwards so the first maximum's tangent is selected last.
    picked = grads[-1]
    for value, grad in zip(values[-2::-1], grads[-2::-1]):
        picked = jnp.where(value == out, grad, picked)
    return out, picked


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
