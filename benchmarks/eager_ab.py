"""Eager ``model(x)`` latency of two source trees, interleaved (A/B of a change).

Two versions of callax cannot share one process, so each round runs one short
subprocess per tree, alternating which tree goes first (A B, B A, A B, ...): a
noisy neighbour slows both alike. Each subprocess times every contender (the
seed models, a deeper Sequential, one Dense layer; JAX and NumPy inputs) and
prints its samples, wall-clock and "[cpu]" (the main thread's CPU time per
call: the Python side of a call, far less disturbed by other jobs on a shared
machine than wall-clock); the driver reports, per contender and tree, the
median and the minimum of all samples and the ratios B / A (below 1: B is
faster).

Run: python benchmarks/eager_ab.py /path/to/tree_A /path/to/tree_B [--rounds 6]
     [--env-b NAME=VALUE ...]   (B's subprocesses also get these environment
     variables: an A/B of a setting, e.g. the same tree twice with
     JAX_CPU_ENABLE_ASYNC_DISPATCH=false)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def worker(inner_rounds: int) -> dict[str, list[float]]:
    """Samples (us per call) of every contender, timed in this process's callax."""
    sys.path.insert(0, os.path.join(HERE, "..", "examples", "seed"))
    sys.path.insert(0, HERE)
    import jax
    import jax.numpy as jnp
    import numpy as np
    from example1_sequential import SimpleSequentialModel
    from example2_conditional import ConditionalModel
    from example3_multi_input import MultiInputModel

    import callax

    rng = np.random.default_rng(0)
    x32n = rng.normal(size=(32, 32)).astype(np.float32)
    a16n = rng.normal(size=(32, 16)).astype(np.float32)
    b16n = rng.normal(size=(32, 16)).astype(np.float32)
    x32, a16, b16 = (jnp.asarray(v) for v in (x32n, a16n, b16n))
    m1, m2, m3 = SimpleSequentialModel(), ConditionalModel(), MultiInputModel()
    deep = callax.Sequential([callax.layers.Dense(16, activation="relu") for _ in range(8)])
    dense = callax.layers.Dense(16, activation="relu")
    fm1 = callax.jit(m1)

    class Identity(callax.layers.Layer):  # a user layer: the protocol's own cost
        def call(self, x):
            return x

    class Nest(callax.Model):  # 8 nested user-layer calls, no computation
        def __init__(self):
            super().__init__()
            self.blocks = [Identity() for _ in range(8)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    ident, nest = Identity(), Nest()
    ready = jax.block_until_ready
    contenders = {
        "ex1 model(x), JAX x": lambda: ready(m1(x32)),
        "ex1 model(x), NumPy x": lambda: ready(m1(x32n)),
        "ex2 training=False": lambda: ready(m2(x32, training=False)),
        "ex2 training=True": lambda: ready(m2(x32, training=True)),
        "ex3 model(a, b), JAX": lambda: ready(m3(a16, b16)),
        "ex3 model(a, b), NumPy": lambda: ready(m3(a16n, b16n)),
        "Sequential 8x Dense(16)": lambda: ready(deep(a16)),
        "Dense(16) layer, JAX x": lambda: ready(dense(a16)),
        "Dense(16) layer, NumPy x": lambda: ready(dense(a16n)),
        "ex1 callax.jit(model)(x)": lambda: ready(fm1(x32)),
        "protocol only: identity layer": lambda: ident(a16),
        "protocol only: model of 8 identity layers": lambda: nest(a16),
    }
    for fn in contenders.values():
        for _ in range(3):
            fn()
    samples: dict[str, list[float]] = {}
    for _ in range(inner_rounds):
        for name, fn in contenders.items():
            wall, cpu = _time_per_call(fn)
            samples.setdefault(name, []).append(wall)
            samples.setdefault(name + " [cpu]", []).append(cpu)
    return samples


def _time_per_call(fn, min_time: float = 0.1) -> tuple[float, float]:
    """Microseconds per call: wall-clock, and this thread's CPU time (the Python
    side of a call, which other jobs on the machine disturb much less)."""
    calls = 0
    wall0, cpu0 = time.perf_counter(), time.thread_time()
    while True:
        fn()
        calls += 1
        wall = time.perf_counter() - wall0
        if wall >= min_time or calls >= 20000:
            cpu = time.thread_time() - cpu0
            return wall / calls * 1e6, cpu / calls * 1e6


def run_tree(tree: str, inner_rounds: int, extra_env: dict | None = None) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=tree, **(extra_env or {}))
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", str(inner_rounds)],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree_a")
    parser.add_argument("tree_b")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--inner", type=int, default=3, help="timing rounds per subprocess")
    parser.add_argument("--env-b", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args()
    trees = {"A": os.path.abspath(args.tree_a), "B": os.path.abspath(args.tree_b)}
    envs = {"A": {}, "B": dict(item.split("=", 1) for item in args.env_b)}
    results: dict[str, list[dict[str, list[float]]]] = {"A": [], "B": []}
    for r in range(args.rounds):
        for key in ("A", "B") if r % 2 == 0 else ("B", "A"):
            results[key].append(run_tree(trees[key], args.inner, envs[key]))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    names = list(results["A"][0])
    print(f"A = {trees['A']}\nB = {trees['B']} {envs['B'] or ''}\n")
    # The median of every sample, and the minimum: on a shared machine the
    # fastest sample is the one least disturbed by other jobs.
    print("| contender | A median us | B median us | B / A | A min us | B min us | B / A (min) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        a = [t for run in results["A"] for t in run[name]]
        b = [t for run in results["B"] for t in run[name]]
        ma, mb, la, lb = statistics.median(a), statistics.median(b), min(a), min(b)
        print(
            f"| {name} | {ma:,.1f} | {mb:,.1f} | {mb / ma:.3f} | {la:,.1f} | {lb:,.1f} | {lb / la:.3f} |"
        )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(int(sys.argv[2]))))
    else:
        main()
