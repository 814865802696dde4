"""keras.config / keras.backend / small keras.utils names: behaviour and Keras parity."""

from __future__ import annotations

import logging
import pickle

import numpy as np
import pytest

import callax


@pytest.fixture
def restore_flags():
    from callax.core.config_flags import _FLAGS

    saved = dict(_FLAGS)
    yield
    _FLAGS.update(saved)


def _model():
    model = callax.Sequential([callax.layers.Input((2,)), callax.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def _data(n=40):
    x = np.random.default_rng(0).normal(size=(n, 2)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def test_max_epochs_and_max_steps_cap_fit(restore_flags):
    x, y = _data()
    callax.config.set_max_epochs(2)
    with pytest.warns(UserWarning, match="Limiting epochs to 2"):
        history = _model().fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    callax.config.set_max_epochs(None)
    callax.config.set_max_steps_per_epoch(2)
    assert callax.config.max_steps_per_epoch() == 2
    seen = []
    cb = callax.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    with pytest.warns(UserWarning, match="Limiting steps_per_epoch to 2"):
        _model().fit(x, y, epochs=2, batch_size=8, verbose=0, callbacks=[cb])
    assert seen == [0, 1, 0, 1]


def test_max_epochs_from_environment(monkeypatch):
    import importlib

    import callax.core.config_flags as flags

    monkeypatch.setenv("KERAS_MAX_EPOCHS", "3")
    monkeypatch.setenv("KERAS_MAX_STEPS_PER_EPOCH", "7")
    try:
        importlib.reload(flags)
        assert flags.max_epochs() == 3 and flags.max_steps_per_epoch() == 7
    finally:
        monkeypatch.delenv("KERAS_MAX_EPOCHS")
        monkeypatch.delenv("KERAS_MAX_STEPS_PER_EPOCH")
        importlib.reload(flags)


def test_disabling_interactive_logging_silences_fit(restore_flags, capsys, caplog):
    x, y = _data()
    model = _model()
    callax.utils.disable_interactive_logging()
    assert not callax.config.is_interactive_logging_enabled()
    with caplog.at_level(logging.INFO, logger="callax"):
        model.fit(x, y, epochs=2, batch_size=8, verbose=1)
        model.evaluate(x, y, verbose=1)
    assert capsys.readouterr().out == ""
    assert any("Epoch 1/2" in r.getMessage() for r in caplog.records)
    assert any("loss" in r.getMessage() for r in caplog.records)
    callax.utils.enable_interactive_logging()
    model.fit(x, y, epochs=1, batch_size=8, verbose=2)
    assert "loss" in capsys.readouterr().out


def test_compatibility_flags(restore_flags):
    config = callax.config
    config.disable_traceback_filtering()
    assert config.is_traceback_filtering_enabled() is False
    config.enable_traceback_filtering()
    assert config.is_traceback_filtering_enabled() is True
    assert config.is_flash_attention_enabled() is None
    config.enable_flash_attention()
    assert config.is_flash_attention_enabled() is True
    config.disable_flash_attention()
    assert config.is_flash_attention_enabled() is False
    assert config.is_nnx_enabled() is False
    config.set_backend("jax")
    with pytest.raises(ValueError, match="received backend='torch'"):
        config.set_backend("torch")


def test_enable_unsafe_deserialization(monkeypatch):
    from callax.core import config_flags, serialization

    monkeypatch.setitem(config_flags._FLAGS, "unsafe_deserialization", False)
    assert serialization.in_safe_mode()
    inputs = callax.Input((2,))
    model = callax.Model(inputs, callax.layers.Lambda(lambda t: t * 3)(inputs))
    with pytest.raises(ValueError, match="safe_mode=False"):
        callax.models.model_from_json(model.to_json())
    callax.config.enable_unsafe_deserialization()
    assert not serialization.in_safe_mode()
    # the switch reaches loaders that take no safe_mode (model_from_json, from_config)
    loaded = callax.models.model_from_json(model.to_json())
    np.testing.assert_allclose(loaded(np.ones((1, 2), "float32")), [[3.0, 3.0]])


def test_dtype_names_match_keras():
    keras = pytest.importorskip("keras")
    import itertools

    import jax.numpy as jnp

    names = ["bool", "uint8", "int8", "int16", "int32", "int64", "uint32", "float16",
             "bfloat16", "float32", "float64", "complex64", int, float, bool]  # fmt: skip
    for a, b in itertools.product(names, names):
        assert callax.backend.result_type(a, b) == keras.backend.result_type(a, b), (a, b)
    assert callax.backend.result_type() == "float32"
    for d in [None, int, float, bool, np.float32, np.dtype("int8"), "bfloat16", jnp.bfloat16,
              jnp.ones(2).dtype]:  # fmt: skip
        assert callax.backend.standardize_dtype(d) == keras.backend.standardize_dtype(d)
    with pytest.raises(ValueError, match="received dtype='float'"):
        callax.utils.standardize_dtype("float")
    assert callax.backend.is_float_dtype("bfloat16") and not callax.backend.is_float_dtype(int)
    assert callax.backend.is_int_dtype("uint8") and not callax.backend.is_int_dtype("float16")


def test_get_uid_and_clear_session():
    callax.backend.clear_session()
    assert [callax.backend.get_uid("x"), callax.backend.get_uid("x")] == [1, 2]
    assert callax.backend.get_uid("y") == 1
    callax.utils.clear_session()
    assert callax.backend.get_uid("x") == 1


def test_keras_tensor_helpers():
    keras = pytest.importorskip("keras")
    a, b = callax.Input((2,)), callax.Input((2,))
    out = callax.layers.Dense(1)(callax.layers.Concatenate()([a, b * 2]))
    assert callax.utils.get_source_inputs(out) == [a, b]
    assert callax.utils.get_source_inputs(a) == [a]
    assert callax.utils.is_keras_tensor(out) and callax.backend.is_keras_tensor(a)
    assert not callax.utils.is_keras_tensor(np.zeros(2))
    with pytest.raises(ValueError, match="received ndarray"):
        callax.utils.get_source_inputs(np.zeros(2))
    for args in [(1,), ((1, 2),), (1, 2), (1, 2, 3), ([1],)]:
        ours = callax.utils.pack_x_y_sample_weight(*args)
        assert ours == keras.utils.pack_x_y_sample_weight(*args)
        assert callax.utils.unpack_x_y_sample_weight(ours) == (
            keras.utils.unpack_x_y_sample_weight(ours)
        )


def test_registered_names():
    @callax.saving.register_keras_serializable(package="cfgtest")
    class Twice(callax.layers.Layer):
        def call(self, x):
            return 2 * x

    assert callax.utils.get_registered_name(Twice) == "cfgtest>Twice"
    assert callax.utils.get_registered_object("cfgtest>Twice") is Twice


def test_config_object():
    keras = pytest.importorskip("keras")
    ours, theirs = callax.utils.Config(a=1, b=[2]), keras.utils.Config(a=1, b=[2])
    for c in (ours, theirs):
        c.c = 3
        c["d"] = 4
        c.update(e=5)
    assert ours.as_dict() == theirs.as_dict() and ours.to_json() == theirs.to_json()
    assert len(ours) == 5 and "a" in ours and list(ours) == list(theirs)
    ours.freeze()
    assert ours.frozen
    with pytest.raises(ValueError, match="frozen"):
        ours["a"] = 2
    with pytest.raises(ValueError, match="frozen"):
        del ours.a
    ours.unfreeze()
    assert ours.pop("e") == 5
    with pytest.raises(AttributeError, match="no key 'zzz'"):
        ours.zzz  # noqa: B018
    clone = pickle.loads(pickle.dumps(ours))
    assert clone.as_dict() == ours.as_dict()


def test_model_to_dot():
    pytest.importorskip("pydot")
    inp = callax.Input((3,), name="x")
    model = callax.Model(inp, callax.layers.Dense(2, name="proj")(inp))
    dot = callax.utils.model_to_dot(model, show_shapes=True, rankdir="LR")
    labels = " ".join(str(n.get("label")) for n in dot.get_nodes())
    assert "proj" in labels and "Dense" in labels
    assert len(dot.get_edges()) >= 1
    with pytest.raises(ValueError, match="rankdir"):
        callax.utils.model_to_dot(model, rankdir="XY")
