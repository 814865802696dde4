"""Neural-network ops (``keras.ops.nn``)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from callax import activations as _act
from callax.core import config
from callax.ops.convolution import *  # noqa: F403  (conv, pooling: keras.ops.nn names)
from callax.ops.convolution import __all__ as _conv_all
from callax.ops.ctc import *  # noqa: F403
from callax.ops.ctc import __all__ as _ctc_all
from callax.ops.dispatch import op
from callax.ops.nn_extra import *  # noqa: F403
from callax.ops.nn_extra import __all__ as _nn_extra_all

__all__ = [
    "relu", "relu6", "sigmoid", "softplus", "softsign", "silu", "swish", "log_sigmoid",
    "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish", "elu", "selu", "gelu", "mish",
    "softmax", "log_softmax", "one_hot", "multi_hot", "moments", "batch_normalization",
    "normalize", "binary_crossentropy", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "dot_product_attention", "tanh_shrink", "sparse_plus",
    "squareplus", "celu", "glu", "soft_shrink", "hard_shrink", "hard_tanh",
    *_conv_all, *_nn_extra_all, *_ctc_all,
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
