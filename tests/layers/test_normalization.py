"""BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization:
numpy formulas, Keras 3 oracle with identical weights, stateless calls, gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax.layers import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)

RS = np.random.RandomState(0)
X3 = (RS.randn(4, 3, 6) * 3 + 1).astype("float32")


def _copy_random_weights(k_layer, c_layer, seed=1):
    rng = np.random.RandomState(seed)
    values = [(rng.rand(*w.shape) + 0.5).astype("float32") for w in k_layer.weights]
    k_layer.set_weights(values)
    for v, value in zip(c_layer.weights, values):
        v.assign(value)


# ------------------------------------------------------------------ numpy formulas
def test_batchnorm_training_matches_numpy_and_updates_moving_stats():
    bn = BatchNormalization(momentum=0.9, epsilon=1e-3)
    x = X3.reshape(-1, 6)
    y = np.asarray(bn(x, training=True))
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), atol=1e-5)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.9 + 0.1 * var, rtol=1e-5)
    # Inference uses the moving statistics and leaves them alone.
    before = bn.moving_mean.numpy().copy()
    y_inf = np.asarray(bn(x))
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    np.testing.assert_allclose(y_inf, (x - mm) / np.sqrt(mv + 1e-3), atol=1e-5)
    np.testing.assert_array_equal(before, bn.moving_mean.numpy())


def test_batchnorm_repeated_training_calls_accumulate():
    # The second and third calls run as a compiled kernel: the updates must still land.
    bn = BatchNormalization()
    x = X3.reshape(-1, 6)
    mm, mv = np.zeros(6), np.ones(6)
    for _ in range(3):
        bn(x, training=True)
        mm, mv = 0.99 * mm + 0.01 * x.mean(0), 0.99 * mv + 0.01 * x.var(0)
    np.testing.assert_allclose(bn.moving_mean.numpy(), mm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), mv, rtol=1e-5)


def test_batchnorm_weights_order_names_and_trainability():
    bn = BatchNormalization()
    bn(X3)
    assert [w.name for w in bn.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [w.name for w in bn.trainable_weights] == ["gamma", "beta"]
    assert [w.name for w in bn.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert bn.gamma.shape == (6,)


def test_batchnorm_axis_1_channels_first():
    bn = BatchNormalization(axis=1)
    x = RS.randn(5, 3, 4, 4).astype("float32")
    y = np.asarray(bn(x, training=True))
    mean = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3), atol=1e-5)
    assert bn.gamma.shape == (3,)


def test_batchnorm_frozen_runs_in_inference_mode():
    bn = BatchNormalization()
    x = X3.reshape(-1, 6)
    bn(x, training=True)
    bn(x, training=True)  # compiled kernel cached for trainable=True
    bn.trainable = False
    before = bn.moving_mean.numpy().copy()
    for _ in range(3):
        y = np.asarray(bn(x, training=True))
    np.testing.assert_array_equal(before, bn.moving_mean.numpy())
    mm, mv = bn.moving_mean.numpy(), bn.moving_variance.numpy()
    np.testing.assert_allclose(y, (x - mm) / np.sqrt(mv + 1e-3), atol=1e-5)
    assert bn.trainable_weights == []


def test_batchnorm_frozen_by_parent_model():
    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.bn = BatchNormalization()

        def call(self, x, training=False):
            return self.bn(x, training=training)

    net = Net()
    x = X3.reshape(-1, 6)
    net(x, training=True)
    net.trainable = False
    before = net.bn.moving_mean.numpy().copy()
    net(x, training=True)
    np.testing.assert_array_equal(before, net.bn.moving_mean.numpy())


def test_batchnorm_stateless_call_returns_updates_without_mutating():
    bn = BatchNormalization(momentum=0.5)
    x = X3.reshape(-1, 6)
    bn(x)
    tv = [v.value for v in bn.trainable_variables]
    ntv = [v.value for v in bn.non_trainable_variables]

    @jax.jit
    def step(tv, ntv, x):
        return bn.stateless_call(tv, ntv, x, training=True)

    y, new_ntv = step(tv, ntv, x)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), np.zeros(6))
    np.testing.assert_array_equal(bn.moving_variance.numpy(), np.ones(6))
    np.testing.assert_allclose(np.asarray(new_ntv[0]), 0.5 * x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(new_ntv[1]), 0.5 + 0.5 * x.var(0), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(y), np.asarray(bn(x, training=True)), atol=1e-6)


def test_batchnorm_mask_uses_only_unmasked_positions():
    bn = BatchNormalization(momentum=0.0)
    x = RS.randn(2, 5, 3).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
    bn(x, training=True, mask=mask)
    np.testing.assert_allclose(bn.moving_mean.numpy(), x[mask].mean(0), atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance.numpy(), x[mask].var(0), atol=1e-5)


def test_layernorm_matches_numpy_multi_axis():
    ln = LayerNormalization(axis=[1, 2], epsilon=1e-5)
    y = np.asarray(ln(X3))
    mean = X3.mean(axis=(1, 2), keepdims=True)
    var = X3.var(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(y, (X3 - mean) / np.sqrt(var + 1e-5), atol=1e-5)
    assert ln.gamma.shape == (3, 6)


def test_groupnorm_matches_numpy():
    gn = GroupNormalization(groups=2, epsilon=1e-5)
    y = np.asarray(gn(X3))
    g = X3.reshape(4, 3, 2, 3)
    mean = g.mean(axis=(1, 3), keepdims=True)
    var = g.var(axis=(1, 3), keepdims=True)
    np.testing.assert_allclose(y, ((g - mean) / np.sqrt(var + 1e-5)).reshape(X3.shape), atol=1e-5)


def test_unitnorm_matches_numpy_and_zero_rows_stay_finite():
    y = np.asarray(UnitNormalization()(X3))
    np.testing.assert_allclose(y, X3 / np.linalg.norm(X3, axis=-1, keepdims=True), atol=1e-6)
    assert np.isfinite(np.asarray(UnitNormalization()(np.zeros((2, 3), "float32")))).all()


# ------------------------------------------------------------------ Keras oracle
@pytest.mark.parametrize(
    "name, kwargs, x_shape",
    [
        ("BatchNormalization", {}, (4, 3, 6)),
        ("BatchNormalization", {"axis": 1, "center": False}, (4, 3, 6)),
        ("LayerNormalization", {}, (4, 3, 6)),
        ("LayerNormalization", {"axis": [1, 2], "scale": False}, (4, 3, 6)),
        ("GroupNormalization", {"groups": 3}, (4, 3, 6)),
        ("GroupNormalization", {"groups": -1, "axis": 1}, (4, 3, 6)),
        ("UnitNormalization", {"axis": [1, 2]}, (4, 3, 6)),
    ],
)
def test_matches_keras(name, kwargs, x_shape):
    keras = pytest.importorskip("keras")
    x = (RS.randn(*x_shape) * 2 + 1).astype("float32")
    k_layer = getattr(keras.layers, name)(**kwargs)
    c_layer = getattr(callax.layers, name)(**kwargs)
    k_layer(x)
    c_layer(x)
    keras.backend.clear_session()  # Keras's name counters are global: compare fresh names
    k_layer = getattr(keras.layers, name)(**kwargs)
    k_layer(x)
    assert [w.path for w in c_layer.weights] == [w.path for w in k_layer.weights]
    _copy_random_weights(k_layer, c_layer)
    for training in (False, True):
        want = np.asarray(k_layer(x, training=training))
        got = np.asarray(c_layer(x, training=training))
        np.testing.assert_allclose(got, want, atol=2e-5)
    for kw, cw in zip(k_layer.weights, c_layer.weights):  # BN: same updated moving stats
        np.testing.assert_allclose(cw.numpy(), np.asarray(kw.value), rtol=1e-5, atol=1e-6)


def test_batchnorm_loads_keras_config():
    keras = pytest.importorskip("keras")
    config = keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5).get_config()
    bn = BatchNormalization.from_config(config)
    assert (bn.momentum, bn.epsilon, bn.axis) == (0.9, 1e-5, -1)


# ------------------------------------------------------------------ configs
@pytest.mark.parametrize(
    "layer",
    [
        BatchNormalization(axis=1, momentum=0.9, center=False),
        LayerNormalization(axis=[1, 2], epsilon=1e-5),
        GroupNormalization(groups=4, scale=False),
        UnitNormalization(axis=[1]),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


# ------------------------------------------------------------------ gradients
def test_layernorm_gradients():
    ln = LayerNormalization()
    x = jnp.asarray(RS.randn(2, 5).astype("float32"))
    ln(x)
    tv = [v.value for v in ln.trainable_variables]

    def f(x, gamma, beta):
        y, _ = ln.stateless_call([gamma, beta], [], x)
        return jnp.sum(jnp.sin(y))

    check_grads(f, (x, *tv), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


def test_batchnorm_training_gradients():
    bn = BatchNormalization()
    x = jnp.asarray(RS.randn(6, 3).astype("float32"))
    bn(x)
    ntv = [v.value for v in bn.non_trainable_variables]

    def f(x, gamma, beta):
        y, _ = bn.stateless_call([gamma, beta], ntv, x, training=True)
        return jnp.sum(jnp.sin(y) * jnp.arange(3.0))

    check_grads(f, (x, jnp.ones(3), jnp.zeros(3)), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


# ------------------------------------------------------------------ bad input
def test_bad_arguments():
    with pytest.raises(ValueError, match=r"GroupNormalization .*groups must be a positive int"):
        GroupNormalization(groups=0)
    with pytest.raises(ValueError, match=r"multiple of groups .*received input shape \(2, 5\)"):
        GroupNormalization(groups=2)(np.ones((2, 5), "float32"))
    with pytest.raises(TypeError, match=r"LayerNormalization .*axis must be an int"):
        LayerNormalization(axis="last")
    with pytest.raises(ValueError, match=r"BatchNormalization .*axis .*received axis=3"):
        BatchNormalization(axis=3)(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"renorm=True .*not supported"):
        BatchNormalization(renorm=True)


def test_wrong_rank_after_build():
    ln = LayerNormalization()
    ln(np.ones((2, 4), "float32"))
    with pytest.raises(ValueError, match=r"LayerNormalization 'layer_normalization' was built .*"
                       r"received input with shape \(2, 3, 4\)"):  # fmt: skip
        ln(np.ones((2, 3, 4), "float32"))
