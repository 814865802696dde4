"""Configs: the registry, serialize/deserialize round trips for every built-in
object, special values, and safe mode."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
from layer_catalog import CASES, available, build, call, case_id, make_input

import callax
from callax import saving
from callax.saving import deserialize_keras_object as deser
from callax.saving import serialize_keras_object as ser


# ----------------------------------------------------------------- registry
def test_register_and_lookup():
    @saving.register_keras_serializable(package="tests_ser", name="Twice")
    def twice(x):
        return 2 * x

    assert saving.get_registered_name(twice) == "tests_ser>Twice"
    assert saving.get_registered_object("tests_ser>Twice") is twice
    cfg = ser(twice)
    assert cfg["class_name"] == "function" and cfg["registered_name"] == "tests_ser>Twice"
    assert deser(cfg) is twice


def test_register_rejects_bad_package():
    with pytest.raises(ValueError, match="may not contain '>'"):
        saving.register_keras_serializable(package="a>b")


def test_custom_object_scope_nests_and_unwinds():
    class A(callax.layers.Layer):
        def call(self, x):
            return x

    with saving.custom_object_scope({"A": A}):
        assert saving.get_registered_object("A") is A
        with saving.CustomObjectScope({"A": int}):
            assert saving.get_registered_object("A") is int
        assert saving.get_registered_object("A") is A
    assert saving.get_registered_object("A") is None
    assert saving.get_registered_object("A", custom_objects={"A": A}) is A


def test_unknown_class_says_how_to_fix():
    cfg = {"module": "my.mod", "class_name": "Mystery", "config": {}, "registered_name": None}
    with pytest.raises(TypeError, match=r"Could not locate class 'Mystery'.*register_keras"):
        deser(cfg)


# ------------------------------------------------------------ every object
def _public_classes(module, base):
    out = []
    for name in sorted(dir(module)):
        obj = getattr(module, name)
        if inspect.isclass(obj) and issubclass(obj, base) and obj is not base:
            if not name.startswith("_") and obj not in out:
                out.append(obj)
    return out


def _round_trip(obj):
    cfg = ser(obj)
    assert cfg["module"].startswith("keras"), cfg
    back = deser(cfg)
    assert type(back) is type(obj)
    assert back.get_config() == obj.get_config()
    return back


@pytest.mark.parametrize(
    "cls",
    [
        c
        for c in _public_classes(callax.initializers, callax.initializers.Initializer)
        if c is not callax.initializers.RandomInitializer
    ],
    ids=lambda c: c.__name__,
)
def test_initializers_round_trip(cls):
    init = _round_trip(cls())
    if "seed" in init.get_config():
        init = _round_trip(cls(seed=3))
        np.testing.assert_array_equal(init((3, 3)), cls(seed=3)((3, 3)))


@pytest.mark.parametrize(
    "obj",
    [callax.regularizers.L1(0.3), callax.regularizers.L2(0.2), callax.regularizers.L1L2(0.1, 0.2),
     callax.regularizers.OrthogonalRegularizer(0.1, "columns"), callax.constraints.NonNeg(),
     callax.constraints.MaxNorm(3, axis=1), callax.constraints.UnitNorm(axis=1),
     callax.constraints.MinMaxNorm(0.1, 2.0, 0.5, 0)],
    ids=lambda o: type(o).__name__,
)  # fmt: skip
def test_regularizers_constraints_round_trip(obj):
    back = _round_trip(obj)
    w = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(back(w)), np.asarray(obj(w)))


@pytest.mark.parametrize("name", sorted(callax.activations._ALL))
def test_activations_round_trip(name):
    fn = callax.activations.get(name)
    cfg = ser(fn)
    assert cfg["module"] == "keras.activations" and cfg["class_name"] == "function"
    assert deser(cfg) is fn


def test_optimizers_and_schedules_round_trip():
    classes = _public_classes(callax.optimizers, callax.optimizers.Optimizer)
    assert len(classes) >= 8
    for cls in classes:
        if cls is callax.optimizers.LossScaleOptimizer:  # a wrapper: takes an optimizer
            _round_trip(cls(callax.optimizers.SGD(learning_rate=0.01), initial_scale=64.0))
        elif cls is callax.optimizers.MultiOptimizer:  # takes an optimizer map
            default = callax.optimizers.SGD(learning_rate=0.01)
            _round_trip(cls(callax.optimizers.OptimizerMap(default, {".*bias": default})))
        else:
            _round_trip(cls(learning_rate=0.01))
    sched = callax.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5)
    back = _round_trip(sched)
    assert float(back(20)) == pytest.approx(float(sched(20)))
    opt = _round_trip(callax.optimizers.Adam(learning_rate=sched))
    assert float(opt.learning_rate) == pytest.approx(0.1)


def _default_instances(module, base):
    out = []
    for cls in _public_classes(module, base):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(cls())
        except TypeError:
            continue  # needs arguments (e.g. num_classes); covered by its own tests
    return out


def test_losses_and_metrics_round_trip():
    losses = _default_instances(callax.losses, callax.losses.Loss)
    metrics = _default_instances(callax.metrics, callax.metrics.Metric)
    assert len(losses) >= 8 and len(metrics) >= 10
    for obj in losses + metrics:
        _round_trip(obj)


# ------------------------------------------------------------------ layers
LAYERS = available(callax.layers)


def test_every_listed_layer_exists():
    missing = [c[0] for c in CASES if not hasattr(callax.layers, c[0])]
    assert len(LAYERS) >= 30, missing


@pytest.mark.parametrize("case", LAYERS, ids=case_id)
def test_layer_config_round_trip(case):
    layer = build(callax.layers, case)
    x = make_input(case)
    y = call(layer, x)
    cfg = ser(layer)
    # class_name is the class's own name (GroupQueryAttention's is GroupedQueryAttention)
    assert cfg["module"] == "keras.layers" and cfg["class_name"] == type(layer).__name__
    back = deser(cfg)
    assert type(back) is type(layer)
    call(back, x)  # built like the original (a built inner layer lists its build_config)
    assert back.get_config() == layer.get_config()
    back.set_weights(layer.get_weights()) if hasattr(back, "set_weights") else [
        v.assign(w.value) for v, w in zip(back.weights, layer.weights)
    ]
    np.testing.assert_allclose(np.asarray(call(back, x)), np.asarray(y), rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------- special values
def test_special_values_round_trip():
    import jax.numpy as jnp

    values = {
        "np": np.arange(6, dtype="int32").reshape(2, 3), "bytes": b"abc",
        "slice": slice(1, None, 2), "ellipsis": Ellipsis, "tuple": (1, "a"),
        "scalar": np.float32(1.5),
    }  # fmt: skip
    back = deser(ser(values))
    np.testing.assert_array_equal(back["np"], values["np"])
    assert back["np"].dtype == np.int32
    assert back["bytes"] == b"abc" and back["slice"] == slice(1, None, 2)
    assert back["ellipsis"] is Ellipsis and back["scalar"] == 1.5
    t = deser(ser(jnp.ones((2,))))
    np.testing.assert_array_equal(np.asarray(t), np.ones(2))


def test_lambda_refused_in_safe_mode_and_loaded_when_unsafe():
    with pytest.warns(UserWarning, match="lambda"):
        cfg = ser(lambda x: x * 3)  # noqa: E731
    with pytest.raises(ValueError, match="Refusing to load a Python lambda.*safe_mode=False"):
        deser(cfg)
    fn = deser(cfg, safe_mode=False)
    assert fn(2) == 6


def test_object_without_get_config_is_named():
    class Opaque:
        pass

    with pytest.raises(TypeError, match="Opaque.*no get_config"):
        ser(Opaque())
