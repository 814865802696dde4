"""callax.debug.find_nonfinite with planted faults: a log of a negative inside a
nested block, a division by zero, a NaN weight, an exploding learning rate in
fit (TerminateOnNaN(diagnose=...)); clean models report nothing."""

import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example3_multi_input import MultiInputModel
from taps_models import ResCNN, TransformerBlock

import callax
import callax as keras
from callax import ops
from callax.core import call_context as _ctx
from callax.debug import find_nonfinite


class LogBlock(keras.layers.Layer):
    """Planted fault: log of a value that goes negative, between two sublayers."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.Dense(6)
        self.proj = keras.layers.Dense(6)

    def call(self, x):
        return self.proj(ops.log(self.inner(x)))


class Outer(keras.Model):
    def __init__(self):
        super().__init__()
        self.stem = keras.layers.Dense(6, activation="relu")
        self.block = LogBlock()
        self.head = keras.layers.Dense(2)

    def call(self, x):
        return self.head(self.block(self.stem(x)))


class Divide(keras.layers.Layer):
    def call(self, x):
        return x / ops.zeros_like(x[..., :1])  # division by zero inside the layer's call


class DivModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(4)
        self.div = Divide()
        self.dense2 = keras.layers.Dense(2)

    def call(self, x):
        return self.dense2(self.div(self.dense1(x)))


def test_log_of_negative_inside_a_nested_block():
    model = Outer()
    x = keras.random.normal((8, 5), seed=1)
    model(x)
    snapshot = [np.asarray(v.value) for v in model.variables]
    report = find_nonfinite(model, x)
    assert report.forward is not None and report.forward.key == "block.proj#1"
    assert report.forward.origin.startswith("the operations of LogBlock.call (block)")
    assert report.forward.inputs[0].nan > 0 and report.forward.inputs[0].shape == (8, 6)
    assert report.forward.outputs[0].nan > 0
    # the reference: the same computation by hand finds NaN first after the log
    inner = np.asarray(model.block.inner(model.stem(x)))
    assert np.isfinite(inner).all() and np.isnan(np.log(inner)).any()
    np.testing.assert_allclose(report.forward.inputs[0].min, np.nanmin(np.log(inner)), rtol=1e-5)
    assert "block.proj#1 (Dense, call 1)" in str(report) and "NaN" in str(report)
    assert np.isnan(report.loss)
    # nothing about the model changed, nothing stays registered
    for v, before in zip(model.variables, snapshot):
        np.testing.assert_array_equal(v.value, before)
    assert not _ctx._taps and not _ctx._kernels_off


def test_division_by_zero_in_a_layers_own_call():
    model = DivModel()
    x = keras.random.normal((4, 3), seed=2)
    report = find_nonfinite(model, x)
    assert report.forward.key == "div#1"
    assert "Divide.call itself" in report.forward.origin
    assert report.forward.inputs[0].finite
    out = report.forward.outputs[0]
    assert out.posinf + out.neginf + out.nan == 16


def test_nonfinite_weight_is_named():
    model = SimpleSequentialModel()
    x = keras.random.normal((4, 32), seed=3)
    model(x)
    k = np.asarray(model.dense2.kernel.value).copy()
    k[0, 0] = np.inf
    model.dense2.kernel.assign(k)
    report = find_nonfinite(model, x)
    assert report.forward.key == "dense2#1"
    assert report.forward.bad_weights == [model.dense2.kernel.path]
    assert report.bad_weights == [model.dense2.kernel.path]
    assert "non-finite weights" in str(report)


def test_backward_only_fault_is_found_in_backward_order():
    """sqrt at 0: the forward pass is finite, the gradient is infinite. The first
    site in backward order with a non-finite output gradient is the one whose
    output feeds the sqrt (dense1), not the later ones."""

    class SqrtModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = keras.layers.Dense(3, kernel_initializer="zeros")
            self.dense2 = keras.layers.Dense(2)

        def call(self, x):
            return self.dense2(ops.sqrt(self.dense1(x)))

    model = SqrtModel()
    x = keras.random.normal((4, 5), seed=4)
    y = np.zeros((4, 2), np.float32)
    report = find_nonfinite(model, x, y, loss="mse")
    assert report.forward is None and np.isfinite(report.loss)
    assert report.backward.key == "dense1#1"
    assert not report.backward.grads[0].finite
    assert model.dense1.kernel.path in report.bad_grads
    assert model.dense2.kernel.path not in report.bad_grads
    assert "backward: first non-finite gradient at: dense1#1" in str(report)


@pytest.mark.parametrize("make", [SimpleSequentialModel, ResCNN, TransformerBlock])
def test_clean_models_report_nothing(make):
    model = make()
    shape = {SimpleSequentialModel: (2, 32), ResCNN: (2, 6, 6, 3), TransformerBlock: (2, 5, 8)}
    report = find_nonfinite(model, keras.random.normal(shape[make], seed=5))
    assert report.ok and report.forward is None and report.backward is None
    assert "no NaN or Inf found" in str(report)


def test_multi_input_and_nan_in_the_data():
    model = MultiInputModel()
    a = np.ones((2, 16), np.float32)
    b = a.copy()
    b[0, 3] = np.nan
    report = find_nonfinite(model, (a, b))
    assert report.bad_inputs == [1]
    assert report.forward.key == "dense1#2"  # the shared layer's second call


class Regressor(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(16, activation="relu")
        self.dense2 = keras.layers.Dense(1)

    def call(self, x):
        return self.dense2(self.dense1(x))


def test_exploding_learning_rate_in_fit_names_the_layer(capsys):
    model = Regressor()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e4), loss="mse")
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32") * 10
    y = np.ones((64, 1), np.float32)
    cb = keras.callbacks.TerminateOnNaN(diagnose=True)
    model.fit(x, y, batch_size=16, epochs=3, callbacks=[cb], verbose=0)
    assert cb.report is not None and not cb.report.ok
    assert cb.report.forward is not None
    assert cb.report.forward.key in ("dense1#1", "dense2#1")
    assert cb.report.forward.bad_weights  # the update made the weights non-finite
    assert "find_nonfinite(Regressor" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="first non-finite output at: dense"):
        model.fit(x, y, batch_size=16, epochs=1, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True, diagnose=(x[:4], y[:4]))])  # fmt: skip


def test_bad_arguments():
    model = SimpleSequentialModel()
    with pytest.raises(ValueError, match="no loss"):
        find_nonfinite(model, np.ones((2, 32), np.float32), np.ones((2, 10), np.float32))
    assert callax.debug.find_nonfinite is find_nonfinite
