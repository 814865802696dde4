"""Neural-network ops (``keras.ops.nn``): activations, one-hot encodings,
normalizations, losses, attention, pixel shuffles, im2col (``unfold``/``fold``),
adaptive pooling; the convolutions and pooling (:mod:`callax.ops.convolution`) and
CTC (:mod:`callax.ops.ctc`) are imported here, as ``keras.ops.nn`` names.

Adding an op: a function decorated with :func:`~callax.ops.dispatch.op` and its
name in ``__all__`` (``callax.ops`` re-exports every name in it).

Example:
    >>> from callax import ops
    >>> ops.sparse_sigmoid(ops.array([-2.0, 0.0, 0.5])).tolist()
    [0.0, 0.5, 0.75]
    >>> ops.adaptive_average_pool(ops.ones((1, 5, 3)), 2).shape
    (1, 2, 3)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from callax.core import config
from callax.ops import activation_functions as _act
from callax.ops.convolution import (
    average_pool,
    conv,
    conv_transpose,
    depthwise_conv,
    max_pool,
    normalize_data_format,
    separable_conv,
)
from callax.ops.ctc import ctc_decode, ctc_loss
from callax.ops.dispatch import op

__all__ = [
    "relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "log_sigmoid",
    "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "gelu", "mish",
    "softmax", "log_softmax", "one_hot", "multi_hot", "moments", "batch_normalization",
    "normalize", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "dot_product_attention", "tanh_shrink", "sparse_plus",
    "squareplus", "celu", "glu", "soft_shrink", "hard_shrink", "hard_tanh",
    # in callax.ops.convolution
    "conv", "depthwise_conv", "separable_conv", "conv_transpose", "max_pool", "average_pool",
    # in callax.ops.ctc
    "ctc_loss", "ctc_decode",
    "depth_to_space", "space_to_depth", "unfold", "fold", "layer_normalization",
    "rms_normalization", "polar", "psnr", "sparse_sigmoid", "sparsemax", "threshold",
    "adaptive_average_pool", "adaptive_max_pool",
]  # fmt: skip

relu = op(_act.relu, "relu")
relu6 = op(_act.relu6, "relu6")
sigmoid = op(_act.sigmoid, "sigmoid")
softplus = op(_act.softplus, "softplus")
softsign = op(_act.softsign, "softsign")
silu = swish = op(_act.silu, "silu")
leaky_relu = op(_act.leaky_relu, "leaky_relu")
hard_sigmoid = op(_act.hard_sigmoid, "hard_sigmoid")
hard_silu = hard_swish = op(_act.hard_silu, "hard_silu")
elu = op(_act.elu, "elu")
selu = op(_act.selu, "selu")
gelu = op(lambda x, approximate=True: jax.nn.gelu(x, approximate=approximate), "gelu")
mish = op(_act.mish, "mish")
softmax = op(_act.softmax, "softmax")
log_softmax = op(_act.log_softmax, "log_softmax")


@op
def log_sigmoid(x):
    return jax.nn.log_sigmoid(x)


@op
def tanh_shrink(x):
    return x - jnp.tanh(x)


@op
def sparse_plus(x):
    return jnp.where(x <= -1, 0.0, jnp.where(x >= 1, x, (x + 1) ** 2 / 4))


@op
def squareplus(x, b=4):
    return (x + jnp.sqrt(x * x + b)) / 2


@op
def celu(x, alpha=1.0):
    return jax.nn.celu(x, alpha)


@op
def glu(x, axis=-1):
    a, b = jnp.split(x, 2, axis=axis)
    return a * jax.nn.sigmoid(b)


@op
def soft_shrink(x, threshold=0.5):
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, 0.0))


@op
def hard_shrink(x, threshold=0.5):
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


@op
def hard_tanh(x):
    return jnp.clip(x, -1, 1)


@op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot encodes integer ``x``; negative or out-of-range indices give zeros."""
    return jax.nn.one_hot(x, num_classes, dtype=dtype or config.floatx(), axis=axis)


@op
def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    encoded = jax.nn.one_hot(inputs, num_classes, dtype=dtype or config.floatx(), axis=axis)
    return jnp.max(encoded, axis=-2 if axis == -1 else axis)


