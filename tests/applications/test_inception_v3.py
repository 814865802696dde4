"""applications.inception_v3 against Keras 3 (oracle): layers, weights, outputs, files."""

import numpy as np
import pytest
from application_oracle import assert_same_outputs, assert_same_structure, build_pair, offline

import callax
from callax import applications
from callax.applications import inception_v3

keras = pytest.importorskip("keras")

SHAPE = (75, 75, 3)  # Keras's minimum InceptionV3 input


@pytest.mark.slow
@pytest.mark.parametrize(
    "include_top,pooling", [(True, None), (False, None), (False, "avg"), (False, "max")]
)
def test_matches_keras(include_top, pooling):
    # Keras names only the mixed* concatenations: the default names of the other
    # layers (conv2d_93, batch_normalization_93, ...) must come out identical too.
    k, c = build_pair(
        keras, "InceptionV3", "inception_v3", include_top=include_top, pooling=pooling,
        classes=10, input_shape=SHAPE,
    )  # fmt: skip
    assert_same_structure(k, c)
    assert_same_outputs(k, c, SHAPE)


@pytest.mark.slow
def test_loads_keras_weights_h5(tmp_path):
    # A Keras 3 .weights.h5 of a fresh-session InceptionV3 (default-named layers).
    k, c = build_pair(keras, "InceptionV3", "inception_v3", include_top=False, input_shape=SHAPE)
    rng = np.random.default_rng(3)
    k.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in k.get_weights()])
    path = str(tmp_path / "inception.weights.h5")
    k.save_weights(path)
    c.load_weights(path)
    for got, expected in zip(c.get_weights(), k.get_weights(), strict=True):
        np.testing.assert_array_equal(got, expected)


def test_size_and_module_outputs():
    # Keras 3.15's numbers for include_top=False at 75x75: (layers, weights, parameters).
    model = applications.InceptionV3(weights=None, include_top=False, input_shape=SHAPE)
    assert (len(model.layers), len(model.weights), model.count_params()) == (311, 376, 21802784)
    channels = {f"mixed{i}": model.get_layer(f"mixed{i}").output.shape[-1] for i in range(11)}
    assert channels == {
        "mixed0": 256, "mixed1": 288, "mixed2": 288, "mixed3": 768, "mixed4": 768,
        "mixed5": 768, "mixed6": 768, "mixed7": 768, "mixed8": 1280, "mixed9": 2048,
        "mixed10": 2048,
    }  # fmt: skip
    # Batch norms without scale (gamma): beta, moving mean, moving variance.
    assert len(model.get_layer("batch_normalization").weights) == 3
    assert applications.inception_v3.InceptionV3 is applications.InceptionV3


def test_imagenet_download_path(tmp_path, monkeypatch):
    offline(monkeypatch, tmp_path)
    url = (
        "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
    )
    with pytest.raises(OSError, match=f"InceptionV3: could not download .*{url}"):
        applications.InceptionV3(include_top=False, input_shape=SHAPE)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"InceptionV3: input size must be at least 75x75"):
        applications.InceptionV3(weights=None, include_top=False, input_shape=(74, 80, 3))
    with pytest.raises(ValueError, match=r"InceptionV3: .*input_shape must be \(299, 299, 3\)"):
        applications.InceptionV3(input_shape=(150, 150, 3))
    with pytest.raises(ValueError, match="InceptionV3: only classifier_activation=None or"):
        applications.InceptionV3(classifier_activation="relu")


def test_preprocess_input_matches_keras():
    x = np.random.default_rng(0).uniform(0, 255, (2, 5, 5, 3)).astype("float32")
    expected = keras.applications.inception_v3.preprocess_input(x.copy())
    np.testing.assert_allclose(inception_v3.preprocess_input(x.copy()), expected, rtol=1e-6)
    np.testing.assert_allclose(inception_v3.preprocess_input(x.copy()), x / 127.5 - 1, rtol=1e-6)
    got = inception_v3.preprocess_input(callax.ops.convert_to_tensor(x))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-6, atol=1e-6)
    assert inception_v3.decode_predictions is applications.imagenet_utils.decode_predictions
