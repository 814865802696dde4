"""The activation functions as plain functions of arrays (Keras's formulas).

They live on the ops floor so both :mod:`callax.activations` (which names,
serializes and re-exports them: ``callax.activations.relu`` is this ``relu``) and
:mod:`callax.ops.nn` (which wraps them as ops taking variables and symbolic
tensors) use one implementation without ``ops`` importing a higher floor.

Example:
    >>> import numpy as np
    >>> from callax.ops.activation_functions import relu
    >>> relu(np.array([-1.0, 2.0]), max_value=1.0)
    Array([0., 1.], dtype=float32)
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from callax.core.variable import unwrap

__all__ = [
    "relu",
    "leaky_relu",
    "relu6",
    "elu",
    "selu",
    "sigmoid",
    "hard_sigmoid",
    "hard_silu",
    "hard_swish",
    "tanh",
    "softplus",
    "softsign",
    "silu",
    "swish",
    "gelu",
    "mish",
    "exponential",
    "linear",
    "softmax",
    "log_softmax",
    "celu",
    "glu",
    "hard_shrink",
    "hard_tanh",
    "log_sigmoid",
    "soft_shrink",
    "sparse_plus",
    "sparse_sigmoid",
    "sparsemax",
    "squareplus",
    "tanh_shrink",
    "threshold",
]


def _x(x):
    return jnp.asarray(unwrap(x))


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """``max(x, 0)``, with Keras's optional slope, cap and threshold."""
    x = _x(x)
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return jnp.maximum(x, 0)
    out = jnp.where(x >= threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        out = jnp.minimum(out, max_value)
    return out


def leaky_relu(x, negative_slope=0.2):
    x = _x(x)
    return jnp.where(x >= 0, x, negative_slope * x)


def relu6(x):
    return jnp.clip(_x(x), 0, 6)


def elu(x, alpha=1.0):
    x = _x(x)
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0)))


def selu(x):
    return jax.nn.selu(_x(x))


def sigmoid(x):
    return jax.nn.sigmoid(_x(x))


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``: a piecewise-linear sigmoid."""
    return jnp.clip(_x(x) + 3.0, 0, 6) / 6.0


def hard_silu(x):
    x = _x(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def tanh(x):
    return jnp.tanh(_x(x))


def softplus(x):
    return jax.nn.softplus(_x(x))


def softsign(x):
    x = _x(x)
    return x / (1 + jnp.abs(x))


def silu(x):
    x = _x(x)
    return x * jax.nn.sigmoid(x)


swish = silu


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact erf form unless ``approximate``)."""
    return jax.nn.gelu(_x(x), approximate=approximate)


def mish(x):
    x = _x(x)
    return x * jnp.tanh(jax.nn.softplus(x))


def exponential(x):
    return jnp.exp(_x(x))


def linear(x):
    return unwrap(x)


def softmax(x, axis=-1):
    return jax.nn.softmax(_x(x), axis=axis)


def log_softmax(x, axis=-1):
    return jax.nn.log_softmax(_x(x), axis=axis)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: ``max(x, 0) + min(alpha * (exp(x / alpha) - 1), 0)``."""
    x = _x(x)
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0) / alpha))


def glu(x, axis=-1):
    """Gated linear unit: splits ``x`` in two halves ``a, b`` on ``axis``; ``a * sigmoid(b)``.

    Example:
        >>> from callax import activations
        >>> activations.glu([[1.0, 2.0, 0.0, 0.0]]).tolist()
        [[0.5, 1.0]]
    """
    x = _x(x)
    if x.shape[axis] % 2:
        raise ValueError(
            f"glu: the size of axis {axis} must be even (it is split in two halves); "
            f"received an input of shape {tuple(x.shape)}."
        )
    a, b = jnp.split(x, 2, axis=axis)
    return a * jax.nn.sigmoid(b)


def hard_shrink(x, threshold=0.5):
    """``x`` where ``|x| > threshold``, else 0."""
    x = _x(x)
    return jnp.where(jnp.abs(x) > threshold, x, jnp.zeros_like(x))


def hard_tanh(x):
    """``clip(x, -1, 1)``."""
    return jnp.clip(_x(x), -1.0, 1.0)


def log_sigmoid(x):
    """``log(sigmoid(x)) = -softplus(-x)``, computed stably."""
    return jax.nn.log_sigmoid(_x(x))


def soft_shrink(x, threshold=0.5):
    """``x - threshold`` above ``threshold``, ``x + threshold`` below ``-threshold``, else 0."""
    x = _x(x)
    return jnp.where(
        x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold, jnp.zeros_like(x))
    )


def sparse_plus(x):
    """0 for ``x <= -1``, ``x`` for ``x >= 1``, ``(x + 1)**2 / 4`` between."""
    x = _x(x)
    return jnp.where(x <= -1, jnp.zeros_like(x), jnp.where(x >= 1, x, (x + 1) ** 2 / 4))


def sparse_sigmoid(x):
    """0 for ``x <= -1``, 1 for ``x >= 1``, ``(x + 1) / 2`` between."""
    x = _x(x)
    return jnp.where(x <= -1, jnp.zeros_like(x), jnp.where(x >= 1, jnp.ones_like(x), (x + 1) / 2))


def sparsemax(x, axis=-1):
    """Euclidean projection of ``x`` onto the probability simplex along ``axis``
    (Martins & Astudillo, 2016): like softmax, but exact zeros for low scores.

    Example:
        >>> from callax import activations
        >>> activations.sparsemax([[1.0, 0.0, -1.0]]).tolist()
        [[1.0, 0.0, 0.0]]
    """
    x = _x(x)
    moved = jnp.moveaxis(x, axis, -1)
    z = -jnp.sort(-moved, axis=-1)  # descending
    cumsum = jnp.cumsum(z, axis=-1)
    k = jnp.arange(1, z.shape[-1] + 1, dtype=x.dtype)
    support = (1 + k * z) > cumsum
    k_z = jnp.sum(support, axis=-1, keepdims=True)
    tau = (jnp.take_along_axis(cumsum, k_z - 1, axis=-1) - 1) / k_z.astype(x.dtype)
    return jnp.moveaxis(jnp.maximum(moved - tau, 0), -1, axis)


def squareplus(x, b=4):
    """``(x + sqrt(x**2 + b)) / 2``: a smooth, algebraic softplus."""
    x = _x(x)
    return (x + jnp.sqrt(x * x + b)) / 2


def tanh_shrink(x):
    """``x - tanh(x)``."""
    x = _x(x)
    return x - jnp.tanh(x)


def threshold(x, threshold, default_value):
    """``x`` where ``x > threshold``, else ``default_value``."""
    x = _x(x)
    return jnp.where(x > threshold, x, jnp.asarray(default_value, x.dtype))
