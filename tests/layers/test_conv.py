"""Convolution layers and ops: outputs vs Keras 3 with identical weights, vs
numpy formulas, gradients by finite differences, configs, and bad input."""

import itertools

import jax
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax import layers, ops

RNG = np.random.default_rng(0)


def _x(shape):
    return RNG.normal(size=shape).astype("float32")


def keras_parity(ours, theirs, x, atol=1e-4):
    """Builds both layers on ``x``, gives ours Keras' weights, compares outputs."""
    expected = np.asarray(theirs(x))
    ours(x)  # build
    weights = theirs.get_weights()
    assert [tuple(v.shape) for v in ours.weights] == [w.shape for w in weights]
    assert [v.path.split("/")[-1] for v in ours.weights] == [
        w.path.split("/")[-1] for w in theirs.weights
    ]
    for v, w in zip(ours.weights, weights):
        v.assign(w)
    got = np.asarray(ours(x))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=atol, rtol=1e-4)
    assert ours.compute_output_shape(x.shape) == expected.shape
    return got


def _shape(rank, channels, data_format, size=7, batch=2):
    spatial = (size,) * rank
    return (
        (batch, *spatial, channels)
        if data_format == "channels_last"
        else (batch, channels, *spatial)
    )


CONV_CASES = [
    # rank, kwargs
    (1, dict(filters=4, kernel_size=3)),
    (1, dict(filters=4, kernel_size=3, strides=2, padding="same")),
    (1, dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2)),
    (1, dict(filters=4, kernel_size=2, padding="causal", data_format="channels_first")),
    (1, dict(filters=6, kernel_size=3, groups=2, activation="relu")),
    (2, dict(filters=4, kernel_size=3)),
    (2, dict(filters=4, kernel_size=(3, 2), strides=(2, 1), padding="same")),
    (2, dict(filters=4, kernel_size=3, dilation_rate=(2, 1), padding="same")),
    (2, dict(filters=4, kernel_size=2, strides=2, padding="same")),
    (2, dict(filters=4, kernel_size=3, groups=2, data_format="channels_first")),
    (2, dict(filters=3, kernel_size=3, strides=2, data_format="channels_first", use_bias=False)),
    (3, dict(filters=3, kernel_size=2, strides=(1, 2, 1), padding="same")),
    (3, dict(filters=2, kernel_size=3, dilation_rate=2, data_format="channels_first")),
]


@pytest.mark.parametrize("rank,kwargs", CONV_CASES)
def test_conv_matches_keras(rank, kwargs):
    keras = pytest.importorskip("keras")
    name = f"Conv{rank}D"
    data_format = kwargs.get("data_format", "channels_last")
    x = _x(_shape(rank, 4, data_format, size=7 if rank < 3 else 5))
    theirs = getattr(keras.layers, name)(bias_initializer="random_normal", **kwargs)
    keras_parity(getattr(layers, name)(**kwargs), theirs, x)


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        ("DepthwiseConv1D", dict(kernel_size=3, depth_multiplier=2)),
        ("DepthwiseConv1D", dict(kernel_size=3, strides=2, padding="same")),
        ("DepthwiseConv2D", dict(kernel_size=3)),
        ("DepthwiseConv2D", dict(kernel_size=(3, 2), depth_multiplier=3, padding="same")),
        ("DepthwiseConv2D", dict(kernel_size=3, dilation_rate=2, data_format="channels_first")),
        ("DepthwiseConv2D", dict(kernel_size=3, strides=2, activation="tanh")),
    ],
)
def test_depthwise_matches_keras(cls, kwargs):
    keras = pytest.importorskip("keras")
    rank = int(cls[-2])
    x = _x(_shape(rank, 3, kwargs.get("data_format", "channels_last")))
    theirs = getattr(keras.layers, cls)(bias_initializer="random_normal", **kwargs)
    keras_parity(getattr(layers, cls)(**kwargs), theirs, x)


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        ("SeparableConv1D", dict(filters=5, kernel_size=3)),
        ("SeparableConv1D", dict(filters=5, kernel_size=3, depth_multiplier=2, padding="same")),
        ("SeparableConv2D", dict(filters=5, kernel_size=3, strides=2)),
        ("SeparableConv2D", dict(filters=5, kernel_size=3, depth_multiplier=2, dilation_rate=2)),
        ("SeparableConv2D", dict(filters=5, kernel_size=2, data_format="channels_first")),
    ],
)
def test_separable_matches_keras(cls, kwargs):
    keras = pytest.importorskip("keras")
    rank = int(cls[-2])
    x = _x(_shape(rank, 3, kwargs.get("data_format", "channels_last")))
    theirs = getattr(keras.layers, cls)(bias_initializer="random_normal", **kwargs)
    keras_parity(getattr(layers, cls)(**kwargs), theirs, x)


