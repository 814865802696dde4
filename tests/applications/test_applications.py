"""callax.applications against Keras 3 (oracle): names, weight order, outputs, weight files."""

import json
import os

import numpy as np
import pytest
from application_oracle import write_legacy_h5

import callax
from callax import applications

keras = pytest.importorskip("keras")

# (callax builder, keras builder name, kwargs); small inputs keep these fast.
CASES = [
    ("MobileNetV2", dict(input_shape=(32, 32, 3), alpha=0.35)),
    pytest.param("MobileNetV2", dict(input_shape=(32, 32, 3), alpha=1.3), marks=pytest.mark.slow),
    # Keras builds these slowly (large random initializations): > 5 s each.
    pytest.param("ResNet50", dict(input_shape=(64, 64, 3)), marks=pytest.mark.slow),
    pytest.param("VGG16", dict(input_shape=(32, 32, 3)), marks=pytest.mark.slow),
    pytest.param(
        "MobileNet",
        dict(input_shape=(32, 32, 3), alpha=0.5, depth_multiplier=2),
        marks=pytest.mark.slow,
    ),
    pytest.param("ResNet50V2", dict(input_shape=(32, 32, 3)), marks=pytest.mark.slow),
    pytest.param("EfficientNetB0", dict(input_shape=(32, 32, 3)), marks=pytest.mark.slow),
    pytest.param("VGG19", dict(input_shape=(32, 32, 3)), marks=pytest.mark.slow),
]


def _auto(name):
    # Auto-generated names depend on per-session counters; compare only given names.
    return name.startswith(
        ("input_layer", "global_", "keras_tensor", "max_pooling2d", "rescaling", "normalization")
    )


def _pair(builder, kwargs, include_top, pooling=None):
    k = getattr(keras.applications, builder)(
        weights=None, include_top=include_top, classes=10, pooling=pooling, **kwargs
    )
    c = getattr(applications, builder)(
        weights=None, include_top=include_top, classes=10, pooling=pooling, **kwargs
    )
    return k, c


