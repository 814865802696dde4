"""EinsumDense: kernel/bias shapes and outputs for every equation form (plain,
left and right ellipsis) vs numpy einsum and Keras 3 with the same weights,
fan-aware initialization, gradients, configs, bad input."""

import jax.numpy as jnp
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax.layers import EinsumDense

RS = np.random.RandomState(0)

# (equation, output_shape, bias_axes, input_shape, kernel_shape, bias_shape, output_shape)
FORMS = [
    ("ab,bc->ac", 4, None, (3, 5), (5, 4), None, (3, 4)),
    ("ab,bc->ac", (4,), "c", (3, 5), (5, 4), (4,), (3, 4)),
    ("abc,cd->abd", (6, 4), "d", (2, 6, 5), (5, 4), (4,), (2, 6, 4)),
    ("abc,cde->abde", (6, 2, 3), "de", (2, 6, 5), (5, 2, 3), (2, 3), (2, 6, 2, 3)),
    ("abc,cde->abde", (None, 2, 3), "be", (2, 6, 5), (5, 2, 3), None, (2, 6, 2, 3)),
    ("abcd,cde->abe", (6, 3), "e", (2, 6, 4, 5), (4, 5, 3), (3,), (2, 6, 3)),
    ("...b,bc->...c", 4, "c", (2, 3, 7, 5), (5, 4), (4,), (2, 3, 7, 4)),
    ("ab...,bc->ac...", 4, "c", (2, 5, 7), (5, 4), (4, 1), (2, 4, 7)),
    ("ab...,bc->ac...", (4,), "c", (2, 5, 7, 3), (5, 4), (4, 1, 1), (2, 4, 7, 3)),
    ("abc,bd->adc", (3, 6), "d", (2, 5, 6), (5, 3), (3, 1), (2, 3, 6)),
]


def _rand_weights(layer, seed=1):
    rng = np.random.RandomState(seed)
    return [rng.randn(*w.shape).astype("float32") for w in layer.weights]


@pytest.mark.parametrize("form", FORMS, ids=lambda f: f"{f[0]}-{f[2]}")
def test_shapes_and_numpy(form):
    eq, out_shape, bias_axes, in_shape, k_shape, b_shape, o_shape = form
    if bias_axes == "be":  # a bias over the sequence axis needs a known output size there
        with pytest.raises(ValueError, match=r"EinsumDense 'einsum_dense'.*known size"):
            EinsumDense(eq, out_shape, bias_axes=bias_axes)(np.ones(in_shape, "float32"))
        return
    layer = EinsumDense(eq, out_shape, bias_axes=bias_axes, activation="tanh")
    x = RS.randn(*in_shape).astype("float32")
    y = np.asarray(layer(x))
    assert layer.kernel.shape == k_shape and y.shape == o_shape
    assert (layer.bias is None) == (b_shape is None)
    weights = _rand_weights(layer)
    layer.set_weights(weights)
    want = np.einsum(eq, x, weights[0])
    if b_shape is not None:
        assert layer.bias.shape == b_shape
        want = want + weights[1]
    np.testing.assert_allclose(np.asarray(layer(x)), np.tanh(want), rtol=1e-5, atol=1e-5)
    assert tuple(layer.compute_output_shape(in_shape)) == o_shape


@pytest.mark.parametrize("form", [f for f in FORMS if f[2] != "be"], ids=lambda f: f[0])
def test_matches_keras_with_the_same_weights(form):
    keras = pytest.importorskip("keras")
    eq, out_shape, bias_axes, in_shape = form[:4]
    x = RS.randn(*in_shape).astype("float32")
    k_layer = keras.layers.EinsumDense(eq, out_shape, bias_axes=bias_axes, activation="relu")
    c_layer = EinsumDense(eq, out_shape, bias_axes=bias_axes, activation="relu")
    k_layer(x)
    c_layer(x)
    assert [w.shape for w in c_layer.weights] == [tuple(w.shape) for w in k_layer.weights]
    assert [w.path.split("/", 1)[1] for w in c_layer.weights] == [
        w.path.split("/", 1)[1] for w in k_layer.weights
    ]
    weights = _rand_weights(k_layer)
    k_layer.set_weights(weights)
    c_layer.set_weights(weights)
    np.testing.assert_allclose(np.asarray(c_layer(x)), np.asarray(k_layer(x)), rtol=1e-5,
                               atol=1e-5)  # fmt: skip
    # (Keras's own compute_output_shape reverses several left-elided axes.)
    assert tuple(c_layer.compute_output_shape(in_shape)) == tuple(k_layer(x).shape)