TRANSPOSE_CASES = [
    (1, dict(filters=3, kernel_size=3)),
    (1, dict(filters=3, kernel_size=3, strides=2, padding="same")),
    (1, dict(filters=3, kernel_size=4, strides=3, output_padding=1)),
    (2, dict(filters=3, kernel_size=3, strides=2)),
    (2, dict(filters=3, kernel_size=(3, 2), strides=(2, 3), padding="same")),
    (2, dict(filters=3, kernel_size=3, strides=2, padding="same", output_padding=1)),
    (2, dict(filters=3, kernel_size=2, strides=3)),  # stride > kernel: gaps in the output
    (2, dict(filters=3, kernel_size=3, dilation_rate=2, padding="same")),
    (2, dict(filters=3, kernel_size=3, strides=2, data_format="channels_first")),
    (3, dict(filters=2, kernel_size=2, strides=2, padding="same")),
]


@pytest.mark.parametrize("rank,kwargs", TRANSPOSE_CASES)
def test_conv_transpose_matches_keras(rank, kwargs):
    keras = pytest.importorskip("keras")
    name = f"Conv{rank}DTranspose"
    data_format = kwargs.get("data_format", "channels_last")
    x = _x(_shape(rank, 4, data_format, size=5 if rank < 3 else 3))
    theirs = getattr(keras.layers, name)(bias_initializer="random_normal", **kwargs)
    keras_parity(getattr(layers, name)(**kwargs), theirs, x)


def _numpy_conv1d(x, w, stride, dilation, pad_lo, pad_hi):
    """Direct formula: y[b, t, o] = sum_{j, i} xpad[b, t*s + j*d, i] * w[j, i, o]."""
    xp = np.pad(x, ((0, 0), (pad_lo, pad_hi), (0, 0)))
    k = (w.shape[0] - 1) * dilation + 1
    steps = (xp.shape[1] - k) // stride + 1
    y = np.zeros((x.shape[0], steps, w.shape[-1]))
    for t in range(steps):
        for j in range(w.shape[0]):
            y[:, t] += xp[:, t * stride + j * dilation] @ w[j]
    return y


