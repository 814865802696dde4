"""Loss scaling: mixed_float16 training and loss_scale_factor inside fit."""

import jax.numpy as jnp
import numpy as np
import pytest

import callax


@pytest.fixture(autouse=True)
def _float32_after():
    yield
    callax.mixed_precision.set_global_policy("float32")


def _data():
    rng = np.random.default_rng(0)
    x = rng.random((256, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1))).astype("float32")
    return x, y


def test_mixed_float16_compile_wraps_and_trains():
    callax.mixed_precision.set_global_policy("mixed_float16")
    x, y = _data()
    model = callax.Sequential([callax.Input((8,)), callax.layers.Dense(16, activation="relu"),
                               callax.layers.Dense(1, dtype="float32")])  # fmt: skip
    model.compile(callax.optimizers.Adam(1e-2), "mse")
    assert isinstance(model.optimizer, callax.optimizers.LossScaleOptimizer)
    assert model.layers[0].compute_dtype == "float16"
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.2 * first
    assert model.layers[0].kernel.dtype == jnp.float32
    assert int(model.optimizer.iterations.value) == 80  # every step was finite


def test_loss_scale_optimizer_skips_overflow_and_regrows():
    v = callax.Variable(jnp.ones(3))
    opt = callax.optimizers.LossScaleOptimizer(
        callax.optimizers.SGD(1.0), initial_scale=4.0, dynamic_growth_steps=2
    )
    opt.build([v])
    opt.apply([jnp.array([4.0, 4.0, jnp.nan])])
    np.testing.assert_array_equal(v.numpy(), [1, 1, 1])  # skipped
    assert float(opt.dynamic_scale.value) == 2.0 and int(opt.iterations.value) == 0
    opt.apply([jnp.full(3, 2.0)])  # unscaled gradient 1.0
    np.testing.assert_allclose(v.numpy(), [0, 0, 0])
    opt.apply([jnp.full(3, 2.0)])
    assert float(opt.dynamic_scale.value) == 4.0  # two finite steps: doubled
    clone = callax.optimizers.deserialize(callax.optimizers.serialize(opt))
    assert clone.get_config() == opt.get_config()


def test_loss_scale_factor_in_fit_leaves_the_result_unchanged():
    x, y = _data()
    results = []
    for factor in (None, 256.0):
        callax.utils.set_random_seed(1)
        model = callax.Sequential([callax.Input((8,)), callax.layers.Dense(1)])
        model.compile(callax.optimizers.SGD(0.05, loss_scale_factor=factor), "mse")
        model.fit(x, y, epochs=2, verbose=0, shuffle=False)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
