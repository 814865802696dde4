"""Import time and first-call time (construct + build + first result) of seed example 1.

Each measurement runs in a fresh subprocess; contenders alternate round by round.
The input is a NumPy array made before the clock starts (the issue's "first call"
is construct + build + first result); a second table makes the input with the
library's own ``random.normal`` inside the timed region, which adds JAX's
threefry sampler compile (~0.2-0.3 s here) to every contender.
  callax (cold cache)   CALLAX_COMPILATION_CACHE=0: every XLA compile paid
  callax (warm cache)   the default: a rerun reuses compiled executables
  keras3                Keras 3 on JAX, its defaults
  jax + jax.random      hand-written JAX with jax.random initializers

``--phases`` splits callax's first call (warm and cold cache) into its parts,
each in a fresh subprocess: starting JAX's backend, importing the MLIR
dialects (JAX's first lowering does it), converting the NumPy input (``jnp.asarray``
compiles one copy program per new shape), constructing and building the model
(initializers, variables), and the first call itself (one compiled kernel per
Dense layer: trace, lower, persistent-cache lookup, load); then the same two
layers written as hand-written ``jax.jit`` functions, traced, lowered and
compiled step by step. Wall-clock and process CPU time (all threads) per phase.

Run: python benchmarks/startup.py [--phases] [--rounds N]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CALLAX = """
import time; t0 = time.perf_counter()
import jax; t1 = time.perf_counter()
import callax as keras; t2 = time.perf_counter()
__PRE__
class SimpleSequentialModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(64, activation="relu")
        self.dense2 = keras.layers.Dense(10, activation="softmax")
    def call(self, inputs):
        return self.dense2(self.dense1(inputs))
__INPUT__
model = SimpleSequentialModel()
y = model(x); y.block_until_ready(); t3 = time.perf_counter()
"""

KERAS = CALLAX.replace("import callax as keras", "import keras")

JAX = """
import time; t0 = time.perf_counter()
import jax; t1 = time.perf_counter()
import jax.numpy as jnp; t2 = time.perf_counter()
__PRE__
key = jax.random.key(0)
k1, k2, k3 = jax.random.split(key, 3)
lim1, lim2 = (6 / (32 + 64)) ** 0.5, (6 / (64 + 10)) ** 0.5
params = [jax.random.uniform(k1, (32, 64), minval=-lim1, maxval=lim1), jnp.zeros(64),
          jax.random.uniform(k2, (64, 10), minval=-lim2, maxval=lim2), jnp.zeros(10)]
def model(x):
    return jax.nn.softmax(jax.nn.relu(x @ params[0] + params[1]) @ params[2] + params[3])
__INPUT__
y = model(x); y.block_until_ready(); t3 = time.perf_counter()
"""

# Where the input comes from: NumPy before the clock (the first-call figure), or
# the library's random.normal inside the timed region.
NUMPY_PRE = (
    "t_in = time.perf_counter(); import numpy as np; "
    "x = np.random.default_rng(0).normal(size=(32, 32)).astype('float32'); "
    "t_in = time.perf_counter() - t_in"
)
VARIANTS = {
    "numpy input": {"PRE": NUMPY_PRE, "INPUT": ""},
    "input from random.normal": {"PRE": "", "INPUT": "x = keras.random.normal((32, 32))"},
}
JAX_RANDOM_INPUT = "x = jax.random.normal(k3, (32, 32))"


def variant(code: str, name: str, is_jax: bool = False) -> str:
    parts = dict(VARIANTS[name])
    if is_jax and parts["INPUT"]:
        parts["INPUT"] = JAX_RANDOM_INPUT
    return code.replace("__PRE__", parts["PRE"]).replace("__INPUT__", parts["INPUT"])


REPORT = (
    "\nimport json; t_in = globals().get('t_in', 0.0)\n"
    "print(json.dumps({'jax': t1 - t0, 'lib': t2 - t1, 'first': t3 - t2 - t_in}))\n"
)


def run(code: str, env: dict[str, str], report: bool = True) -> dict:
    # Bytecode is allowed: pip precompiles Keras's and JAX's .pyc files at install,
    # and callax's are written by the first (warm-up) run, as any install has them.
    # Without this an editable checkout recompiles callax's sources on every import.
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run(
        [sys.executable, "-c", code + (REPORT if report else "")], capture_output=True,
        text=True, check=True,
        env={**base, "KERAS_BACKEND": "jax", **env}, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


PHASES = """
import time, json
import jax, numpy as np
import callax as keras
x = np.random.default_rng(0).normal(size=(32, 32)).astype("float32")
T, out = [(time.perf_counter(), time.process_time())], {}
def mark(name):
    T.append((time.perf_counter(), time.process_time()))
    out[name] = ((T[-1][0] - T[-2][0]) * 1e3, (T[-1][1] - T[-2][1]) * 1e3)
jax.devices(); mark("backend start (jax.devices)")
import jaxlib.mlir.dialects.mhlo; mark("MLIR dialect import")
xj = jax.numpy.asarray(x); xj.block_until_ready(); mark("NumPy input: jnp.asarray")
class SimpleSequentialModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(64, activation="relu")
        self.dense2 = keras.layers.Dense(10, activation="softmax")
    def call(self, inputs):
        return self.dense2(self.dense1(inputs))
