"""A few cheap concurrency cases: loads and saves from several threads, and
per-thread loading state (safe mode, the variable budget) not leaking."""

from __future__ import annotations

import os
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import saved_models as sm
from fault_case import OK, C

import callax
from callax.core.variable import variable_budget
from callax.saving import SafeModeScope

L = callax.layers


def _parallel(fn, n=4):
    with ThreadPoolExecutor(n) as pool:
        return [f.result() for f in [pool.submit(fn, i) for i in range(n)]]


def _loads_in_threads():
    path = sm.saved("functional")[0]
    return _parallel(lambda i: sm.signature_of(sm.load(path)))


def _all_equal_to_saved(results):
    expected = sm.signature(sm.saved("functional")[2])
    assert all(r == expected for r in results)


def _saves_in_threads(dest):
    path = os.path.join(dest, "shared.keras")
    models = [sm.make("functional") for _ in range(4)]
    for i, m in enumerate(models):
        sm.randomize(m, seed=10 + i)
    _parallel(lambda i: models[i].save(path))
    loaded = sm.signature_of(sm.load(path))
    assert any(loaded == sm.signature_of(m) for m in models), "the file is none of the saves"
    leftovers = [f for f in os.listdir(dest) if f != "shared.keras"]
    assert not leftovers, leftovers


def _lambda_file(dest):
    i = callax.Input((3,))
    model = callax.Model(i, L.Lambda(lambda t: t * 2)(i))
    path = os.path.join(dest, "lambda.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    return path


def _safe_mode_is_per_thread(dest):
    """Thread A has safe mode off; thread B's load still refuses the lambda."""
    path = _lambda_file(dest)
    inside, release = threading.Event(), threading.Event()

    def unsafe_thread():
        with SafeModeScope(False):
            inside.set()
            release.wait(10)

    t = threading.Thread(target=unsafe_thread)
    t.start()
    inside.wait(10)
    try:
        callax.saving.load_model(path)
    finally:
        release.set()
        t.join()


def _budget_is_per_thread():
    """A tight budget in one thread does not limit layers built in another."""
    inside, release = threading.Event(), threading.Event()

    def budget_thread():
        with variable_budget(10, "a test"):
            inside.set()
            release.wait(10)

    t = threading.Thread(target=budget_thread)
    t.start()
    inside.wait(10)
    try:
        layer = L.Dense(64)
        layer(np.ones((1, 64), "float32"))
        return layer
    finally:
        release.set()
        t.join()


def _calls_in_threads():
    model = sm.make("functional")
    x = np.random.default_rng(0).standard_normal((8, 3)).astype("float32")
    expected = np.asarray(model(x))
    results = _parallel(lambda i: np.asarray(model(x)), n=4)
    assert all(np.allclose(r, expected) for r in results)


def _budget_refuses():
    with variable_budget(100, "this test's config"):
        L.Dense(64)(np.ones((1, 64), "float32"))


# fmt: off
CASES = [
    OK("load-model-from-4-threads", _loads_in_threads, _all_equal_to_saved),
    OK("save-same-path-from-4-threads", _saves_in_threads),
    C("safe-mode-off-does-not-leak-across-threads", _safe_mode_is_per_thread, ValueError, "lambda", "safe_mode=False"),
    OK("variable-budget-does-not-leak-across-threads", _budget_is_per_thread, lambda layer: layer.kernel.shape == (64, 64) or (_ for _ in ()).throw(AssertionError(layer.kernel.shape))),
    C("variable-budget-refuses", _budget_refuses, ValueError, "this test's config", "100 bytes", "(64, 64)", "refusing to allocate"),
    OK("call-model-from-4-threads", _calls_in_threads),
]
# fmt: on
