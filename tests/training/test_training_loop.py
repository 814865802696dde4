"""The training loop object: the data adapter handed to callbacks, nothing written
onto the model, the step's new state checked once per trace, write-back through
``core.pure_call``."""

import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax.core import pure_call
from callax.training.loop import TrainingLoop, holds_text


def _model(**compile_kw):
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse", **compile_kw)
    return model


def _data(n=16):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 3)).astype("float32"), rng.normal(size=(n, 2)).astype("float32")


class _Seen(callax.callbacks.Callback):
    """Records the adapter each hook sees."""

    def __init__(self):
        super().__init__()
        self.seen = {}

    def on_train_begin(self, logs=None):
        self.seen["train_begin"] = self.data_adapter

    def on_epoch_end(self, epoch, logs=None):
        self.seen["epoch_end"] = self.data_adapter

    def on_test_begin(self, logs=None):
        self.seen.setdefault("test_begin", self.data_adapter)

    def on_predict_begin(self, logs=None):
        self.seen["predict_begin"] = self.data_adapter


def test_callbacks_get_the_data_adapter_and_the_model_gets_no_side_attributes():
    x, y = _data()
    model = _model()
    before = set(model.__dict__)
    cb = _Seen()
    model.fit(x, y, epochs=2, batch_size=4, validation_data=(x, y), verbose=0, callbacks=[cb])
    adapter = cb.seen["train_begin"]
    assert adapter is not None and adapter.num_samples == 16
    assert cb.seen["epoch_end"] is adapter
    assert cb.seen["test_begin"] is adapter  # validation runs inside the fit's loop
    assert cb.data_adapter is None  # handed back when the loop ends
    model.predict(x, verbose=0, callbacks=[cb])
    assert cb.seen["predict_begin"] is not adapter and cb.data_adapter is None
    added = set(model.__dict__) - before
    assert not any("adapter" in k or "text" in k for k in added), added


def test_callbacks_without_set_data_adapter_still_run():
    class Duck:  # CallbackList accepts objects with the hooks only
        def __init__(self):
            self.epochs = 0

        def set_model(self, model):
            pass

        def set_params(self, params):
            pass

        def __getattr__(self, name):
            if name.startswith("on_"):
                return lambda *a, **k: None
            raise AttributeError(name)

        def on_epoch_end(self, epoch, logs=None):
            self.epochs += 1

    x, y = _data()
    duck = Duck()
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[duck])
    assert duck.epochs == 2


def test_holds_text_and_string_inputs_run_eagerly():
    assert holds_text({"a": np.array(["x"]), "b": np.zeros(1)})
    assert not holds_text((np.zeros(2), jnp.ones(2)))
    model = _model()
    loop = TrainingLoop(model, "fit")
    assert loop.jit and model.jit_compile
    loop._use_inputs((np.array([["a b"]]),))
    assert not loop.jit and not model.jit_compile  # reported as Keras's supports_jit
    TrainingLoop(model, "predict")._use_inputs((np.zeros((1, 3), "float32"),))
    assert model.jit_compile


class _BadShape(callax.Model):
    def __init__(self):
        super().__init__()
        self.dense = callax.layers.Dense(2)

    def call(self, x):
        return self.dense(x)

    def train_step(self, state, data):
        logs, (trainable, *rest) = super().train_step(state, data)
        return logs, ([t[..., None] for t in trainable], *rest)


class _Float16Step(_BadShape):
    def train_step(self, state, data):
        logs, (trainable, *rest) = callax.Model.train_step(self, state, data)
        return logs, ([t.astype("float16") for t in trainable], *rest)


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_a_step_returning_a_wrong_shape_names_the_variable(run_eagerly):
    x, y = _data()
    model = _BadShape()
    model.compile(optimizer="sgd", loss="mse", run_eagerly=run_eagerly)
    with pytest.raises(ValueError, match=r"train_step of _BadShape .*kernel.* of shape \(3, 2\)"):
        model.fit(x, y, epochs=1, verbose=0)


def test_a_step_returning_another_dtype_is_cast_to_the_variables_dtype():
    x, y = _data()
    model = _Float16Step()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert all(w.dtype == np.float32 for w in model.get_weights())


def test_sync_writes_back_through_pure_call(monkeypatch):
    calls = []
    real = pure_call.write_back

    def spy(variables, values):
        calls.append(len(variables))
        return real(variables, values)

    monkeypatch.setattr("callax.training.state.write_back", spy)
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert calls  # every end-of-epoch sync went through write_back
    assert sum(calls) >= 2 * len(model.trainable_variables)
    before = [np.asarray(w) for w in model.get_weights()]
    model.train_on_batch(x, y)
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
