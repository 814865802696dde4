"""`add_loss` in a sublayer's call: the layer reports it in its own `losses`, every
enclosing layer includes it once, each outermost call starts afresh (Keras 3
semantics; Keras is the oracle), and fit counts each loss exactly once."""

import numpy as np
import pytest

import callax


def _net(lib):
    class Pen(lib.layers.Layer):
        def call(self, x):
            self.add_loss(lib.ops.sum(x) * 0.5)
            return x

    class Net(lib.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.pen = Pen()
            self.d = lib.layers.Dense(
                1, kernel_initializer="ones", kernel_regularizer=lib.regularizers.L2(0.1)
            )

        def call(self, x):
            self.add_loss(lib.ops.mean(x))
            return self.d(self.pen(x))

    return Net()


def _floats(losses):
    return [float(np.asarray(v)) for v in losses]


def test_sublayer_losses_match_keras():
    keras = pytest.importorskip("keras")
    x = np.arange(6, dtype="float32").reshape(2, 3)
    ours, theirs = _net(callax), _net(keras)
    for step in (
        lambda m: m(x),  # the model: every layer's losses from this call
        lambda m: m.pen(x * 2),  # the sublayer alone: its losses replaced
        lambda m: m(x),  # the model again: nothing accumulates
    ):
        step(ours)
        step(theirs)
        for get in (lambda m: m.losses, lambda m: m.pen.losses, lambda m: m.d.losses):
            np.testing.assert_allclose(_floats(get(ours)), _floats(get(theirs)), rtol=1e-6)
    assert _floats(ours.pen.losses) == [7.5]  # 0.5 * sum(x)
    assert len(ours.losses) == 3  # mean(x), the pen's, the kernel's L2


def test_losses_from_a_call_that_adds_none_are_cleared():
    class Maybe(callax.layers.Layer):
        def call(self, x, add=True):
            if add:
                self.add_loss(callax.ops.sum(x))
            return x

    class Outer(callax.Model):
        def __init__(self):
            super().__init__()
            self.inner = Maybe()

        def call(self, x, add=True):
            return self.inner(x, add=add)

    model = Outer()
    model(np.ones((1, 2), "float32"))
    assert _floats(model.inner.losses) == [2.0] and _floats(model.losses) == [2.0]
    model(np.ones((1, 2), "float32"), add=False)
    assert model.inner.losses == [] and model.losses == []


def test_fit_counts_each_added_loss_once():
    model = _net(callax)
    model.compile(optimizer=callax.optimizers.SGD(learning_rate=0.0), loss="mse")
    x = np.arange(6, dtype="float32").reshape(2, 3)
    y = np.zeros((2, 1), "float32")
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    pred = x.sum(1, keepdims=True)  # kernel of ones, zero bias; lr 0 keeps them
    expected = np.mean((pred - y) ** 2) + x.mean() + 0.5 * x.sum() + 0.1 * 3.0
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    evaluated = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(evaluated, expected, rtol=1e-5)


def test_stateless_call_returns_each_loss_once():
    model = _net(callax)
    x = np.ones((2, 3), "float32")
    model(x)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    _, _, losses = model.stateless_call(tv, ntv, x, return_losses=True)
    np.testing.assert_allclose(sorted(_floats(losses)), sorted([1.0, 3.0, 0.3]), rtol=1e-6)


def test_custom_compute_loss_reads_the_traced_losses():
    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = callax.layers.Dense(1, kernel_initializer="zeros")

        def call(self, x):
            self.add_loss(callax.ops.sum(x) * 0.0 + 4.0)
            return self.d(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            return callax.ops.mean((y - y_pred) ** 2) + sum(self.losses)

    model = Net()
    model.compile(optimizer=callax.optimizers.SGD(learning_rate=0.0))
    x, y = np.ones((2, 3), "float32"), np.ones((2, 1), "float32")
    history = model.fit(x, y, batch_size=2, epochs=1, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0], 1.0 + 4.0, rtol=1e-6)


def test_activity_regularizer_loss_belongs_to_its_layer():
    inner = callax.layers.Dense(2, kernel_initializer="ones", activity_regularizer="l1")
    model = callax.Sequential([callax.Input((3,)), inner])
    x = np.ones((4, 3), "float32")
    model(x)
    # L1(0.01) of the outputs (all 3.0), divided by the batch size, as Keras.
    np.testing.assert_allclose(_floats(inner.losses), [0.01 * 3.0 * 8 / 4], rtol=1e-6)
    np.testing.assert_allclose(_floats(model.losses), _floats(inner.losses))
