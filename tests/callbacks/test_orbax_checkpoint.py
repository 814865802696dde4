"""OrbaxCheckpoint: what is saved when (per epoch, per N batches, best only,
max_to_keep), and that a restored run continues bit-identically to one that was
never interrupted."""

import os

import numpy as np
import pytest

pytest.importorskip("orbax.checkpoint", reason="OrbaxCheckpoint writes through orbax-checkpoint")

import callax  # noqa: E402
from callax.callbacks import LambdaCallback, OrbaxCheckpoint  # noqa: E402


def _model(seed=0, dropout=True):
    callax.utils.set_random_seed(seed)
    layers = [callax.Input((4,)), callax.layers.Dense(8, activation="relu")]
    if dropout:  # seed-generator state must be restored for the masks to repeat
        layers.append(callax.layers.Dropout(0.3))
    layers.append(callax.layers.Dense(1))
    model = callax.Sequential(layers)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, (x @ np.array([[1.0], [-1.0], [0.5], [2.0]], "float32")).astype("float32")


def _steps(directory):
    return sorted(int(s) for s in os.listdir(directory) if s.isdigit())


def test_saves_each_epoch_and_restores_any_step(tmp_path):
    x, y = _data()
    model = _model(dropout=False)
    seen = []
    record = LambdaCallback(on_epoch_end=lambda e, logs: seen.append(model.get_weights()))
    cb = OrbaxCheckpoint(tmp_path, max_to_keep=None, save_on_background=False)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[cb, record])
    assert _steps(tmp_path) == [0, 1, 2]  # Keras's numbering: the epoch index
    fresh = _model(seed=7, dropout=False)
    assert OrbaxCheckpoint.restore(fresh, tmp_path, step=1, resume=False) == 1
    for a, b in zip(fresh.get_weights(), seen[1]):
        np.testing.assert_array_equal(a, b)
    assert OrbaxCheckpoint.latest_step(tmp_path) == 2
    assert OrbaxCheckpoint.restore(fresh, tmp_path / "0", resume=False) == 0  # a step folder
    from callax.callbacks.orbax_checkpoint import is_orbax_checkpoint

    assert is_orbax_checkpoint(tmp_path) and is_orbax_checkpoint(tmp_path / "2")
    assert not is_orbax_checkpoint(tmp_path.parent)
    OrbaxCheckpoint.restore(fresh, tmp_path)  # the newest, optimizer state included
    for a, b in zip(fresh.get_weights(), seen[2]):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(fresh.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))
    assert int(fresh.optimizer.iterations.value) == 3 * 4


def test_max_to_keep_and_background_saves(tmp_path):
    x, y = _data()
    cb = OrbaxCheckpoint(tmp_path, max_to_keep=2)  # save_on_background=True (default)
    _model(dropout=False).fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[cb])
    assert _steps(tmp_path) == [2, 3]
    assert not [f for f in os.listdir(tmp_path) if "tmp" in f]  # each save renamed into place


def test_save_freq_in_batches_numbers_steps_by_batches_seen(tmp_path):
    x, y = _data()
    cb = OrbaxCheckpoint(tmp_path, save_freq=3, max_to_keep=None, save_on_background=False)
    _model(dropout=False).fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert _steps(tmp_path) == [3, 6]  # 8 batches in all: saves after batches 3 and 6


def test_save_best_only_keeps_improvements(tmp_path):
    x, y = _data()
    cb = OrbaxCheckpoint(
        tmp_path, monitor="val_loss", save_best_only=True, max_to_keep=None,
        save_on_background=False,
    )  # fmt: skip
    model = _model(dropout=False)
    model.optimizer.learning_rate = 0.3  # big steps: val_loss goes up and down
    history = model.fit(
        x, y, epochs=6, batch_size=8, verbose=0, validation_data=(x[:8], y[:8]), callbacks=[cb]
    ).history["val_loss"]
    best, expected = np.inf, []
    for epoch, value in enumerate(history):
        if value < best:
            best, expected = value, [*expected, epoch]
    assert _steps(tmp_path) == expected
    assert cb.best == pytest.approx(min(history))