@pytest.mark.parametrize(
    "stride,dilation,padding", [(1, 1, "valid"), (2, 1, "same"), (1, 2, "causal")]
)
def test_conv1d_numpy_formula(stride, dilation, padding):
    x, w = _x((2, 9, 3)), _x((3, 3, 4))
    layer = layers.Conv1D(
        4, 3, strides=stride, dilation_rate=dilation, padding=padding, use_bias=False
    )
    layer(x)
    layer.kernel.assign(w)
    k = 2 * dilation + 1
    if padding == "valid":
        lo = hi = 0
    elif padding == "causal":
        lo, hi = k - 1, 0
    else:
        total = max((-(-9 // stride) - 1) * stride + k - 9, 0)
        lo, hi = total // 2, total - total // 2
    np.testing.assert_allclose(
        np.asarray(layer(x)), _numpy_conv1d(x, w, stride, dilation, lo, hi), atol=1e-4
    )


def test_conv_transpose_is_the_gradient_of_conv():
    """conv_transpose(y, w) == d/dx <conv(x, w), y>, the definition (independent of Keras).
    An even input size makes ``same`` padding asymmetric and output_padding nonzero."""
    k = 3
    x, w = _x((1, 8, 8, 2)), _x((k, k, 2, 4))
    for strides, padding in itertools.product((1, 2), ("valid", "same")):
        y = ops.conv(x, w, strides, padding)
        cot = _x(y.shape)
        _, vjp = jax.vjp(lambda x_, s=strides, p=padding: ops.conv(x_, w, s, p), x)
        expected = vjp(cot)[0]
        # Keras: out = (n - 1) * s + k - 2 * pad + output_padding, pad = 0 or k // 2.
        pad = 0 if padding == "valid" else k // 2
        out_pad = x.shape[1] - ((y.shape[1] - 1) * strides + k - 2 * pad)
        got = ops.conv_transpose(cot, w, strides, padding, output_padding=out_pad)
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), atol=1e-4)


def test_explicit_padding_equals_zero_padding_then_valid():
    x = _x((2, 6, 5, 3))
    padded = layers.Conv2D(4, 3, padding=((1, 2), (0, 1)))
    plain = layers.Conv2D(4, 3)
    y1 = padded(x)
    plain(x)
    plain.kernel.assign(padded.kernel.value)
    y2 = plain(layers.ZeroPadding2D(((1, 2), (0, 1)))(x))
    np.testing.assert_allclose(np.asarray(y1), np.asarray(y2), atol=1e-5)
    assert padded.compute_output_shape(x.shape) == y1.shape


@pytest.mark.parametrize(
    "fn,kernel_shape,kwargs",
    [
        (ops.conv, (3, 3, 2, 3), dict(strides=2, padding="same")),
        (ops.conv, (2, 2, 1, 4), dict(dilation_rate=2)),  # groups = 2
        (ops.depthwise_conv, (3, 3, 2, 2), dict(padding="same")),
        (ops.conv_transpose, (3, 3, 3, 2), dict(strides=2, padding="same")),
    ],
)
def test_conv_op_gradients(fn, kernel_shape, kwargs):
    x, w = _x((1, 5, 5, 2)) * 0.5, _x(kernel_shape) * 0.5
    check_grads(
        lambda a, b: fn(a, b, **kwargs), (x, w), order=2, modes=("rev",), atol=5e-2, rtol=5e-2
    )


def test_layer_gradient_through_stateless_call():
    layer = layers.SeparableConv2D(3, 2, activation="tanh")
    x = _x((1, 4, 4, 2))
    layer(x)
    tv = [v.value for v in layer.trainable_variables]

    def loss(tv, x):
        y, _ = layer.stateless_call(tv, [], x)
        return (y**2).sum()

    check_grads(loss, (tv, x), order=1, modes=("rev",), atol=5e-2, rtol=5e-2)


def test_jit_and_mixed_precision():
    layer = layers.Conv2D(4, 3, padding="same")
    x = _x((2, 6, 6, 3))
    eager = layer(x)
    tv = [v.value for v in layer.trainable_variables]
    jitted = jax.jit(lambda tv, x: layer.stateless_call(tv, [], x)[0])(tv, x)
    np.testing.assert_allclose(np.asarray(eager), np.asarray(jitted), atol=1e-5)
    half = layers.Conv2D(4, 3, padding="same", dtype="mixed_bfloat16")
    y = half(x)
    assert y.dtype == "bfloat16" and half.kernel.dtype == "float32"


@pytest.mark.parametrize(
    "layer",
    [
        lambda: layers.Conv1D(4, 3, strides=2, padding="causal", activation="relu", groups=2),
        lambda: layers.Conv2D(
            4,
            (3, 2),
            padding="same",
            data_format="channels_first",
            kernel_regularizer="l2",
            bias_constraint="non_neg",
        ),  # fmt: skip
        lambda: layers.Conv3D(2, 2, dilation_rate=2, use_bias=False),
        lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, depthwise_initializer="he_normal"),
        lambda: layers.SeparableConv1D(4, 3, depth_multiplier=2, pointwise_regularizer="l1"),
        lambda: layers.Conv2DTranspose(4, 3, strides=2, output_padding=1, padding="same"),
        lambda: layers.Conv3DTranspose(2, 2, strides=2),
    ],
)
def test_config_round_trip(layer):
    layer = layer()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("Conv1D", dict(filters=4, kernel_size=3, padding="causal")),
        ("Conv2D", dict(filters=4, kernel_size=3, strides=2, groups=2, activation="relu")),
        ("Conv3D", dict(filters=4, kernel_size=3)),
        ("Conv2DTranspose", dict(filters=4, kernel_size=3, output_padding=1, strides=2)),
        ("Conv3DTranspose", dict(filters=4, kernel_size=3)),
        ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2)),
        ("SeparableConv2D", dict(filters=4, kernel_size=3)),
    ],
)
def test_config_keys_and_values_match_keras(name, kwargs):
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.layers, name)(**kwargs).get_config()
    ours = getattr(layers, name)(**kwargs).get_config()
    assert set(theirs) - {"dtype"} <= set(ours)
    for key, value in theirs.items():
        if key not in ("name", "dtype") and not key.endswith("initializer"):
            assert ours[key] == value, key
    # A Keras config loads (initializer configs are the initializers module's business).
    loadable = {k: v for k, v in theirs.items() if not k.endswith("initializer")}
    assert getattr(layers, name).from_config(loadable).get_config()["name"] == theirs["name"]


def test_default_names_follow_keras():
    assert layers.Conv2D(2, 3).name == "conv2d"
    assert layers.Conv2D(2, 3).name == "conv2d_1"
    assert layers.Conv2DTranspose(2, 3).name == "conv2d_transpose"
    assert layers.SeparableConv1D(2, 3).name == "separable_conv1d"
    assert layers.DepthwiseConv2D(3).name == "depthwise_conv2d"


def test_kernel_layouts_follow_keras():
    layer = layers.Conv2D(8, (3, 2), groups=2)
    layer(np.zeros((1, 5, 5, 4), "float32"))
    assert layer.kernel.shape == (3, 2, 2, 8) and layer.kernel.path == "conv2d/kernel"
    t = layers.Conv2DTranspose(8, 3)
    t(np.zeros((1, 5, 5, 4), "float32"))
    assert t.kernel.shape == (3, 3, 8, 4)
    d = layers.DepthwiseConv2D(3, depth_multiplier=2)
    d(np.zeros((1, 5, 5, 4), "float32"))
    assert d.kernel.shape == (3, 3, 4, 2) and d.depthwise_kernel is d.kernel
    assert d.bias.shape == (8,)


