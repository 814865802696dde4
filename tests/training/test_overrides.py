"""Keras 3 (JAX backend) override points: train_step, compute_loss, add_loss, metrics."""

import jax
import numpy as np
import pytest

import callax as keras

rng = np.random.default_rng(0)
X = rng.random((32, 3)).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")


class CustomStepModel(keras.Model):
    """The Keras guide "Customizing fit() with JAX", written against callax."""

    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def call(self, x):
        return self.dense(x)

    def compute_loss_and_updates(self, trainable_variables, non_trainable_variables, x, y,
                                 training=False):  # fmt: skip
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=training
        )
        return self.loss_fn(y, y_pred), (y_pred, non_trainable_variables)

    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y = data
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, non_trainable)), grads = grad_fn(
            trainable, non_trainable, x, y, training=True
        )
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
        loss_vars = self.loss_tracker.stateless_update_state(metrics_vars[:2], loss)
        mae_vars = self.mae_metric.stateless_update_state(metrics_vars[2:], y, y_pred)
        logs = {"loss": self.loss_tracker.stateless_result(loss_vars),
                "mae": self.mae_metric.stateless_result(mae_vars)}  # fmt: skip
        return logs, (trainable, non_trainable, optimizer_vars, loss_vars + mae_vars)

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_jax_style_train_step_override():
    model = CustomStepModel()
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(X, Y, epochs=3, batch_size=8, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    # the metric objects hold the last epoch's state after fit
    assert float(model.mae_metric.result()) == pytest.approx(history.history["mae"][-1])


def test_compute_loss_override_and_add_loss():
    class Penalized(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(0.5))

        def call(self, x):
            out = self.dense(x)
            self.add_loss(0.0 * keras.ops.sum(out) + 3.0)  # a constant activity loss
            return out

        def compute_loss(self, x, y, y_pred, sample_weight=None, training=True):
            base = super().compute_loss(x, y, y_pred, sample_weight, training)
            return base + 100.0  # shifts the reported loss only

    model = Penalized()
    model.compile(optimizer="sgd", loss="mse")
    logs = model.evaluate(X, Y, batch_size=32, verbose=0, return_dict=True)
    pred = model.predict(X, verbose=0)
    kernel = model.dense.kernel.numpy()
    expected = np.mean((pred - Y) ** 2) + 0.5 * np.sum(kernel**2) + 3.0 + 100.0
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)


def test_metric_attribute_on_model_is_tracked_and_custom_metric_subclass_runs():
    class CountBig(keras.metrics.Metric):
        def __init__(self, name="count_big"):
            super().__init__(name=name)
            self.count = self.add_variable((), "zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.assign(self.count + keras.ops.sum(keras.ops.cast(y_pred > 0, "float32")))

        def result(self):
            return self.count.value

    model = keras.Sequential([keras.layers.Dense(1, kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="mse", metrics=[CountBig()])
    logs = model.evaluate(X, Y, batch_size=8, verbose=0, return_dict=True)
    assert logs["count_big"] == 32.0
    assert model.metrics_names == ["loss", "compile_metrics"]
