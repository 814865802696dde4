"""Ftrl, Adafactor, Lamb, Muon and ScheduleFreeAdamW: closed-form numpy steps, the Keras 3 oracle over
several steps (weights and state), configs, names, and fit; plus
``callax.mixed_precision.LossScaleOptimizer``."""

from __future__ import annotations

import re

import numpy as np
import pytest
from optimizer_cases import STEPS, gradient, initial_values, run_callax, run_keras

import callax
from callax import optimizers

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ATOL = RTOL = 2e-6


# -------------------------------------------------------- numpy reference steps
def _numpy_ftrl(steps, lr=0.05, p=-0.5, n0=0.1, l1=0.01, l2=0.02, shrink=0.03, beta=0.1):
    ws = {k: v.astype(np.float64) for k, v in initial_values().items()}
    n = {k: np.full_like(v, n0) for k, v in ws.items()}
    z = {k: np.zeros_like(v) for k, v in ws.items()}
    for step in range(steps):
        for k, w in ws.items():
            g = gradient(k, w.astype(np.float32), step).astype(np.float64)
            new_n = n[k] + g**2
            z[k] += g + 2 * shrink * w - (new_n ** (-p) - n[k] ** (-p)) / lr * w
            quad = new_n ** (-p) / lr + 2 * (l2 + beta / (2 * lr))
            ws[k] = (np.clip(z[k], -l1, l1) - z[k]) / quad
            n[k] = new_n
    return ws


def _numpy_lamb(steps, lr=0.05, b1=0.9, b2=0.99, eps=1e-6):
    ws = {k: v.astype(np.float64) for k, v in initial_values().items()}
    m = {k: np.zeros_like(v) for k, v in ws.items()}
    v = {k: np.zeros_like(x) for k, x in ws.items()}
    for step in range(steps):
        t = step + 1
        for k, w in ws.items():
            g = gradient(k, w.astype(np.float32), step).astype(np.float64)
            m[k] = b1 * m[k] + (1 - b1) * g
            v[k] = b2 * v[k] + (1 - b2) * g**2
            u = (m[k] / (1 - b1**t)) / (np.sqrt(v[k] / (1 - b2**t)) + eps)
            ws[k] = w - lr * np.linalg.norm(w) / np.linalg.norm(u) * u
    return ws


def _numpy_adafactor(steps, lr=0.05, decay=-0.8, eps1=1e-30, eps2=1e-3, clip=1.0):
    ws = {k: v.astype(np.float64) for k, v in initial_values().items()}
    r = {"kernel": np.zeros(3), "bias": None}
    c = {"kernel": np.zeros(4), "bias": None}
    vel = {k: np.zeros_like(v) for k, v in ws.items()}
    for step in range(steps):
        t = step + 1.0
        for k, w in ws.items():
            g = gradient(k, w.astype(np.float32), step).astype(np.float64)
            rho = min(lr, 1 / np.sqrt(t))
            alpha = max(eps2, np.sqrt(np.mean(w**2))) * rho
            sq = g**2 + eps1
            b = 1 - t**decay
            if w.ndim == 2:
                r[k] = b * r[k] + (1 - b) * sq.mean(1)
                c[k] = b * c[k] + (1 - b) * sq.mean(0)
                vel[k] = np.outer(r[k] / r[k].mean(), c[k])
            else:
                vel[k] = b * vel[k] + (1 - b) * sq
            u = g / np.sqrt(vel[k])
            u = u / max(1.0, np.sqrt(np.mean(u**2)) / clip)
            ws[k] = w - alpha * u
    return ws


@pytest.mark.parametrize(
    "make,reference",
    [
        (lambda: optimizers.Ftrl(0.05, l1_regularization_strength=0.01,
                                 l2_regularization_strength=0.02,
                                 l2_shrinkage_regularization_strength=0.03, beta=0.1),
         _numpy_ftrl),
        (lambda: optimizers.Lamb(0.05, beta_2=0.99, epsilon=1e-6), _numpy_lamb),
        (lambda: optimizers.Adafactor(0.05), _numpy_adafactor),
    ],
    ids=["Ftrl", "Lamb", "Adafactor"],
)  # fmt: skip
def test_matches_numpy_formula(make, reference):
    weights, _, _ = run_callax(lambda lib: make())
    want = reference(STEPS)
    for w, k in zip(weights, ("kernel", "bias")):
        np.testing.assert_allclose(w, want[k], rtol=2e-5, atol=2e-6, err_msg=k)
        assert not np.allclose(w, initial_values()[k])


