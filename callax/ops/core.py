"""Core ops (Keras's ``ops.core``): casting, conversion, control flow, slicing and scatter."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from callax.core import config
from callax.core.keras_tensor import KerasTensor
from callax.core.variable import Variable, unwrap
from callax.ops.dispatch import op

__all__ = [
    "cast", "convert_to_tensor", "convert_to_numpy", "shape", "is_tensor", "stop_gradient",
    "cond", "while_loop", "fori_loop", "scan", "map", "switch", "vectorized_map", "slice",
    "slice_update", "scatter", "scatter_update", "unstack", "saturate_cast", "dtype",
    "custom_gradient", "associative_scan",
]  # fmt: skip


@op
def cast(x, dtype):
    return jnp.asarray(x).astype(dtype)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A JAX array from an array-like (numpy floats become floatx unless ``dtype``)."""
    x = unwrap(x)
    if isinstance(x, KerasTensor):
        return x
    if dtype is None and isinstance(x, (float, list)) and not isinstance(x, jax.Array):
        arr = np.asarray(x)
        if arr.dtype.kind == "f":
            dtype = config.floatx()
    return jnp.asarray(x, dtype=dtype)


def convert_to_numpy(x):
    return np.asarray(unwrap(x))


def shape(x):
    """The shape as a tuple of ints (``None`` for unknown symbolic dims)."""
    return tuple(unwrap(x).shape)


def dtype(x):
    return jnp.dtype(unwrap(x).dtype).name


def is_tensor(x):
    return isinstance(x, (jax.Array, Variable))


@op
def stop_gradient(x):
    return lax.stop_gradient(x)


def cond(pred, true_fn, false_fn):
    return lax.cond(pred, true_fn, false_fn)


def switch(index, branches, *operands):
    return lax.switch(index, branches, *operands)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Keras semantics: ``body(*loop_vars)`` for tuple/list loop_vars."""
    is_seq = isinstance(loop_vars, (list, tuple))
    state = tuple(loop_vars) if is_seq else (loop_vars,)
    if maximum_iterations is not None:
        state = (0, state)

        def _cond(s):
            return jnp.logical_and(s[0] < maximum_iterations, cond(*s[1]))

        def _body(s):
            out = body(*s[1])
            return (s[0] + 1, tuple(out) if is_seq else (out,))

        result = lax.while_loop(_cond, _body, state)[1]
    else:
        result = lax.while_loop(
            lambda s: cond(*s), lambda s: tuple(body(*s)) if is_seq else (body(*s),), state
        )
    return type(loop_vars)(result) if is_seq else result[0]


def fori_loop(lower, upper, body_fun, init_val):
    return lax.fori_loop(lower, upper, body_fun, init_val)


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    return lax.scan(f, init, xs, length=length, reverse=reverse, unroll=unroll)


def associative_scan(f, elems, reverse=False, axis=0):
    return lax.associative_scan(f, elems, reverse=reverse, axis=axis)


def map(f, xs):  # noqa: A001
    return lax.map(f, xs)


def vectorized_map(function, elements):
    return jax.vmap(function)(elements)


@op
def slice(inputs, start_indices, shape):  # noqa: A001
    return lax.dynamic_slice(inputs, start_indices, shape)


@op
def slice_update(inputs, start_indices, updates):
    return lax.dynamic_update_slice(inputs, updates.astype(inputs.dtype), start_indices)


@op
def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (``(n, rank)``)."""
    indices = jnp.asarray(indices)
    zeros = jnp.zeros(shape, values.dtype)
    return zeros.at[tuple(indices.T)].add(values)


@op
def scatter_update(inputs, indices, updates):
    indices = jnp.asarray(indices)
    return inputs.at[tuple(indices.T)].set(updates)


@op
def unstack(x, num=None, axis=0):
    return [jnp.squeeze(p, axis) for p in jnp.split(x, x.shape[axis], axis=axis)]


@op
def saturate_cast(x, dtype):
    info = jnp.iinfo(dtype) if jnp.issubdtype(dtype, jnp.integer) else jnp.finfo(dtype)
    return jnp.clip(x, info.min, info.max).astype(dtype)


def custom_gradient(f):
    """``f(*args) -> (y, grad_fn)`` as in Keras; ``grad_fn(upstream) -> grads``."""

    @jax.custom_vjp
    def wrapped(*args):
        return f(*args)[0]

    def fwd(*args):
        return f(*args)[0], args

    def bwd(args, g):
        grads = f(*args)[1](g)  # re-run the forward: closures cannot be residuals
        return tuple(grads) if isinstance(grads, (list, tuple)) else (grads,)

    wrapped.defvjp(fwd, bwd)
    return wrapped
