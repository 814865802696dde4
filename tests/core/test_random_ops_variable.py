"""callax.random, callax.ops and Variable behaviour."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import ops


def test_random_seeding_semantics():
    a = callax.random.normal((3,), seed=1)
    np.testing.assert_array_equal(a, callax.random.normal((3,), seed=1))
    assert not np.array_equal(callax.random.normal((3,)), callax.random.normal((3,)))
    gen = callax.random.SeedGenerator(0)
    assert not np.array_equal(
        callax.random.uniform((3,), seed=gen), callax.random.uniform((3,), seed=gen)
    )
    callax.utils.set_random_seed(3)
    x = [callax.random.normal((2,)), callax.random.SeedGenerator().next()]
    callax.utils.set_random_seed(3)
    y = [callax.random.normal((2,)), callax.random.SeedGenerator().next()]
    for a, b in zip(x, y):
        np.testing.assert_array_equal(a, b)


def test_random_distributions():
    n = np.asarray(callax.random.normal((20000,), mean=2.0, stddev=3.0, seed=0))
    assert abs(n.mean() - 2) < 0.1 and abs(n.std() - 3) < 0.1
    u = np.asarray(callax.random.uniform((20000,), 1.0, 2.0, seed=0))
    assert u.min() >= 1 and u.max() < 2
    t = np.asarray(callax.random.truncated_normal((20000,), stddev=1.0, seed=0))
    assert np.abs(t).max() <= 2.0
    r = np.asarray(callax.random.randint((1000,), 0, 5, seed=0))
    assert set(r.tolist()) == {0, 1, 2, 3, 4}
    c = np.asarray(callax.random.categorical(jnp.log(jnp.array([[0.0, 1.0]]) + 1e-9), 50, seed=0))
    assert c.shape == (1, 50) and (c == 1).all()
    s = np.asarray(callax.random.shuffle(jnp.arange(10), seed=0))
    assert sorted(s.tolist()) == list(range(10))


def test_seed_generator_inside_jit():
    gen = callax.random.SeedGenerator(1)
    state = gen.state.value

    @jax.jit
    def draw(state):
        with callax.StatelessScope({gen.state: state}) as scope:
            x = callax.random.normal((2,), seed=gen)
        return x, scope.get_current_value(gen.state)

    a, s1 = draw(state)
    b, _ = draw(s1)
    assert not np.array_equal(a, b)


def test_ops_accept_variables_and_match_numpy():
    v = callax.Variable(np.arange(6.0).reshape(2, 3))
    x = np.arange(6.0).reshape(2, 3).astype("float32")
    np.testing.assert_allclose(ops.matmul(v, ops.transpose(v)), x @ x.T)
    np.testing.assert_allclose(ops.concatenate([v, x], axis=0), np.concatenate([x, x]))
    np.testing.assert_allclose(ops.mean(v, axis=1), x.mean(1))
    np.testing.assert_allclose(ops.sum(v), x.sum())
    np.testing.assert_allclose(ops.max(v, axis=0), x.max(0))
    np.testing.assert_array_equal(ops.argmax(v, axis=-1), [2, 2])
    np.testing.assert_allclose(ops.clip(v, 1, 4), np.clip(x, 1, 4))
    np.testing.assert_allclose(ops.where(x > 2, v, 0), np.where(x > 2, x, 0))
    assert ops.shape(v) == (2, 3)
    assert ops.cast(v, "int32").dtype == jnp.int32
    np.testing.assert_allclose(ops.one_hot(jnp.array([0, 2]), 3), np.eye(3)[[0, 2]])
    np.testing.assert_allclose(ops.einsum("ij,kj->ik", v, x), x @ x.T)
    parts = ops.split(x, 3, axis=1)
    assert len(parts) == 3 and parts[0].shape == (2, 1)
    assert ops.expand_dims(x, 0).shape == (1, 2, 3)
    assert ops.squeeze(ops.expand_dims(x, 0)).shape == (2, 3)
    assert ops.stack([x, x]).shape == (2, 2, 3)
    assert ops.reshape(x, (3, 2)).shape == (3, 2)
    assert isinstance(ops.convert_to_numpy(v), np.ndarray)
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == jnp.float32
    np.testing.assert_allclose(ops.nn.softmax(jnp.zeros((1, 4))), np.full((1, 4), 0.25))
    np.testing.assert_allclose(ops.sqrt(ops.square(v)), x)
    np.testing.assert_allclose(ops.divide_no_nan(jnp.ones(2), jnp.array([0.0, 2.0])), [0, 0.5])


def test_ops_control_flow():
    assert int(ops.fori_loop(0, 5, lambda i, s: s + i, 0)) == 10
    out = ops.while_loop(lambda i, s: i < 3, lambda i, s: (i + 1, s * 2), (0, 1))
    assert [int(o) for o in out] == [3, 8]
    assert float(ops.cond(True, lambda: 1.0, lambda: 2.0)) == 1.0
    g = jax.grad(lambda x: ops.stop_gradient(x) * x)(3.0)
    assert float(g) == 3.0


def test_variable_basics():
    v = callax.Variable(np.ones((2, 2)), name="w", trainable=False)
    assert v.shape == (2, 2) and v.dtype == jnp.float32 and v.path == "w" and not v.trainable
    v.assign(v * 3)
    assert v.numpy().sum() == 12
    v.assign_add(np.ones((2, 2)))
    v.assign_sub(np.ones((2, 2)))
    np.testing.assert_array_equal(np.ones(2) + v, np.full((2, 2), 4))
    np.testing.assert_array_equal(jnp.add(v.value, 1), np.full((2, 2), 4))
    with pytest.raises(ValueError, match="shape \\(3,\\) to variable 'w' of shape \\(2, 2\\)"):
        v.assign(np.ones(3))
    with pytest.raises(ValueError, match="traced value"):
        jax.jit(lambda x: v.assign(x))(np.ones((2, 2)))
    lazy = callax.Variable(callax.initializers.Ones(), shape=(3,), name="lazy")
    assert lazy.numpy().tolist() == [1, 1, 1]


def test_ops_accept_python_lists_like_keras():
    x = jnp.arange(6.0)
    np.testing.assert_array_equal(ops.take(x, [1, 3]), [1.0, 3.0])
    np.testing.assert_array_equal(ops.add([1.0, 2.0], x[:2]), [1.0, 3.0])
    assert ops.reshape(x, [2, -1]).shape == (2, 3)  # a list as a shape still works
    with pytest.raises(TypeError):
        ops.take(x, "not indices")
