"""Shape layers (ZeroPadding, Cropping, UpSampling, Permute, RepeatVector), Lambda and
Masking: outputs vs Keras 3 and numpy, gradients, configs, bad input."""

import jax
import numpy as np
import pytest
from jax.test_util import check_grads

from callax import layers, ops

RNG = np.random.default_rng(2)


def _x(shape):
    return RNG.normal(size=shape).astype("float32")


def _keras_equal(name, kwargs, x, atol=1e-6):
    keras = pytest.importorskip("keras")
    expected = np.asarray(getattr(keras.layers, name)(**kwargs)(x))
    ours = getattr(layers, name)(**kwargs)
    got = np.asarray(ours(x))
    np.testing.assert_allclose(got, expected, atol=atol)
    assert ours.compute_output_shape(x.shape) == expected.shape
    return ours


SHAPE_CASES = [
    ("ZeroPadding1D", dict(), (2, 4, 3)),
    ("ZeroPadding1D", dict(padding=(1, 3)), (2, 4, 3)),
    ("ZeroPadding1D", dict(padding=2, data_format="channels_first"), (2, 3, 4)),
    ("ZeroPadding2D", dict(), (2, 4, 5, 3)),
    ("ZeroPadding2D", dict(padding=(1, 2)), (2, 4, 5, 3)),
    ("ZeroPadding2D", dict(padding=((0, 1), (2, 3)), data_format="channels_first"), (2, 3, 4, 5)),
    ("ZeroPadding3D", dict(padding=(1, 0, 2)), (1, 2, 3, 4, 2)),
    ("Cropping1D", dict(), (2, 6, 3)),
    ("Cropping1D", dict(cropping=(0, 2)), (2, 6, 3)),
    ("Cropping2D", dict(cropping=((1, 0), (2, 1))), (2, 5, 6, 3)),
    ("Cropping2D", dict(cropping=(1, 2), data_format="channels_first"), (2, 3, 5, 6)),
    ("Cropping3D", dict(), (1, 4, 5, 6, 2)),
    ("UpSampling1D", dict(size=3), (2, 4, 3)),
    ("UpSampling2D", dict(), (2, 3, 4, 2)),
    ("UpSampling2D", dict(size=(1, 3), data_format="channels_first"), (2, 2, 3, 4)),
    ("UpSampling2D", dict(size=(2, 3), interpolation="bilinear"), (2, 3, 4, 2)),
    (
        "UpSampling2D",
        dict(size=2, interpolation="bilinear", data_format="channels_first"),
        (2, 2, 3, 4),
    ),  # fmt: skip
    ("UpSampling3D", dict(size=(2, 1, 3)), (1, 2, 3, 4, 2)),
    ("Permute", dict(dims=(2, 1)), (2, 3, 4)),
    ("Permute", dict(dims=(3, 1, 2)), (2, 3, 4, 5)),
    ("RepeatVector", dict(n=3), (2, 4)),
]


@pytest.mark.parametrize("name,kwargs,shape", SHAPE_CASES)
def test_shape_layers_match_keras(name, kwargs, shape):
    _keras_equal(name, kwargs, _x(shape), atol=1e-5)


def test_bicubic_upsampling_matches_keras():
    _keras_equal("UpSampling2D", dict(size=2, interpolation="bicubic"), _x((1, 4, 4, 2)), 1e-4)


def test_numpy_formulas():
    x = _x((2, 3, 4, 5))
    np.testing.assert_array_equal(
        np.asarray(layers.UpSampling2D((2, 3))(x)), x.repeat(2, axis=1).repeat(3, axis=2)
    )
    np.testing.assert_array_equal(
        np.asarray(layers.ZeroPadding2D(((1, 0), (0, 2)))(x)),
        np.pad(x, ((0, 0), (1, 0), (0, 2), (0, 0))),
    )
    np.testing.assert_array_equal(
        np.asarray(layers.Cropping2D(((1, 1), (0, 2)))(x)), x[:, 1:-1, 0:-2]
    )
    np.testing.assert_array_equal(np.asarray(layers.Permute((3, 1, 2))(x)), x.transpose(0, 3, 1, 2))
    v = x[:, 0, 0]
    np.testing.assert_array_equal(np.asarray(layers.RepeatVector(2)(v)), np.stack([v, v], axis=1))


