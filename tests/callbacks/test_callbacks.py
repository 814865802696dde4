"""Built-in callbacks' behaviour inside fit."""

import numpy as np
import pytest

import callax as keras

rng = np.random.default_rng(0)
X = rng.random((40, 3)).astype("float32")
Y = X @ np.array([[1.0], [-2.0], [0.5]], "float32")


class Linear(keras.Model):
    def __init__(self):
        super().__init__()
        # zero init: fitting Y moves away from -Y monotonically (deterministic val_loss)
        self.dense = keras.layers.Dense(1, kernel_initializer="zeros")

    def call(self, x):
        return self.dense(x)


def linear(lr=0.05):
    model = Linear()
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="mse")
    return model


class WeightLog(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def test_early_stopping_restores_best_weights():
    # validation targets are the negated function: val_loss is best after epoch 0
    model, log = linear(), WeightLog()
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)
    history = model.fit(X, Y, validation_data=(X, -Y), epochs=8, batch_size=8, verbose=0, shuffle=False,
                        callbacks=[log, stop])  # fmt: skip
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) == best + 4 < 8  # stopped after `patience` epochs without improvement
    assert stop.stopped_epoch == len(val) - 1
    for got, want in zip(model.get_weights(), log.weights[best]):
        np.testing.assert_array_equal(got, want)
    assert not np.allclose(log.weights[-1][0], log.weights[best][0])


def test_early_stopping_baseline_and_start_from_epoch():
    # val_loss only gets worse after epoch 0 (validation targets negated)
    stop = keras.callbacks.EarlyStopping(baseline=-1.0, patience=2)
    history = linear().fit(X, Y, validation_data=(X, -Y), epochs=10, batch_size=8, verbose=0, shuffle=False,
                           callbacks=[stop])  # fmt: skip
    assert len(history.history["loss"]) == 2  # the baseline is never beaten
    stop = keras.callbacks.EarlyStopping(patience=1, start_from_epoch=3)
    history = linear().fit(X, Y, validation_data=(X, -Y), epochs=10, batch_size=8, verbose=0, shuffle=False,
                           callbacks=[stop])  # fmt: skip
    assert len(history.history["loss"]) == 5  # tracking starts at epoch 3, stops at 4


def test_reduce_lr_on_plateau_and_scheduler_reach_the_compiled_step():
    model = linear(lr=0.1)
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.0 if epoch >= 1 else lr)
    log = WeightLog()
    history = model.fit(X, Y, epochs=3, batch_size=8, verbose=0, callbacks=[sched, log])
    assert history.history["learning_rate"] == [pytest.approx(0.1), 0.0, 0.0]
    np.testing.assert_array_equal(log.weights[1][0], log.weights[2][0])  # lr 0: no change
    model = linear(lr=0.1)
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="loss", mode="max", factor=0.5, patience=1)
    history = model.fit(X, Y, epochs=3, batch_size=8, verbose=0, callbacks=[plateau])
    # mode="max" on a falling loss: no improvement after epoch 0, so the rate halves at the
    # end of epochs 1 and 2 (the log shows the rate the epoch ran with)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05])
    assert float(np.asarray(model.optimizer.learning_rate)) == pytest.approx(0.025)


def test_terminate_on_nan_stops_training():
    model = linear(lr=1e30)  # diverges to inf/nan within a few steps
    history = model.fit(X * 1e10, Y, epochs=5, batch_size=8, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])  # fmt: skip
    assert len(history.history["loss"]) == 1
    with pytest.raises(RuntimeError, match="NaN or Inf loss"):
        linear(lr=1e30).fit(X * 1e10, Y, epochs=5, batch_size=8, verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)])  # fmt: skip


def test_csv_logger_and_lambda_callback(tmp_path):
    path = tmp_path / "log.csv"
    epochs = []
    model = linear()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=0, validation_data=(X, Y), callbacks=[
        keras.callbacks.CSVLogger(path),
        keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append(epoch)),
    ])  # fmt: skip
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,val_loss" and len(lines) == 3
    assert epochs == [0, 1]


def test_callback_reading_model_mid_epoch_sees_current_weights():
    class Peek(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.last = [w.copy() for w in self.model.get_weights()]
            self.loss_type = type(logs["loss"])

    peek = Peek()
    model = linear()
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0, callbacks=[peek])
    for a, b in zip(peek.last, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert peek.loss_type is float  # a user batch hook gets Python floats


def test_progress_bar_plain_lines_when_not_a_terminal(capsys):
    model = linear()
    model.fit(X, Y, epochs=2, batch_size=8, verbose=1)
    out = capsys.readouterr().out
    assert "\r" not in out and "\x1b" not in out
    lines = out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("5/5 ━━━━━━━━━━━━━━━━━━━━ ") and "/step - loss: " in lines[1]
    model.fit(X, Y, epochs=1, batch_size=8, verbose=2)
    line = capsys.readouterr().out.strip()
    assert line.startswith("5/5 - ") and "/step - loss: " in line
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    assert capsys.readouterr().out == ""


def test_progbar_in_a_terminal_redraws_in_place(monkeypatch):
    import io

    from callax.utils import progbar

    monkeypatch.setattr(progbar, "_is_terminal", lambda stream: True)
    stream = io.StringIO()
    bar = progbar.Progbar(4, stream=stream, interval=0)
    for i in range(4):
        bar.update(i + 1, [("loss", 1.0)])
    out = stream.getvalue()
    assert out.count("\r") == 4 and out.endswith("\n")
    assert "4/4 \x1b[1m━━━━━━━━━━━━━━━━━━━━\x1b[0m" in out and "loss: 1.0000" in out


def test_batch_hooks_reach_keras2_style_and_instance_overrides_only():
    """fit skips batch hooks nobody defines, but still calls on_batch_end-only
    (Keras 2 style) callbacks and hooks assigned on an instance."""
    import numpy as np

    import callax as keras

    class Old(keras.callbacks.Callback):
        n = 0

        def on_batch_end(self, batch, logs=None):
            self.n += 1

    class Plain(keras.callbacks.Callback):
        pass

    old, plain, seen = Old(), Plain(), []
    plain.on_train_batch_begin = lambda batch, logs=None: seen.append(batch)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(np.ones((64, 3)), np.ones((64, 1)), batch_size=8, epochs=2, verbose=0,
              callbacks=[old, plain])  # fmt: skip
    assert old.n == 16 and seen == list(range(8)) * 2