def _check_pair(k, c, shape):
    assert [lay.name for lay in c.layers if not _auto(lay.name)] == [
        lay.name for lay in k.layers if not _auto(lay.name)
    ]
    assert len(c.layers) == len(k.layers)
    assert [tuple(w.shape) for w in c.weights] == [tuple(w.shape) for w in k.weights]
    assert c.name == k.name
    assert c.output_shape == k.output_shape
    c.set_weights(k.get_weights())
    for layer in k.layers:
        # Keras's Normalization reads its mean/variance only at finalize_state.
        if type(layer).__name__ == "Normalization":
            layer.finalize_state()
    x = np.random.default_rng(0).uniform(-1, 1, (2, *shape)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(c(x, training=False)),
        np.asarray(k(x, training=False)),
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize("builder,kwargs", CASES)
@pytest.mark.parametrize("include_top,pooling", [(True, None), (False, "avg")])
def test_matches_keras(builder, kwargs, include_top, pooling):
    k, c = _pair(builder, kwargs, include_top, pooling)
    # BatchNorm statistics are zeros/ones at init: perturb them so inference uses them.
    rng = np.random.default_rng(1)
    k.set_weights([w + rng.uniform(0.0, 0.1, w.shape).astype(w.dtype) for w in k.get_weights()])
    _check_pair(k, c, kwargs["input_shape"])


@pytest.mark.parametrize("builder,kwargs", [CASES[0], CASES[2], CASES[3]])
def test_loads_keras_weights_files(builder, kwargs, tmp_path):
    k, c = _pair(builder, kwargs, include_top=True)
    rng = np.random.default_rng(2)
    k.set_weights([rng.normal(size=w.shape).astype(w.dtype) * 0.1 for w in k.get_weights()])
    expected = k.get_weights()
    # Keras 3 format (.weights.h5), through Model.load_weights and through weights=<path>.
    path = str(tmp_path / "m.weights.h5")
    k.save_weights(path)
    c.load_weights(path)
    for a, b in zip(c.get_weights(), expected):
        np.testing.assert_array_equal(a, b)
    c2 = getattr(applications, builder)(weights=path, include_top=True, classes=10, **kwargs)
    for a, b in zip(c2.get_weights(), expected):
        np.testing.assert_array_equal(a, b)
    # Legacy Keras 2 .h5 (the format of Keras's ImageNet files).
    legacy = str(tmp_path / "legacy.h5")
    write_legacy_h5(k, legacy)
    c3 = getattr(applications, builder)(weights=legacy, include_top=True, classes=10, **kwargs)
    for a, b in zip(c3.get_weights(), expected):
        np.testing.assert_array_equal(a, b)
    # A legacy whole-model .h5 written by Keras itself (weights under "model_weights").
    full = str(tmp_path / "full.h5")
    k.save(full)
    c4 = getattr(applications, builder)(weights=full, include_top=True, classes=10, **kwargs)
    for a, b in zip(c4.get_weights(), expected):
        np.testing.assert_array_equal(a, b)


def test_imagenet_download_error_names_url(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from callax.utils import file_utils

    def offline(url, target, *args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(file_utils, "_download", offline)
    with pytest.raises(OSError, match="mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_96"):
        applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False)
    with pytest.raises(
        OSError, match="https://storage.googleapis.com/tensorflow/keras-applications"
    ):
        applications.MobileNetV2(input_shape=(96, 96, 3), alpha=0.35, include_top=False)


def test_bad_arguments():
    with pytest.raises(ValueError, match="weights.*received weights='nope'"):
        applications.MobileNetV2(weights="nope")
    with pytest.raises(ValueError, match="classes must be 1000"):
        applications.MobileNetV2(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="at least 32x32"):
        applications.MobileNetV2(weights=None, input_shape=(16, 16, 3))


def test_decode_predictions_with_local_index(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    os.makedirs(tmp_path / "models")
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    (tmp_path / "models" / "imagenet_class_index.json").write_text(json.dumps(index))
    from callax.applications import imagenet_utils

    # The fake index does not match Keras's hash, so get_file would re-download: skip it.
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", None)
    preds = np.zeros((2, 1000), "float32")
    preds[0, 7], preds[0, 3] = 0.9, 0.1
    preds[1, 999] = 1.0
    out = applications.mobilenet_v2.decode_predictions(preds, top=2)
    assert out[0] == [
        ("n00000007", "class_7", pytest.approx(0.9)),
        ("n00000003", "class_3", pytest.approx(0.1)),
    ]
    assert out[1][0][:2] == ("n00000999", "class_999")
    with pytest.raises(ValueError, match=r"shape \(samples, 1000\).*\(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
def test_preprocess_input_matches_keras(mode):
    x = np.random.default_rng(0).uniform(0, 255, (2, 4, 4, 3)).astype("float32")
    expected = keras.applications.imagenet_utils.preprocess_input(x.copy(), mode=mode)
    got = applications.imagenet_utils.preprocess_input(x.copy(), mode=mode)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    got_jax = applications.imagenet_utils.preprocess_input(
        callax.ops.convert_to_tensor(x), mode=mode
    )
    np.testing.assert_allclose(np.asarray(got_jax), expected, rtol=1e-5, atol=1e-6)
    # Formula check independent of Keras.
    if mode == "caffe":
        np.testing.assert_allclose(got[..., 0], x[..., 2] - 103.939, rtol=1e-6)
    if mode == "torch":
        np.testing.assert_allclose(got[..., 1], (x[..., 1] / 255 - 0.456) / 0.224, rtol=1e-5)
    with pytest.raises(ValueError, match="received mode='bad'"):
        applications.imagenet_utils.preprocess_input(x, mode="bad")


# Keras 3.15's numbers for include_top=False at 32x32: (layers, weights, parameters).
KERAS_SIZES = {
    "ResNet50": (175, 318, 23587712),
    "ResNet101": (345, 624, 42658176),
    "ResNet152": (515, 930, 58370944),
    "ResNet50V2": (190, 270, 23564800),
    "ResNet101V2": (377, 542, 42626560),
    "ResNet152V2": (564, 814, 58331648),
    "VGG16": (19, 26, 14714688),
    "EfficientNetB0": (237, 312, 4049571),
    "EfficientNetB2": (339, 440, 7768569),
    "VGG19": (22, 32, 20024384),
    "MobileNetV2": (154, 260, 2257984),
    "MobileNet": (86, 135, 3228864),
}


@pytest.mark.parametrize("builder", sorted(KERAS_SIZES))
def test_sizes_match_keras(builder):
    model = getattr(applications, builder)(weights=None, include_top=False, input_shape=(32, 32, 3))
    assert (len(model.layers), len(model.weights), model.count_params()) == KERAS_SIZES[builder]


def test_input_tensor_pooling_and_submodules():
    inputs = callax.Input((32, 32, 3))
    model = applications.resnet50.ResNet50(
        weights=None, include_top=False, input_tensor=inputs, pooling="max", name="backbone"
    )
    assert model.inputs[0] is inputs
    assert model.name == "backbone" and model.layers[-1].name == "max_pool"
    assert model.output_shape == (None, 2048)
    model = applications.vgg16.VGG16(weights=None, include_top=False, input_shape=(32, 48, 3))
    assert model.output_shape == (None, 1, 1, 512)
    # Used as a layer of a bigger model, like a Keras transfer-learning script.
    base = applications.MobileNetV2(
        input_shape=(32, 32, 3), alpha=0.35, weights=None, include_top=False, pooling="avg"
    )
    base.trainable = False
    outer_in = callax.Input((32, 32, 3))
    outer = callax.Model(outer_in, callax.layers.Dense(2)(base(outer_in, training=False)))
    assert outer(np.zeros((1, 32, 32, 3), "float32")).shape == (1, 2)


@pytest.mark.parametrize(
    "builder,url",
    [
        ("ResNet50", "resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5"),
        ("VGG16", "vgg16/vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"),
    ],
)
def test_download_error_names_url(builder, url, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from callax.utils import file_utils

    def offline(url, target, *args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(file_utils, "_download", offline)
    with pytest.raises(OSError, match=f"{builder}: could not download .*{url}"):
        getattr(applications, builder)(include_top=False, input_shape=(32, 32, 3))


def test_mobilenet_v2_imagenet_checks(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="alpha must be one of .*received alpha=0.6"):
        applications.MobileNetV2(alpha=0.6)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from callax.utils import file_utils

    def offline(url, target, *args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(file_utils, "_download", offline)
    # Unsupported sizes fall back to the 224 weights, with a warning (as Keras).
    with pytest.warns(UserWarning, match="input shape \\(224, 224\\)"):
        with pytest.raises(OSError, match="kernels_1.0_224_no_top.h5"):
            applications.MobileNetV2(input_shape=(40, 40, 3), include_top=False)


def test_legacy_file_mismatch_is_clear(tmp_path):
    vgg = applications.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    path = str(tmp_path / "vgg.h5")
    write_legacy_h5(vgg, path)
    with pytest.raises(ValueError, match="has 104 layers with weights, the file has 13"):
        applications.MobileNetV2(
            input_shape=(32, 32, 3), alpha=0.35, weights=path, include_top=False
        )


@pytest.mark.parametrize(
    "builder,alpha,kwargs,expected",
    [  # Keras 3.15's model names and output shapes.
        ("MobileNetV2", 0.35, dict(include_top=False), ("mobilenetv2_0.35_None", 1280)),
        ("MobileNetV2", 0.35, dict(include_top=False, input_shape=(40, 48, 3)),
         ("mobilenetv2_0.35_40", 1280)),
        ("MobileNet", 0.25, dict(include_top=False), ("mobilenet_0.25_None", 256)),
        ("MobileNet", 0.25, dict(include_top=True, classes=5, input_shape=(40, 40, 3)),
         ("mobilenet_0.25_40", 5)),
    ],
)  # fmt: skip
def test_mobilenet_default_names(builder, alpha, kwargs, expected):
    model = getattr(applications, builder)(weights=None, alpha=alpha, **kwargs)
    assert (model.name, model.output_shape[-1]) == expected


def test_efficientnet_imagenet_file_name(tmp_path, monkeypatch):
    # Keras names EfficientNet weight files after the model.
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from callax.utils import file_utils

    def offline(url, target, *args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(file_utils, "_download", offline)
    with pytest.raises(OSError, match="keras-applications/efficientnetb0_notop.h5"):
        applications.EfficientNetB0(include_top=False, input_shape=(32, 32, 3))
    assert applications.efficientnet.preprocess_input(3.0) == 3.0