def test_config_matches_keras_and_round_trips():
    keras = pytest.importorskip("keras")
    kwargs = dict(equation="abc,cde->abde", output_shape=(6, 2, 3), bias_axes="de",
                  kernel_regularizer="l2", activation="gelu")  # fmt: skip
    c_cfg = EinsumDense(**kwargs).get_config()
    k_cfg = keras.layers.EinsumDense(**kwargs).get_config()
    assert sorted(c_cfg) == sorted(k_cfg)
    for key in ("output_shape", "equation", "activation", "bias_axes", "quantization_config"):
        assert c_cfg[key] == k_cfg[key], key
    assert EinsumDense.from_config(c_cfg).get_config() == c_cfg
    clone = keras.layers.EinsumDense.from_config(c_cfg)
    assert clone.get_config()["equation"] == "abc,cde->abde"


def test_glorot_fans_use_the_einsum_axes():
    # kernel (5, 2, 3): fan_in 5, fan_out 6 (not 2 and 3 as for a conv kernel)
    layer = EinsumDense("abc,cde->abde", (6, 2, 3),
                        kernel_initializer=callax.initializers.GlorotUniform(seed=0))  # fmt: skip
    layer(np.ones((2, 6, 5), "float32"))
    limit = np.sqrt(6 / (5 + 6))
    k = np.asarray(layer.kernel.value)
    assert np.abs(k).max() <= limit + 1e-6 and np.abs(k).max() > 0.8 * limit
    assert layer.kernel_initializer.input_axes is None  # the configured one is untouched


def test_gradients():
    layer = EinsumDense("abc,cde->abde", (6, 2, 3), bias_axes="e", activation="tanh")
    x = jnp.asarray(RS.randn(1, 6, 5).astype("float32"))
    layer(x)
    tv = [v.value for v in layer.trainable_variables]
    check_grads(lambda k, b, x: layer.stateless_call([k, b], [], x)[0], (*tv, x), order=1,
                modes=["rev"], atol=1e-2, rtol=1e-2)  # fmt: skip


def test_regularizer_adds_loss_and_trains_in_a_model():
    model = callax.Sequential([
        callax.Input((6, 5)),
        EinsumDense("abc,cd->abd", (6, 4), bias_axes="d", kernel_regularizer="l2"),
        callax.layers.Flatten(), callax.layers.Dense(1),
    ])  # fmt: skip
    model(np.ones((1, 6, 5), "float32"))
    assert len(model.losses) == 1
    model.compile(optimizer="sgd", loss="mse")
    x, y = RS.randn(8, 6, 5).astype("float32"), RS.randn(8, 1).astype("float32")
    hist = model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


@pytest.mark.parametrize(
    "make,exc,match",
    [
        (lambda: EinsumDense("ab->ac", 3), ValueError,
         r"EinsumDense 'einsum_dense'.*'X,Y->Z'.*received equation='ab->ac'"),
        (lambda: EinsumDense(3, 3), TypeError, r"EinsumDense 'einsum_dense'.*received equation=3"),
        (lambda: EinsumDense("ab,bc->ac", 3, bias_axes="z")(np.ones((2, 4), "float32")),
         ValueError, r"EinsumDense 'einsum_dense'.*bias axis 'z'.*bias_axes='z'"),
        (lambda: EinsumDense("ab,bcd->ac", 3)(np.ones((2, 4), "float32")), ValueError,
         r"EinsumDense 'einsum_dense'.*kernel axis 'd'"),
        (lambda: EinsumDense("abc,cd->abd", (5, 3))(np.ones((2, 4, 6), "float32")), ValueError,
         r"EinsumDense 'einsum_dense'.*shared axis 'b'.*input has 4.*asks for 5"),
        (lambda: EinsumDense("abc,cd->abd", (4, 3))(np.ones((2, 6), "float32")), ValueError,
         r"EinsumDense 'einsum_dense'.*rank 3.*received input shape \(2, 6\)"),
        (lambda: EinsumDense("ab,bc->ac", 3, lora_rank=0), ValueError, r"lora_rank=0"),
    ],
)  # fmt: skip
def test_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_input_spec_refuses_another_rank_after_build():
    layer = EinsumDense("...b,bc->...c", 4)
    layer(np.ones((2, 5), "float32"))
    with pytest.raises(ValueError, match=r"EinsumDense 'einsum_dense'.*ndim=2, found ndim=3"):
        layer(np.ones((2, 3, 5), "float32"))
