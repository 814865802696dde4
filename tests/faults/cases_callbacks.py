"""Callbacks that raise, stop training (``model.stop_training``), or are given
bad arguments."""

from __future__ import annotations

import warnings

import numpy as np
from fault_case import OK, C, dense_model, fit, x

import callax

CB = callax.callbacks
V = ValueError
T = TypeError


class _Boom(CB.Callback):
    def __init__(self, hook):
        super().__init__()
        setattr(self, hook, self._boom)
        self.hook = hook

    def _boom(self, *args, **kwargs):
        raise RuntimeError(f"callback failed in {self.hook}")


class _Stop(CB.Callback):
    """Sets ``model.stop_training`` in ``hook``; counts the batches trained."""

    def __init__(self, hook):
        super().__init__()
        self.batches = 0
        setattr(self, hook, self._stop)

    def on_train_batch_begin(self, batch, logs=None):
        self.batches += 1

    def _stop(self, *args, **kwargs):
        self.model.stop_training = True


def _boom(hook, method="fit"):
    model = dense_model()
    if method == "fit":
        return fit(model, x(4, 2), x(4, 1), batch_size=2, epochs=2, callbacks=[_Boom(hook)])
    if method == "evaluate":
        return model.evaluate(x(4, 2), x(4, 1), verbose=0, callbacks=[_Boom(hook)])
    return model.predict(x(4, 2), verbose=0, callbacks=[_Boom(hook)])


def _stop(hook, epochs=5):
    cb = _Stop(hook)
    history = fit(dense_model(), x(8, 2), x(8, 1), batch_size=2, epochs=epochs, callbacks=[cb])
    return history, cb


def _epochs_and_batches(epochs, batches):
    def check(result):
        history, cb = result
        assert len(history.history["loss"]) == epochs, history.history
        assert cb.batches == batches, cb.batches

    return check


def _raise_later_fit_works(hook):
    model = dense_model()
    try:
        fit(model, x(4, 2), x(4, 1), callbacks=[_Boom(hook)])
    except RuntimeError:
        pass
    return fit(model, x(4, 2), x(4, 1))


def _nan_loss_terminates():
    model = dense_model()
    y = np.full((8, 1), np.nan, "float32")
    return fit(model, x(8, 2), y, batch_size=2, epochs=3, callbacks=[CB.TerminateOnNaN()])


def _early_stopping_bad_mode():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cb = CB.EarlyStopping(mode="sideways")
    assert cb.mode == "auto", cb.mode
    assert any("mode" in str(w.message) and "sideways" in str(w.message) for w in caught)


def _fit_with(*callbacks, **kwargs):
    return fit(dense_model(), x(4, 2), x(4, 1), callbacks=list(callbacks), **kwargs)


# fmt: off
CASES = [
    # A callback that raises: the error reaches the caller unchanged
    C("callback-raises-on-train-begin", lambda: _boom("on_train_begin"), RuntimeError, "on_train_begin"),
    C("callback-raises-on-epoch-begin", lambda: _boom("on_epoch_begin"), RuntimeError, "on_epoch_begin"),
    C("callback-raises-on-train-batch-end", lambda: _boom("on_train_batch_end"), RuntimeError, "on_train_batch_end"),
    C("callback-raises-on-epoch-end", lambda: _boom("on_epoch_end"), RuntimeError, "on_epoch_end"),
    C("callback-raises-on-train-end", lambda: _boom("on_train_end"), RuntimeError, "on_train_end"),
    C("callback-raises-on-test-batch-begin", lambda: _boom("on_test_batch_begin", "evaluate"), RuntimeError, "on_test_batch_begin"),
    C("callback-raises-on-predict-end", lambda: _boom("on_predict_end", "predict"), RuntimeError, "on_predict_end"),
    OK("model-usable-after-callback-raised", lambda: _raise_later_fit_works("on_epoch_end"), lambda h: len(h.history["loss"]) == 1 or (_ for _ in ()).throw(AssertionError(h.history))),
    # model.stop_training
    OK("stop-training-on-train-batch-end", lambda: _stop("on_train_batch_end"), _epochs_and_batches(1, 1)),
    OK("stop-training-on-epoch-end", lambda: _stop("on_epoch_end"), _epochs_and_batches(1, 4)),
    OK("stop-training-on-epoch-begin", lambda: _stop("on_epoch_begin"), _epochs_and_batches(1, 1)),
    OK("terminate-on-nan-stops", _nan_loss_terminates, lambda h: len(h.history["loss"]) == 1 or (_ for _ in ()).throw(AssertionError(h.history))),
    # Bad callback arguments
    C("callbacks-not-callback", lambda: _fit_with(5), T, "Callback", "5", "int"),
    C("early-stopping-unknown-monitor-auto", lambda: _fit_with(CB.EarlyStopping(monitor="val_nope"), epochs=2), V, "EarlyStopping", "val_nope", "mode"),
    OK("early-stopping-bad-mode-warns", _early_stopping_bad_mode),
    C("reduce-lr-factor-above-one", lambda: CB.ReduceLROnPlateau(factor=1.5), V, "ReduceLROnPlateau", "factor", "1.5"),
    C("checkpoint-bad-extension", lambda: CB.ModelCheckpoint("m.txt"), V, "ModelCheckpoint", ".keras", "m.txt"),
    C("checkpoint-weights-path-for-model", lambda p: CB.ModelCheckpoint(str(p / "x.weights.h5")), V, "ModelCheckpoint", "save_weights_only", "x.weights.h5"),
    C("checkpoint-keras-path-weights-only", lambda p: CB.ModelCheckpoint(str(p / "x.keras"), save_weights_only=True), V, "save_weights_only", ".weights.h5", "x.keras"),
    C("checkpoint-bad-save-freq", lambda p: CB.ModelCheckpoint(str(p / "m.keras"), save_freq="sometimes"), V, "save_freq", "epoch", "sometimes"),
    C("backup-bad-save-freq", lambda p: _fit_with(CB.BackupAndRestore(str(p / "bk"), save_freq="sometimes")), V, "BackupAndRestore", "save_freq", "sometimes"),
    C("lr-scheduler-returns-str", lambda: _fit_with(CB.LearningRateScheduler(lambda e: "fast")), V, "LearningRateScheduler", "float", "fast"),
    C("lr-scheduler-returns-nan", lambda: _fit_with(CB.LearningRateScheduler(lambda e: float("nan"))), V, "LearningRateScheduler", "finite", "nan"),
    C("csv-logger-directory", lambda p: _fit_with(CB.CSVLogger(str(p))), (IsADirectoryError, ValueError, OSError), ""),
    C("lambda-callback-unknown-hook", lambda: CB.LambdaCallback(bogus=5), T, "LambdaCallback", "bogus", "on_epoch_end"),
    C("lambda-callback-not-callable", lambda: _fit_with(CB.LambdaCallback(on_batch_begin=5)), T, "on_batch_begin", "callable", "5"),
    C("lambda-callback-wrong-arity", lambda: _fit_with(CB.LambdaCallback(on_epoch_end=lambda e: None)), T, "on_epoch_end"),
]
# fmt: on
