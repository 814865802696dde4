"""Random numbers with Keras's ``keras.random`` names, on ``jax.random``.

``seed`` may be an int (same numbers every call), a :class:`SeedGenerator`
(a new draw every call, usable inside compiled functions), or ``None``
(a fresh draw every call from the global stream, which
``callax.utils.set_random_seed`` makes reproducible).

Example:
    >>> import callax
    >>> callax.random.normal((32, 32)).shape
    (32, 32)
    >>> x = callax.random.uniform((3,), seed=1)
    >>> bool((x == callax.random.uniform((3,), seed=1)).all())
    True
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from callax.core import config
from callax.core.seed_generator import SeedGenerator, draw_key
from callax.core.variable import unwrap

__all__ = [
    "SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "categorical",
    "dropout", "shuffle", "gamma", "binomial", "beta",
]  # fmt: skip


def _key(seed):
    return jax.random.wrap_key_data(draw_key(seed), impl="threefry2x32")


def _dtype(dtype):
    return jnp.dtype(dtype or config.floatx())


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from a normal distribution."""
    return jax.random.normal(_key(seed), tuple(shape), _dtype(dtype)) * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples uniformly from ``[minval, maxval)``."""
    return jax.random.uniform(_key(seed), tuple(shape), _dtype(dtype), minval=minval, maxval=maxval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples a normal distribution truncated to two standard deviations."""
    sample = jax.random.truncated_normal(_key(seed), -2.0, 2.0, tuple(shape), _dtype(dtype))
    return sample * stddev + mean


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Samples integers uniformly from ``[minval, maxval)``."""
    return jax.random.randint(_key(seed), tuple(shape), minval, maxval, jnp.dtype(dtype))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """Draws ``num_samples`` class indices per row of ``logits`` (batch, classes)."""
    logits = unwrap(logits)
    out = jax.random.categorical(
        _key(seed), logits[..., None, :], axis=-1, shape=logits.shape[:-1] + (num_samples,)
    )
    return out.astype(dtype)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes entries with probability ``rate`` and scales the rest by ``1/(1-rate)``."""
    inputs = unwrap(inputs)
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1); received {rate}.")
    shape = inputs.shape if noise_shape is None else _noise_shape(inputs.shape, noise_shape)
    keep = jax.random.bernoulli(_key(seed), 1.0 - rate, shape)
    return jnp.where(keep, inputs / (1.0 - rate), jnp.zeros_like(inputs))


def _noise_shape(shape, noise_shape):
    return tuple(s if n is None else n for s, n in zip(shape, noise_shape))


def shuffle(x, axis=0, seed=None):
    """Shuffles ``x`` along ``axis``."""
    return jax.random.permutation(_key(seed), unwrap(x), axis=axis, independent=False)


def gamma(shape, alpha, dtype=None, seed=None):
    return jax.random.gamma(_key(seed), alpha, tuple(shape), _dtype(dtype))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    return jax.random.binomial(_key(seed), counts, probabilities, tuple(shape), _dtype(dtype))


def beta(shape, alpha, beta, dtype=None, seed=None):
    return jax.random.beta(_key(seed), alpha, beta, tuple(shape), _dtype(dtype))
