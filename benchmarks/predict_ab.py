"""``Model.predict`` of two source trees against a hand-written jitted loop (A/B of a change).

Two versions of callax cannot share one process, so each round runs one
subprocess per tree, alternating which tree goes first. Inside each subprocess
callax's ``predict`` and the hand-written loop of ``harness.HandWritten`` (a
``jax.jit`` per batch of NumPy rows, outputs gathered at the end) alternate
call by call, so the ratio callax / hand-written is measured under the same
load; the driver reports, per tree, the medians of every sample and of those
ratios. Workloads:

  mlp 60k b1024   the issue's predict workload (training.py): MLP 784-256-256-10
  tiny 20k b100   Dense(1) on 4 features: compute ~nil, the per-batch host cost
  one batch       100 rows, one batch: the fixed cost of one predict call

Each row gives wall-clock and "[cpu]", the main thread's CPU time (the Python
side, much less disturbed by other jobs on a shared machine than wall-clock).

Run: python benchmarks/predict_ab.py /path/to/tree_A /path/to/tree_B [--rounds 6]
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


def _timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.thread_time()
    fn()
    return time.perf_counter() - wall, time.thread_time() - cpu


def worker(inner: int) -> dict[str, list[float]]:
    """Samples (ms per predict call) of callax and the hand-written loop."""
    sys.path.insert(0, HERE)
    import jax
    import jax.numpy as jnp
    import numpy as np
    from harness import HandWritten
    from training import compiled, data, jax_mlp_apply, jax_mlp_params, mlp

    import callax

    x, _ = data()
    big = compiled(callax, mlp(callax))
    hand = HandWritten(jax_mlp_params, jax_mlp_apply, 1024)
    rng = np.random.default_rng(0)
    xs = rng.random((20_000, 4), dtype=np.float32)
    tiny = callax.Sequential([callax.Input((4,)), callax.layers.Dense(1)])
    tiny.compile(loss="mse")
    weights = [jnp.asarray(w) for w in tiny.get_weights()]
    tiny_fn = jax.jit(lambda w, v: v @ w[0] + w[1])

    def tiny_hand(rows, batch):
        out = [tiny_fn(weights, rows[i : i + batch]) for i in range(0, len(rows), batch)]
        return np.concatenate([np.asarray(o) for o in out])

    workloads = {
        "mlp 60k b1024": (lambda: big.predict(x, batch_size=1024, verbose=0),
                          lambda: hand.predict(x, 1024), 3),
        "tiny 20k b100": (lambda: tiny.predict(xs, batch_size=100, verbose=0),
                          lambda: tiny_hand(xs, 100), 10),
        "one batch": (lambda: tiny.predict(xs[:100], batch_size=100, verbose=0),
                      lambda: tiny_hand(xs[:100], 100), 200),
    }  # fmt: skip
    samples: dict[str, list[float]] = {}
    for name, (ours, theirs, reps) in workloads.items():
        ours(), theirs()  # compile
        for _ in range(inner * reps):
            (wc, cc), (wh, ch) = _timed(ours), _timed(theirs)
            for key, value in ((f"{name} callax", wc), (f"{name} callax [cpu]", cc),
                               (f"{name} hand", wh), (f"{name} hand [cpu]", ch),
                               (f"{name} ratio", wh / wc)):  # fmt: skip
                samples.setdefault(key, []).append(value * (1 if key.endswith("ratio") else 1e3))
    return samples


def run_tree(tree: str, inner: int) -> dict[str, list[float]]:
    env = dict(os.environ, PYTHONPATH=tree)
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", str(inner)],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree_a")
    parser.add_argument("tree_b")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--inner", type=int, default=3, help="timing rounds per subprocess")
    args = parser.parse_args()
    trees = {"A": os.path.abspath(args.tree_a), "B": os.path.abspath(args.tree_b)}
    results: dict[str, list[dict[str, list[float]]]] = {"A": [], "B": []}
    for r in range(args.rounds):
        for key in ("A", "B") if r % 2 == 0 else ("B", "A"):
            results[key].append(run_tree(trees[key], args.inner))
        print(f"round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    print(f"A = {trees['A']}\nB = {trees['B']}\n")
    print("| workload | A median | B median | B / A |")
    print("| --- | ---: | ---: | ---: |")
    for name in results["A"][0]:
        a = statistics.median(t for run in results["A"] for t in run[name])
        b = statistics.median(t for run in results["B"] for t in run[name])
        unit = "" if name.endswith("ratio") else " ms"
        label = name.replace("ratio", "throughput callax / hand-written")
        print(f"| {label} | {a:,.3f}{unit} | {b:,.3f}{unit} | {b / a:.3f} |")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(int(sys.argv[2]))))
    else:
        main()