def test_gradients():
    x = _x((1, 3, 3, 2))
    for layer in (
        layers.UpSampling2D(2, interpolation="bilinear"),
        layers.UpSampling2D(2),
        layers.ZeroPadding2D(1),
        layers.Cropping2D(((1, 0), (0, 1))),
    ):
        check_grads(lambda a, f=layer: f(a), (x,), order=1, modes=("rev",), atol=1e-2, rtol=1e-2)


def test_jit():
    x = _x((2, 3, 4, 2))
    for layer in (layers.UpSampling2D(2), layers.Cropping2D(1), layers.Permute((3, 2, 1))):
        np.testing.assert_array_equal(np.asarray(jax.jit(layer)(x)), np.asarray(layer(x)))


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("ZeroPadding1D", dict(padding=(1, 2))),
        ("ZeroPadding2D", dict(padding=(1, 2))),
        ("ZeroPadding3D", dict()),
        ("Cropping1D", dict(cropping=2)),
        ("Cropping2D", dict(cropping=((1, 0), (0, 2)))),
        ("Cropping3D", dict()),
        ("UpSampling1D", dict(size=3)),
        ("UpSampling2D", dict(interpolation="bilinear")),
        ("UpSampling3D", dict(size=2)),
        ("Permute", dict(dims=(2, 1))),
        ("RepeatVector", dict(n=4)),
        ("Masking", dict(mask_value=-1.0)),
    ],
)
def test_config_matches_keras_and_round_trips(name, kwargs):
    ours = getattr(layers, name)(**kwargs)
    config = ours.get_config()
    assert type(ours).from_config(config).get_config() == config
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.layers, name)(**kwargs).get_config()
    for key in ("dtype", "name"):
        theirs.pop(key), config.pop(key)
    assert config == theirs


def test_bad_input():
    with pytest.raises(
        ValueError,
        match=r"ZeroPadding2D 'zero_padding2d' expects inputs of rank 4.*received input with shape \(2, 3\)",
    ):
        layers.ZeroPadding2D()(np.zeros((2, 3), "float32"))
    with pytest.raises(
        ValueError,
        match=r"removes all of axis 1 \(length 2\); received input with shape \(1, 2, 3\)",
    ):
        layers.Cropping1D((1, 1))(np.zeros((1, 2, 3), "float32"))
    with pytest.raises(ValueError, match=r"`padding` must be an int.*received padding=\(1, 2, 3\)"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match=r"`cropping` .*received cropping=-1"):
        layers.Cropping2D(-1)
    with pytest.raises(
        ValueError, match=r"`interpolation` must be one of.*received interpolation='cubic'"
    ):
        layers.UpSampling2D(interpolation="cubic")
    with pytest.raises(ValueError, match=r"`size` must be a positive int.*received size=\(0,\)"):
        layers.UpSampling1D(0)
    with pytest.raises(
        ValueError,
        match=r"Permute 'permute': `dims` must be a permutation of 1..2.*received dims=\(0, 1\)",
    ):
        layers.Permute((0, 1))
    with pytest.raises(
        ValueError, match=r"expects inputs of rank 3; received input with shape \(2, 3\)"
    ):
        layers.Permute((2, 1))(np.zeros((2, 3), "float32"))
    with pytest.raises(
        ValueError,
        match=r"RepeatVector 'repeat_vector' expects inputs of rank 2.*received input with shape \(2, 3, 4\)",
    ):
        layers.RepeatVector(2)(np.zeros((2, 3, 4), "float32"))


