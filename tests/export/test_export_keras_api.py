"""Keras 3's export API shape (Keras as a test-only oracle), and Keras's own
ExportArchive example run with ``import callax as keras``."""

import inspect

import jax
import numpy as np
import pytest

import callax
import callax as keras


def test_signatures_match_keras():
    real = pytest.importorskip("keras", reason="Keras 3 is the API oracle")
    ours, theirs = inspect.signature(callax.Model.export), inspect.signature(real.Model.export)
    assert list(ours.parameters) == list(theirs.parameters)
    assert ours.parameters["format"].default == theirs.parameters["format"].default
    for method in ("track", "add_endpoint", "track_and_add_endpoint",
                   "add_variable_collection", "write_out"):  # fmt: skip
        keras_params = list(
            inspect.signature(getattr(real.export.ExportArchive, method)).parameters
        )
        our_params = list(
            inspect.signature(getattr(callax.export.ExportArchive, method)).parameters
        )
        # Keras's positional parameters come first, in the same order.
        assert our_params[: len(keras_params)] == keras_params, method


def test_keras_export_archive_example(tmp_path):
    """The example in Keras's ExportArchive docstring: an inference and a training
    endpoint (Dropout on), then the artifact reloaded with JAX alone."""
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dropout(0.5)])
    export_archive = keras.export.ExportArchive(format="jax")
    export_archive.track(model)
    export_archive.add_endpoint(
        name="call_inference",
        fn=lambda x: model.call(x, training=False),
        input_signature=[keras.InputSpec(shape=(None, 3), dtype="float32")],
    )
    export_archive.add_endpoint(
        name="call_training",
        # Keras's example writes model.call(x, training=True); callax's Sequential.call
        # takes `training` from the call frame, so call the model itself.
        fn=lambda x: model(x, training=True),
        input_signature=[keras.InputSpec(shape=(None, 3), dtype="float32")],
    )
    export_archive.write_out(str(tmp_path / "art"), verbose=False, platforms=("cpu",))
    x = np.ones((4, 3), "float32")
    kernel, bias = (np.asarray(w.value) for w in model.weights)
    inference = jax.export.deserialize((tmp_path / "art/call_inference.jax").read_bytes())
    np.testing.assert_allclose(inference.call(x), x @ kernel + bias, rtol=1e-6)
    training = jax.export.deserialize((tmp_path / "art/call_training.jax").read_bytes())
    y = np.asarray(training.call(x))
    dense = x @ kernel + bias
    kept = y != 0
    assert 0 < kept.sum() < y.size  # some units dropped, some kept (scaled by 1/(1-rate))
    np.testing.assert_allclose(y[kept], (dense / 0.5)[kept], rtol=1e-6)
