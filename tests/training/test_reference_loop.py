"""A fit run equals a hand-written jax.jit + optax loop (same init, same batch order)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import callax as keras


class MLP(keras.Model):
    def __init__(self):
        super().__init__()
        self.hidden = keras.layers.Dense(32, activation="relu")
        self.logits = keras.layers.Dense(10)

    def call(self, x):
        return self.logits(self.hidden(x))


def _reference(params, x, y, tx, batch_size, epochs):
    """The same training, written directly: params = [k1, b1, k2, b2]."""

    def loss_fn(p, xb, yb):
        h = jax.nn.relu(xb @ p[0] + p[1])
        logits = h @ p[2] + p[3]
        return optax.softmax_cross_entropy_with_integer_labels(logits, yb).mean()

    @jax.jit
    def step(p, opt_state, xb, yb):
        grads = jax.grad(loss_fn)(p, xb, yb)
        updates, opt_state = tx.update(grads, opt_state, p)
        return optax.apply_updates(p, updates), opt_state

    opt_state = tx.init(params)
    for _ in range(epochs):
        for i in range(0, len(x), batch_size):  # same order as shuffle=False, ragged last
            params, opt_state = step(
                params, opt_state, x[i : i + batch_size], y[i : i + batch_size]
            )
    return params


def keras_adam(lr, b1=0.9, b2=0.999, eps=1e-7):
    """Adam as Keras writes it (epsilon added to the uncorrected sqrt(v)), as an
    optax transformation built from optax's own moment updates."""

    def init(params):
        zeros = jax.tree.map(jnp.zeros_like, params)
        return (jnp.zeros((), jnp.int32), zeros, zeros)

    def update(grads, state, params=None):
        t, m, v = state
        t = t + 1
        m = optax.incremental_update(grads, m, 1 - b1)
        v = optax.incremental_update(jax.tree.map(jnp.square, grads), v, 1 - b2)
        alpha = lr * jnp.sqrt(1 - b2**t) / (1 - b1**t)
        updates = jax.tree.map(lambda mi, vi: -alpha * mi / (jnp.sqrt(vi) + eps), m, v)
        return updates, (t, m, v)

    return optax.GradientTransformation(init, update)


@pytest.mark.parametrize(
    "make_opt, tx",
    [
        (lambda: keras.optimizers.SGD(0.1, momentum=0.9), optax.sgd(0.1, momentum=0.9)),
        (lambda: keras.optimizers.Adam(1e-2), keras_adam(1e-2)),
    ],
    ids=["sgd_momentum", "adam"],
)
def test_fit_matches_handwritten_optax_loop(digits, make_opt, tx):
    xtr, ytr, _, _ = digits
    x, y = xtr[:300], ytr[:300]
    model = MLP()
    model(x[:1])
    init = [jnp.asarray(w) for w in model.get_weights()]
    model.compile(optimizer=make_opt(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))  # fmt: skip
    model.fit(x, y, batch_size=64, epochs=3, shuffle=False, verbose=0)
    expected = _reference(init, jnp.asarray(x), jnp.asarray(y), tx, 64, 3)
    moved = max(float(jnp.abs(e - i).max()) for e, i in zip(expected, init))
    assert moved > 1e-2  # the comparison is not between two untrained models
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, np.asarray(want), atol=1e-5, rtol=1e-5)
