"""Shared problem for optimizer tests: two weights, a quadratic loss with a
fixed per-step perturbation, so every step sees a different, weight-dependent gradient."""

from __future__ import annotations

import numpy as np

SHAPES = {"kernel": (3, 4), "bias": (4,)}
STEPS = 6


def initial_values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {k: rng.normal(size=s).astype(np.float32) for k, s in SHAPES.items()}


def gradient(name: str, w: np.ndarray, step: int) -> np.ndarray:
    """d/dw of sum(scale * (w - target)^2) plus a fixed per-step perturbation."""
    rng = np.random.default_rng(1000 + step * 7 + len(name))
    scale = np.linspace(0.5, 3.0, w.size, dtype=np.float32).reshape(w.shape)
    target = np.full(w.shape, 0.3, np.float32)
    noise = rng.normal(scale=0.5, size=w.shape).astype(np.float32)
    return (2 * scale * (np.asarray(w) - target) + noise).astype(np.float32)


def run_callax(make_opt, steps: int = STEPS, seed: int = 0, constraint=None):
    """Runs ``steps`` stateful updates; returns (weights, optimizer values, optimizer)."""
    import callax

    init = initial_values(seed)
    variables = [callax.Variable(v, name=k, constraint=constraint) for k, v in init.items()]
    opt = make_opt(callax)
    for step in range(steps):
        grads = [gradient(v.name, v.numpy(), step) for v in variables]
        opt.apply_gradients(zip(grads, variables))
    return [v.numpy() for v in variables], [np.asarray(v.numpy()) for v in opt.variables], opt


def run_keras(make_opt, steps: int = STEPS, seed: int = 0, constraint=None):
    import keras

    init = initial_values(seed)
    variables = [keras.Variable(v, name=k) for k, v in init.items()]
    for v in variables:  # keras.Variable ignores a `constraint` argument; set the attribute
        v.constraint = constraint
    opt = make_opt(keras)
    for step in range(steps):
        grads = [gradient(v.name, np.asarray(v.numpy()), step) for v in variables]
        opt.apply_gradients(zip(grads, variables))
    return (
        [np.asarray(v.numpy()) for v in variables],
        [np.asarray(v.numpy()) for v in opt.variables],
        opt,
    )
