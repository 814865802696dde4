"""NumPy vs JAX input to an eager layer call (issue 13 item 1).

`Dense(16, activation="relu")` on a 32x16 float32 array, interleaved rounds:
the same data as a JAX array, as a NumPy array with the session-2 conversion
(``jnp.asarray(a, dtype=...)`` always), as a NumPy array with the current
``_from_numpy``, and one ``jnp.asarray`` alone. Medians in us.

Run: python benchmarks/numpy_inputs.py
"""

from __future__ import annotations

import statistics
import time

import jax.numpy as jnp
import numpy as np

import callax
import callax.core.call as call_module

current = call_module._from_numpy


def session2(a, dtype):
    """The conversion before session 3: ``dtype=`` passed on every float array."""
    if dtype is not None and a.dtype.kind == "f":
        return jnp.asarray(a, dtype=dtype)
    if a.dtype.kind in "USO":
        return a
    return jnp.asarray(a)


def per_call_us(fn, n=500):
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main(rounds: int = 15) -> str:
    dense = callax.layers.Dense(16, activation="relu")
    xn = np.random.default_rng(0).normal(size=(32, 16)).astype(np.float32)
    xj = jnp.asarray(xn)
    dense(xj)

    def numpy_call(convert):
        def run():
            call_module._from_numpy = convert
            try:
                return per_call_us(lambda: dense(xn).block_until_ready())
            finally:
                call_module._from_numpy = current

        return run

    contenders = {
        "JAX input": lambda: per_call_us(lambda: dense(xj).block_until_ready()),
        "NumPy input, session 2": numpy_call(session2),
        "NumPy input, now": numpy_call(current),
        "jnp.asarray alone": lambda: per_call_us(lambda: jnp.asarray(xn).block_until_ready()),
    }
    for fn in contenders.values():
        fn()
    samples = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(fn())
    med = {name: statistics.median(v) for name, v in samples.items()}
    lines = ["## Dense(16, relu), 32x16 float32: NumPy vs JAX input", "",
             "| contender | median us/call |", "| --- | ---: |"]  # fmt: skip
    lines += [f"| {name} | {v:,.1f} |" for name, v in med.items()]
    lines.append(
        f"\nnumpy input: session 2 / now = {med['NumPy input, session 2'] / med['NumPy input, now']:.2f}x;"
        f"  now - (JAX input + one jnp.asarray) = "
        f"{med['NumPy input, now'] - med['JAX input'] - med['jnp.asarray alone']:.1f} us"
    )
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
