"""The optimizer shell: stateless_apply under jit, compile counts, gradient
accumulation, EMA, learning-rate handling, subclassing, configs, state layout, errors."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from optimizer_cases import gradient, initial_values, run_callax, run_keras

import callax
from callax import StatelessScope, Variable, optimizers

# keras.Variable.numpy() trips numpy 2's `__array__(copy=)` deprecation; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ALL = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "Nadam", "Lion"]


def _variables():
    return [Variable(v, name=k) for k, v in initial_values().items()]


@pytest.mark.parametrize(
    "cls_name, kwargs",
    [(c, {}) for c in ALL]
    + [
        ("SGD", {"momentum": 0.9, "gradient_accumulation_steps": 2, "use_ema": True}),
        ("Adam", {"global_clipnorm": 1.0, "ema_overwrite_frequency": 2, "use_ema": True}),
        ("Adam", {"learning_rate": optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)}),
    ],
)
def test_jitted_stateless_apply_equals_stateful_apply(cls_name, kwargs):
    stateful_vars = _variables()
    stateful = getattr(optimizers, cls_name)(**kwargs)
    pure_vars = _variables()
    pure = getattr(optimizers, cls_name)(**kwargs)
    pure.build(pure_vars)
    step = jax.jit(pure.stateless_apply)
    opt_values = [v.value for v in pure.variables]
    params = [v.value for v in pure_vars]
    for t in range(5):
        grads = [gradient(v.name, v.numpy(), t) for v in stateful_vars]
        stateful.apply(grads, stateful_vars)
        grads = [gradient(v.name, np.asarray(p), t) for v, p in zip(pure_vars, params)]
        params, opt_values = step(opt_values, grads, params)
    for v, p in zip(stateful_vars, params):
        np.testing.assert_allclose(v.numpy(), p, rtol=1e-6, atol=1e-7)
    for v, x in zip(stateful.variables, opt_values):
        np.testing.assert_allclose(v.numpy(), x, rtol=1e-6, atol=1e-7)
        assert x.dtype == v.dtype  # state dtypes are stable across steps (donation, carry)
    # The pure path assigned nothing.
    np.testing.assert_array_equal(pure_vars[0].numpy(), initial_values()["kernel"])
    assert int(pure._iterations.numpy()) == 0


def test_no_recompile_on_later_calls():
    variables = _variables()
    opt = optimizers.Adam(learning_rate=0.01, clipnorm=1.0)
    opt.build(variables)
    traces = []

    @jax.jit
    def train_step(opt_values, grads, params):
        traces.append(1)
        return opt.stateless_apply(opt_values, grads, params)

    opt_values = [v.value for v in opt.variables]
    params = [v.value for v in variables]
    for t in range(4):
        opt.learning_rate = 0.01 / (t + 1)  # a callback changing the rate: a value, not code
        opt_values[1] = opt.learning_rate.value
        grads = [gradient(v.name, np.asarray(p), t) for v, p in zip(variables, params)]
        params, opt_values = train_step(opt_values, grads, params)
    assert len(traces) == 1


def test_eager_apply_compiles_once_and_sees_hyperparameter_changes():
    w = Variable(np.ones(3))
    opt = optimizers.SGD(0.1)
    for _ in range(3):
        opt.apply([np.ones(3)], [w])
    fn = opt._jit_cache[1]
    opt.apply([np.ones(3)], [w])
    assert opt._jit_cache[1] is fn
    np.testing.assert_allclose(w.numpy(), 0.6, rtol=1e-6)
    opt.clipvalue = 0.5  # read at trace time: must recompile, not go stale
    opt.apply([np.ones(3)], [w])
    np.testing.assert_allclose(w.numpy(), 0.55, rtol=1e-6)


def test_stateful_apply_inside_jit_through_a_stateless_scope():
    variables = _variables()
    opt = optimizers.Adam(0.1)
    opt.build(variables)
    grads = [gradient(v.name, v.numpy(), 0) for v in variables]

    @jax.jit
    def step(params, opt_values):
        mapping = list(zip(variables, params)) + list(zip(opt.variables, opt_values))
        with StatelessScope(mapping) as scope:
            opt.apply(grads, variables)
        return [scope.get_current_value(v) for v in variables], [
            scope.get_current_value(v) for v in opt.variables
        ]

    params, opt_values = step([v.value for v in variables], [v.value for v in opt.variables])
    expected, _ = opt.stateless_apply([v.value for v in opt.variables], grads, variables)
    for a, b in zip(params, expected):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert int(opt_values[0]) == 1 and int(opt.iterations) == 0


def test_gradient_accumulation_updates_every_n_steps_with_the_mean():
    w = Variable(np.zeros(2))
    opt = optimizers.SGD(1.0, gradient_accumulation_steps=3)
    grads = [np.array([1.0, 2.0]), np.array([3.0, 0.0]), np.array([2.0, 1.0])]
    for g in grads[:2]:
        opt.apply([g], [w])
        np.testing.assert_array_equal(w.numpy(), 0.0)
    assert int(opt.iterations) == 0 and int(opt._iterations.numpy()) == 2
    np.testing.assert_allclose(opt._accumulated_gradients[0].numpy(), [4.0, 2.0])
    opt.apply([grads[2]], [w])
    np.testing.assert_allclose(w.numpy(), -np.mean(grads, axis=0), rtol=1e-6)
    np.testing.assert_array_equal(opt._accumulated_gradients[0].numpy(), 0.0)
    assert int(opt.iterations) == 1


def test_ema_follows_the_formula_and_finalize_overwrites():
    w = Variable(np.array([1.0]))
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5)
    expected_w, expected_avg = 1.0, None
    for _ in range(4):
        opt.apply([np.array([1.0])], [w])
        expected_w -= 0.1
        expected_avg = expected_w if expected_avg is None else 0.5 * expected_avg + 0.5 * expected_w
        np.testing.assert_allclose(w.numpy(), [expected_w], rtol=1e-6)
        np.testing.assert_allclose(
            opt._model_variables_moving_average[0].numpy(), [expected_avg], rtol=1e-6
        )
    opt.finalize_variable_values([w])
    np.testing.assert_allclose(w.numpy(), [expected_avg], rtol=1e-6)


def test_ema_overwrite_frequency_replaces_weights_periodically():
    w = Variable(np.array([1.0]))
    opt = optimizers.SGD(0.1, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    opt.apply([np.array([1.0])], [w])
    np.testing.assert_allclose(w.numpy(), [0.9], rtol=1e-6)  # step 1: not yet
    opt.apply([np.array([1.0])], [w])  # step 2: w = average = 0.5 * 0.9 + 0.5 * 0.8
    np.testing.assert_allclose(w.numpy(), [0.85], rtol=1e-6)


def test_learning_rate_float_schedule_and_callable():
    opt = optimizers.SGD(0.1)
    assert isinstance(opt.learning_rate, Variable) and opt.learning_rate.path == "sgd/learning_rate"
    opt.learning_rate = 0.5
    assert float(opt.learning_rate) == 0.5 and opt.get_config()["learning_rate"] == 0.5
    opt.learning_rate = optimizers.schedules.ExponentialDecay(1.0, 1, 0.5)
    assert [v.name for v in opt.variables] == ["iteration"]
    w = Variable(np.zeros(1))
    opt.apply([np.ones(1)], [w])
    opt.apply([np.ones(1)], [w])
    np.testing.assert_allclose(w.numpy(), [-1.5], rtol=1e-6)  # lr 1.0 then 0.5
    assert float(opt.learning_rate) == 0.25
    with pytest.raises(TypeError, match=r"SGD 'sgd'.*schedule.*cannot be set.*0.1"):
        opt.learning_rate = 0.1

    rate = {"value": 0.2}
    opt2 = optimizers.SGD(lambda: rate["value"])
    w2 = Variable(np.zeros(1))
    opt2.apply([np.ones(1)], [w2])
    rate["value"] = 0.3  # a callable is re-evaluated every eager call, as in Keras
    opt2.apply([np.ones(1)], [w2])
    np.testing.assert_allclose(w2.numpy(), [-0.5], rtol=1e-6)


def test_none_gradients_leave_variables_alone_with_a_warning():
    a, b = Variable(np.ones(2), name="a"), Variable(np.ones(2), name="b")
    opt = optimizers.Adam(0.1)
    with pytest.warns(UserWarning, match=r"Gradients do not exist for variables \['b'\]"):
        opt.apply([np.ones(2), None], [a, b])
    np.testing.assert_array_equal(b.numpy(), 1.0)
    assert not np.allclose(a.numpy(), 1.0)
    opt.apply([np.ones(2)], [b])  # a subset of the built variables: no warning
    assert not np.allclose(b.numpy(), 1.0)
    with pytest.raises(ValueError, match="no gradients provided for any variable"):
        opt.apply([None, None], [a, b])


def test_keras_style_subclass_with_update_step():
    class MomentumSGD(optimizers.Optimizer):
        def __init__(self, learning_rate=0.1, momentum=0.9, **kwargs):
            super().__init__(learning_rate=learning_rate, **kwargs)
            self.momentum = momentum

        def build(self, variables):
            super().build(variables)
            self.velocities = [self.add_variable_from_reference(v, "velocity") for v in variables]

        def update_step(self, gradient, variable, learning_rate):
            m = self.velocities[self._get_variable_index(variable)]
            self.assign(m, m * self.momentum - gradient * learning_rate)
            self.assign_add(variable, m)

    ours, _, opt = run_callax(lambda lib: MomentumSGD(0.05, clipvalue=1.0))
    ref, _, _ = run_callax(lambda lib: lib.optimizers.SGD(0.05, momentum=0.9, clipvalue=1.0))
    for a, b in zip(ours, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert [v.name for v in opt.variables][2:] == ["kernel_velocity", "bias_velocity"]

    with pytest.raises(RuntimeError, match=r"call `super\(\).__init__\(...\)` first"):

        class Broken(optimizers.Optimizer):
            def __init__(self):
                self.rate = 1

        Broken()


@pytest.mark.parametrize("cls_name", ALL)
def test_config_round_trip(cls_name):
    opt = getattr(optimizers, cls_name)(learning_rate=0.25, clipnorm=2.0, name="opt")
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is type(opt) and again.get_config() == opt.get_config()
    sched = optimizers.schedules.CosineDecay(0.1, 10, warmup_target=0.2, warmup_steps=3)
    opt = getattr(optimizers, cls_name)(learning_rate=sched)
    config = optimizers.serialize(opt)
    assert config["config"]["learning_rate"]["class_name"] == "CosineDecay"
    again = optimizers.deserialize(config)
    assert isinstance(again._learning_rate, optimizers.schedules.CosineDecay)
    assert again.get_config() == opt.get_config()


@pytest.mark.parametrize("cls_name", ALL)
def test_configs_move_between_keras_and_callax(cls_name):
    keras = pytest.importorskip("keras")
    kopt = getattr(keras.optimizers, cls_name)(learning_rate=0.5, global_clipnorm=1.0)
    ours = optimizers.deserialize(keras.optimizers.serialize(kopt))
    assert ours.get_config() == kopt.get_config()
    back = keras.optimizers.deserialize(optimizers.serialize(ours))
    assert back.get_config() == ours.get_config()


def test_get_by_name_and_identity():
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    assert isinstance(optimizers.get("AdamW"), optimizers.AdamW)
    opt = optimizers.Lion()
    assert optimizers.get(opt) is opt and optimizers.get(None) is None
    with pytest.raises(ValueError, match=r"Unknown optimizer 'adamz'.*received class_name='adamz'"):
        optimizers.get("adamz")
    with pytest.raises(ValueError, match=r"Could not interpret optimizer identifier.*received 3"):
        optimizers.get(3)
    assert callax.optimizers is optimizers


def test_state_layout_loads_keras_trained_state():
    """Adam state saved by Keras (store["0"], store["1"], ...) loads into callax and
    training continues identically: the layouts match index by index."""
    keras = pytest.importorskip("keras")
    w_k, _, kopt = run_keras(lambda lib: lib.optimizers.Adam(0.05), steps=3)
    store = {str(i): np.asarray(v.numpy()) for i, v in enumerate(kopt.variables)}
    variables = [Variable(w, name=n) for w, n in zip(w_k, ["kernel", "bias"])]
    opt = optimizers.Adam(0.05)
    opt.build(variables)
    opt.load_own_variables(store)
    kvars = [keras.Variable(w, name=n) for w, n in zip(w_k, ["kernel", "bias"])]
    kopt2 = keras.optimizers.Adam(0.05)
    kopt2.build(kvars)
    kopt2.load_own_variables(store)
    for t in range(3, 6):
        opt.apply([gradient(v.name, v.numpy(), t) for v in variables], variables)
        kopt2.apply([gradient(v.name, np.asarray(v.numpy()), t) for v in kvars], kvars)
    for a, b in zip(variables, kvars):
        np.testing.assert_allclose(a.numpy(), np.asarray(b.numpy()), rtol=2e-6, atol=2e-6)
    saved = {}
    opt.save_own_variables(saved)
    assert sorted(saved, key=int) == [str(i) for i in range(len(opt.variables))]
    assert int(saved["0"]) == 6


def test_mixed_dtype_gradients_and_state_dtypes():
    w = Variable(np.ones(3, np.float32))
    opt = optimizers.Adam(0.1)
    opt.apply([jnp.ones(3, jnp.bfloat16)], [w])
    assert w.dtype == jnp.float32 and all(v.dtype == jnp.float32 for v in opt.variables[1:])
    assert opt.iterations.dtype == jnp.int32  # as Keras 3 on JAX


def test_scale_loss_and_loss_scale_factor():
    opt = optimizers.SGD(1.0, loss_scale_factor=8.0)
    assert float(opt.scale_loss(jnp.asarray(2.0))) == 16.0
    w = Variable(np.zeros(1))
    opt.apply([np.array([8.0])], [w])  # gradients of the scaled loss
    np.testing.assert_allclose(w.numpy(), [-1.0])


def test_errors_name_the_optimizer_and_the_received_value():
    a = Variable(np.ones(2), name="a")
    with pytest.raises(
        ValueError, match=r"Adam 'adam'.*must be a float.*received learning_rate='x'"
    ):
        optimizers.Adam("x")
    with pytest.raises(ValueError, match=r"only one of `clipnorm`.*received"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)
    with pytest.raises(ValueError, match=r"AdamW .*weight_decay=None"):
        optimizers.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match=r"Lion .*beta_1=0"):
        optimizers.Lion(beta_1=0)
    with pytest.raises(ValueError, match=r"SGD .*momentum=1.5"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match=r"not recognized.*'betas'"):
        optimizers.Adam(betas=(0.9, 0.99))
    with pytest.raises(ValueError, match=r"gradient_accumulation_steps=1"):
        optimizers.Adam(gradient_accumulation_steps=1)
    opt = optimizers.SGD()
    with pytest.raises(ValueError, match=r"SGD 'sgd_\d+' must be built before stateless_apply"):
        opt.stateless_apply([], [], [])
    # The wrappers name themselves in the same message (one check for all three).
    wrapped = optimizers.LossScaleOptimizer(optimizers.SGD(), name="lso")
    with pytest.raises(ValueError, match=r"^LossScaleOptimizer 'lso' must be built before"):
        wrapped.stateless_apply([], [], [])
    multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD()), name="multi")
    with pytest.raises(ValueError, match=r"^MultiOptimizer 'multi' must be built before"):
        multi.stateless_apply([], [], [])
    opt.build([a])
    with pytest.raises(ValueError, match=r"expected `optimizer_variables`.*\(2\); received 1"):
        opt.stateless_apply([1], [np.ones(2)], [a.value])
    with pytest.raises(ValueError, match=r"unknown variable 'b'"):
        opt.apply([np.ones(2)], [Variable(np.ones(2), name="b")])
    with pytest.raises(ValueError, match=r"one gradient per variable \(1\); received 2"):
        opt.apply([np.ones(2), np.ones(2)], [a])
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_names=["bias"])


def test_keras_oracle_smoke_same_helpers():
    """The Keras runner and the callax runner see the same problem (guards the helpers)."""
    pytest.importorskip("keras")
    w_c, _, _ = run_callax(lambda lib: lib.optimizers.SGD(0.0), steps=2)
    w_k, _, _ = run_keras(lambda lib: lib.optimizers.SGD(0.0), steps=2)
    for a, b, c in zip(w_c, w_k, initial_values().values()):
        np.testing.assert_array_equal(a, c)
        np.testing.assert_array_equal(b, c)
