"""ModelCheckpoint and BackupAndRestore, including exact resume of a killed fit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import callax
from callax import saving

RESUME_MODEL = """
import numpy as np
import callax

def make():
    callax.utils.set_random_seed(7)
    model = callax.Sequential([
        callax.Input((6,)), callax.layers.Dense(16, activation="relu"),
        callax.layers.Dropout(0.3), callax.layers.Dense(1),
    ])
    model.compile(optimizer=callax.optimizers.Adam(0.01), loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    return model, x, y
"""
ns: dict = {}
exec(RESUME_MODEL, ns)  # noqa: S102 — the same model code the subprocesses run
make = ns["make"]


def _fit(model, x, y, callbacks=(), epochs=5):
    return model.fit(x, y, epochs=epochs, batch_size=8, shuffle=True, verbose=0,
                     validation_split=0.25, callbacks=list(callbacks))  # fmt: skip


class Recorder(callax.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights, self.logs = [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append([w.copy() for w in self.model.get_weights()])
        self.logs.append(dict(logs))


# ---------------------------------------------------------- ModelCheckpoint
def test_epoch_template_and_weights_only(tmp_path):
    model, x, y = make()
    cb = callax.callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}-{loss:.3f}.weights.h5"),
                                          save_weights_only=True)  # fmt: skip
    rec = Recorder()
    _fit(model, x, y, [rec, cb], epochs=3)
    files = sorted(os.listdir(tmp_path))
    assert [f[:4] for f in files] == ["w-01", "w-02", "w-03"]
    assert files[1] == f"w-02-{rec.logs[1]['loss']:.3f}.weights.h5"
    other, _, _ = make()
    other.build((None, 6))
    other.load_weights(tmp_path / files[1])
    for a, b in zip(other.get_weights(), rec.weights[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("mode,monitor,pick", [("min", "val_loss", np.argmin),
                                               ("max", "val_loss", np.argmax)])  # fmt: skip
def test_save_best_only(tmp_path, mode, monitor, pick):
    model, x, y = make()
    rec = Recorder()
    cb = callax.callbacks.ModelCheckpoint(str(tmp_path / "best.keras"), monitor=monitor,
                                          mode=mode, save_best_only=True)  # fmt: skip
    _fit(model, x, y, [rec, cb], epochs=5)
    best = int(pick([log[monitor] for log in rec.logs]))
    saved = saving.load_model(tmp_path / "best.keras")
    for a, b in zip(saved.get_weights(), rec.weights[best]):
        np.testing.assert_array_equal(a, b)
    assert cb.best == rec.logs[best][monitor]


def test_save_freq_in_batches(tmp_path):
    model, x, y = make()
    cb = callax.callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}-{batch}.keras"), save_freq=3)
    _fit(model, x, y, [cb], epochs=2)  # 6 batches per epoch: saves at batches 3 and 6
    assert sorted(os.listdir(tmp_path)) == ["m-1-3.keras", "m-1-6.keras", "m-2-3.keras",
                                            "m-2-6.keras"]  # fmt: skip


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="must end in '.weights.h5'"):
        callax.callbacks.ModelCheckpoint("m.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in '.keras'"):
        callax.callbacks.ModelCheckpoint("m.h5")
    with pytest.raises(ValueError, match="save_freq"):
        callax.callbacks.ModelCheckpoint("m.keras", save_freq="often")
    model, x, y = make()
    cb = callax.callbacks.ModelCheckpoint(str(tmp_path / "{nope}.keras"))
    with pytest.raises(KeyError, match="'nope', which is not in the logs"):
        _fit(model, x, y, [cb], epochs=1)


# ---------------------------------------------------------- BackupAndRestore
class Interrupt(callax.callbacks.Callback):
    def __init__(self, after_epoch):
        super().__init__()
        self.after_epoch = after_epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.after_epoch:
            raise KeyboardInterrupt("simulated crash")


def test_resume_is_bit_identical_in_process(tmp_path):
    model, x, y = make()
    _fit(model, x, y)
    expected = model.get_weights()
    expected_opt = [np.asarray(v.value) for v in model.optimizer.variables]

    backup = callax.callbacks.BackupAndRestore(tmp_path / "backup")
    model, x, y = make()
    with pytest.raises(KeyboardInterrupt):
        _fit(model, x, y, [backup, Interrupt(after_epoch=1)])
    assert os.path.exists(backup.path)

    model, x, y = make()  # a fresh process would start from here
    history = _fit(model, x, y, [callax.callbacks.BackupAndRestore(tmp_path / "backup")])
    assert len(history.history["loss"]) == 3  # epochs 3, 4, 5 only
    for a, b in zip(model.get_weights(), expected):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.optimizer.variables, expected_opt):
        np.testing.assert_array_equal(np.asarray(a.value), b)
    assert not os.path.exists(backup.path)  # deleted once fit completed


def test_backup_rejects_int_save_freq():
    with pytest.raises(ValueError, match="last finished epoch"):
        callax.callbacks.BackupAndRestore("b", save_freq=10)


CHILD = RESUME_MODEL + textwrap.dedent(
    """
    import sys

    class Report(callax.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch}", flush=True)

    model, x, y = make()
    callbacks = [Report()]
    if sys.argv[2] != "-":
        callbacks.insert(0, callax.callbacks.BackupAndRestore(sys.argv[2]))
    model.fit(x, y, epochs=5, batch_size=8, shuffle=True, verbose=0, validation_split=0.25,
              callbacks=callbacks)
    model.save_weights(sys.argv[1])
    print("done", flush=True)
    """
)


@pytest.mark.slow
def test_killed_fit_resumes_bit_identical(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    ref, out, backup = (str(tmp_path / n) for n in ("ref.weights.h5", "out.weights.h5", "bk"))
    subprocess.run([sys.executable, str(script), ref, "-"], check=True, env=env,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    proc = subprocess.Popen([sys.executable, str(script), out, backup], env=env,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    while proc.stdout.readline().strip() != "epoch 2":
        pass
    os.kill(proc.pid, signal.SIGKILL)  # killed after epoch 3 of 5 (0-based 2)
    proc.wait()
    assert not os.path.exists(out) and os.path.exists(os.path.join(backup, "latest.weights.h5"))
    done = subprocess.run([sys.executable, str(script), out, backup], check=True, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.stdout.split() == ["epoch", "3", "epoch", "4", "done"]
    a, b = make()[0], make()[0]
    a.build((None, 6))
    b.build((None, 6))
    a.load_weights(ref)
    b.load_weights(out)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
