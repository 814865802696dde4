"""Numerics of Dense, activations, Dropout and initializers against numpy formulas."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax import activations, initializers, layers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(5, 7)).astype("float32") * 3


def _np_erf(x):
    return np.vectorize(math.erf)(x)


NUMPY_ACTIVATIONS = {
    "relu": lambda x: np.maximum(x, 0),
    "softmax": lambda x: (
        np.exp(x - x.max(-1, keepdims=True))
        / np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)
    ),
    "log_softmax": lambda x: (
        x
        - x.max(-1, keepdims=True)
        - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))
    ),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "gelu": lambda x: 0.5 * x * (1 + _np_erf(x / np.sqrt(2))),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "swish": lambda x: x / (1 + np.exp(-x)),
    "elu": lambda x: np.where(x > 0, x, np.exp(x) - 1),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * (np.exp(x) - 1)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "exponential": np.exp,
    "linear": lambda x: x,
}


@pytest.mark.parametrize("name", sorted(NUMPY_ACTIVATIONS))
def test_activation_matches_numpy(name):
    got = np.asarray(activations.get(name)(X))
    np.testing.assert_allclose(
        got, NUMPY_ACTIVATIONS[name](X.astype("float64")), rtol=2e-5, atol=2e-6
    )


@pytest.mark.parametrize("name", ["relu", "softmax", "sigmoid", "tanh", "gelu", "silu", "elu",
                                  "selu", "softplus", "softsign", "leaky_relu", "log_softmax"])  # fmt: skip
def test_activation_gradients_finite_differences(name):
    x = jnp.asarray(RNG.normal(size=(3, 4)) + 0.1, dtype=jnp.float32)  # avoid kinks at 0
    check_grads(activations.get(name), (x,), order=1, modes=["rev"], atol=5e-2, rtol=5e-2)


@pytest.mark.parametrize("activation", [None, "relu", "tanh"])
def test_dense_matches_numpy(activation):
    d = layers.Dense(3, activation=activation)
    y = np.asarray(d(X))
    k, b = d.kernel.numpy(), d.bias.numpy()
    z = X @ k + b
    expected = z if activation is None else NUMPY_ACTIVATIONS[activation](z)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-5)


def test_dense_nd_input_and_no_bias():
    d = layers.Dense(4, use_bias=False)
    x = RNG.normal(size=(2, 3, 5)).astype("float32")
    y = d(x)
    assert y.shape == (2, 3, 4) and d.bias is None
    np.testing.assert_allclose(
        y, np.einsum("abi,io->abo", x, d.kernel.numpy()), rtol=1e-5, atol=1e-6
    )


def test_dense_gradients_finite_differences():
    d = layers.Dense(3, activation="tanh")
    d(X)
    tv = [v.value for v in d.trainable_variables]

    def f(kernel, bias, x):
        return d.stateless_call([kernel, bias], [], x)[0].sum()

    check_grads(f, (tv[0], tv[1], jnp.asarray(X[:2])), order=1, modes=["rev"], atol=5e-2, rtol=5e-2)


def test_dropout_inverted_scaling_and_rate():
    d = layers.Dropout(0.3, seed=0)
    x = jnp.ones((200, 100))
    y = np.asarray(d(x, training=True))
    kept = y != 0
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    assert abs(kept.mean() - 0.7) < 0.01
    assert abs(y.mean() - 1.0) < 0.02  # expectation preserved


def test_dropout_noise_shape():
    d = layers.Dropout(0.5, noise_shape=(None, 1, None), seed=3)
    y = np.asarray(d(jnp.ones((4, 6, 8)), training=True))
    assert (y == y[:, :1, :]).all()  # the same mask along axis 1


SHAPE = (400, 300)  # fan_in 400, fan_out 300


@pytest.mark.parametrize(
    "name, expected_std",
    [
        ("glorot_uniform", math.sqrt(2 / 700)),
        ("glorot_normal", math.sqrt(2 / 700)),
        ("he_uniform", math.sqrt(2 / 400)),
        ("he_normal", math.sqrt(2 / 400)),
        ("lecun_uniform", math.sqrt(1 / 400)),
        ("lecun_normal", math.sqrt(1 / 400)),
    ],
)
def test_variance_scaling_statistics(name, expected_std):
    w = initializers.get(name)(SHAPE)
    assert w.dtype == np.float32 and w.shape == SHAPE
    assert abs(w.mean()) < 0.05 * expected_std * 10
    assert abs(w.std() / expected_std - 1) < 0.02
    if "uniform" in name:
        limit = math.sqrt(3) * expected_std
        assert np.abs(w).max() <= limit + 1e-7
    else:  # truncated at two (rescaled) standard deviations
        assert np.abs(w).max() <= 2 * expected_std / 0.87962566103423978 + 1e-6


def test_other_initializers():
    assert (initializers.get("zeros")((2, 3)) == 0).all()
    assert (initializers.get("ones")((2, 3)) == 1).all()
    assert (initializers.Constant(2.5)((2,)) == 2.5).all()
    n = initializers.RandomNormal(1.0, 2.0, seed=1)((200, 200))
    assert abs(n.mean() - 1) < 0.05 and abs(n.std() - 2) < 0.05
    u = initializers.RandomUniform(-1, 3, seed=1)((200, 200))
    assert u.min() >= -1 and u.max() < 3 and abs(u.mean() - 1) < 0.05
    t = initializers.TruncatedNormal(0, 1, seed=1)((200, 200))
    assert np.abs(t).max() <= 2
    q = initializers.Orthogonal(seed=1)((50, 30))
    np.testing.assert_allclose(q.T @ q, np.eye(30), atol=1e-5)
    q = initializers.Orthogonal(gain=2.0, seed=1)((30, 50))
    np.testing.assert_allclose(q @ q.T, 4 * np.eye(30), atol=1e-4)
    np.testing.assert_array_equal(initializers.get("identity")((3, 3)), np.eye(3))


def test_initializer_seeding():
    a = initializers.GlorotUniform(seed=5)((3, 3))
    np.testing.assert_array_equal(a, initializers.GlorotUniform(seed=5)((3, 3)))
    assert not np.array_equal(
        initializers.GlorotUniform()((3, 3)), initializers.GlorotUniform()((3, 3))
    )
    callax.utils.set_random_seed(7)
    w1 = layers.Dense(4)(jnp.ones((1, 3)))
    callax.utils.set_random_seed(7)
    w2 = layers.Dense(4)(jnp.ones((1, 3)))
    np.testing.assert_array_equal(w1, w2)


def test_initializer_config_round_trip():
    for name in ["glorot_uniform", "he_normal", "orthogonal", "random_normal", "constant"]:
        init = initializers.get(name)
        clone = initializers.deserialize(initializers.serialize(init))
        assert clone.get_config() == init.get_config()
    with pytest.raises(ValueError, match="Unknown initializer 'glorot'"):
        initializers.get("glorot")


def test_keras_initializer_and_activation_configs_load():
    keras = pytest.importorskip("keras")
    for init in [keras.initializers.GlorotUniform(seed=1), keras.initializers.HeNormal(),
                 keras.initializers.VarianceScaling(2.0, "fan_out", "uniform")]:  # fmt: skip
        config = keras.initializers.serialize(init)
        ours = initializers.deserialize(config)
        assert ours.get_config() == init.get_config()
    fn = keras.saving.serialize_keras_object(keras.activations.relu)
    assert activations.get(fn) is activations.relu
    assert isinstance(initializers.get("uniform"), initializers.RandomUniform)
    # input/output axes pick the fans of an einsum-style kernel (dim, heads, key_dim)
    w = initializers.GlorotUniform(seed=0, input_axes=[0], output_axes=[1, 2])((64, 8, 16))
    limit = math.sqrt(6 / (64 + 128))
    assert np.abs(w).max() <= limit and np.abs(w).max() > 0.9 * limit
