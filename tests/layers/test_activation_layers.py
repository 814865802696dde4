"""ReLU, LeakyReLU, ELU, PReLU and Softmax layers: numpy formulas, Keras 3 as
oracle with the same weights, gradients, masks, configs and bad input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax.layers import ELU, LeakyReLU, PReLU, ReLU, Softmax

RS = np.random.RandomState(0)
X = RS.randn(3, 4, 5).astype("float32") * 2


def _softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ------------------------------------------------------------------- numerics
@pytest.mark.parametrize(
    "kwargs",
    [{}, {"max_value": 1.5}, {"negative_slope": 0.1}, {"threshold": 0.5},
     {"max_value": 2.0, "negative_slope": 0.2, "threshold": 0.3}],
)  # fmt: skip
def test_relu_matches_numpy(kwargs):
    m, a, t = kwargs.get("max_value"), kwargs.get("negative_slope", 0.0), kwargs.get("threshold", 0)
    want = np.where(X >= t, X, a * (X - t))
    if m is not None:
        want = np.minimum(want, m)
    np.testing.assert_allclose(np.asarray(ReLU(**kwargs)(X)), want, rtol=1e-6)


def test_leaky_relu_default_slope_is_keras3s():
    np.testing.assert_allclose(np.asarray(LeakyReLU()(X)), np.where(X >= 0, X, 0.3 * X), rtol=1e-6)
    with pytest.warns(UserWarning, match="alpha.*deprecated"):
        layer = LeakyReLU(alpha=0.1)
    assert layer.negative_slope == 0.1


def test_elu_matches_numpy():
    want = np.where(X > 0, X, 0.7 * (np.exp(X) - 1))
    np.testing.assert_allclose(np.asarray(ELU(alpha=0.7)(X)), want, rtol=1e-5, atol=1e-6)


def test_prelu_weight_shape_and_formula():
    layer = PReLU(alpha_initializer=callax.initializers.RandomNormal(seed=1), shared_axes=[1])
    out = np.asarray(layer(X))
    assert layer.alpha.shape == (1, 5) and layer.alpha.path == "p_re_lu/alpha"
    alpha = np.asarray(layer.alpha.value)
    np.testing.assert_allclose(out, np.where(X >= 0, X, alpha * X), rtol=1e-6)
    assert PReLU()(X).shape == X.shape and PReLU(shared_axes=2).shared_axes == [2]


def test_prelu_default_is_relu_and_learns_its_slope():
    layer = PReLU()
    np.testing.assert_allclose(np.asarray(layer(X)), np.maximum(X, 0))
    tv = [v.value for v in layer.trainable_variables]
    g = jax.grad(lambda tv: jnp.sum(layer.stateless_call(tv, [], X)[0]))(tv)[0]
    np.testing.assert_allclose(np.asarray(g), np.minimum(X, 0).sum(0), rtol=1e-5)


def test_softmax_matches_numpy_on_one_axis_and_several():
    np.testing.assert_allclose(np.asarray(Softmax()(X)), _softmax(X), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(Softmax(axis=1)(X)), _softmax(X, 1), rtol=1e-5)
    got = np.asarray(Softmax(axis=[1, 2])(X))
    flat = _softmax(X.reshape(3, -1)).reshape(X.shape)
    np.testing.assert_allclose(got, flat, rtol=1e-5, atol=1e-7)


# ----------------------------------------------------------------------- masks
def test_softmax_mask_zeroes_masked_and_renormalizes():
    mask = RS.rand(3, 4, 5) > 0.4
    mask[0, 0] = False  # a fully masked row gives zeros, not a uniform distribution
    got = np.asarray(Softmax()(X, mask=mask))
    e = np.where(mask, np.exp(X - X.max(-1, keepdims=True)), 0)
    want = np.divide(e, e.sum(-1, keepdims=True), out=np.zeros_like(e),
                     where=e.sum(-1, keepdims=True) > 0)  # fmt: skip
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert (got[0, 0] == 0).all()


def test_softmax_broadcast_and_float_mask():
    mask = (RS.rand(3, 1, 5) > 0.3).astype("float32")
    got = np.asarray(Softmax()(X, mask=mask))
    assert got.shape == X.shape
    np.testing.assert_array_equal(got == 0, np.broadcast_to(mask == 0, X.shape))


def test_softmax_mask_under_jit_matches_keras():
    keras = pytest.importorskip("keras")
    mask = RS.rand(3, 4, 5) > 0.5
    fn = jax.jit(lambda x, m: Softmax()(x, mask=m))
    np.testing.assert_allclose(
        np.asarray(fn(X, mask)), np.asarray(keras.layers.Softmax()(X, mask=mask)), rtol=1e-5,
        atol=1e-7,
    )  # fmt: skip


# ----------------------------------------------------------------- Keras oracle
CASES = [
    ("ReLU", {"max_value": 1.0, "negative_slope": 0.05, "threshold": 0.2}),
    ("LeakyReLU", {"negative_slope": 0.15}),
    ("ELU", {"alpha": 0.4}),
    ("PReLU", {"shared_axes": [1, 2]}),
    ("PReLU", {}),
    ("Softmax", {"axis": 1}),
    ("Softmax", {"axis": [1, 2]}),
]


@pytest.mark.parametrize("name,kwargs", CASES, ids=lambda c: str(c))
def test_matches_keras_with_the_same_weights(name, kwargs):
    keras = pytest.importorskip("keras")
    k_layer = getattr(keras.layers, name)(**kwargs)
    c_layer = getattr(callax.layers, name)(**kwargs)
    k_layer(X)
    c_layer(X)
    values = [RS.randn(*w.shape).astype("float32") for w in k_layer.weights]
    k_layer.set_weights(values)
    c_layer.set_weights(values)
    names = [w.path.split("/", 1)[1] for w in c_layer.weights]
    assert names == [w.path.split("/", 1)[1] for w in k_layer.weights]
    np.testing.assert_allclose(np.asarray(c_layer(X)), np.asarray(k_layer(X)), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    c_cfg, k_cfg = c_layer.get_config(), k_layer.get_config()
    for key in k_cfg:
        if key not in ("name", "dtype", "alpha_initializer"):
            assert c_cfg[key] == k_cfg[key], key
    # Keras rebuilds callax's config and vice versa.
    assert type(k_layer).from_config(c_cfg).get_config()["name"] == c_cfg["name"]
    assert type(c_layer).from_config(k_cfg).get_config() == c_layer.get_config() | {
        "name": k_cfg["name"]
    }


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize(
    "layer",
    [lambda: ReLU(max_value=2.0, negative_slope=0.1), lambda: LeakyReLU(), lambda: ELU(0.5),
     lambda: Softmax(axis=1), lambda: Softmax(axis=[1, 2])],
    ids=["relu", "leaky", "elu", "softmax", "softmax2"],
)  # fmt: skip
def test_input_gradients(layer):
    x = jnp.asarray(X[:1] * 0.9 + 0.05)  # keeps away from the kinks at 0 and the cap
    fn = layer()
    check_grads(lambda v: fn(v), (x,), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


def test_prelu_gradients_in_alpha_and_input():
    layer = PReLU(alpha_initializer="ones", shared_axes=[1])
    layer(X)
    tv = [jnp.full((1, 5), 0.3)]
    check_grads(lambda a, x: layer.stateless_call([a], [], x)[0], (tv[0], jnp.asarray(X[:1])),
                order=1, modes=["rev"], atol=1e-2, rtol=1e-2)  # fmt: skip


# -------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make,match",
    [(lambda: ReLU(max_value=-1.0), r"ReLU 're_lu'.*max_value.*received max_value=-1.0"),
     (lambda: ReLU(negative_slope=-0.1), r"ReLU 're_lu'.*received negative_slope=-0.1"),
     (lambda: ReLU(threshold=None), r"ReLU 're_lu'.*received threshold=None"),
     (lambda: LeakyReLU(negative_slope=-1), r"LeakyReLU 'leaky_re_lu'.*received negative_slope=-1")],
)  # fmt: skip
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_prelu_input_spec_refuses_a_changed_shape():
    layer = PReLU(shared_axes=[1])
    layer(X)
    with pytest.raises(ValueError, match=r"PReLU 'p_re_lu'.*axis 2.*value 5.*shape \(3, 4, 6\)"):
        layer(np.ones((3, 4, 6), "float32"))
    layer(np.ones((2, 7, 5), "float32"))  # the shared axis may change
    with pytest.raises(ValueError, match=r"PReLU 'p_re_lu_1'.*shared_axes.*received shared_axes"):
        PReLU(shared_axes=[3])(X)


def test_softmax_bad_mask():
    with pytest.raises(ValueError, match=r"Softmax 'softmax'.*mask of shape \(3, 4, 2\)"):
        Softmax()(X, mask=np.ones((3, 4, 2), bool))


def test_constructing_never_looks_like_a_settings_change():
    # Creating layers elsewhere never invalidates a compiled call of this model
    # (caches are keyed on the model's own structure stamps).
    import callax

    model = callax.Sequential([callax.Input((4,)), ReLU(), Softmax()])
    fast = callax.jit(model)
    fast(X[:, :, 0])
    fast(X[:, :, 0])
    ReLU(max_value=1.0)
    LeakyReLU(0.1)
    ELU(0.5)
    Softmax(axis=1)
    fast(X[:, :, 0])
    assert fast.cache_info()["traces"] == 1
