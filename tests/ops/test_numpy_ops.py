"""keras.ops.numpy: each op against numpy (independent formulas) and Keras 3."""

from __future__ import annotations

import numpy as np
import pytest

import callax
from callax import ops

rng = np.random.default_rng(0)
F = rng.normal(size=(3, 4, 5)).astype("float32")
NAN = F.copy()
NAN[0, 1, 2] = NAN[2, 0, 0] = NAN[1, 3, 4] = np.nan
M = rng.normal(size=(4, 6)).astype("float32")
INTS = rng.integers(0, 50, size=(3, 4)).astype("int32")
S = rng.integers(0, 5, size=(3, 4)).astype("int32")
INF = np.array([1.0, np.inf, -np.inf, np.nan, -2.0], "float32")
CPLX = (F + 1j * F[::-1]).astype("complex64")

# name, args, kwargs, numpy reference (None: same name in numpy)
CASES = [
    ("allclose", (F, F + 1e-7), {}, None),
    ("allclose", (F, F + 1e-2), {}, None),
    ("angle", (CPLX,), {}, None),
    ("angle", (F,), {}, None),
    ("array_split", (M, 3), {"axis": 1}, None),
    ("array_split", (F, 2), {}, None),
    ("bartlett", (7,), {}, None),
    ("blackman", (7,), {}, None),
    ("hamming", (8,), {}, None),
    ("hanning", (8,), {}, None),
    ("kaiser", (9, 4.0), {}, None),
    ("bitwise_invert", (INTS,), {}, np.invert),
    ("bitwise_left_shift", (INTS, S), {}, np.left_shift),
    ("bitwise_right_shift", (INTS, S), {}, np.right_shift),
    ("dsplit", (F, 5), {}, None),
    ("dstack", ([M, M * 2],), {}, None),
    ("fabs", (F,), {}, None),
    ("fliplr", (M,), {}, None),
    ("flipud", (M,), {}, None),
    ("fmax", (NAN, F[::-1]), {}, None),
    ("fmin", (NAN, F[::-1]), {}, None),
    ("geomspace", (1.0, 1000.0, 4), {}, None),
    ("hsplit", (M, 2), {}, None),
    ("vsplit", (M, 2), {}, None),
    ("i0", (F,), {}, None),
    ("isin", (S, np.array([1, 3], "int32")), {}, None),
    ("isin", (S, np.array([1, 3], "int32")), {"invert": True}, None),
    ("isneginf", (INF,), {}, None),
    ("isposinf", (INF,), {}, None),
    ("isreal", (np.array([1 + 0j, 2 + 1j, 3], "complex64"),), {}, None),
    ("ldexp", (F[..., 0], S), {}, None),
    ("nanargmax", (NAN,), {"axis": 1}, None),
    ("nanargmin", (NAN,), {"axis": -1}, None),
    ("nancumprod", (NAN,), {"axis": 2}, None),
    ("nancumsum", (NAN,), {"axis": 0}, None),
    ("nanmedian", (NAN,), {"axis": 1, "keepdims": True}, None),
    ("nanpercentile", (NAN, 30.0), {"axis": 2}, None),
    ("nanprod", (NAN,), {"axis": (0, 2)}, None),
    ("nanquantile", (NAN, np.array([0.1, 0.9], "float32")), {"axis": 1}, None),
    ("nanstd", (NAN,), {"axis": 1}, None),
    ("nanvar", (NAN,), {"keepdims": True}, None),
    ("percentile", (F, 75.0), {"axis": 0}, None),
    ("percentile", (F, 40.0), {"method": "nearest"}, None),
    ("rot90", (M,), {}, None),
    ("rot90", (F,), {"k": 3, "axes": (1, 2)}, None),
    ("searchsorted", (np.sort(M[0]), M[1]), {}, None),
    ("searchsorted", (np.sort(M[0]), M[0]), {"side": "right"}, None),
    ("unique", (S,), {}, None),
    ("vander", (M[0],), {"N": 3}, None),
    ("vander", (M[0],), {"increasing": True}, None),
    ("get_item", (F, (1, slice(None, 2))), {}, lambda x, k: x[k]),
    ("view", (F, "int32"), {}, lambda x, d: x.view(d)),
]


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    return np.asarray(value)


def _close(a, b, tol=1e-5):
    a, b = _np(a), _np(b)
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _close(x, y, tol)
        return
    assert a.shape == b.shape, (a.shape, b.shape)
    if a.dtype.kind in "fc":
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_matches_numpy(case):
    name, args, kwargs, reference = case
    reference = reference or getattr(np, name)
    got = getattr(ops, name)(*args, **kwargs)
    assert getattr(ops.numpy, name) is getattr(ops, name)
    _close(got, reference(*args, **kwargs), tol=1e-4)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_matches_keras(case):
    keras = pytest.importorskip("keras")
    name, args, kwargs, _ = case
    _close(getattr(ops, name)(*args, **kwargs), getattr(keras.ops, name)(*args, **kwargs), 1e-4)


def test_window_functions_are_floatx():
    assert ops.hamming(4).dtype == np.float32
    assert ops.kaiser(4, 1.0).dtype == np.float32


def test_unique_with_size_is_jittable():
    import jax

    f = jax.jit(lambda x: ops.unique(x, size=6, fill_value=-1))
    np.testing.assert_array_equal(f(np.array([3, 1, 3, 2], "int32")), [1, 2, 3, -1, -1, -1])
    values, counts = ops.unique(np.array([2, 2, 5]), return_counts=True)
    assert values.tolist() == [2, 5] and counts.tolist() == [2, 1]


def test_vectorize_and_signature():
    f = ops.vectorize(lambda a, b: a * b + 1)
    _close(f(M, 2.0), M * 2 + 1)
    dot = ops.numpy.vectorize(lambda a, b: (a * b).sum(), signature="(n),(n)->()")
    _close(dot(M, M), (M * M).sum(-1))


def test_bad_input_messages():
    with pytest.raises(TypeError, match="integer exponent"):
        ops.ldexp(F, F)
    with pytest.raises(ValueError, match="1-D sorted_sequence"):
        ops.searchsorted(M, M)
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.rot90(M[0])


def test_variables_and_symbolic_inputs():
    v = callax.Variable(NAN)
    _close(ops.nanstd(v, axis=0), np.nanstd(NAN, axis=0))
    x = callax.Input((4, 5))
    y = ops.concatenate([ops.nanvar(x, axis=-1), ops.percentile(x, 50.0, axis=-1)], axis=-1)
    model = callax.Model(x, [y, ops.get_item(x, (slice(None), 0)), ops.fliplr(x)])
    assert tuple(y.shape) == (None, 8)
    out, first, flipped = model(F)
    _close(out, np.concatenate([np.var(F, -1), np.percentile(F, 50.0, axis=-1)], -1))
    _close(first, F[:, 0])
    _close(flipped, F[:, ::-1])
