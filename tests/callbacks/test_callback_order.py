"""Callbacks fire in Keras 3's order (Keras is the oracle)."""

import numpy as np
import pytest

import callax

HOOKS = [
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
    "on_train_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
    "on_test_batch_end", "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
    "on_predict_batch_end",
]  # fmt: skip


def make_recorder(base):
    class Recorder(base):
        def __init__(self):
            super().__init__()
            self.events = []

    def hook(name):
        def f(self, *args, **kwargs):
            logs = kwargs.get("logs", args[-1] if args and not isinstance(args[-1], int) else None)
            step = args[0] if args and isinstance(args[0], int) else None
            self.events.append((name, step, tuple(sorted(logs or {})) if "end" in name else ()))

        return f

    for name in HOOKS:
        setattr(Recorder, name, hook(name))
    return Recorder()


def run(lib):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.dense = lib.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    x = np.random.rand(10, 3).astype("float32")
    y = np.random.rand(10, 1).astype("float32")
    model = Net()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    rec = make_recorder(lib.callbacks.Callback)
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:6], y[:6]), verbose=0,
              callbacks=[rec])  # fmt: skip
    model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[rec])
    model.predict(x, batch_size=4, verbose=0, callbacks=[rec])
    return [(n, s, k) for n, s, k in rec.events if n != "on_predict_batch_end"] + [
        (n, s) for n, s, _ in rec.events if n == "on_predict_batch_end"
    ]


def test_hook_order_and_logs_keys_match_keras():
    keras = pytest.importorskip("keras")
    ours, theirs = run(callax), run(keras)
    assert len(ours) > 30
    assert ours == theirs
