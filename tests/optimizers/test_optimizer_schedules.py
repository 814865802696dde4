"""Learning-rate schedules: values over steps against Keras 3 and numpy formulas,
jit, config round trips, bad arguments."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest

from callax.optimizers import schedules

STEPS = [0, 1, 2, 3, 5, 7, 10, 13, 20, 31, 50, 100]

CASES = [
    ("ExponentialDecay", (0.1, 7, 0.6), {}),
    ("ExponentialDecay", (0.1, 7, 0.6), {"staircase": True}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {}),
    ("InverseTimeDecay", (0.1, 5, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([3, 10, 30], [0.1, 0.05, 0.01, 0.001]), {}),
    ("PolynomialDecay", (0.1, 20), {}),
    ("PolynomialDecay", (0.1, 20), {"end_learning_rate": 0.01, "power": 2.0, "cycle": True}),
    ("CosineDecay", (0.1, 30), {}),
    ("CosineDecay", (0.1, 30), {"alpha": 0.2}),
    ("CosineDecay", (0.0, 30), {"warmup_target": 0.2, "warmup_steps": 10}),
    ("CosineDecay", (0.05, 30), {"warmup_target": 0.2, "warmup_steps": 10, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 6), {}),
    ("CosineDecayRestarts", (0.1, 6), {"t_mul": 1.0, "m_mul": 0.5, "alpha": 0.1}),
    ("CosineDecayRestarts", (0.1, 4), {"t_mul": 3.0, "m_mul": 0.8}),
]
IDS = [f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)]


@pytest.mark.parametrize("name, args, kwargs", CASES, ids=IDS)
def test_schedule_matches_keras(name, args, kwargs):
    keras = pytest.importorskip("keras")
    ours = getattr(schedules, name)(*args, **kwargs)
    theirs = getattr(keras.optimizers.schedules, name)(*args, **kwargs)
    got = [float(ours(s)) for s in STEPS]
    want = [float(theirs(s)) for s in STEPS]
    # atol: near the end of a cosine period (cos ~ -1) one ulp of the angle shows.
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    assert len(set(np.round(got, 8))) > 1  # the schedule actually varies over STEPS
    assert ours.get_config() == theirs.get_config()


def test_schedule_formulas_numpy():
    lr0 = 0.1
    for s in STEPS:
        np.testing.assert_allclose(
            float(schedules.ExponentialDecay(lr0, 7, 0.6)(s)), lr0 * 0.6 ** (s / 7), rtol=1e-6
        )
        np.testing.assert_allclose(
            float(schedules.InverseTimeDecay(lr0, 5, 0.5, staircase=True)(s)),
            lr0 / (1 + 0.5 * (s // 5)),
            rtol=1e-6,
        )
        frac = min(s, 30) / 30
        np.testing.assert_allclose(
            float(schedules.CosineDecay(lr0, 30)(s)),
            lr0 * 0.5 * (1 + math.cos(math.pi * frac)),
            rtol=1e-5,
            atol=1e-9,
        )
        np.testing.assert_allclose(
            float(schedules.PolynomialDecay(lr0, 20, end_learning_rate=0.0)(s)),
            lr0 * (1 - min(s, 20) / 20),
            rtol=1e-6,
            atol=1e-9,
        )
    pw = schedules.PiecewiseConstantDecay([3, 10], [1.0, 0.5, 0.25])
    assert [float(pw(s)) for s in (0, 3, 4, 10, 11)] == [1.0, 1.0, 0.5, 0.5, 0.25]


@pytest.mark.parametrize("name, args, kwargs", CASES, ids=IDS)
def test_schedule_under_jit_and_config_round_trip(name, args, kwargs):
    s = getattr(schedules, name)(*args, **kwargs)
    jitted = jax.jit(s)
    for step in (0, 4, 17):
        np.testing.assert_allclose(
            float(jitted(np.int32(step))), float(s(step)), rtol=1e-6, atol=1e-8
        )
    again = schedules.deserialize(schedules.serialize(s))
    assert type(again) is type(s) and again.get_config() == s.get_config()


def test_schedule_errors():
    with pytest.raises(ValueError, match=r"ExponentialDecay.*decay_steps.*received decay_steps=0"):
        schedules.ExponentialDecay(0.1, 0, 0.5)
    with pytest.raises(ValueError, match=r"one element fewer.*length 2.*length 2"):
        schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"Unknown learning rate schedule 'Nope'"):
        schedules.deserialize({"class_name": "Nope", "config": {}})


def test_custom_schedule_subclass():
    class Halve(schedules.LearningRateSchedule):
        def __init__(self, lr):
            self.lr = lr

        def __call__(self, step):
            return self.lr * 0.5 ** (step // 2)

        def get_config(self):
            return {"lr": self.lr}

    s = schedules.deserialize(schedules.serialize(Halve(1.0)), custom_objects={"Halve": Halve})
    assert float(s(5)) == 0.25
    with pytest.raises(NotImplementedError, match="must override `get_config"):
        schedules.LearningRateSchedule().get_config()
