"""Activation functions, by name or callable (``Dense(64, activation="relu")``).

Example:
    >>> import numpy as np
    >>> from callax import activations
    >>> activations.get("relu")(np.array([-1.0, 2.0]))
    Array([0., 2.], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from callax.core.variable import unwrap


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


_ALL = {
    f.__name__: f
    for f in (relu, leaky_relu, relu6, elu, selu, sigmoid, hard_sigmoid, hard_silu, tanh,
              softplus, softsign, silu, gelu, mish, exponential, linear, softmax, log_softmax)
}  # fmt: skip
_ALL.update(swish=silu, hard_swish=hard_silu)


def serialize(activation: Callable) -> str | Any:
    name = getattr(activation, "__name__", None)
    if name in _ALL and _ALL[name] is activation:
        return name
    raise ValueError(
        f"Cannot serialize activation {activation!r}: give it a name registered in "
        "callax.activations or register it with callax.saving.register_keras_serializable."
    )


def get(identifier: str | Callable | None) -> Callable:
    """An activation function from a name, a callable, or ``None`` (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _ALL.get(identifier)
        if fn is None:
            raise ValueError(f"Unknown activation {identifier!r}. Known names: {sorted(_ALL)}.")
        return fn
    if isinstance(identifier, dict):
        # Keras writes functions as {"class_name": "function", "config": "relu", ...}
        config = identifier.get("config", identifier)
        if isinstance(config, str):
            return get(config)
        return get(config.get("name", identifier.get("class_name")))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation {identifier!r}: expected a name or callable.")
