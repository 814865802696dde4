"""What the seed says about its three models, checked."""

import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel

import callax as keras


@pytest.mark.parametrize(
    "script", ["example1_sequential.py", "example2_conditional.py", "example3_multi_input.py"]
)
def test_examples_run(script):
    out = subprocess.run(
        [sys.executable, f"examples/seed/{script}"], capture_output=True, text=True, check=True
    )
    assert "(32, 10)" in out.stdout


def test_example1_shapes_and_softmax():
    model = SimpleSequentialModel()
    outputs = model(keras.random.normal((32, 32)))
    assert outputs.shape == (32, 10)
    np.testing.assert_allclose(np.asarray(outputs).sum(-1), 1.0, rtol=1e-5)
    # The layers were built from the first input's shape, by the base __call__.
    assert model.dense1.kernel.shape == (32, 64)
    assert model.dense2.kernel.shape == (64, 10)
    assert model.count_params() == 32 * 64 + 64 + 64 * 10 + 10 == 2762


def test_example1_matches_numpy_formula():
    model = SimpleSequentialModel()
    x = np.random.default_rng(0).normal(size=(32, 32)).astype("float32")
    y = np.asarray(model(x))
    k1, b1, k2, b2 = model.get_weights()
    h = np.maximum(x @ k1 + b1, 0)
    z = h @ k2 + b2
    expected = np.exp(z - z.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(y, expected, rtol=1e-5, atol=1e-6)


def test_example2_training_flag():
    model = ConditionalModel()
    x = keras.random.normal((32, 32))
    a = model(x)  # default training=False
    b = model(x, training=False)
    np.testing.assert_array_equal(a, b)  # deterministic
    t1 = model(x, training=True)
    t2 = model(x, training=True)
    assert not np.allclose(t1, a)  # dropout applied
    assert not np.allclose(t1, t2)  # a fresh mask each call
    # Dropout zeroes about half of dense1's activations and scales the rest by 2.
    h = model.dense1(x)
    dropped = model.dropout(h, training=True)
    kept = np.asarray(dropped) != 0
    nz = np.asarray(h) != 0
    np.testing.assert_allclose(np.asarray(dropped)[kept], 2 * np.asarray(h)[kept], rtol=1e-6)
    assert 0.35 < kept[nz].mean() < 0.65


def test_example2_positional_training():
    model = ConditionalModel()
    x = keras.random.normal((4, 32))
    np.testing.assert_array_equal(model(x, False), model(x))
    assert not np.allclose(model(x, True), model(x))


def test_example3_shared_weights():
    model = MultiInputModel()
    a, b = keras.random.normal((32, 16)), keras.random.normal((32, 16))
    out = model(a, b)
    assert out.shape == (32, 10)
    assert len(model.trainable_weights) == 4  # one kernel + bias for dense1, one for dense2
    assert [w.shape for w in model.trainable_weights] == [(16, 16), (16,), (32, 10), (10,)]
    # Both calls used the same kernel: recompute with numpy from the shared weights.
    k1, b1, k2, b2 = model.get_weights()
    h = np.concatenate([np.maximum(np.asarray(a) @ k1 + b1, 0),
                        np.maximum(np.asarray(b) @ k1 + b1, 0)], -1)  # fmt: skip
    z = h @ k2 + b2
    p = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(out, p / p.sum(-1, keepdims=True), rtol=1e-5, atol=1e-6)
    # Changing the shared kernel changes both branches.
    model.dense1.kernel.assign(jnp.zeros((16, 16)))
    h0 = model.dense1(a)
    np.testing.assert_allclose(h0, np.maximum(np.broadcast_to(b1, (32, 16)), 0))
