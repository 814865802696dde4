"""NumPy vs JAX input to an eager call (issue 13 item 1).

`Dense(16, activation="relu")` on a 32x16 float32 array, and seed example 1
(a user model: its own call converts, its layers get JAX arrays), interleaved
rounds: the same data as a JAX array; as a NumPy array converted the session-3
way (``jnp.asarray`` in the call protocol, emulated here by patching the
protocol); as a NumPy array now (a built-in layer hands it to its compiled
kernel, a user model converts it with a jitted identity); and one
``jnp.asarray`` alone. Medians in us, wall-clock and the main thread's CPU time.

Run: python benchmarks/numpy_inputs.py [--rounds 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import jax.numpy as jnp
import numpy as np

import callax
import callax.core.call as call_module

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples", "seed"))
from example1_sequential import SimpleSequentialModel  # noqa: E402


def session3(a, dtype):
    """The conversion of sessions 3-4: ``jnp.asarray`` (``dtype=`` only to cast)."""
    kind = a.dtype.kind
    if kind == "f" and dtype is not None and a.dtype != dtype:
        return jnp.asarray(a, dtype=dtype)
    if kind in "USO":
        return a
    return jnp.asarray(a)


def per_call_us(fn, n=400):
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    for _ in range(n):
        fn()
    return (time.perf_counter() - wall0) / n * 1e6, (time.thread_time() - cpu0) / n * 1e6


def _as_before(fn):
    """``fn`` run with the protocol converting every NumPy array by ``jnp.asarray``."""

    def run():
        saved = call_module._from_numpy, call_module.needs_no_cast
        call_module._from_numpy, call_module.needs_no_cast = session3, lambda *_: False
        try:
            return per_call_us(fn)
        finally:
            call_module._from_numpy, call_module.needs_no_cast = saved

    return run


def main(rounds: int = 15) -> str:
    dense = callax.layers.Dense(16, activation="relu")
    model = SimpleSequentialModel()
    rng = np.random.default_rng(0)
    xn = rng.normal(size=(32, 16)).astype(np.float32)
    x32n = rng.normal(size=(32, 32)).astype(np.float32)
    xj, x32j = jnp.asarray(xn), jnp.asarray(x32n)
    dense(xj)
    model(x32j)

    def dense_numpy():
        return dense(xn).block_until_ready()

    def model_numpy():
        return model(x32n).block_until_ready()

    contenders = {
        "Dense, JAX input": lambda: per_call_us(lambda: dense(xj).block_until_ready()),
        "Dense, NumPy input, before (jnp.asarray)": _as_before(dense_numpy),
        "Dense, NumPy input, now (into the kernel)": lambda: per_call_us(dense_numpy),
        "jnp.asarray alone": lambda: per_call_us(lambda: jnp.asarray(xn).block_until_ready()),
        "seed ex. 1, JAX x": lambda: per_call_us(lambda: model(x32j).block_until_ready()),
        "seed ex. 1, NumPy x, before (jnp.asarray)": _as_before(model_numpy),
        "seed ex. 1, NumPy x, now (jitted identity)": lambda: per_call_us(model_numpy),
    }
    for fn in contenders.values():
        fn()
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(fn())
    wall = {name: statistics.median(s[0] for s in v) for name, v in samples.items()}
    cpu = {name: statistics.median(s[1] for s in v) for name, v in samples.items()}
    lines = ["## NumPy vs JAX input, 32x16 / 32x32 float32", "",
             "| contender | median us/call | CPU us/call |", "| --- | ---: | ---: |"]  # fmt: skip
    lines += [f"| {name} | {wall[name]:,.1f} | {cpu[name]:,.1f} |" for name in contenders]
    for label, m in (("wall", wall), ("cpu", cpu)):
        now, before = (
            m["Dense, NumPy input, now (into the kernel)"],
            m["Dense, NumPy input, before (jnp.asarray)"],
        )
        budget = m["Dense, JAX input"] + m["jnp.asarray alone"]
        ex1_now = m["seed ex. 1, NumPy x, now (jitted identity)"]
        ex1_before = m["seed ex. 1, NumPy x, before (jnp.asarray)"]
        lines.append(
            f"\n[{label}] Dense NumPy: now / before = {now / before:.2f}; now - (JAX input + one "
            f"jnp.asarray) = {now - budget:+.1f} us (target <= 0); seed ex. 1 NumPy: now / "
            f"before = {ex1_now / ex1_before:.2f}, now / JAX x = "
            f"{ex1_now / m['seed ex. 1, JAX x']:.2f}"
        )
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    main(parser.parse_args().rounds)