def test_small_cnn_model_trains_a_step():
    class CNN(callax.Model):
        def __init__(self):
            super().__init__()
            self.c1 = layers.Conv2D(8, 3, activation="relu")
            self.p1 = layers.MaxPooling2D()
            self.c2 = layers.Conv2D(16, 3, activation="relu")
            self.p2 = layers.MaxPooling2D()
            self.flat = layers.Flatten()
            self.out = layers.Dense(10)

        def call(self, x):
            return self.out(self.flat(self.p2(self.c2(self.p1(self.c1(x))))))

    model = CNN()
    x = _x((4, 28, 28, 1))
    assert model(x).shape == (4, 10)
    tv = [v.value for v in model.trainable_variables]

    def loss(tv):
        return (model.stateless_call(tv, [], x)[0] ** 2).mean()

    grads = jax.grad(loss)(tv)
    assert all(np.isfinite(np.asarray(g)).all() and g.shape == v.shape for g, v in zip(grads, tv))


# ---------------------------------------------------------------- bad input
def test_wrong_rank_is_reported():
    layer = layers.Conv2D(4, 3)
    with pytest.raises(
        ValueError,
        match=r"Conv2D 'conv2d' expects inputs of rank 4 .*received input with shape \(5, 5, 3\)",
    ):
        layer(np.zeros((5, 5, 3), "float32"))


def test_channel_mismatch_after_build_is_reported():
    layer = layers.Conv2D(4, 3)
    layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(
        ValueError,
        match=r"built for inputs with 3 channels.*received input with shape \(1, 5, 5, 4\)",
    ):
        layer(np.zeros((1, 5, 5, 4), "float32"))
    cf = layers.Conv1DTranspose(2, 3, data_format="channels_first")
    cf(np.zeros((1, 3, 6), "float32"))
    with pytest.raises(ValueError, match=r"axis 1.*received input with shape \(1, 6, 3\)"):
        cf(np.zeros((1, 6, 3), "float32"))


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.Conv2D(0, 3), r"`filters` must be a positive int; received filters=0"),
        (lambda: layers.Conv2D(3, 3, groups=2), r"multiple of `groups`; received filters=3"),
        (lambda: layers.Conv2D(3, (3, 3, 3)), r"`kernel_size` must be an int or a tuple of 2"),
        (lambda: layers.Conv2D(3, 3, padding="causal"), r"`padding` must be one of"),
        (lambda: layers.Conv2D(3, 3, strides=2, dilation_rate=2), r"strides > 1 cannot be"),
        (lambda: layers.Conv2D(3, 3, data_format="NHWC"), r"received data_format='nhwc'"),
        (lambda: layers.Conv2DTranspose(3, 3, strides=2, output_padding=2), r"strictly less"),
        (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), r"depth_multiplier=0"),
    ],
)
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_groups_must_divide_input_channels():
    with pytest.raises(
        ValueError, match=r"multiple of groups=2; received input shape \(1, 5, 5, 3\)"
    ):
        layers.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), "float32"))


def test_ops_bad_input():
    with pytest.raises(ValueError, match=r"conv expects inputs of rank 3, 4 or 5"):
        ops.conv(np.zeros((3, 3)), np.zeros((3, 3)))
    with pytest.raises(ValueError, match=r"must be a multiple of the kernel's input-channel axis"):
        ops.conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 2, 4)))
    with pytest.raises(ValueError, match=r"kernel of rank 4"):
        ops.conv(np.zeros((1, 5, 5, 3)), np.zeros((3, 3, 4)))


def test_compiled_kernel_calls_equal_op_by_op():
    """Each signature runs as one compiled kernel (compiled on first sight); its
    results are those of the op-by-op call."""
    from callax.core.kernels import kernel_stats

    x = _x((2, 8, 8, 3))
    for layer in (
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.Conv2DTranspose(2, 3, strides=2),
        layers.SeparableConv2D(4, 3),
        layers.MaxPooling2D(),
        layers.AveragePooling2D(3, 2, "same"),
        layers.GlobalAveragePooling2D(),
    ):
        first = np.asarray(layer(x))  # builds and compiles
        before = kernel_stats()["compiles"]
        outs = [np.asarray(layer(x)) for _ in range(3)]
        assert kernel_stats()["compiles"] == before, type(layer).__name__
        ref, _ = layer.stateless_call(
            [v.value for v in layer.trainable_variables],
            [v.value for v in layer.non_trainable_variables], x,
        )  # fmt: skip
        for out in [first, *outs]:
            np.testing.assert_allclose(out, ref, atol=1e-6)
