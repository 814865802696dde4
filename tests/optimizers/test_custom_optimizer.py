"""An optimizer written the Keras 3 way (``build`` with ``add_variable_from_reference``,
``update_step`` with ``assign``) trains a model end to end: ``fit`` compiles it into
the training step, the numbers follow the numpy formula, and it saves and loads."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import callax
from callax import layers, optimizers


@callax.saving.register_keras_serializable(package="tests")
class SignMomentum(optimizers.Optimizer):
    """``m = beta * m + (1 - beta) * g``; ``w -= lr * sign(m)`` (a Lion-like rule)."""

    def __init__(self, learning_rate=0.01, beta=0.9, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta = beta

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.moments = [self.add_variable_from_reference(v, "moment") for v in variables]

    def update_step(self, gradient, variable, learning_rate):
        m = self.moments[self._get_variable_index(variable)]
        self.assign(m, self.beta * m + (1 - self.beta) * gradient)
        self.assign_sub(variable, learning_rate * callax.ops.sign(m))

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


def _numpy_fit(w, b, x, y, lr, beta, steps):
    """The same training by hand: linear model, mean squared error, full batch."""
    mw, mb = np.zeros_like(w), np.zeros_like(b)
    for _ in range(steps):
        err = x @ w + b - y  # d(mean(err^2))/d(pred) = 2 err / n
        gw = 2 * x.T @ err / err.size
        gb = 2 * err.sum(0) / err.size
        mw, mb = beta * mw + (1 - beta) * gw, beta * mb + (1 - beta) * gb
        w, b = w - lr * np.sign(mw), b - lr * np.sign(mb)
    return w, b


def _model():
    model = callax.Sequential([layers.Input((3,)), layers.Dense(2, kernel_initializer="ones")],
                              name="seq")  # fmt: skip
    return model


def test_keras_style_optimizer_trains_a_model_as_the_formula_says(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    model = _model()
    w0, b0 = (v.numpy() for v in model.weights)
    opt = SignMomentum(learning_rate=0.05, beta=0.8)
    model.compile(optimizer=opt, loss="mse")
    model.fit(x, y, batch_size=16, epochs=5, verbose=0, shuffle=False)

    w, b = _numpy_fit(w0, b0, x, y, lr=0.05, beta=0.8, steps=5)
    np.testing.assert_allclose(model.weights[0].numpy(), w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.weights[1].numpy(), b, rtol=1e-5, atol=1e-6)
    assert int(opt.iterations) == 5
    assert [v.name for v in opt.variables] == [
        # Keras's slot names: the weight's path ("seq/dense/kernel") with "_" for "/"
        "iteration", "learning_rate", "seq_dense_kernel_moment", "seq_dense_bias_moment",
    ]  # fmt: skip

    # Its config round-trips through the registry; the saved model resumes training.
    path = tmp_path / "model.keras"
    model.save(path)
    again = callax.saving.load_model(path)
    assert isinstance(again.optimizer, SignMomentum) and again.optimizer.beta == 0.8
    for a, b_ in zip(again.optimizer.variables, opt.variables):
        np.testing.assert_array_equal(a.numpy(), b_.numpy())
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    again.fit(x, y, batch_size=16, epochs=1, verbose=0, shuffle=False)
    for a, b_ in zip(again.weights, model.weights):
        np.testing.assert_allclose(a.numpy(), b_.numpy(), rtol=1e-6)


def test_base_arguments_reach_a_keras_style_subclass():
    """The base arguments travel through ``**kwargs`` (clipping, here) and show in
    the subclass's signature, after its own, as keyword-only."""
    params = inspect.signature(SignMomentum).parameters
    assert list(params)[:3] == ["learning_rate", "beta", "weight_decay"]
    assert params["clipvalue"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["clipvalue"].default is None

    w = callax.Variable(np.array([1.0, 1.0]))
    opt = SignMomentum(learning_rate=0.1, beta=0.5, clipvalue=0.2)
    opt.apply([np.array([3.0, -0.1])], [w])
    # clipped gradients (0.2, -0.1): m = 0.5 * g; w -= 0.1 * sign(m)
    np.testing.assert_allclose(w.numpy(), [0.9, 1.1], rtol=1e-6)
    np.testing.assert_allclose(opt.moments[0].numpy(), [0.1, -0.05], rtol=1e-6)
    with pytest.raises(ValueError, match=r"argument\(s\) not recognized.*'momentum'"):
        SignMomentum(momentum=0.9)


def test_builtin_signatures_list_the_base_arguments_once():
    """Keras's argument names and defaults, for tools that read signatures."""
    adam = inspect.signature(optimizers.Adam).parameters
    assert list(adam)[:6] == [
        "learning_rate",
        "beta_1",
        "beta_2",
        "epsilon",
        "amsgrad",
        "weight_decay",
    ]
    assert adam["learning_rate"].default == 0.001 and adam["ema_momentum"].default == 0.99
    adamw = inspect.signature(optimizers.AdamW).parameters
    assert list(adamw)[:2] == ["learning_rate", "weight_decay"]
    assert adamw["weight_decay"].default == 0.004
    assert "learning_rate" not in inspect.signature(optimizers.LossScaleOptimizer).parameters
    opt = optimizers.Adam(learning_rate=0.5, beta_1=0.8, weight_decay=0.1, use_ema=True)
    assert (opt.beta_1, opt.weight_decay, opt.use_ema) == (0.8, 0.1, True)
