"""keras.ops.linalg: each op against numpy/scipy formulas and Keras 3, batched."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl
from jax.test_util import check_grads

import callax
from callax import ops

rng = np.random.default_rng(1)
A = rng.normal(size=(2, 4, 4)).astype("float32")
SPD = (A @ np.swapaxes(A, -1, -2) + 4 * np.eye(4)).astype("float32")
B = rng.normal(size=(2, 4, 3)).astype("float32")
RECT = rng.normal(size=(2, 5, 3)).astype("float32")
RHS = rng.normal(size=(5, 2)).astype("float32")
LOW = np.tril(A) + 4 * np.eye(4, dtype="float32")


def _close(a, b, tol=2e-4):
    if isinstance(b, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, tol)
        return
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


CASES = [
    ("cholesky", (SPD,), {}, lambda x: np.linalg.cholesky(x)),
    ("cholesky", (SPD,), {"upper": True}, lambda x, upper: np.swapaxes(np.linalg.cholesky(x), -1, -2)),
    # Keras's own cholesky_inverse handles single matrices only.
    ("cholesky_inverse", (np.linalg.cholesky(SPD[0]),), {}, lambda c: np.linalg.inv(SPD[0])),
    ("cholesky_inverse", (np.linalg.cholesky(SPD[0]).T,), {"upper": True},
     lambda c, upper: np.linalg.inv(SPD[0])),
    ("det", (A,), {}, np.linalg.det),
    ("inv", (A,), {}, np.linalg.inv),
    ("logdet", (SPD,), {}, lambda x: np.log(np.linalg.det(x))),
    ("lstsq", (RECT[0], RHS), {},
     lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0]),
    ("matrix_rank", (RECT[..., :2] @ np.ones((2, 4), "float32"),), {},
     lambda x: np.linalg.matrix_rank(x)),
    ("matrix_rank", (A,), {}, lambda x: np.linalg.matrix_rank(x)),
    ("norm", (A,), {"axis": (-2, -1)}, lambda x, axis: np.linalg.norm(x, axis=axis)),
    ("pinv", (RECT,), {}, np.linalg.pinv),
    ("solve", (A, B), {}, np.linalg.solve),
    ("solve_triangular", (LOW, B), {"lower": True},
     lambda a, b, lower: np.stack([sl.solve_triangular(a[i], b[i], lower=True) for i in range(2)])),
    ("solve_triangular", (np.swapaxes(LOW, -1, -2), B), {},
     lambda a, b: np.stack([sl.solve_triangular(a[i], b[i]) for i in range(2)])),
    ("svd", (RECT,), {"compute_uv": False}, lambda x, compute_uv: np.linalg.svd(x, compute_uv=False)),
    ("eigh", (SPD,), {}, None),
    ("qr", (RECT,), {}, None),
    ("svd", (RECT,), {"full_matrices": False}, None),
    ("lu_factor", (A,), {}, None),
]  # fmt: skip
IDS = [f"{c[0]}{i}" for i, c in enumerate(CASES)]


def _reconstruct(name, out, args):
    """Factorizations are checked by rebuilding their input (signs/orders may differ)."""
    if name == "eigh":
        w, v = map(np.asarray, out)
        return v @ (w[..., None] * np.swapaxes(v, -1, -2))
    if name == "qr":
        return np.asarray(out[0]) @ np.asarray(out[1])
    if name == "svd":
        u, s, vh = map(np.asarray, out)
        return u @ (s[..., None] * vh)
    if name == "lu_factor":
        lu, piv = map(np.asarray, out)
        rebuilt = []
        for m, p in zip(lu, piv):
            low, up = np.tril(m, -1) + np.eye(len(m)), np.triu(m)
            prod = low @ up
            for i in reversed(range(len(p))):  # undo the LAPACK row swaps
                prod[[i, p[i]]] = prod[[p[i], i]]
            rebuilt.append(prod)
        return np.stack(rebuilt)
    raise AssertionError(name)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_numpy(case):
    name, args, kwargs, reference = case
    fn = getattr(ops.linalg, name)
    assert getattr(ops, name) is fn
    out = fn(*args, **kwargs)
    if reference is None:
        _close(_reconstruct(name, out, args), args[0])
    else:
        _close(out, reference(*args, **kwargs))


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_keras(case):
    keras = pytest.importorskip("keras")
    name, args, kwargs, _ = case
    if name == "logdet":
        expected = keras.ops.logdet(*args)
    else:
        expected = getattr(keras.ops.linalg, name)(*args, **kwargs)
    got = getattr(ops.linalg, name)(*args, **kwargs)
    if name in ("eigh", "qr", "svd", "lu_factor"):  # same algorithms: same factors
        _close(tuple(got), tuple(expected), 1e-3)
    else:
        _close(got, expected)


def test_batched_beyond_keras():
    b = RECT @ np.ones((2, 3, 2), "float32")
    expected = np.stack([np.linalg.lstsq(RECT[i], b[i], rcond=None)[0] for i in range(2)])
    _close(ops.lstsq(RECT, b), expected)
    _close(ops.cholesky_inverse(np.linalg.cholesky(SPD)), np.linalg.inv(SPD), 1e-3)


def test_eig_reconstructs():
    w, v = ops.eig(A[0])
    w, v = np.asarray(w), np.asarray(v)
    np.testing.assert_allclose(A[0] @ v, v * w, atol=1e-4)


def test_gradients():
    check_grads(lambda a: ops.inv(a), (A[0] + 4 * np.eye(4, dtype="float32"),), 1, rtol=2e-2)
    check_grads(lambda a, b: ops.solve(a, b), (SPD[0], B[0]), 1, rtol=2e-2)
    check_grads(lambda a: ops.logdet(a), (SPD[0],), 1, rtol=2e-2)


def test_jvp():
    y, t = ops.linalg.jvp(lambda x: ops.sin(x) * 2, (np.float32(0.5),), (np.float32(1.0),))
    np.testing.assert_allclose([y, t], [2 * np.sin(0.5), 2 * np.cos(0.5)], rtol=1e-6)
    y, t, aux = ops.jvp(
        lambda x: (x * x, x + 1), (np.float32(3.0),), (np.float32(1.0),), has_aux=True
    )
    assert float(aux) == 4.0
    np.testing.assert_allclose([y, t], [9.0, 6.0])


def test_bad_inputs():
    with pytest.raises(ValueError, match="positive-definite"):
        ops.cholesky(-SPD[0])
    with pytest.raises(ValueError, match=r"rank >= 2.*Received: x.shape=\(4,\)"):
        ops.inv(A[0, 0])


def test_symbolic_and_variables():
    x = callax.Input((4, 4))
    y = ops.linalg.inv(x)
    s = ops.linalg.svd(x, compute_uv=False)
    model = callax.Model(x, [y, s, ops.det(x)])
    inv, sv, det = model(A)
    _close(inv, np.linalg.inv(A))
    _close(sv, np.linalg.svd(A, compute_uv=False))
    _close(det, np.linalg.det(A), 1e-3)
    _close(ops.det(callax.Variable(A)), np.linalg.det(A), 1e-3)
