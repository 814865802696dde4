"""Callback hooks get what Keras gives them: a dict for `logs` in every hook
(never None), and LambdaCallback functions called positionally."""

import numpy as np
import pytest

import callax


class _Net(callax.Model):
    def __init__(self):
        super().__init__()
        self.d = callax.layers.Dense(1)

    def call(self, x):
        return self.d(x)


def _data():
    x = np.linspace(-1, 1, 16, dtype="float32").reshape(8, 2)
    return x, x.sum(1, keepdims=True)


HOOKS = [
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
]  # fmt: skip


def test_every_hook_gets_a_dict():
    class Keys(callax.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seen = {}

    cb = Keys()
    for hook in HOOKS:
        batch_or_epoch = "batch" in hook or "epoch" in hook

        def make(name, positional):
            if positional:

                def f(index, logs=None):
                    cb.seen.setdefault(name, []).append(sorted(logs.keys()))
            else:

                def f(logs=None):
                    cb.seen.setdefault(name, []).append(sorted(logs.keys()))

            return f

        setattr(cb, hook, make(hook, batch_or_epoch))
    model = _Net()
    model.compile("sgd", "mse")
    x, y = _data()
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, validation_data=(x, y), callbacks=[cb])
    model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[cb])
    model.predict(x, batch_size=4, verbose=0, callbacks=[cb])
    assert set(cb.seen) == set(HOOKS)
    assert cb.seen["on_predict_batch_begin"] == [[], []]
    assert cb.seen["on_predict_batch_end"] == [["outputs"], ["outputs"]]
    assert "loss" in cb.seen["on_train_batch_end"][0]
    assert "val_loss" in cb.seen["on_epoch_end"][0]


def test_predict_batch_begin_with_logs_keys_as_in_the_guide():
    class Custom(callax.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.lines = []

        def on_predict_batch_begin(self, batch, logs=None):
            self.lines.append(f"Start of batch {batch}; got log keys: {list(logs.keys())}")

    cb = Custom()
    x, _ = _data()
    _Net().predict(x, batch_size=4, verbose=0, callbacks=[cb])
    assert cb.lines == [f"Start of batch {i}; got log keys: []" for i in range(2)]


def test_lambda_callback_functions_are_called_positionally():
    calls = []
    cb = callax.callbacks.LambdaCallback(
        on_train_batch_end=lambda b, lg: calls.append(("train_batch", b, float(lg["loss"]))),
        on_epoch_end=lambda e, lg: calls.append(("epoch", e, sorted(lg))),
        on_train_begin=lambda lg: calls.append(("begin", sorted(lg))),
        on_batch_begin=lambda b, lg: calls.append(("batch_begin", b)),
        on_predict_batch_end=lambda b, lg: calls.append(("predict", b, lg["outputs"].shape)),
    )
    model = _Net()
    model.compile("sgd", "mse")
    x, y = _data()
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[cb])
    model.predict(x, batch_size=8, verbose=0, callbacks=[cb])
    assert calls[0] == ("begin", [])
    assert [c[0] for c in calls[1:]] == ["batch_begin", "train_batch", "epoch"] * 2 + ["predict"]
    # The batch logs are the loss the history recorded (one batch per epoch).
    np.testing.assert_allclose([calls[2][2], calls[5][2]], history.history["loss"], rtol=1e-5)
    assert calls[-1] == ("predict", 0, (8, 1))


def test_lambda_callback_checks_its_functions_when_created():
    with pytest.raises(TypeError, match=r"on_batch_begin must be a callable.*received 5"):
        callax.callbacks.LambdaCallback(on_batch_begin=5)
    with pytest.raises(TypeError, match=r"on_epoch_end is called with 2 positional.*\(e\)"):
        callax.callbacks.LambdaCallback(on_epoch_end=lambda e: None)
    callax.callbacks.LambdaCallback(on_epoch_end=lambda *args: None, on_train_end=print)