def test_ftrl_l1_gives_exact_zeros():
    w = callax.Variable(np.zeros(3, np.float32))
    opt = optimizers.Ftrl(learning_rate=0.1, l1_regularization_strength=0.5)
    opt.apply([np.array([0.2, -0.3, 2.0], np.float32)], [w])
    assert w.numpy()[0] == 0.0 and w.numpy()[1] == 0.0 and w.numpy()[2] < 0


def test_lamb_zero_weights_take_the_adam_step():
    w = callax.Variable(np.zeros(2, np.float32))
    optimizers.Lamb(learning_rate=0.1).apply([np.array([1.0, -2.0], np.float32)], [w])
    np.testing.assert_allclose(w.numpy(), [-0.1, 0.1], rtol=1e-5)  # ratio 1: lr * sign(g)


# --------------------------------------------------------------- Keras oracle
CASES = [
    ("Ftrl", {}),
    ("Ftrl", {"learning_rate": 0.05, "learning_rate_power": -0.3,
              "initial_accumulator_value": 0.5, "l1_regularization_strength": 0.01,
              "l2_regularization_strength": 0.02, "l2_shrinkage_regularization_strength": 0.03,
              "beta": 0.1}),
    ("Adafactor", {}),
    ("Adafactor", {"learning_rate": 0.05, "beta_2_decay": -0.5, "epsilon_2": 0.01,
                   "clip_threshold": 0.5}),
    ("Lamb", {}),
    ("Lamb", {"learning_rate": 0.05, "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-4}),
    ("Lamb", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("Adafactor", {"learning_rate": 0.05, "clipnorm": 0.5}),
    ("Muon", {}),
    ("Muon", {"learning_rate": 0.05, "nesterov": False, "rms_rate": None, "adam_lr_ratio": 0.5,
              "weight_decay": 0.1, "adam_weight_decay": None}),
    ("Muon", {"learning_rate": 0.05, "exclude_layers": ["ker"], "momentum": 0.8}),
    ("ScheduleFreeAdamW", {}),
    ("ScheduleFreeAdamW", {"learning_rate": 0.05, "beta_1": 0.8, "warmup_steps": 3,
                           "weight_decay": 0.05}),
]  # fmt: skip


def _compare(cls_name, kwargs, steps=STEPS, schedule=None):
    keras = pytest.importorskip("keras")

    def make(lib):
        kw = dict(kwargs)
        if schedule is not None:
            kw["learning_rate"] = schedule(lib)
        return getattr(lib.optimizers, cls_name)(**kw)

    w_c, s_c, opt_c = run_callax(make, steps)
    w_k, s_k, opt_k = run_keras(make, steps)
    for a, b in zip(w_c, w_k):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)
    assert [tuple(v.shape) for v in opt_c.variables] == [tuple(v.shape) for v in opt_k.variables]
    assert [str(v.dtype) for v in opt_c.variables] == [str(v.dtype) for v in opt_k.variables]
    for v, a, b in zip(opt_c.variables, s_c, s_k):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL, err_msg=v.path)
    assert not np.allclose(w_c[0], initial_values()["kernel"])
    return opt_c, opt_k, keras


@pytest.mark.parametrize(
    "cls_name,kwargs", CASES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_matches_keras(cls_name, kwargs):
    opt_c, opt_k, _ = _compare(cls_name, kwargs)
    cfg_c, cfg_k = opt_c.get_config(), opt_k.get_config()
    assert set(cfg_c) == set(cfg_k)
    for key, value in cfg_k.items():
        if key != "name":
            assert cfg_c[key] == pytest.approx(value), key
    assert re.sub(r"_\d+$", "", opt_c.name) == re.sub(r"_\d+$", "", opt_k.name)


@pytest.mark.parametrize("cls_name", ["Adafactor", "Lamb", "Ftrl"])
def test_schedule_matches_keras(cls_name):
    _compare(
        cls_name, {}, schedule=lambda lib: lib.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)
    )


def test_state_names_match_keras():
    for cls_name in ("Ftrl", "Lamb", "Adafactor", "Muon", "ScheduleFreeAdamW"):
        _, _, opt_c = run_callax(lambda lib, c=cls_name: getattr(lib.optimizers, c)(), 1)
        _, _, opt_k = run_keras(lambda lib, c=cls_name: getattr(lib.optimizers, c)(), 1)
        assert [v.path.split("/", 1)[-1] for v in opt_c.variables] == [
            v.path.split("/", 1)[-1] for v in opt_k.variables
        ]


# ---------------------------------------------------------------- API and config
@pytest.mark.parametrize(
    "name",
    [
        "ftrl",
        "Ftrl",
        "adafactor",
        "Adafactor",
        "lamb",
        "Lamb",
        "muon",
        "Muon",
        "ScheduleFreeAdamW",
        "schedulefreeadamw",
    ],
)
def test_resolved_by_name(name):
    opt = optimizers.get(name)
    assert type(opt).__name__.lower() == name.lower()


@pytest.mark.parametrize(
    "opt",
    [optimizers.Ftrl(0.2, l1_regularization_strength=0.1, beta=0.5),
     optimizers.Adafactor(0.3, clip_threshold=2.0, relative_step=False),
     optimizers.Lamb(0.01, beta_1=0.5, weight_decay=0.01),
     optimizers.Muon(0.01, exclude_layers=["embed"], nesterov=False),
     optimizers.ScheduleFreeAdamW(0.01, warmup_steps=10)],
    ids=lambda o: type(o).__name__,
)  # fmt: skip
def test_config_round_trip(opt):
    back = optimizers.deserialize(optimizers.serialize(opt))
    assert type(back) is type(opt) and back.get_config() == opt.get_config()


def test_muon_tall_matrix_matches_keras():
    """A tall weight is orthogonalised in its transposed (wide) form."""
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(3)
    w0 = rng.normal(size=(5, 2)).astype("float32")
    grads = [rng.normal(size=(5, 2)).astype("float32") for _ in range(3)]
    out = []
    for lib in (callax, keras):
        w = lib.Variable(w0, name="dense_kernel")
        opt = lib.optimizers.Muon(learning_rate=0.05)
        for g in grads:
            opt.apply_gradients([(g, w)])
        out.append(np.asarray(w.numpy()))
    np.testing.assert_allclose(out[0], out[1], rtol=2e-5, atol=2e-6)
    assert not np.allclose(out[0], w0)


def test_muon_newton_schulz_orthogonalises():
    x = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")
    y = np.asarray(optimizers.Muon().zeropower_via_newtonschulz5(x, 5))
    s = np.linalg.svd(y, compute_uv=False)
    assert np.all((s > 0.6) & (s < 1.25))  # singular values pushed towards 1
    with pytest.raises(ValueError, match=r"at least 2 dimensions; received shape=\(3,\)"):
        optimizers.Muon().zeropower_via_newtonschulz5(np.ones(3), 5)


def test_ftrl_rejects_bad_arguments():
    with pytest.raises(ValueError, match=r"Ftrl 'ftrl.*`learning_rate_power` must be negative or "
                                         r"zero; received learning_rate_power=0.5"):  # fmt: skip
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match=r"l1_regularization_strength=-1"):
        optimizers.Ftrl(l1_regularization_strength=-1)