model = SimpleSequentialModel(); mark("construct")
model.dense1.build((32, 32)); model.dense2.build((32, 64)); mark("build (initializers, variables)")
y = model(xj); y.block_until_ready(); mark("first model(x): 2 kernels")
y = model(xj); y.block_until_ready(); mark("second model(x)")
w = [jax.numpy.asarray(v) for v in model.get_weights()]; mark("(hand-written) weights")
for i, f in enumerate([lambda x, w, b: jax.nn.relu(x @ w + b),
                       lambda x, w, b: jax.nn.softmax(x @ w + b)]):
    a = (xj, w[0], w[1]) if i == 0 else (jax.numpy.ones((32, 64)), w[2], w[3]); mark("(hand-written) weights")
    t = jax.jit(f).trace(*a); mark(f"(hand-written) layer {i + 1}: trace")
    lo = t.lower(); mark(f"(hand-written) layer {i + 1}: lower")
    c = lo.compile(); mark(f"(hand-written) layer {i + 1}: compile / cache load")
    c(*a).block_until_ready(); mark(f"(hand-written) layer {i + 1}: run")
out.pop("(hand-written) weights")
print(json.dumps(out))
"""


def phases(rounds: int = 5) -> str:
    """The first call of seed example 1, phase by phase (medians of ``rounds``)."""
    lines = ["## First call of seed example 1, by phase (ms: wall / process CPU, medians)", ""]
    with tempfile.TemporaryDirectory() as cache:
        envs = {
            "warm cache": {"CALLAX_CACHE_DIR": cache},
            "cold cache": {"CALLAX_COMPILATION_CACHE": "0"},
        }
        run(PHASES, envs["warm cache"], report=False)  # fills the cache
        samples: dict[str, list] = {k: [] for k in envs}
        for _ in range(rounds):
            for name, env in envs.items():
                samples[name].append(run(PHASES, env, report=False))
    names = list(samples["warm cache"][0])
    lines += ["| phase | warm cache | cold cache |", "| --- | ---: | ---: |"]
    totals = {k: [0.0, 0.0] for k in envs}
    for phase in names:
        cells = []
        for env in envs:
            wall = statistics.median(s[phase][0] for s in samples[env])
            cpu = statistics.median(s[phase][1] for s in samples[env])
            if not phase.startswith("(") and phase != "second model(x)":
                totals[env][0] += wall
                totals[env][1] += cpu
            cells.append(f"{wall:.1f} / {cpu:.1f}")
        lines.append(f"| {phase} | {' | '.join(cells)} |")
    lines.append("| **callax total (first call)** | "
                 + " | ".join(f"{w:.1f} / {c:.1f}" for w, c in totals.values()) + " |")  # fmt: skip
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text


def main(rounds: int = 3) -> str:
    tables = [_table(name, rounds) for name in VARIANTS]
    text = "\n".join(tables) + (
        "\n(library import: the time `import callax` / `import keras` adds after `import jax`; "
        "for the JAX row it is `import jax.numpy`.) Targets: callax import adds <= 0.3 s; "
        "first call <= 0.2x Keras's (numpy-input table).\n"
    )
    print(text)
    return text


def _table(name: str, rounds: int) -> str:
    with tempfile.TemporaryDirectory() as cache:
        contenders = {
            "callax (cold cache)": (variant(CALLAX, name), {"CALLAX_COMPILATION_CACHE": "0"}),
            "callax (warm cache)": (variant(CALLAX, name), {"CALLAX_CACHE_DIR": cache}),
            "keras3": (variant(KERAS, name), {}),
            "jax + jax.random": (variant(JAX, name, is_jax=True), {}),
        }
        run(contenders["callax (warm cache)"][0], {"CALLAX_CACHE_DIR": cache})  # fill it
        samples: dict[str, list[dict[str, float]]] = {k: [] for k in contenders}
        for _ in range(rounds):
            for contender, (code, env) in contenders.items():
                samples[contender].append(run(code, env))
    lines = [f"## Startup: import and first call of seed example 1 ({name})", "",
             "| contender | import jax s | library import s | first call s | first call vs keras3 |",
             "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    med = {
        contender: {k: statistics.median(s[k] for s in runs) for k in ("jax", "lib", "first")}
        for contender, runs in samples.items()
    }
    for contender, m in med.items():
        lines.append(
            f"| {contender} | {m['jax']:.2f} | {m['lib']:.2f} | {m['first']:.2f} | "
            f"{m['first'] / med['keras3']['first']:.2f}x |"
        )
    table = "\n".join(lines) + "\n"
    print(table, flush=True)
    return table


if __name__ == "__main__":
    _rounds = int(sys.argv[sys.argv.index("--rounds") + 1]) if "--rounds" in sys.argv else None
    if "--phases" in sys.argv:
        phases(_rounds or 5)
    else:
        main(_rounds or 3)
