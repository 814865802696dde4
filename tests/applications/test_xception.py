"""applications.xception against Keras 3 (oracle): layers, weights, outputs, files."""

import numpy as np
import pytest
from application_oracle import (
    assert_same_outputs,
    assert_same_structure,
    build_pair,
    offline,
    write_legacy_h5,
)

import callax
from callax import applications
from callax.applications import xception

keras = pytest.importorskip("keras")

SHAPE = (71, 71, 3)  # Keras's minimum Xception input


@pytest.mark.slow
@pytest.mark.parametrize(
    "include_top,pooling", [(True, None), (False, None), (False, "avg"), (False, "max")]
)
def test_matches_keras(include_top, pooling):
    k, c = build_pair(
        keras, "Xception", "xception", include_top=include_top, pooling=pooling,
        classes=10, input_shape=SHAPE,
    )  # fmt: skip
    assert_same_structure(k, c)
    assert_same_outputs(k, c, SHAPE)


def test_size_layer_names_and_registry():
    # Keras 3.15's numbers for include_top=False at 71x71: (layers, weights, parameters).
    model = applications.Xception(weights=None, include_top=False, input_shape=SHAPE)
    assert (len(model.layers), len(model.weights), model.count_params()) == (132, 234, 20861480)
    assert model.get_layer("block1_conv1").filters == 32
    assert model.get_layer("block14_sepconv2_act").output.shape == (None, 3, 3, 2048)
    assert applications.xception.Xception is applications.Xception
    assert callax.applications.Xception.__name__ == "Xception"


def test_loads_keras_legacy_weights_file(tmp_path):
    # Keras's ImageNet files are Keras 2 .h5 files, matched to the layers in order.
    k, _ = build_pair(keras, "Xception", "xception", include_top=False, input_shape=SHAPE)
    rng = np.random.default_rng(2)
    k.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in k.get_weights()])
    path = str(tmp_path / "xception_notop.h5")
    write_legacy_h5(k, path)
    c = applications.Xception(weights=path, include_top=False, input_shape=SHAPE)
    for got, expected in zip(c.get_weights(), k.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_imagenet_download_path(tmp_path, monkeypatch):
    offline(monkeypatch, tmp_path)
    url = (
        "https://storage.googleapis.com/tensorflow/keras-applications/xception/"
        "xception_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    # keras.io's transfer-learning guide builds exactly this base model.
    with pytest.raises(OSError, match=f"Xception: could not download .*{url}"):
        applications.Xception(weights="imagenet", input_shape=(150, 150, 3), include_top=False)
    with pytest.raises(OSError, match="xception_weights_tf_dim_ordering_tf_kernels.h5"):
        applications.Xception()


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"Xception: input size must be at least 71x71"):
        applications.Xception(weights=None, include_top=False, input_shape=(70, 70, 3))
    with pytest.raises(ValueError, match="Xception: .*classes must be 1000; received classes=5"):
        applications.Xception(classes=5)
    with pytest.raises(ValueError, match="Xception: .*received weights='nope'"):
        applications.Xception(weights="nope")
    with pytest.raises(TypeError, match=r"Xception\(\) got unexpected keyword.*'alpha'"):
        applications.Xception(weights=None, alpha=1.0)


def test_preprocess_input_matches_keras():
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    expected = keras.applications.xception.preprocess_input(x.copy())
    np.testing.assert_allclose(xception.preprocess_input(x.copy()), expected, rtol=1e-6)
    np.testing.assert_allclose(xception.preprocess_input(x.copy()), x / 127.5 - 1, rtol=1e-6)
    got = xception.preprocess_input(callax.ops.convert_to_tensor(x))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-6)
    assert xception.decode_predictions is applications.imagenet_utils.decode_predictions