# ------------------------------------------------------------------ Lambda
def double(x):
    return x * 2


def test_lambda_calls_function_with_arguments_and_training():
    x = _x((2, 3))
    layer = layers.Lambda(lambda x, scale, training=None: x * scale + (1 if training else 0),
                          arguments={"scale": 3.0})  # fmt: skip
    np.testing.assert_allclose(np.asarray(layer(x)), x * 3, atol=1e-6)
    np.testing.assert_allclose(np.asarray(layer(x, training=True)), x * 3 + 1, atol=1e-6)
    assert layers.Lambda(double, output_shape=(7,)).compute_output_shape((5, 3)) == (5, 7)
    assert layers.Lambda(double).compute_output_shape((5, 3)) == (5, 3)


def test_lambda_named_function_config_matches_keras_form_and_reloads():
    layer = layers.Lambda(double, output_shape=(3,))
    config = layer.get_config()
    assert config["function"] == {
        "module": __name__, "class_name": "function", "config": "double",
        "registered_name": "function",
    }  # fmt: skip
    # safe_mode (the default) does not import modules named in a config...
    with pytest.raises(ValueError, match=r"refusing to import function 'double'.*custom_objects"):
        layers.Lambda.from_config(config)
    # ...unless told to, or given the function.
    clone = layers.Lambda.from_config(config, safe_mode=False)
    assert clone.function is double and clone.get_config() == config
    assert layers.Lambda.from_config(config, custom_objects={"double": double}).function is double
    # Keras writes module 'builtins' for a user function: found through custom_objects.
    keras_style = dict(config, function=dict(config["function"], module="builtins"))
    assert (
        layers.Lambda.from_config(keras_style, custom_objects={"double": double}).function is double
    )
    with pytest.raises(ValueError, match=r"cannot find the function 'double'.*custom_objects"):
        layers.Lambda.from_config(keras_style, safe_mode=False)
    # callax's own functions load in safe mode.
    square = layers.Lambda.from_config(layers.Lambda(ops.square).get_config())
    assert square(np.array([3.0])).tolist() == [9.0]


def test_lambda_lambda_config_needs_safe_mode_false():
    layer = layers.Lambda(lambda t: ops.square(t) + 1)
    config = layer.get_config()
    assert config["function"]["class_name"] == "__lambda__"
    assert config["function"]["config"]["source"] == "lambda t: ops.square(t) + 1"
    with pytest.raises(ValueError, match=r"refused by default.*safe_mode=False"):
        layers.Lambda.from_config(config)
    clone = layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(np.asarray(clone(np.array([2.0]))), [5.0])


def test_lambda_loads_keras_bytecode_lambda_when_unsafe_allowed():
    keras = pytest.importorskip("keras")
    config = keras.layers.Lambda(lambda t: t * 4).get_config()
    with pytest.raises(ValueError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    clone = layers.Lambda.from_config(config, safe_mode=False)
    np.testing.assert_allclose(np.asarray(clone(np.array([2.0]))), [8.0])


# ----------------------------------------------------------------- Masking
def test_masking_matches_keras_and_computes_mask():
    keras = pytest.importorskip("keras")
    x = _x((2, 4, 3))
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    x[1, 2, 0] = 0.0  # one zero feature only: kept
    theirs = keras.layers.Masking()
    expected = theirs(x)
    ours = layers.Masking()
    np.testing.assert_array_equal(np.asarray(ours(x)), np.asarray(expected))
    mask = np.asarray(ours.compute_mask(x))
    assert mask.tolist() == [[True, False, True, True], [True, True, True, False]]
    np.testing.assert_array_equal(mask, np.asarray(expected._keras_mask))
    pooled = layers.GlobalAveragePooling1D()(ours(x), mask=mask)
    np.testing.assert_allclose(np.asarray(pooled)[0], x[0, [0, 2, 3]].mean(0), atol=1e-6)
