"""Linear-algebra ops (``keras.ops.linalg``): decompositions, solves and inverses.

Every op batches over leading dimensions (``(..., M, N)`` matrices) and is
wrapped by :func:`callax.ops.dispatch.op` (variables and symbolic tensors work).

Example:
    >>> from callax import ops
    >>> a = ops.array([[2.0, 0.0], [0.0, 4.0]])
    >>> ops.linalg.inv(a).tolist()
    [[0.5, 0.0], [0.0, 0.25]]
    >>> float(ops.linalg.det(a))
    8.0
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl

from callax.core import config
from callax.ops.dispatch import op
from callax.ops.math import qr

__all__ = [
    "cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq", "lu_factor",
    "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd", "logdet",
]  # fmt: skip


@op
def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002
    return jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


def _need_matrix(x, name: str) -> None:
    if jnp.ndim(x) < 2:
        raise ValueError(
            f"{name} expects a matrix (rank >= 2, shape (..., M, N)). "
            f"Received: x.shape={tuple(jnp.shape(x))}"
        )


def _as_float(x):
    x = jnp.asarray(x)
    return x if jnp.issubdtype(x.dtype, jnp.inexact) else x.astype(config.floatx())


@op
def cholesky(x, upper=False):
    """The Cholesky factor ``L`` (``x = L L^T``), or ``U = L^T`` with ``upper=True``.

    Eagerly, a matrix that is not positive definite raises ``ValueError`` (as Keras);
    under ``jit`` the result holds NaNs instead.
    """
    _need_matrix(x, "cholesky")
    out = jnp.linalg.cholesky(_as_float(x), upper=upper)
    if not isinstance(out, jax.core.Tracer) and bool(jnp.any(jnp.isnan(out))):
        raise ValueError(
            "cholesky expects a symmetric positive-definite matrix; the decomposition "
            f"failed. Received: x with shape {tuple(jnp.shape(x))}"
        )
    return out


@op
def cholesky_inverse(x, upper=False):
    """The inverse of ``A`` from its Cholesky factor ``x`` (lower, or upper if ``upper``)."""
    _need_matrix(x, "cholesky_inverse")
    x = _as_float(x)
    eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    # A = L L^T  =>  A^-1 = L^-T L^-1; with U = L^T the same holds with L = U^T.
    factor_inv = jsl.solve_triangular(x, eye, lower=not upper)
    if upper:
        return factor_inv @ jnp.swapaxes(factor_inv, -1, -2)
    return jnp.swapaxes(factor_inv, -1, -2) @ factor_inv


@op
def det(x):
    _need_matrix(x, "det")
    return jnp.linalg.det(_as_float(x))


@op
def logdet(x):
    """``log(det(x))`` computed stably (through ``slogdet``) for positive-definite ``x``."""
    _need_matrix(x, "logdet")
    return jnp.linalg.slogdet(_as_float(x))[1]


@op
def eig(x):
    """Eigenvalues and right eigenvectors of a square matrix (complex results).

    XLA computes a general eigendecomposition on CPU only.
    """
    _need_matrix(x, "eig")
    return tuple(jnp.linalg.eig(_as_float(x)))


@op
def eigh(x):
    """Eigenvalues (ascending) and eigenvectors of a symmetric/Hermitian matrix."""
    _need_matrix(x, "eigh")
    return tuple(jnp.linalg.eigh(_as_float(x)))


@op
def inv(x):
    _need_matrix(x, "inv")
    return jnp.linalg.inv(_as_float(x))


@op
def lstsq(a, b, rcond=None):
    """The least-squares solution ``x`` of ``a @ x = b`` (batched over leading dims)."""
    fn = lambda a, b: jnp.linalg.lstsq(a, b, rcond=rcond)[0]  # noqa: E731
    for _ in range(jnp.ndim(a) - 2):
        fn = jax.vmap(fn)
    return fn(_as_float(a), _as_float(b))


@op
def lu_factor(x):
    """The packed LU factorization and pivot indices (``scipy.linalg.lu_factor``)."""
    _need_matrix(x, "lu_factor")
    fn = jsl.lu_factor
    for _ in range(jnp.ndim(x) - 2):
        fn = jax.vmap(fn)
    return fn(_as_float(x))


@op
def matrix_rank(x, tol=None):
    """The rank of a matrix (number of singular values above ``tol``), as int32."""
    _need_matrix(x, "matrix_rank")
    return jnp.linalg.matrix_rank(_as_float(x), tol=tol).astype("int32")


@op
def pinv(x, rcond=None):
    """The Moore-Penrose pseudo-inverse."""
    _need_matrix(x, "pinv")
    if rcond is None:
        return jnp.linalg.pinv(_as_float(x))
    return jnp.linalg.pinv(_as_float(x), rtol=rcond)


@op
def solve(a, b):
    """The solution ``x`` of ``a @ x = b`` for square ``a``."""
    return jnp.linalg.solve(_as_float(a), _as_float(b))


@op
def solve_triangular(a, b, lower=False):
    """The solution of ``a @ x = b`` for triangular ``a`` (upper unless ``lower``)."""
    return jsl.solve_triangular(_as_float(a), _as_float(b), lower=lower)


@op
def svd(x, full_matrices=True, compute_uv=True):
    """``(u, s, vh)`` with ``x = u @ diag(s) @ vh``; only ``s`` if not ``compute_uv``."""
    _need_matrix(x, "svd")
    out = jnp.linalg.svd(_as_float(x), full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def jvp(fun: Callable, primals, tangents, has_aux=False):
    """Forward-mode derivative: ``(fun(*primals), J @ tangents)`` (plus aux if ``has_aux``).

    Example:
        >>> from callax import ops
        >>> y, t = ops.linalg.jvp(lambda x: x * x, (ops.array(3.0),), (ops.array(1.0),))
        >>> float(y), float(t)
        (9.0, 6.0)
    """
    return jax.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)
