"""Optimizers against textbook formulas written here in numpy (float64), independent
of both Keras and the implementation."""

from __future__ import annotations

import numpy as np
import pytest
from optimizer_cases import STEPS, gradient, initial_values, run_callax

TOL = 1e-5


def _numpy_run(update, state_init):
    w = {k: v.astype(np.float64) for k, v in initial_values().items()}
    state = {k: state_init(v) for k, v in w.items()}
    for t in range(1, STEPS + 1):
        for k in w:
            g = gradient(k, w[k].astype(np.float32), t - 1).astype(np.float64)
            w[k], state[k] = update(w[k], g, state[k], t)
    return list(w.values())


@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_closed_form(momentum, nesterov):
    lr = 0.05

    def update(w, g, v, t):
        # Sutskever-style velocity in units of the step (Keras's convention).
        v = momentum * v - lr * g
        return (w + (momentum * v - lr * g if nesterov else v)), v

    expected = _numpy_run(update, np.zeros_like)
    got, _, _ = run_callax(lambda lib: lib.optimizers.SGD(lr, momentum=momentum, nesterov=nesterov))
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_closed_form(amsgrad):
    lr, b1, b2, eps = 0.05, 0.9, 0.999, 1e-7

    def update(w, g, s, t):
        m, v, v_max = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        # Keras's form: epsilon added to sqrt(v) before the bias correction.
        step_size = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        w = w - step_size * m / (np.sqrt(v_max if amsgrad else v) + eps)
        return w, (m, v, v_max)

    expected = _numpy_run(update, lambda w: (np.zeros_like(w),) * 3)
    got, _, _ = run_callax(lambda lib: lib.optimizers.Adam(lr, amsgrad=amsgrad))
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)


def test_rmsprop_and_adagrad_closed_form():
    lr, rho, eps = 0.01, 0.9, 1e-7

    def rms(w, g, v, t):
        v = rho * v + (1 - rho) * g * g
        return w - lr * g / np.sqrt(v + eps), v

    def adagrad(w, g, acc, t):
        acc = acc + g * g
        return w - lr * g / np.sqrt(acc + eps), acc

    for make, update, init in [
        (lambda lib: lib.optimizers.RMSprop(lr), rms, np.zeros_like),
        (lambda lib: lib.optimizers.Adagrad(lr), adagrad, lambda w: np.full_like(w, 0.1)),
    ]:
        got, _, _ = run_callax(make)
        for a, b in zip(got, _numpy_run(update, init)):
            np.testing.assert_allclose(a, b, atol=TOL, rtol=TOL)