def test_restore_continues_training_bit_identically(tmp_path):
    x, y = _data()
    full = _model(seed=1)
    full.fit(x, y, epochs=4, batch_size=8, verbose=0,
             callbacks=[OrbaxCheckpoint(tmp_path / "a", save_on_background=False)])  # fmt: skip
    interrupted = _model(seed=1)
    interrupted.fit(x, y, epochs=2, batch_size=8, verbose=0,
                    callbacks=[OrbaxCheckpoint(tmp_path / "b", save_on_background=False)])  # fmt: skip
    # A new process: different initial weights and RNG states, then restore.
    resumed = _model(seed=99)
    np.random.seed(5)
    assert OrbaxCheckpoint.restore(resumed, tmp_path / "b") == 1
    history = resumed.fit(x, y, epochs=4, batch_size=8, verbose=0,
                          callbacks=[OrbaxCheckpoint(tmp_path / "b", save_on_background=False)])  # fmt: skip
    assert len(history.history["loss"]) == 2  # epochs 3 and 4 only
    for a, b in zip(resumed.get_weights(), full.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(resumed.optimizer.variables, full.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))
    assert _steps(tmp_path / "b") == [3]


def test_save_weights_only_restores_weights_not_optimizer(tmp_path):
    x, y = _data()
    model = _model(dropout=False)
    cb = OrbaxCheckpoint(tmp_path, save_weights_only=True, save_on_background=False)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[cb])
    fresh = _model(seed=3, dropout=False)
    OrbaxCheckpoint.restore(fresh, tmp_path)
    for a, b in zip(fresh.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert int(np.asarray(fresh.optimizer.iterations.value)) == 0
    assert fresh._initial_epoch is None  # weights only: nothing to resume


def test_bad_arguments_and_mismatched_models(tmp_path):
    with pytest.raises(ValueError, match=r"save_freq must be 'epoch' or a positive int.*'often'"):
        OrbaxCheckpoint(tmp_path, save_freq="often")
    with pytest.raises(ValueError, match=r"max_to_keep must be a positive int or None.*0"):
        OrbaxCheckpoint(tmp_path, max_to_keep=0)
    with pytest.raises(ValueError, match="directory must be a folder path"):
        OrbaxCheckpoint(None)
    with pytest.raises(FileNotFoundError, match="no checkpoint directory"):
        OrbaxCheckpoint.restore(_model(), tmp_path / "missing")
    x, y = _data()
    model = _model(dropout=False)
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[OrbaxCheckpoint(tmp_path, save_on_background=False)])  # fmt: skip
    with pytest.raises(FileNotFoundError, match=r"step=5.*steps available: \[0\]"):
        OrbaxCheckpoint.restore(model, tmp_path, step=5)
    other = callax.Sequential([callax.Input((4,)), callax.layers.Dense(3), callax.layers.Dense(1)])
    other.compile(optimizer="adam", loss="mse", metrics=["mae"])
    before = [np.array(w) for w in other.get_weights()]
    with pytest.raises(ValueError, match="does not fit.*nothing was loaded"):
        OrbaxCheckpoint.restore(other, tmp_path)
    for a, b in zip(before, other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_rerun_into_the_same_directory_overwrites_its_steps(tmp_path):
    x, y = _data()
    first = _model(dropout=False)
    first.fit(x, y, epochs=2, verbose=0,
              callbacks=[OrbaxCheckpoint(tmp_path, max_to_keep=None)])  # fmt: skip
    second = _model(seed=4, dropout=False)
    second.fit(x, y, epochs=1, verbose=0,
               callbacks=[OrbaxCheckpoint(tmp_path, max_to_keep=None)])  # fmt: skip
    assert _steps(tmp_path) == [0, 1]
    probe = _model(seed=9, dropout=False)
    OrbaxCheckpoint.restore(probe, tmp_path, step=0, resume=False)
    for a, b in zip(probe.get_weights(), second.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_model_rebuilds_the_model_from_its_saved_config(tmp_path):
    x, y = _data()
    model = _model()
    model.fit(x, y, epochs=2, batch_size=8, verbose=0,
              callbacks=[OrbaxCheckpoint(tmp_path, save_on_background=False)])  # fmt: skip
    loaded = OrbaxCheckpoint.load_model(tmp_path, resume=False)
    assert type(loaded) is type(model) and loaded.compiled
    assert [type(layer).__name__ for layer in loaded.layers] == ["Dense", "Dropout", "Dense"]
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(a.value), np.asarray(b.value))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    weights_only = tmp_path / "w"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[
        OrbaxCheckpoint(weights_only, save_weights_only=True, save_on_background=False)])  # fmt: skip
    with pytest.raises(ValueError, match="holds no model config"):
        OrbaxCheckpoint.load_model(weights_only)


def test_save_freq_counts_batches_with_steps_per_execution(tmp_path):
    x, y = _data()
    model = _model(dropout=False)
    model.compile(optimizer="adam", loss="mse", steps_per_execution=2)
    cb = OrbaxCheckpoint(tmp_path, save_freq=4, max_to_keep=None, save_on_background=False)
    model.fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert _steps(tmp_path) == [4, 8]  # hooks fire every 2 batches; steps count batches
