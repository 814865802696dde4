"""Import time and first-call time (construct + build + first result) of seed example 1.

Each measurement runs in a fresh subprocess; contenders alternate round by round.
  callax (cold cache)   CALLAX_COMPILATION_CACHE=0: every XLA compile paid
  callax (warm cache)   the default: a rerun reuses compiled executables
  keras3                Keras 3 on JAX, its defaults
  jax + jax.random      hand-written JAX with jax.random initializers

Run: python benchmarks/startup.py
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
class SimpleSequentialModel(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense1 = keras.layers.Dense(64, activation="relu")
        self.dense2 = keras.layers.Dense(10, activation="softmax")
    def call(self, inputs):
        return self.dense2(self.dense1(inputs))
model = SimpleSequentialModel()
y = model(keras.random.normal((32, 32))); y.block_until_ready(); t3 = time.perf_counter()
"""

KERAS = CALLAX.replace("import callax as keras", "import keras")

JAX = """
import time; t0 = time.perf_counter()
import jax; t1 = time.perf_counter()
import jax.numpy as jnp; t2 = time.perf_counter()
key = jax.random.key(0)
k1, k2, k3 = jax.random.split(key, 3)
lim1, lim2 = (6 / (32 + 64)) ** 0.5, (6 / (64 + 10)) ** 0.5
params = [jax.random.uniform(k1, (32, 64), minval=-lim1, maxval=lim1), jnp.zeros(64),
          jax.random.uniform(k2, (64, 10), minval=-lim2, maxval=lim2), jnp.zeros(10)]
def model(x):
    return jax.nn.softmax(jax.nn.relu(x @ params[0] + params[1]) @ params[2] + params[3])
y = model(jax.random.normal(k3, (32, 32))); y.block_until_ready(); t3 = time.perf_counter()
"""

REPORT = "\nimport json; print(json.dumps({'jax': t1 - t0, 'lib': t2 - t1, 'first': t3 - t2}))\n"


def run(code: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", code + REPORT], capture_output=True, text=True, check=True,
        env={**os.environ, "KERAS_BACKEND": "jax", **env}, cwd=ROOT,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(rounds: int = 3) -> str:
    with tempfile.TemporaryDirectory() as cache:
        contenders = {
            "callax (cold cache)": (CALLAX, {"CALLAX_COMPILATION_CACHE": "0"}),
            "callax (warm cache)": (CALLAX, {"CALLAX_CACHE_DIR": cache}),
            "keras3": (KERAS, {}),
            "jax + jax.random": (JAX, {}),
        }
        run(CALLAX, {"CALLAX_CACHE_DIR": cache})  # fill the warm cache once
        samples: dict[str, list[dict[str, float]]] = {k: [] for k in contenders}
        for _ in range(rounds):
            for name, (code, env) in contenders.items():
                samples[name].append(run(code, env))
    lines = ["## Startup: import and first call of seed example 1", "",
             "| contender | import jax s | library import s | first call s | first call vs keras3 |",
             "| --- | ---: | ---: | ---: | ---: |"]  # fmt: skip
    med = {
        name: {k: statistics.median(s[k] for s in runs) for k in ("jax", "lib", "first")}
        for name, runs in samples.items()
    }
    for name, m in med.items():
        lines.append(
            f"| {name} | {m['jax']:.2f} | {m['lib']:.2f} | {m['first']:.2f} | "
            f"{m['first'] / med['keras3']['first']:.2f}x |"
        )
    lines.append(
        "\n(library import: the time `import callax` / `import keras` adds after `import jax`; "
        "for the JAX row it is `import jax.numpy`.) Targets: callax import adds <= 0.3 s; "
        "first call <= 0.2x Keras's."
    )
    table = "\n".join(lines) + "\n"
    print(table)
    return table


if __name__ == "__main__":
    main()
