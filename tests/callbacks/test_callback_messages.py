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