@op
def moments(x, axes, keepdims=False, synchronized=False):
    mean = jnp.mean(x, axis=axes, keepdims=True)
    variance = jnp.mean(jnp.square(x - jax.lax.stop_gradient(mean)), axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
    return mean, variance


@op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]
    inv = jax.lax.rsqrt(jnp.reshape(variance, shape) + epsilon)
    if scale is not None:
        inv = inv * jnp.reshape(scale, shape)
    out = (x - jnp.reshape(mean, shape)) * inv
    if offset is not None:
        out = out + jnp.reshape(offset, shape)
    return out


@op
def normalize(x, axis=-1, order=2, epsilon=None):
    eps = config.epsilon() if epsilon is None else epsilon
    norm = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm, eps)


def _clip_probs(p):
    eps = config.epsilon()
    return jnp.clip(p, eps, 1 - eps)


@op
def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (stable with logits)."""
    target = jnp.asarray(target, output.dtype)
    if from_logits:
        return jnp.maximum(output, 0) - output * target + jnp.log1p(jnp.exp(-jnp.abs(output)))
    output = _clip_probs(output)
    return -(target * jnp.log(output) + (1 - target) * jnp.log1p(-output))


@op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target = jnp.asarray(target, output.dtype)
    if from_logits:
        return -jnp.sum(target * jax.nn.log_softmax(output, axis=axis), axis=axis)
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    return -jnp.sum(target * jnp.log(_clip_probs(output)), axis=axis)


@op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    target = jnp.asarray(target).astype(jnp.int32)
    if target.ndim == output.ndim and target.shape[-1] == 1:
        target = jnp.squeeze(target, -1)
    if from_logits:
        logp = jax.nn.log_softmax(output, axis=axis)
    else:
        output = output / jnp.sum(output, axis=axis, keepdims=True)
        logp = jnp.log(_clip_probs(output))
    return -jnp.take_along_axis(logp, jnp.expand_dims(target, axis), axis=axis).squeeze(axis)


@op
def dot_product_attention(
    query, key, value, bias=None, mask=None, scale=None, is_causal=False, flash_attention=None
):
    """``softmax(q k^T * scale + bias) v`` over ``(batch, seq, heads, dim)`` inputs."""
    return jax.nn.dot_product_attention(
        query, key, value, bias=bias, mask=mask, scale=scale, is_causal=is_causal
    )


def _compute_dtype(x):
    """At least float32, so half-precision normalizations stay accurate."""
    return jnp.result_type(x.dtype, jnp.float32)


@op
def sparse_sigmoid(x):
    """0 below -1, 1 above 1, and ``(x + 1) / 2`` in between."""
    return jnp.clip((jnp.asarray(x) + 1) / 2, 0, 1)


@op
def threshold(x, threshold, default_value):  # noqa: A002
    """``x`` where ``x > threshold``, else ``default_value``."""
    return jnp.where(x > threshold, x, default_value)


@op
def sparsemax(x, axis=-1):
    """Sparsemax along ``axis``: the Euclidean projection onto the probability
    simplex (Martins & Astudillo, 2016), the same function as
    ``callax.activations.sparsemax``. Keras 3.15's JAX version computes a different
    threshold whenever more than one entry is in the support, so its rows do not
    sum to 1 (``[0.5, 0.3, 0.1, -1]`` gives ``[0.1, 0, 0, 0]``); callax keeps the
    definition: ``[0.533, 0.333, 0.133, 0]``."""
    return _act.sparsemax(x, axis=axis)


@op
def polar(abs_, angle):
    """The complex number ``abs_ * (cos(angle) + i sin(angle))`` (as ``torch.polar``)."""
    return lax.complex(abs_ * jnp.cos(angle), abs_ * jnp.sin(angle))


@op
def psnr(x1, x2, max_val):
    """Peak signal-to-noise ratio ``20 log10(max_val) - 10 log10(mse)`` over all values."""
    if jnp.shape(x1) != jnp.shape(x2):
        raise ValueError(
            "psnr expects x1 and x2 of the same shape. "
            f"Received: x1.shape={tuple(jnp.shape(x1))}, x2.shape={tuple(jnp.shape(x2))}"
        )
    mse = jnp.mean(jnp.square(x1 - x2))
    max_val = jnp.asarray(max_val, jnp.result_type(x2))
    return 20 * jnp.log10(max_val) - 10 * jnp.log10(mse)


def _axes(axis, ndim: int) -> list[int]:
    return sorted(a % ndim for a in ((axis,) if isinstance(axis, int) else axis))


@op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta`` over ``axis``."""
    rms_scaling = kwargs.pop("rms_scaling", False)
    if kwargs:
        raise TypeError(f"layer_normalization got unexpected arguments {sorted(kwargs)}.")
    eps = config.epsilon() if epsilon is None else epsilon
    x = jnp.asarray(x)
    out_dtype = x.dtype
    x = x.astype(_compute_dtype(x))
    axes = _axes(axis, x.ndim)
    shape = [x.shape[a] if a in axes else 1 for a in range(x.ndim)]

    def fit(v):
        # Parameters over several (or non-last) axes broadcast against those axes.
        v = jnp.asarray(v, x.dtype)
        return v.reshape(shape) if v.ndim != x.ndim and axes != [x.ndim - 1] else v

    mean = jnp.mean(x, axis=axes, keepdims=True)
    var = jnp.mean(jnp.square(x - mean), axis=axes, keepdims=True)
    inv = lax.rsqrt(var + eps)
    if rms_scaling:  # Keras's deprecated option: scale by the variance, no centring
        out = x * inv
        return (out * fit(gamma) if gamma is not None else out).astype(out_dtype)
    if gamma is not None:
        inv = inv * fit(gamma)
    out = (x - mean) * inv
    if beta is not None:
        out = out + fit(beta)
    return out.astype(out_dtype)


