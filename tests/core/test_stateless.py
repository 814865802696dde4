"""Stateless scope, stateless_call under jit/grad/vmap, a custom training loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import layers


class Counter(layers.Layer):
    """A layer with non-trainable state it updates on every call."""

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], 1), initializer="ones")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, x):
        self.count.assign(self.count + 1)
        return x @ self.w


def test_stateless_scope_reads_and_records_without_mutating():
    v = callax.Variable(jnp.zeros(2))
    with callax.StatelessScope({v: jnp.ones(2)}) as scope:
        v.assign(v.value + 1)
        np.testing.assert_array_equal(v.value, [2, 2])
    np.testing.assert_array_equal(v.numpy(), [0, 0])
    np.testing.assert_array_equal(scope.get_current_value(v), [2, 2])


def test_stateless_call_returns_updated_state_and_leaves_variables():
    c = Counter()
    x = jnp.ones((2, 3))
    c(x)
    assert float(c.count.numpy()) == 1
    tv = [v.value for v in c.trainable_variables]
    ntv = [v.value for v in c.non_trainable_variables]
    out, new_ntv = jax.jit(lambda tv, ntv, x: c.stateless_call(tv, ntv, x))(tv, ntv, x)
    assert float(new_ntv[0]) == 2 and float(c.count.numpy()) == 1
    np.testing.assert_allclose(out, np.full((2, 1), 3.0))


def test_stateless_call_grad_and_vmap():
    d = layers.Dense(2)
    x = jnp.ones((4, 3))
    d(x)
    tv = [v.value for v in d.trainable_variables]
    grads = jax.grad(lambda tv: d.stateless_call(tv, [], x)[0].sum())(tv)
    np.testing.assert_allclose(grads[0], np.full((3, 2), 4.0))  # d(sum xW)/dW = sum_rows(x)
    np.testing.assert_allclose(grads[1], np.full((2,), 4.0))
    batched = jax.vmap(lambda k: d.stateless_call([k, tv[1]], [], x)[0])(jnp.stack([tv[0]] * 5))
    assert batched.shape == (5, 4, 2)


def test_stateless_call_dropout_seed_state_threads_through():
    from example2_conditional import ConditionalModel

    m = ConditionalModel()
    x = jnp.ones((4, 32))
    m(x)
    tv = [v.value for v in m.trainable_variables]
    ntv = [v.value for v in m.non_trainable_variables]
    f = jax.jit(lambda tv, ntv, x: m.stateless_call(tv, ntv, x, training=True))
    y1, ntv1 = f(tv, ntv, x)
    y2, ntv2 = f(tv, ntv1, x)
    assert not np.allclose(y1, y2)  # the seed state advanced between calls
    y1b, _ = f(tv, ntv, x)
    np.testing.assert_array_equal(y1, y1b)  # and is a pure function of it


def test_stateless_call_errors():
    d = layers.Dense(2)
    with pytest.raises(ValueError, match="needs layer 'dense'.*to be built"):
        d.stateless_call([], [], jnp.ones((1, 3)))
    d(jnp.ones((1, 3)))
    with pytest.raises(ValueError, match="expected 2 trainable variable values.*received 1"):
        d.stateless_call([jnp.ones((3, 2))], [], jnp.ones((1, 3)))


def test_custom_training_loop_reduces_loss():
    """jax.value_and_grad over stateless_call plus plain SGD fits a regression."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(128, 4)).astype("float32")
    true_w = np.array([[1.0], [-2.0], [0.5], [3.0]], dtype="float32")
    y = x @ true_w + 0.1

    class Regressor(callax.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="tanh")
            self.out = layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    model = Regressor()
    model(x)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]

    @jax.jit
    def step(tv, x, y):
        def loss_fn(tv):
            pred, _ = model.stateless_call(tv, ntv, x)
            return jnp.mean((pred - y) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(tv)
        return [w - 0.05 * g for w, g in zip(tv, grads)], loss

    first = None
    for _ in range(300):
        tv, loss = step(tv, x, y)
        first = loss if first is None else first
    assert float(loss) < 0.05 * float(first)
    for v, value in zip(model.trainable_variables, tv):
        v.assign(value)
    assert float(jnp.mean((model(x) - y) ** 2)) == pytest.approx(float(loss), rel=0.2)


def test_losses_from_regularizers_and_add_loss():
    class Reg(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2, kernel_regularizer=callax.regularizers.L2(0.5))

        def call(self, x):
            self.add_loss(jnp.sum(x))
            return self.d(x)

    m = Reg()
    x = jnp.ones((1, 3))
    m(x)
    k = m.d.kernel.numpy()
    assert len(m.losses) == 2
    np.testing.assert_allclose(m.losses[0], 3.0)
    np.testing.assert_allclose(m.losses[1], 0.5 * (k**2).sum(), rtol=1e-6)
    tv = [v.value for v in m.trainable_variables]
    _, _, losses = m.stateless_call(tv, [], 2 * x, return_losses=True)
    np.testing.assert_allclose(losses[0], 6.0)
    assert len(m.losses) == 2 and float(m.losses[0]) == 3.0  # stateless: nothing stored


def test_stateless_call_accepts_the_variables_themselves_as_values():
    """The keras.io JAX loop passes ``model.trainable_variables`` straight in."""
    model = callax.Sequential([callax.layers.Dense(3, activation="relu"), callax.layers.Dense(2)])
    x = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    expected = np.asarray(model(x))
    out, non_trainable, losses = model.stateless_call(
        model.trainable_variables, model.non_trainable_variables, x, return_losses=True
    )
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert non_trainable == [] and losses == []
