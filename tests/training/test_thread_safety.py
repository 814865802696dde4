"""Concurrent calls on one model (Keras 3 fails these; callax must not).

- many threads calling predict / predict_on_batch / model(x) / callax.jit at once
  give the serial results, without errors (nothing donates a buffer another call
  reads);
- predict looping while fit runs on another thread: fit never breaks, and every
  prediction is one consistent set of weights (the old or a newer one);
- a second fit on the same model from another thread is a clear RuntimeError.
"""

import threading

import numpy as np
import pytest

import callax
from callax import layers

N_THREADS = 8


class Net(callax.Model):
    def __init__(self):
        super().__init__()
        self.d1 = layers.Dense(16, activation="relu")
        self.d2 = layers.Dense(3)

    def call(self, x):
        return self.d2(self.d1(x))


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ rng.normal(size=(4, 3))).astype("float32")


def _numpy_forward(weights, x):
    """Independent reference from a list of weights [k1, b1, k2, b2]."""
    k1, b1, k2, b2 = weights
    return np.maximum(x @ k1 + b1, 0) @ k2 + b2


def _model(x):
    m = Net()
    m.compile(optimizer="adam", loss="mse")
    m(x[:2])
    return m


def _run_threads(work, n=N_THREADS):
    errors = []

    def guarded(i):
        try:
            work(i)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    if errors:
        raise errors[0]


def test_many_threads_predicting_at_once_equal_serial_results():
    x, _ = _data()
    m = _model(x)
    serial = m.predict(x, batch_size=32, verbose=0)
    np.testing.assert_allclose(serial, _numpy_forward(m.get_weights(), x), rtol=1e-5, atol=1e-5)
    results = {}

    def work(i):
        for j in range(3):
            results[i, j] = m.predict(x, batch_size=32, verbose=0)
        results[i, "batch"] = m.predict_on_batch(x[:16])

    _run_threads(work)
    for key, value in results.items():
        np.testing.assert_array_equal(value, serial[:16] if key[1] == "batch" else serial)


def test_model_call_and_callax_jit_from_many_threads():
    x, _ = _data(64, seed=1)
    m = _model(x)
    fast = callax.jit(m)
    serial, serial_fast = np.asarray(m(x)), np.asarray(fast(x))
    np.testing.assert_allclose(serial, _numpy_forward(m.get_weights(), x), rtol=1e-5, atol=1e-5)
    results = []

    def work(i):
        for _ in range(5):
            results.append((np.asarray(m(x)), np.asarray(fast(x))))

    _run_threads(work)
    for eager, compiled in results:
        np.testing.assert_array_equal(eager, serial)
        np.testing.assert_array_equal(compiled, serial_fast)


def test_first_calls_from_many_threads_build_once():
    x, _ = _data(16, seed=5)
    m = Net()
    outs = []
    barrier = threading.Barrier(N_THREADS)

    def work(i):
        barrier.wait(timeout=30)  # every thread makes the first call together
        outs.append(np.asarray(m(x)))

    _run_threads(work)
    assert len(m.weights) == 4 and len(m.d1._own_variables) == 2
    ref = _numpy_forward(m.get_weights(), x)
    for out in outs:
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_predict_while_fit_runs_sees_consistent_weights():
    x, y = _data(512, seed=2)
    m = _model(x)
    probe = x[:8]
    seen_weights = []  # every weight set fit writes (end of epoch), and the start
    seen_weights.append(m.get_weights())

    class Record(callax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen_weights.append(self.model.get_weights())

    done = threading.Event()
    predictions = []  # predict and callax.jit: one consistent weight set per call
    eager = []  # model(x) reads each layer's weights as it runs: may straddle a sync
    errors = []
    fast = callax.jit(m)

    def predict_loop():
        try:
            while not done.is_set() or not predictions:
                predictions.append(m.predict(probe, verbose=0))
                predictions.append(np.asarray(fast(probe)))
                eager.append(np.asarray(m(probe)))
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    thread = threading.Thread(target=predict_loop)
    thread.start()
    try:
        history = m.fit(x, y, batch_size=32, epochs=6, verbose=0, callbacks=[Record()])
    finally:
        done.set()
        thread.join(timeout=60)
    assert not errors, errors[0]
    assert len(history.history["loss"]) == 6 and np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]
    # Each prediction equals the forward pass of ONE of the weight sets fit wrote.
    refs = [_numpy_forward(w, probe) for w in seen_weights]
    for p in predictions:
        assert any(np.allclose(p, r, rtol=1e-4, atol=1e-5) for r in refs)
    assert all(e.shape == (8, 3) and np.isfinite(e).all() for e in eager)
    np.testing.assert_allclose(m.predict(probe, verbose=0), refs[-1], rtol=1e-4, atol=1e-5)


def test_evaluate_alongside_fit_returns_its_own_result():
    x, y = _data(256, seed=3)
    m = _model(x)
    expected = m.evaluate(x, y, batch_size=64, verbose=0)
    reference = float(np.mean((_numpy_forward(m.get_weights(), x) - y) ** 2))
    assert expected == pytest.approx(reference, rel=1e-4)
    started, release = threading.Event(), threading.Event()
    got = []

    class Hold(callax.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                started.set()
                release.wait(timeout=30)

    def evaluate_during_fit():
        started.wait(timeout=30)
        try:
            got.append(m.evaluate(x, y, batch_size=64, verbose=0))  # weights before fit
        finally:
            release.set()

    thread = threading.Thread(target=evaluate_during_fit)
    thread.start()
    m.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[Hold()])
    thread.join(timeout=60)
    assert got and got[0] == pytest.approx(expected, rel=1e-5)


def test_a_second_concurrent_fit_is_a_clear_error():
    x, y = _data(128, seed=4)
    m = _model(x)
    started, release = threading.Event(), threading.Event()

    class Hold(callax.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if batch == 0:
                started.set()
                release.wait(timeout=30)

    thread = threading.Thread(
        target=lambda: m.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Hold()])
    )
    thread.start()
    try:
        assert started.wait(timeout=30)
        with pytest.raises(RuntimeError, match="fit.*on another thread"):
            m.fit(x, y, epochs=1, verbose=0)
        with pytest.raises(RuntimeError, match="on another thread"):
            m.train_on_batch(x[:8], y[:8])
    finally:
        release.set()
        thread.join(timeout=60)
    m.fit(x, y, batch_size=32, epochs=1, verbose=0)  # free again afterwards
