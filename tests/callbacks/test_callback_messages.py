"""Callbacks' messages go through one io utility: stdout, or the ``callax`` logger
when interactive logging is off (``keras.utils.disable_interactive_logging``)."""

import logging

import numpy as np

import callax as keras


def _fit(callback):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x = np.ones((8, 3), "float32")
    model.fit(x, np.zeros((8, 1), "float32"), epochs=3, verbose=0, callbacks=[callback])


def test_messages_print_when_interactive(capsys):
    _fit(keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1.0, verbose=1))
    assert "early stopping" in capsys.readouterr().out


def test_messages_are_logged_when_interactive_logging_is_off(capsys, caplog):
    keras.utils.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO, logger="callax"):
            _fit(
                keras.callbacks.EarlyStopping(monitor="loss", patience=0, min_delta=1.0, verbose=1)
            )
    finally:
        keras.utils.enable_interactive_logging()
    assert "early stopping" not in capsys.readouterr().out
    assert any("early stopping" in r.getMessage() for r in caplog.records)


def _checkpoints(tmp_path):
    """Both checkpointing callbacks, best-only and verbose (one shared rule)."""
    yield keras.callbacks.ModelCheckpoint(
        str(tmp_path / "m.keras"), monitor="loss", save_best_only=True, verbose=1
    )
    try:
        import orbax.checkpoint  # noqa: F401
    except ImportError:
        return
    yield keras.callbacks.OrbaxCheckpoint(
        str(tmp_path / "orbax"), monitor="loss", save_best_only=True, verbose=1,
        save_on_background=False,
    )  # fmt: skip


def test_checkpoint_messages_follow_interactive_logging(tmp_path, capsys, caplog):
    for callback in _checkpoints(tmp_path):
        _fit(callback)  # SGD(0): the loss never improves after the first epoch
        out = capsys.readouterr().out
        assert "loss improved from None" in out and "did not improve" in out, out
        keras.utils.disable_interactive_logging()
        try:
            with caplog.at_level(logging.INFO, logger="callax"):
                callback.best = None
                _fit(callback)
        finally:
            keras.utils.enable_interactive_logging()
        assert capsys.readouterr().out == ""
        assert any("did not improve" in r.getMessage() for r in caplog.records)
        caplog.clear()
