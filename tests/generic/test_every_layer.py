"""Every layer through the same checks (a catalog, as in dm-haiku's descriptors):

- eager, per-layer kernel (second call), ``callax.jit`` and ``stateless_call``
  under ``jax.jit`` give the same outputs;
- an abstract call (``jax.eval_shape``) predicts the real output shape and dtype;
- gradients with respect to the weights are finite (and not all zero);
- ``from_config(get_config())`` rebuilds an equal config, and with copied weights
  the same outputs.

The cases are the layer catalog (tests/layers/layer_catalog.py).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from layer_catalog import CASES, HOST_LAYERS, TWO_INPUT_LAYERS, build, call, case_id, make_input

import callax

TRAINING_MATTERS = {"Dropout", "BatchNormalization"}


def _build(case):
    # Weights drawn from a fixed seed: otherwise they depend on which tests ran before
    # in this worker (e.g. a Dense+relu whose units all start dead has zero gradients).
    callax.utils.set_random_seed(0)
    layer = build(callax.layers, case)
    x = make_input(case)
    if case[3] != "string":
        x = jax.tree_util.tree_map(jnp.asarray, x)
    return layer, x


def _skip_host_layer(case):
    if case[0] in HOST_LAYERS:
        pytest.skip("runs on the host with numpy (strings, hashes): no traced path to compare")


def _args(layer, x):
    return (x[0], x[1]) if type(layer).__name__ in TWO_INPUT_LAYERS else (x,)


def _close(a, b):
    for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_allclose(np.asarray(u), np.asarray(v), rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_eager_kernel_jit_and_stateless_agree(case):
    _skip_host_layer(case)
    layer, x = _build(case)
    first = call(layer, x)  # builds; eager
    second = call(layer, x)  # per-layer kernel where the layer opts in
    fast = callax.jit(layer)
    compiled = fast(*_args(layer, x))
    tv = [v.value for v in layer.trainable_variables]
    ntv = [v.value for v in layer.non_trainable_variables]

    def pure(tv, ntv, x):
        return layer.stateless_call(tv, ntv, *_args(layer, x))[0]

    stateless = jax.jit(pure)(tv, ntv, x)
    for other in (second, compiled, stateless):
        _close(first, other)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_abstract_call_predicts_shape_and_dtype(case):
    _skip_host_layer(case)
    layer, x = _build(case)
    real = call(layer, x)
    specs = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype), x)
    abstract = layer.abstract_call(*_args(layer, specs))
    assert jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), abstract) == (
        jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), real)
    )


@pytest.mark.parametrize(
    "case", [c for c in CASES if c[3] == "float32" or c[0] == "Embedding"], ids=case_id
)
def test_weight_gradients_are_finite(case):
    layer, x = _build(case)
    call(layer, x)
    tv = [v.value for v in layer.trainable_variables]
    if not tv:
        pytest.skip("no trainable weights")
    ntv = [v.value for v in layer.non_trainable_variables]

    def loss(tv):
        out = layer.stateless_call(tv, ntv, *_args(layer, x), training=True)[0]
        return sum(jnp.sum(jnp.sin(o)) for o in jax.tree_util.tree_leaves(out))

    grads = jax.grad(loss)(tv)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)
    assert any(float(jnp.abs(g).max()) > 0 for g in grads)


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_config_round_trip_rebuilds_the_same_layer(case):
    layer, x = _build(case)
    out = call(layer, x)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    call(clone, x)  # built like the original (a built inner layer lists its build_config)
    assert clone.get_config() == config
    for v, w in zip(clone.weights, layer.weights):
        v.assign(w.value)
    if case[0] not in TRAINING_MATTERS:
        _close(out, call(clone, x))


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_repeated_calls_compile_at_most_once(case):
    from callax.core import kernels
    from callax.core.layer import structure_version

    _skip_host_layer(case)
    layer, x = _build(case)
    call(layer, x)
    call(layer, x)
    version = structure_version[0]
    before = kernels.kernel_stats()["compiles"]
    for _ in range(3):
        call(layer, x)
    assert structure_version[0] == version  # calls never look like a settings change
    assert kernels.kernel_stats()["compiles"] == before  # compiled once, on the first call
