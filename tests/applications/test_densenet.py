"""applications.densenet against Keras 3 (oracle): layers, weights, outputs, files."""

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
from callax.applications import densenet

keras = pytest.importorskip("keras")

SHAPE = (32, 32, 3)


@pytest.mark.slow
@pytest.mark.parametrize(
    "builder,include_top,pooling",
    [
        ("DenseNet121", True, None),
        ("DenseNet121", False, None),
        ("DenseNet121", False, "avg"),
        ("DenseNet169", False, "max"),
        ("DenseNet201", True, None),
    ],
)
def test_matches_keras(builder, include_top, pooling):
    k, c = build_pair(
        keras, builder, "densenet", include_top=include_top, pooling=pooling, classes=10,
        input_shape=SHAPE,
    )  # fmt: skip
    assert_same_structure(k, c)
    assert_same_outputs(k, c, SHAPE)


# Keras 3.15's numbers for include_top=False at 32x32: (layers, weights, parameters).
KERAS_SIZES = {
    "DenseNet121": (427, 604, 7037504),
    "DenseNet169": (595, 844, 12642880),
    "DenseNet201": (707, 1004, 18321984),
}


@pytest.mark.parametrize("builder", sorted(KERAS_SIZES))
def test_sizes_match_keras(builder):
    model = getattr(applications, builder)(weights=None, include_top=False, input_shape=SHAPE)
    assert (len(model.layers), len(model.weights), model.count_params()) == KERAS_SIZES[builder]
    assert model.name == builder.lower()
    assert getattr(densenet, builder) is getattr(applications, builder)


def test_input_tensor_and_named_pooling():
    inputs = callax.Input((48, 48, 3))
    model = applications.DenseNet121(
        weights=None, include_top=False, input_tensor=inputs, pooling="avg", name="backbone"
    )
    assert model.inputs[0] is inputs and model.name == "backbone"
    assert model.layers[-1].name == "avg_pool" and model.output_shape == (None, 1024)
    # Transitions halve the channels (64 + 6 * 32 = 256 -> 128) and the size (12 -> 6).
    assert model.get_layer("pool2_pool").output.shape == (None, 6, 6, 128)


@pytest.mark.slow
def test_loads_keras_legacy_weights_file(tmp_path):
    k, _ = build_pair(keras, "DenseNet121", "densenet", include_top=True, input_shape=SHAPE)
    rng = np.random.default_rng(2)
    k.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in k.get_weights()])
    path = str(tmp_path / "densenet121.h5")
    write_legacy_h5(k, path)
    c = applications.DenseNet121(weights=path, input_shape=SHAPE)
    for got, expected in zip(c.get_weights(), k.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("depth", [121, 169, 201])
def test_imagenet_download_path(depth, tmp_path, monkeypatch):
    offline(monkeypatch, tmp_path)
    url = (
        "https://storage.googleapis.com/tensorflow/keras-applications/densenet/"
        f"densenet{depth}_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    with pytest.raises(OSError, match=f"DenseNet{depth}: could not download .*{url}"):
        getattr(applications, f"DenseNet{depth}")(include_top=False, input_shape=SHAPE)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"DenseNet121: input size must be at least 32x32"):
        applications.DenseNet121(weights=None, include_top=False, input_shape=(31, 40, 3))
    with pytest.raises(ValueError, match="DenseNet169: .*classes must be 1000; received classes=3"):
        applications.DenseNet169(classes=3)


def test_preprocess_input_matches_keras():
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    expected = keras.applications.densenet.preprocess_input(x.copy())
    np.testing.assert_allclose(densenet.preprocess_input(x.copy()), expected, rtol=1e-6)
    # Independent of Keras: ImageNet mean/std per channel on [0, 1] pixels.
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    independent = (x / 255 - mean) / std
    np.testing.assert_allclose(densenet.preprocess_input(x.copy()), independent, atol=1e-5)
    got = densenet.preprocess_input(callax.ops.convert_to_tensor(x))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-5, atol=1e-6)
    channels_first = densenet.preprocess_input(x.transpose(0, 3, 1, 2).copy(), "channels_first")
    np.testing.assert_allclose(channels_first.transpose(0, 2, 3, 1), expected, rtol=1e-5, atol=1e-6)
    assert densenet.decode_predictions is applications.imagenet_utils.decode_predictions
