"""Every optimizer and every base option against Keras 3 itself: same initial
weights, same gradient function, several steps; weights and optimizer state
(in ``optimizer.variables`` order) must agree to ~1e-6."""

from __future__ import annotations

import re

import numpy as np
import pytest
from optimizer_cases import STEPS, gradient, initial_values, run_callax, run_keras

keras = pytest.importorskip("keras")

# keras.Variable.numpy() trips numpy 2's `__array__(copy=)` deprecation; not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ATOL = RTOL = 2e-6

# (class name, kwargs): defaults first, then each option that changes the math.
CASES = [
    ("SGD", {}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9}),
    ("SGD", {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True}),
    ("Adam", {}),
    ("Adam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3}),
    ("Adam", {"learning_rate": 0.05, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1, "amsgrad": True}),
    ("RMSprop", {}),
    ("RMSprop", {"learning_rate": 0.01, "rho": 0.8, "momentum": 0.5}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True}),
    ("RMSprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.9, "epsilon": 1e-4}),
    ("Adagrad", {}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.5, "epsilon": 1e-4}),
    ("Adadelta", {}),
    ("Adadelta", {"learning_rate": 1.0, "rho": 0.9, "epsilon": 1e-5}),
    ("Adamax", {}),
    ("Adamax", {"learning_rate": 0.05, "beta_1": 0.7, "beta_2": 0.9}),
    ("Nadam", {}),
    ("Nadam", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95}),
    ("Lion", {}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9}),
]


def _compare(cls_name, kwargs, steps=STEPS, schedule=None, constraint=None, check_state=True):
    def make(lib):
        kw = dict(kwargs)
        if schedule is not None:
            kw["learning_rate"] = schedule(lib)
        return getattr(lib.optimizers, cls_name)(**kw)

    def lib_constraint(lib):
        return None if constraint is None else getattr(lib.constraints, constraint)()

    import callax

    w_c, s_c, opt_c = run_callax(make, steps, constraint=lib_constraint(callax))
    w_k, s_k, opt_k = run_keras(make, steps, constraint=lib_constraint(keras))
    for a, b in zip(w_c, w_k):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)
    if check_state:
        assert [tuple(v.shape) for v in opt_c.variables] == [
            tuple(v.shape) for v in opt_k.variables
        ]
        for v, a, b in zip(opt_c.variables, s_c, s_k):
            np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL, err_msg=v.path)
    # Sanity: the run moved the weights (a test that cannot fail is no test).
    assert not np.allclose(w_c[0], run_callax(make, 0)[0][0])
    return opt_c, opt_k


@pytest.mark.parametrize(
    "cls_name, kwargs", CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_optimizer_matches_keras(cls_name, kwargs):
    _compare(cls_name, kwargs)


def test_variable_order_and_names_match_keras():
    """The state lines up index by index with Keras's (how checkpoints are saved)."""
    import callax

    for cls_name, kwargs in CASES + [("Adam", {"use_ema": True, "gradient_accumulation_steps": 2})]:

        def make(lib, cls_name=cls_name, kwargs=kwargs):
            return getattr(lib.optimizers, cls_name)(**kwargs)

        _, _, opt_c = run_callax(make, 1)
        _, _, opt_k = run_keras(make, 1)
        names_c = [v.path.split("/", 1)[1] for v in opt_c.variables]
        names_k = [v.path.split("/", 1)[-1] for v in opt_k.variables]
        if cls_name == "Nadam":  # Keras leaves its u_product unnamed ("variable")
            assert names_k[-1].startswith("variable") and names_c[-1] == "u_product"
            names_c, names_k = names_c[:-1], names_k[:-1]
        assert names_c == names_k, cls_name
        assert [str(v.dtype) for v in opt_c.variables] == [str(v.dtype) for v in opt_k.variables]
        assert re.sub(r"_\d+$", "", opt_c.name) == re.sub(r"_\d+$", "", opt_k.name)
    assert callax.optimizers.RMSprop().name.startswith("rm_sprop")


@pytest.mark.parametrize(
    "option",
    [
        {"clipnorm": 0.5},
        {"clipvalue": 0.2},
        {"global_clipnorm": 0.7},
        {"weight_decay": 0.05},
        {"loss_scale_factor": 4.0},
        {"use_ema": True},
        {"use_ema": True, "ema_momentum": 0.5, "ema_overwrite_frequency": 2},
        # Keras runs accumulation's lax.cond op by op: slow on its side.
        pytest.param({"gradient_accumulation_steps": 2}, marks=pytest.mark.slow),
        pytest.param(
            {"gradient_accumulation_steps": 3, "use_ema": True, "weight_decay": 0.1},
            marks=pytest.mark.slow,
        ),
    ],
    ids=lambda o: "-".join(o),
)
@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "Nadam"])
def test_base_options_match_keras(cls_name, option):
    kwargs = {"learning_rate": 0.05, **option}
    if cls_name == "SGD":
        kwargs["momentum"] = 0.9
    _compare(cls_name, kwargs, steps=7)


def test_clipping_is_active():
    """The clipping cases above would pass vacuously if no gradient were ever clipped."""
    import callax

    g = gradient("kernel", initial_values()["kernel"], 0)
    assert np.linalg.norm(g) > 0.5 and np.abs(g).max() > 0.2
    w = callax.Variable(np.zeros_like(g))
    callax.optimizers.SGD(1.0, clipnorm=0.5).apply([g], [w])
    np.testing.assert_allclose(np.linalg.norm(w.numpy()), 0.5, rtol=1e-6)


def test_weight_decay_exclusion_matches_keras():
    def make(lib):
        opt = lib.optimizers.AdamW(learning_rate=0.05, weight_decay=0.2)
        opt.exclude_from_weight_decay(var_names=["bias"])
        return opt

    w_c, _, _ = run_callax(make)
    w_k, _, _ = run_keras(make)
    for a, b in zip(w_c, w_k):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)


@pytest.mark.parametrize("cls_name", ["SGD", "Adam", "RMSprop"])
def test_constraints_match_keras(cls_name):
    _compare(cls_name, {"learning_rate": 0.1}, constraint="NonNeg")


SCHEDULES = {
    "exponential": lambda lib: lib.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5),
    "piecewise": lambda lib: lib.optimizers.schedules.PiecewiseConstantDecay(
        [1, 3], [0.1, 0.05, 0.01]
    ),
    "cosine_warmup": lambda lib: lib.optimizers.schedules.CosineDecay(
        0.0, 4, warmup_target=0.1, warmup_steps=2
    ),
}


@pytest.mark.parametrize("schedule", SCHEDULES, ids=list(SCHEDULES))
@pytest.mark.parametrize("cls_name, kwargs", [("SGD", {"momentum": 0.9}), ("AdamW", {})])
def test_schedule_driven_optimizer_matches_keras(cls_name, kwargs, schedule):
    opt_c, _ = _compare(cls_name, kwargs, schedule=SCHEDULES[schedule])
    assert [v.name for v in opt_c.variables][:2] == ["iteration", opt_c.variables[1].name]
    assert "learning_rate" not in [v.name for v in opt_c.variables]


def test_schedule_with_gradient_accumulation_matches_keras():
    _compare("Adam", {"gradient_accumulation_steps": 2}, steps=7, schedule=SCHEDULES["exponential"])
