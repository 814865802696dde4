"""The host side of predict/evaluate: NumPy batches straight into the compiled step,
one symbolic trace of the model per input signature, variable groups read lazily."""

import jax
import numpy as np
import pytest

import callax as keras
from callax.training.data_adapters import ArrayDataAdapter
from callax.training.epoch_iterator import EpochIterator


class CountingModel(keras.Model):
    """Two Dense layers; counts how often ``call`` runs in Python (traces)."""

    def __init__(self):
        super().__init__()
        self.calls = 0
        self.hidden = keras.layers.Dense(8, activation="relu")
        self.out = keras.layers.Dense(3)

    def call(self, x):
        self.__dict__["calls"] += 1  # not a setting: no restamp
        return self.out(self.hidden(x))


def _data(n=50, d=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)).astype("float32"), rng.integers(0, 3, n).astype("int32")


def _model():
    keras.utils.set_random_seed(1)
    model = CountingModel()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(True))
    return model


def test_iterator_yields_host_arrays_only_when_asked():
    x, _ = _data()
    iterator = EpochIterator(ArrayDataAdapter(x, batch_size=16))
    assert all(isinstance(item[2][0], jax.Array) for item in iterator)
    iterator.host_batches = True
    leaves = [item[2][0] for item in iterator]
    assert all(type(a) is np.ndarray for a in leaves)
    np.testing.assert_array_equal(np.concatenate(leaves), x)  # last batch: 2 rows


def test_compiled_predict_and_evaluate_equal_the_eager_loop():
    x, y = _data()
    model = _model()
    compiled_pred = model.predict(x, batch_size=16, verbose=0)
    compiled_eval = model.evaluate(x, y, batch_size=16, verbose=0)
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(True),
                  run_eagerly=True)  # fmt: skip
    np.testing.assert_allclose(compiled_pred, model.predict(x, batch_size=16, verbose=0),
                               rtol=1e-6, atol=1e-6)  # fmt: skip
    assert compiled_eval == pytest.approx(model.evaluate(x, y, batch_size=16, verbose=0), 1e-6)
    np.testing.assert_allclose(compiled_pred, np.asarray(model(x)), rtol=1e-6, atol=1e-6)


def test_float64_and_generator_batches_match_float32_arrays():
    x, _ = _data()
    model = _model()
    expected = model.predict(x, batch_size=16, verbose=0)
    as_f64 = model.predict(x.astype("float64"), batch_size=16, verbose=0)
    assert as_f64.dtype == np.float32
    np.testing.assert_array_equal(as_f64, expected)
    gen = model.predict((x[i : i + 16] for i in range(0, 50, 16)), verbose=0)
    np.testing.assert_array_equal(gen, expected)


def test_second_predict_does_not_retrace_the_model():
    x, y = _data()
    model = _model()
    model.predict(x, batch_size=16, verbose=0)
    first = model.calls  # symbolic build + the step's traces (full and last batch)
    assert first == 3
    for _ in range(3):
        model.predict(x, batch_size=16, verbose=0)
    assert model.calls == first
    model.evaluate(x, y, batch_size=16, verbose=0)  # builds the loss: traced again
    after_eval = model.calls
    model.evaluate(x, y, batch_size=16, verbose=0)  # nothing new the second time
    model.predict(x, batch_size=16, verbose=0)
    assert model.calls == after_eval


def test_a_changed_model_is_traced_again():
    x, _ = _data()
    model = _model()
    before = model.predict(x, batch_size=16, verbose=0)
    calls = model.calls
    model.predict(x[:7], batch_size=16, verbose=0)  # new input shape: traced
    assert model.calls > calls
    calls = model.calls
    model.hidden.trainable = False  # the variable groups change: traced again
    np.testing.assert_allclose(model.predict(x, batch_size=16, verbose=0), before, rtol=1e-6)
    assert model.calls > calls
    assert len(model._training_state.variables("trainable")) == 2  # out's kernel and bias


def test_predict_reads_only_its_variable_groups():
    x, y = _data()
    model = _model()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    model.predict(x, batch_size=16, verbose=0)
    held = model._training_state._variables
    assert set(held) == {"trainable", "non_trainable"}  # predict refreshed, then read these
    assert len(model._training_state.variables("optimizer")) == len(model.optimizer.variables)
