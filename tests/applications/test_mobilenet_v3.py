"""applications.mobilenet_v3 against Keras 3 (oracle): layers, weights, outputs, files."""

import pytest
from application_oracle import assert_same_outputs, assert_same_structure, build_pair, offline

import callax
from callax import applications
from callax.applications import mobilenet_v3

keras = pytest.importorskip("keras")

SHAPE = (32, 32, 3)


@pytest.mark.slow
@pytest.mark.parametrize(
    "builder,kwargs",
    [
        ("MobileNetV3Small", dict(include_top=True)),
        ("MobileNetV3Small", dict(include_top=False, pooling="avg", alpha=0.75)),
        ("MobileNetV3Small", dict(include_top=True, minimalistic=True, dropout_rate=0.0)),
        ("MobileNetV3Large", dict(include_top=True, alpha=1.25)),  # widens conv_2 too
        ("MobileNetV3Large", dict(include_top=False, pooling="max", minimalistic=True)),
        ("MobileNetV3Large", dict(include_top=False, include_preprocessing=False)),
    ],
)
def test_matches_keras(builder, kwargs):
    k, c = build_pair(keras, builder, "mobilenet_v3", classes=10, input_shape=SHAPE, **kwargs)
    assert_same_structure(k, c)
    assert_same_outputs(k, c, SHAPE)


def test_sizes_names_and_registry():
    # Keras 3.15's numbers for include_top=False at 32x32: (layers, weights, parameters).
    small = applications.MobileNetV3Small(weights=None, include_top=False, input_shape=SHAPE)
    assert (len(small.layers), len(small.weights), small.count_params()) == (157, 206, 939120)
    large = applications.MobileNetV3Large(weights=None, include_top=False, input_shape=SHAPE)
    assert (len(large.layers), len(large.weights), large.count_params()) == (187, 262, 2996352)
    assert (small.name, large.name) == ("MobileNetV3Small", "MobileNetV3Large")
    assert large.get_layer("expanded_conv_12_squeeze_excite_mul").output.shape[-1] == 672
    assert mobilenet_v3.MobileNetV3Small is applications.MobileNetV3Small
    # Any input size by default, with the top too (Keras builds (None, None, 3)).
    model = applications.MobileNetV3Small(weights=None, classes=3)
    assert model.input_shape == (None, None, None, 3) and model.output_shape == (None, 3)
    inputs = callax.Input((40, 48, 3))
    model = applications.MobileNetV3Large(weights=None, include_top=False, input_tensor=inputs)
    assert model.inputs[0] is inputs and model.output_shape == (None, 2, 2, 960)


def test_imagenet_download_path(tmp_path, monkeypatch):
    offline(monkeypatch, tmp_path)
    base = "https://storage.googleapis.com/tensorflow/keras-applications/mobilenet_v3/"
    with pytest.raises(OSError, match=f"{base}weights_mobilenet_v3_small_224_1.0_float.h5"):
        applications.MobileNetV3Small(input_shape=(224, 224, 3))
    url = f"{base}weights_mobilenet_v3_large_minimalistic_224_1.0_float_no_top_v2.h5"
    with pytest.warns(UserWarning, match=r"input shape \(224, 224\)"):
        with pytest.raises(OSError, match=f"MobileNetV3Large: could not download .*{url}"):
            applications.MobileNetV3Large(include_top=False, minimalistic=True)


def test_bad_arguments():
    with pytest.raises(ValueError, match="MobileNetV3Small: .*alpha must be 0.75 or 1.0"):
        applications.MobileNetV3Small(alpha=0.5)
    with pytest.raises(ValueError, match="MobileNetV3Large: .*received alpha=0.75, minimal"):
        applications.MobileNetV3Large(alpha=0.75, minimalistic=True)
    with pytest.raises(ValueError, match=r"MobileNetV3Small: input size must be at least 32x32"):
        applications.MobileNetV3Small(weights=None, input_shape=(31, 64, 3))
    with pytest.raises(ValueError, match=r"input_shape\[1\] must equal input_tensor.shape\[2\]"):
        applications.MobileNetV3Small(
            weights=None, input_tensor=callax.Input((40, 48, 3)), input_shape=(40, 40, 3)
        )
    with pytest.raises(ValueError, match="MobileNetV3Large: .*classes must be 1000"):
        applications.MobileNetV3Large(classes=10)


def test_preprocess_input_is_identity_as_in_keras():
    x = [[1.0, 250.0]]
    assert mobilenet_v3.preprocess_input(x) is x
    assert keras.applications.mobilenet_v3.preprocess_input(x) is x
    assert mobilenet_v3.decode_predictions is applications.imagenet_utils.decode_predictions
