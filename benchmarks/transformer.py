"""A small transformer workload: eager forward latency and fit throughput.

Model (the same in every contender): token Embedding(1000, 128) -> pre-LN block
[LayerNorm -> MultiHeadAttention(4 heads, key_dim 32) -> residual; LayerNorm ->
Dense 512 gelu -> Dense 128 -> residual] -> LayerNorm -> Dense 1000 (per-token
logits). Batch 32, sequence 128, next-token style sparse cross-entropy on random
labels, Adam 1e-3. No positional embedding and no mask (the same work everywhere).

Contenders:
  callax                 a callax.Model subclass: eager model(ids); model.fit
  callax.jit             callax.jit(model)(ids) (forward only)
  keras3                 the same class for Keras 3 (JAX backend), in its own
                         subprocess (driven round by round over a pipe)
  hand-written jax+optax jax.jit forward; jax.jit value_and_grad + optax.adam step
  pytorch                the same block in torch (eager, torch.no_grad forward;
                         a plain training loop); skipped if torch does not import

Each round runs every contender in turn (a noisy neighbour slows all alike);
medians over rounds. Forward: seconds per call of one batch. Fit: each round
runs one fit of 2 epochs of ``steps`` batches; the first epoch (compile, setup)
is left out.

Run: python benchmarks/transformer.py [--quick]     (~3 min; --quick ~1 min)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from harness import HandWritten, interleave, time_per_call, timed_epochs, timed_fit  # noqa: E402

V, D, H, FF, T, B = 1000, 128, 4, 512, 128, 32
EPS = 1e-3  # Keras's LayerNormalization default; used by every contender


def data(steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    n = steps * B
    return (rng.integers(0, V, (n, T)).astype("int32"),
            rng.integers(0, V, (n, T)).astype("int32"))  # fmt: skip


def model_class(lib):
    L = lib.layers

    class TinyTransformer(lib.Model):
        def __init__(self):
            super().__init__()
            self.emb = L.Embedding(V, D)
            self.ln1 = L.LayerNormalization(epsilon=EPS)
            self.mha = L.MultiHeadAttention(H, D // H)
            self.ln2 = L.LayerNormalization(epsilon=EPS)
            self.ff1 = L.Dense(FF, activation="gelu")
            self.ff2 = L.Dense(D)
            self.ln3 = L.LayerNormalization(epsilon=EPS)
            self.head = L.Dense(V)

        def call(self, ids):
            x = self.emb(ids)
            h = self.ln1(x)
            x = x + self.mha(h, h)
            x = x + self.ff2(self.ff1(self.ln2(x)))
            return self.head(self.ln3(x))

    return TinyTransformer


class LibContender:
    """callax or Keras 3: the same model class, eager forward and model.fit."""

    def __init__(self, lib, steps: int):
        import jax
        import jax.numpy as jnp

        self.lib, self.jax = lib, jax
        self.x, self.y = data(steps)
        self.ids = jnp.asarray(self.x[:B])
        self.model = model_class(lib)()
        self.model(self.ids)
        self.model.compile(
            optimizer=lib.optimizers.Adam(1e-3),
            loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
        )

    def forward(self):
        return self.jax.block_until_ready(self.model(self.ids))

    def fit(self) -> list[float]:
        return timed_fit(self.lib, self.model, self.x, self.y, B, 2, shuffle=True)[1:]


# ---------------------------------------------------------- hand-written JAX
class HandJax:
    """The block as jax functions, trained by ``harness.HandWritten``."""

    def __init__(self, steps: int):
        import jax
        import jax.numpy as jnp

        self.jax = jax
        self.x, self.y = data(steps)
        self.ids = jnp.asarray(self.x[:B])
        dh = D // H

        def init(key):
            keys = iter(jax.random.split(key, 16))

            def glorot(shape, fan_in, fan_out):
                lim = (6 / (fan_in + fan_out)) ** 0.5
                return jax.random.uniform(next(keys), shape, minval=-lim, maxval=lim)

            p = {"emb": jax.random.uniform(next(keys), (V, D), minval=-0.05, maxval=0.05)}
            for n in ("ln1", "ln2", "ln3"):
                p[n] = (jnp.ones(D), jnp.zeros(D))
            for n in ("q", "k", "v"):
                p[n] = (glorot((D, H, dh), D, H * dh), jnp.zeros((H, dh)))
            p["o"] = (glorot((H, dh, D), H * dh, D), jnp.zeros(D))
            p["ff1"] = (glorot((D, FF), D, FF), jnp.zeros(FF))
            p["ff2"] = (glorot((FF, D), FF, D), jnp.zeros(D))
            p["head"] = (glorot((D, V), D, V), jnp.zeros(V))
            return p

        def ln(x, g_b):
            m = x.mean(-1, keepdims=True)
            v = ((x - m) ** 2).mean(-1, keepdims=True)
            return (x - m) * jax.lax.rsqrt(v + EPS) * g_b[0] + g_b[1]

        def apply(p, ids):
            x = p["emb"][ids]
            h = ln(x, p["ln1"])
            q = jnp.einsum("btd,dhk->bthk", h, p["q"][0]) + p["q"][1]
            k = jnp.einsum("btd,dhk->bthk", h, p["k"][0]) + p["k"][1]
            v = jnp.einsum("btd,dhk->bthk", h, p["v"][0]) + p["v"][1]
            s = jnp.einsum("bqhk,bshk->bhqs", q, k) / jnp.sqrt(dh).astype(q.dtype)
            a = jnp.einsum("bhqs,bshk->bqhk", jax.nn.softmax(s, -1), v)
            x = x + jnp.einsum("bqhk,hkd->bqd", a, p["o"][0]) + p["o"][1]
            h = jax.nn.gelu(ln(x, p["ln2"]) @ p["ff1"][0] + p["ff1"][1], approximate=False)
            x = x + h @ p["ff2"][0] + p["ff2"][1]
            return ln(x, p["ln3"]) @ p["head"][0] + p["head"][1]

        self.loop = HandWritten(init, apply, B)

    def forward(self):
        return self.jax.block_until_ready(self.loop.predict_fn(self.loop.params, self.ids))

    def fit(self) -> list[float]:
        return self.loop.fit(self.x, self.y, 2)[1:]


# ---------------------------------------------------------------- PyTorch
class Torch:
    def __init__(self, steps: int):
        import torch
        from torch import nn

        self.torch = torch
        torch.manual_seed(0)
        self.x, self.y = (torch.from_numpy(a).long() for a in data(steps))
        self.ids = self.x[:B]

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.emb = nn.Embedding(V, D)
                self.ln1 = nn.LayerNorm(D, eps=EPS)
                self.mha = nn.MultiheadAttention(D, H, batch_first=True)
                self.ln2 = nn.LayerNorm(D, eps=EPS)
                self.ff = nn.Sequential(nn.Linear(D, FF), nn.GELU(), nn.Linear(FF, D))
                self.ln3 = nn.LayerNorm(D, eps=EPS)
                self.head = nn.Linear(D, V)

            def forward(self, ids):
                x = self.emb(ids)
                h = self.ln1(x)
                x = x + self.mha(h, h, h, need_weights=False)[0]
                x = x + self.ff(self.ln2(x))
                return self.head(self.ln3(x))

        self.model = Block()
        self.opt = torch.optim.Adam(self.model.parameters(), 1e-3)
        self.loss = nn.CrossEntropyLoss()

    def forward(self):
        with self.torch.no_grad():
            return self.model(self.ids)

    def epoch(self) -> None:
        order = self.torch.randperm(len(self.x))
        for i in range(0, len(self.x), B):
            idx = order[i : i + B]
            self.opt.zero_grad(set_to_none=True)
            loss = self.loss(self.model(self.x[idx]).reshape(-1, V), self.y[idx].reshape(-1))
            loss.backward()
            self.opt.step()

    def fit(self) -> list[float]:
        return timed_epochs(self.epoch, 2)[1:]


# ------------------------------------------------------- Keras in a subprocess
def keras_worker(steps: int) -> None:
    """Builds the Keras contender, then answers 'forward <min_time>' / 'fit' lines."""
    import keras

    c = LibContender(keras, steps)
    c.fit()  # compile
    c.forward()
    print("ready", flush=True)
    for line in sys.stdin:
        cmd = line.split()
        if cmd[0] == "forward":
            print(json.dumps(time_per_call(c.forward, float(cmd[1]), 10**9)), flush=True)
        elif cmd[0] == "fit":
            print(json.dumps(c.fit()), flush=True)
        else:
            return


class KerasProxy:
    def __init__(self, steps: int):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--keras-worker", str(steps)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        line = self.proc.stdout.readline().strip()
        if line != "ready":
            raise RuntimeError(f"keras worker did not start: {line!r}")

    def ask(self, line: str):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self):
        self.proc.stdin.write("quit\n")
        self.proc.stdin.flush()
        self.proc.wait()


# ---------------------------------------------------------------- driver
def main(argv: list[str]) -> str:
    quick = "--quick" in argv
    steps, rounds, min_time = (3, 2, 0.25) if quick else (8, 3, 0.6)
    started = time.time()
    import jax

    import callax

    notes = []
    cx = LibContender(callax, steps)
    jitted = callax.jit(cx.model)
    hand = HandJax(steps)
    keras = KerasProxy(steps)

    def timed(fn):
        return lambda: time_per_call(fn, min_time, 10**9)

    def jitted_forward():
        return jax.block_until_ready(jitted(cx.ids))

    local = [cx.forward, jitted_forward, hand.forward, cx.fit, hand.fit]
    # Keras answers from its subprocess (warmed up before it said "ready").
    forward = {
        "callax eager": timed(cx.forward),
        "callax.jit": timed(jitted_forward),
        "keras3 eager": lambda: keras.ask(f"forward {min_time}"),
        "hand-written jax.jit": timed(hand.forward),
    }
    fits = {"callax fit": cx.fit, "keras3 fit": lambda: keras.ask("fit"),
            "hand-written jax+optax": hand.fit}  # fmt: skip
    try:
        torch = Torch(steps)
        forward["pytorch eager"] = timed(torch.forward)
        fits["pytorch"] = torch.fit
        local += [torch.forward, torch.fit]
    except ImportError as error:
        notes.append(f"pytorch skipped: {error}")
    for fn in local:
        fn()  # warm-up (compiles)
    # One round: every forward, then every fit.
    contenders = {**{("forward", k): fn for k, fn in forward.items()},
                  **{("fit", k): fn for k, fn in fits.items()}}  # fmt: skip
    try:
        results = interleave(contenders, rounds)
    finally:
        keras.close()
    fwd = {name: statistics.median(v) for (kind, name), v in results.items() if kind == "forward"}
    rate = {name: steps * B / statistics.median([t for epoch in v for t in epoch])
            for (kind, name), v in results.items() if kind == "fit"}  # fmt: skip

    title = f"Transformer block (seq {T}, d {D}, {H} heads, batch {B}, vocab {V})"
    lines = [f"## {title}: eager forward, one batch", "",
             "| contender | median ms/call | time vs callax eager |", "| --- | ---: | ---: |"]  # fmt: skip
    for k, v in fwd.items():
        lines.append(f"| {k} | {v * 1e3:,.2f} | {v / fwd['callax eager']:.2f}x |")
    lines += ["", f"## {title}: fit ({steps} steps per epoch)", "",
              "| contender | samples/s | vs callax fit |", "| --- | ---: | ---: |"]  # fmt: skip
    for k, v in rate.items():
        lines.append(f"| {k} | {v:,.0f} | {v / rate['callax fit']:.2f}x |")
    hw = rate["hand-written jax+optax"]
    lines += [
        "",
        f"fit: callax / hand-written = {rate['callax fit'] / hw:.2f} (target >= 1.0);  "
        f"callax / keras3 = {rate['callax fit'] / rate['keras3 fit']:.2f} (target >= 1.2)",
        f"eager forward: callax / keras3 = {fwd['callax eager'] / fwd['keras3 eager']:.3f}"
        f" (target <= 0.10);  callax / hand-written jax.jit = "
        f"{fwd['callax eager'] / fwd['hand-written jax.jit']:.2f}",
    ]
    lines += notes
    lines.append(f"(rounds {rounds}, {time.time() - started:.0f} s, load {os.getloadavg()})")
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--keras-worker":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        keras_worker(int(sys.argv[2]))
    else:
        main(sys.argv[1:])