def test_loss_scale_optimizer_in_mixed_precision():
    assert callax.mixed_precision.LossScaleOptimizer is optimizers.LossScaleOptimizer
    keras = pytest.importorskip("keras")
    assert hasattr(keras.mixed_precision, "LossScaleOptimizer")


# -------------------------------------------------------------------------- fit
class Regressor(callax.Model):
    def __init__(self):
        super().__init__()
        self.hidden = callax.layers.Dense(8, activation="relu")
        self.out = callax.layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


@pytest.mark.parametrize(
    "opt", ["ftrl", "adafactor", "lamb", optimizers.Lamb(0.01), optimizers.Adafactor(0.1),
            optimizers.Ftrl(0.5), optimizers.Muon(0.02), optimizers.ScheduleFreeAdamW(0.05),
            optimizers.LossScaleOptimizer(optimizers.Lamb(0.01))],
    ids=lambda o: o if isinstance(o, str) else type(o).__name__,
)  # fmt: skip
def test_fit_by_name_and_object(opt):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")
    model = Regressor()
    model.compile(optimizer=opt, loss="mse")
    if isinstance(opt, str):  # resolved by name; the defaults are too small for 5 epochs
        assert type(model.optimizer).__name__.lower() == opt
        model.optimizer.learning_rate = 0.5 if opt == "ftrl" else 0.05
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]