@op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """``x / sqrt(mean(x**2) + epsilon) * scale`` over ``axis`` (RMSNorm)."""
    eps = config.epsilon() if epsilon is None else epsilon
    x = jnp.asarray(x)
    out_dtype = x.dtype
    x = x.astype(_compute_dtype(x))
    if x.ndim == 0:
        x = x[None]
    axes = _axes(axis, x.ndim)
    out = x * lax.rsqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + eps)
    if scale is not None:
        out = out * jnp.asarray(scale, x.dtype)
    return out.astype(out_dtype)


def _need_rank(x, rank: int, name: str, layout: str) -> None:
    if jnp.ndim(x) != rank:
        raise ValueError(
            f"{name} expects a rank-{rank} tensor {layout}. Received: x.shape={tuple(jnp.shape(x))}"
        )


def _block_arguments(x, block_size, data_format, name: str) -> tuple[int, bool]:
    """``depth_to_space``/``space_to_depth``'s checks: the block size as an int,
    and whether ``x`` (rank 4) is channels-last."""
    b = int(block_size)
    channels_last = normalize_data_format(data_format) == "channels_last"
    _need_rank(x, 4, name, "(batch, height, width, channels)")
    return b, channels_last


@op
def depth_to_space(x, block_size, data_format="channels_last"):
    """Moves ``block_size**2`` groups of channels into spatial blocks (pixel shuffle)."""
    b, channels_last = _block_arguments(x, block_size, data_format, "depth_to_space")
    if channels_last:
        n, h, w, c = x.shape
        x = x.reshape(n, h, w, b, b, c // (b * b)).transpose(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h * b, w * b, c // (b * b))
    n, c, h, w = x.shape
    x = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return x.reshape(n, c // (b * b), h * b, w * b)


@op
def space_to_depth(x, block_size, data_format="channels_last"):
    """Moves ``block_size x block_size`` spatial blocks into channels (pixel unshuffle)."""
    b, channels_last = _block_arguments(x, block_size, data_format, "space_to_depth")
    if channels_last:
        n, h, w, c = x.shape
        x = x.reshape(n, h // b, b, w // b, b, c).transpose(0, 1, 3, 2, 4, 5)
        return x.reshape(n, h // b, w // b, c * b * b)
    n, c, h, w = x.shape
    x = x.reshape(n, c, h // b, b, w // b, b).transpose(0, 1, 3, 5, 2, 4)
    return x.reshape(n, c * b * b, h // b, w // b)


def _two(v) -> tuple[int, int]:
    return (int(v), int(v)) if isinstance(v, (int, np.integer)) else tuple(int(a) for a in v)


@op
def unfold(x, kernel_size, dilation=1, padding=0, stride=1):
    """Sliding blocks of an NCHW image as columns: ``(N, C * kh * kw, L)`` (im2col,
    as ``torch.nn.functional.unfold``)."""
    _need_rank(x, 4, "unfold", "(N, C, H, W)")
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_two, (kernel_size, dilation, padding, stride))
    n, c = x.shape[:2]
    x = jnp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    oh = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    blocks = [
        x[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    return jnp.stack(blocks, axis=2).reshape(n, c * kh * kw, oh * ow)


@op
def fold(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums columns ``(N, C * kh * kw, L)`` back into an ``(N, C, H, W)`` image
    (col2im, the adjoint of :func:`unfold`)."""
    _need_rank(x, 3, "fold", "(N, C * kh * kw, L)")
    (oh, ow), (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(
        _two, (output_size, kernel_size, dilation, padding, stride)
    )
    n, ckk, length = x.shape
    nh = (oh + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    nw = (ow + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    if ckk % (kh * kw) or nh * nw != length:
        raise ValueError(
            f"fold expects x of shape (N, C * {kh * kw}, {nh * nw}) for these sizes. "
            f"Received: x.shape={tuple(x.shape)}"
        )
    c = ckk // (kh * kw)
    cols = x.reshape(n, c, kh, kw, nh, nw)
    out = jnp.zeros((n, c, oh + 2 * ph, ow + 2 * pw), x.dtype)
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (nh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (nw - 1) + 1, sw)
            out = out.at[:, :, rows, columns].add(cols[:, :, i, j])
    return out[:, :, ph : ph + oh, pw : pw + ow]


def _bins(length: int, size: int) -> np.ndarray:
    """PyTorch's adaptive-pooling bins as a ``(size, length)`` membership mask:
    bin ``i`` covers ``[floor(i * L / size), ceil((i + 1) * L / size))``."""
    i = np.arange(size)
    start = (i * length) // size
    end = -((-(i + 1) * length) // size)
    pos = np.arange(length)
    return (pos >= start[:, None]) & (pos < end[:, None])


def _adaptive_pool(inputs, output_size, data_format, kind: str):
    x = jnp.asarray(inputs)
    rank = x.ndim - 2
    name = f"adaptive_{kind}_pool"
    if rank not in (1, 2, 3):
        raise ValueError(
            f"{name} expects a 3D, 4D or 5D input (batch, *spatial, channels). "
            f"Received: inputs.shape={tuple(x.shape)}"
        )
    sizes = (output_size,) * rank if isinstance(output_size, int) else tuple(output_size)
    if len(sizes) != rank:
        raise ValueError(
            f"{name} expects output_size of {rank} values for this input. "
            f"Received: output_size={output_size}"
        )
    first = normalize_data_format(data_format) == "channels_first"
    spatial = range(2, 2 + rank) if first else range(1, 1 + rank)
    for axis, size in zip(spatial, sizes):
        length, size = x.shape[axis], int(size)
        if length % size == 0:  # equal disjoint bins: a reshape and a plain reduction
            split = x.reshape(*x.shape[:axis], size, length // size, *x.shape[axis + 1 :])
            reduce = jnp.mean if kind == "average" else jnp.max
            x = reduce(split, axis=axis + 1).astype(x.dtype)
            continue
        mask = _bins(length, size)
        moved = jnp.moveaxis(x, axis, -1)
        if kind == "average":
            weights = jnp.asarray(mask / mask.sum(1, keepdims=True), _compute_dtype(x))
            pooled = jnp.einsum(
                "...l,ol->...o", moved, weights, precision=lax.Precision.HIGHEST
            ).astype(x.dtype)
        else:
            lowest = (
                jnp.finfo(x.dtype).min
                if jnp.issubdtype(x.dtype, jnp.floating)
                else jnp.iinfo(x.dtype).min
            )
            pooled = jnp.max(jnp.where(mask, moved[..., None, :], lowest), axis=-1)
        x = jnp.moveaxis(pooled, -1, axis)
    return x


@op
def adaptive_average_pool(inputs, output_size, data_format=None):
    """Average pooling to a fixed ``output_size`` (PyTorch-style bins, which may overlap).

    ``inputs``: ``(batch, *spatial, channels)`` (or channels first), 1 to 3 spatial dims.
    """
    return _adaptive_pool(inputs, output_size, data_format, "average")


@op
def adaptive_max_pool(inputs, output_size, data_format=None):
    """Max pooling to a fixed ``output_size`` (PyTorch-style bins, which may overlap)."""
    return _adaptive_pool(inputs, output_size, data_format, "max")
