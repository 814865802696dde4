"""Legacy Keras 2 .h5 files (Keras 3's `model.save("x.h5")`) load with load_weights."""

import numpy as np
import pytest

import callax


def _models(lib):
    return lib.Sequential(
        [lib.Input((4,)), lib.layers.Dense(3, activation="relu"), lib.layers.Dropout(0.1),
         lib.layers.Dense(2)]
    )  # fmt: skip


def test_keras_legacy_h5_loads_into_callax(tmp_path):
    keras = pytest.importorskip("keras")
    km = _models(keras)
    path = str(tmp_path / "model.h5")
    km.save(path)  # Keras 3 writes the legacy (Keras 2) layout for .h5
    cm = _models(callax)
    cm.load_weights(path)
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(cm.predict(x, verbose=0), km.predict(x, verbose=0), rtol=1e-5)


def test_legacy_h5_with_wrong_shapes_loads_nothing(tmp_path):
    keras = pytest.importorskip("keras")
    km = _models(keras)
    path = str(tmp_path / "model.h5")
    km.save(path)
    other = callax.Sequential([callax.Input((4,)), callax.layers.Dense(5), callax.layers.Dense(2)])
    before = [w.numpy().copy() for w in other.weights]
    with pytest.raises(ValueError, match="expects weights of shapes"):
        other.load_weights(path)
    for w, b in zip(other.weights, before):
        np.testing.assert_array_equal(w.numpy(), b)


def _compiled(lib):
    model = _models(lib)
    model.compile(lib.optimizers.Adam(0.01), "mse", metrics=["mae"])
    x = np.random.default_rng(1).normal(size=(8, 4)).astype("float32")
    model.fit(x, x[:, :2], epochs=2, verbose=0)
    return model, x


def test_keras_whole_model_h5_loads_with_load_model(tmp_path):
    keras = pytest.importorskip("keras")
    km, x = _compiled(keras)
    path = str(tmp_path / "model.h5")
    km.save(path)
    model = callax.saving.load_model(path)
    np.testing.assert_allclose(model.predict(x, verbose=0), km.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)  # fmt: skip
    # compiled from the file's training_config: Adam(0.01), mse (optimizer state is not kept)
    assert type(model.optimizer).__name__ == "Adam"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert model.evaluate(x, x[:, :2], verbose=0, return_dict=True).keys() == {"loss", "mae"}


def test_callax_saves_whole_model_h5_and_reads_it_back(tmp_path):
    model, x = _compiled(callax)
    path = tmp_path / "model.h5"
    with pytest.warns(UserWarning, match="legacy HDF5 format"):
        model.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.h5"]  # written atomically
    loaded = callax.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert type(loaded.optimizer).__name__ == "Adam" and loaded.loss == "mse"
    keras = pytest.importorskip("keras")
    theirs = keras.models.load_model(path, compile=False)  # Keras reads the model too
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)


def test_h5_without_a_model_config_is_a_clear_error(tmp_path):
    import h5py

    path = tmp_path / "weights.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = np.array([b"dense"])
    with pytest.raises(ValueError, match="holds weights only"):
        callax.saving.load_model(path)