# -------------------------------------------------------------- MultiOptimizer
def _multi(lib):
    mapping = lib.optimizers.OptimizerMap(
        lib.optimizers.SGD(0.05, momentum=0.9), {".*kernel": lib.optimizers.Adam(0.05)}
    )
    return lib.optimizers.MultiOptimizer(mapping)


def test_multi_optimizer_matches_keras():
    keras = pytest.importorskip("keras")
    w_c, s_c, opt_c = run_callax(_multi)
    w_k, s_k, opt_k = run_keras(_multi)
    for a, b in zip(w_c, w_k):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL)
    assert [v.path.split("/", 1)[-1] for v in opt_c.variables] == [
        v.path.split("/", 1)[-1] for v in opt_k.variables
    ]
    for v, a, b in zip(opt_c.variables, s_c, s_k):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=RTOL, err_msg=v.path)
    assert [type(o).__name__ for o in opt_c.optimizers] == ["Adam", "SGD"]
    # Keras's config builds ours, and ours Keras's
    cfg_k = keras.optimizers.serialize(opt_k)
    back = optimizers.deserialize(cfg_k)
    assert [type(o).__name__ for o in back.optimizers] == ["Adam", "SGD"]
    assert keras.optimizers.deserialize(optimizers.serialize(opt_c)).optimizers[0].beta_1 == 0.9


def test_multi_optimizer_routes_each_variable():
    weights, _, opt = run_callax(_multi, steps=1)
    init = initial_values()
    adam_step = weights[0] - init["kernel"]  # Adam's first step is about lr per entry
    np.testing.assert_allclose(np.abs(adam_step), 0.05, rtol=1e-3)
    g = gradient("bias", init["bias"], 0)
    np.testing.assert_allclose(weights[1], init["bias"] - 0.05 * g, rtol=1e-5)
    assert int(opt.iterations.numpy()) == 1
    with pytest.raises(AttributeError, match="no single learning rate"):
        opt.learning_rate  # noqa: B018


def test_multi_optimizer_rejects_wrappers():
    with pytest.raises(ValueError, match="cannot be a LossScaleOptimizer"):
        optimizers.OptimizerMap(
            optimizers.SGD(), {"x": optimizers.LossScaleOptimizer(optimizers.SGD())}
        )
    with pytest.raises(TypeError, match="default_optimizer must be an Optimizer instance"):
        optimizers.OptimizerMap("sgd")


def test_multi_optimizer_fit_save_and_load(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5], [0.0]], "float32")
    inp = callax.Input((4,))
    hidden = callax.layers.Dense(8, activation="relu", name="hidden")(inp)
    model = callax.Model(inp, callax.layers.Dense(1, name="head")(hidden))
    mapping = optimizers.OptimizerMap(optimizers.Adam(0.02), {"head/.*": optimizers.SGD(0.01)})
    model.compile(optimizer=optimizers.MultiOptimizer(mapping), loss="mse")
    before = [v.numpy().copy() for v in model.optimizer.optimizers[1].variables]
    hist = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    assert int(model.optimizer.iterations.numpy()) == 20
    assert int(model.optimizer.optimizers[0].iterations.numpy()) == 20
    assert not all(
        np.array_equal(a, b.numpy())
        for a, b in zip(before, model.optimizer.optimizers[1].variables)
    )
    model.save(tmp_path / "m.keras")
    loaded = callax.saving.load_model(tmp_path / "m.keras")
    assert isinstance(loaded.optimizer, optimizers.MultiOptimizer)
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_allclose(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", ["SGD", "Adam", "Adagrad", "RMSprop", "Ftrl", "Optimizer"])
def test_legacy_optimizers_raise_like_keras(name):
    with pytest.raises(ImportError, match=rf"keras.optimizers.legacy.{name}` .*not supported"):
        getattr(optimizers.legacy, name)(learning_rate=0.1)
    keras = pytest.importorskip("keras")
    with pytest.raises(ImportError):
        getattr(keras.optimizers.legacy, name)(learning_rate=0.1)
