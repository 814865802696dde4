"""Dot (batchwise dot products, normalize) and the functional merges subtract,
maximum, minimum, average, dot: numpy formulas, Keras 3 as oracle, gradients,
symbolic (Functional) use, configs, bad input."""

import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax.layers import Dot

RS = np.random.RandomState(0)
A = RS.randn(2, 3, 5).astype("float32")
B = RS.randn(2, 4, 5).astype("float32")
C = RS.randn(2, 5, 4).astype("float32")


def _unit(x, axis):
    return x / np.sqrt(np.maximum((x * x).sum(axis=axis, keepdims=True), 1e-12))


@pytest.mark.parametrize(
    "axes,x,y,want",
    [
        (2, A, B, lambda a, b: np.einsum("bik,bjk->bij", a, b)),
        (-1, A, B, lambda a, b: np.einsum("bik,bjk->bij", a, b)),
        ((2, 1), A, C, lambda a, b: np.einsum("bik,bkj->bij", a, b)),
        ((1, 2), A.transpose(0, 2, 1), C.transpose(0, 2, 1),
         lambda a, b: np.einsum("bki,bjk->bij", a, b)),
        (1, A[:, 0], B[:, 0], lambda a, b: (a * b).sum(-1, keepdims=True)),
    ],
)  # fmt: skip
def test_dot_matches_numpy(axes, x, y, want):
    got = np.asarray(Dot(axes=axes)([x, y]))
    np.testing.assert_allclose(got, want(x, y), rtol=1e-5, atol=1e-5)


def test_dot_normalize_is_cosine_similarity():
    x, y = A[:, 0], B[:, 0]
    got = np.asarray(Dot(axes=1, normalize=True)([x, y]))
    want = (_unit(x, -1) * _unit(y, -1)).sum(-1, keepdims=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert np.all(np.abs(got) <= 1 + 1e-6)


def test_dot_higher_rank_keeps_other_axes_in_order():
    x = RS.randn(2, 3, 4, 6).astype("float32")
    y = RS.randn(2, 6, 5).astype("float32")
    got = np.asarray(Dot(axes=(3, 1))([x, y]))
    np.testing.assert_allclose(got, np.einsum("bijk,bkl->bijl", x, y), rtol=1e-5, atol=1e-5)
    assert Dot(axes=(3, 1)).compute_output_shape([(None, 3, 4, 6), (None, 6, 5)]) == (
        None, 3, 4, 5,
    )  # fmt: skip


@pytest.mark.parametrize(
    "kwargs,x,y",
    [({"axes": 2}, A, B), ({"axes": (2, 1)}, A, C), ({"axes": 1, "normalize": True}, A[:, 0],
     B[:, 0]), ({"axes": [1, 1], "normalize": True}, A, C[:, :3])],
)  # fmt: skip
def test_dot_matches_keras(kwargs, x, y):
    keras = pytest.importorskip("keras")
    want = np.asarray(keras.layers.Dot(**kwargs)([x, y]))
    got = np.asarray(Dot(**kwargs)([x, y]))
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    kcfg, ccfg = keras.layers.Dot(**kwargs).get_config(), Dot(**kwargs).get_config()
    for cfg in (kcfg, ccfg):
        cfg.pop("name")
        cfg["axes"] = cfg["axes"] if isinstance(cfg["axes"], int) else list(cfg["axes"])
    assert ccfg == kcfg


def test_dot_gradients():
    x, y = jnp.asarray(A[:1]), jnp.asarray(C[:1])
    layer = Dot(axes=(2, 1), normalize=True)
    check_grads(lambda a, b: layer([a, b]), (x, y), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


def test_functional_forms_match_numpy():
    x, y = A, RS.randn(*A.shape).astype("float32")
    L = callax.layers
    np.testing.assert_allclose(np.asarray(L.subtract([x, y])), x - y, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(L.maximum([x, y])), np.maximum(x, y))
    np.testing.assert_allclose(np.asarray(L.minimum([x, y])), np.minimum(x, y))
    np.testing.assert_allclose(np.asarray(L.average([x, y, x])), (2 * x + y) / 3, rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(L.dot([x, B], axes=2)), np.einsum("bik,bjk->bij", x, B), rtol=1e-5, atol=1e-5
    )
    assert L.dot([x[:, 0], y[:, 0]], axes=-1, name="d").shape == (2, 1)


def test_functional_forms_build_a_model_like_keras():
    keras = pytest.importorskip("keras")

    def build(lib):
        a, b = lib.Input((5,)), lib.Input((5,))
        ha = lib.layers.Dense(4)(a)
        hb = lib.layers.Dense(4)(b)
        m = lib.layers.average([lib.layers.maximum([ha, hb]), lib.layers.minimum([ha, hb])])
        s = lib.layers.subtract([m, ha])
        return lib.Model([a, b], lib.layers.dot([s, hb], axes=1, normalize=True))

    km, cm = build(keras), build(callax)
    cm.set_weights(km.get_weights())
    x = [RS.randn(3, 5).astype("float32"), RS.randn(3, 5).astype("float32")]
    want = np.asarray(km.predict(x, verbose=0))
    np.testing.assert_allclose(np.asarray(cm.predict(x, verbose=0)), want, rtol=1e-5, atol=1e-5)
    assert want.shape == (3, 1)


def test_dot_config_round_trip():
    layer = Dot(axes=(1, 2), normalize=True, name="d")
    cfg = layer.get_config()
    assert cfg["axes"] == [1, 2] and cfg["normalize"] is True
    assert Dot.from_config(cfg).get_config() == cfg


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda: Dot(axes="x"), TypeError, r"Dot 'dot'.*received axes='x'"),
        (lambda: Dot(axes=(1, 2, 3)), ValueError, r"Dot 'dot'.*exactly 2 ints.*\(1, 2, 3\)"),
        (lambda: Dot(axes=2)([A, C]), ValueError,
         r"Dot 'dot'.*same size.*axis 2 of the first input has 5.*second has 4"),
        (lambda: Dot(axes=2)([A, B, A]), ValueError, r"Dot 'dot'.*list of 2 tensors.*3 inputs"),
        (lambda: Dot(axes=2)(A), ValueError, r"Dot 'dot'.*list of 2 tensors.*one tensor"),
        (lambda: Dot(axes=0)([A, B]), ValueError, r"Dot 'dot'.*non-batch axes.*axes=0"),
    ],
)  # fmt: skip
def test_dot_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
