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

import numpy as np  # noqa: E402

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


def per_call(fn, min_time: float) -> float:
    calls, start = 0, time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls


def epoch_timer(lib):
    class EpochTimer(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimer


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
        timer = epoch_timer(self.lib)()
        self.model.fit(self.x, self.y, batch_size=B, epochs=2, verbose=0, callbacks=[timer],
                       shuffle=True)  # fmt: skip
        return timer.times[1:]


# ---------------------------------------------------------- hand-written JAX
class HandJax:
    def __init__(self, steps: int):
        import jax
        import jax.numpy as jnp
        import optax

        self.jax, self.jnp = jax, jnp
        self.x, self.y = data(steps)
        self.ids = jnp.asarray(self.x[:B])
        key = jax.random.key(0)
        keys = iter(jax.random.split(key, 16))

        def glorot(shape, fan_in, fan_out):
            lim = (6 / (fan_in + fan_out)) ** 0.5
            return jax.random.uniform(next(keys), shape, minval=-lim, maxval=lim)

        dh = D // H
        p = {"emb": jax.random.uniform(next(keys), (V, D), minval=-0.05, maxval=0.05)}
        for n in ("ln1", "ln2", "ln3"):
            p[n] = (jnp.ones(D), jnp.zeros(D))
        for n in ("q", "k", "v"):
            p[n] = (glorot((D, H, dh), D, H * dh), jnp.zeros((H, dh)))
        p["o"] = (glorot((H, dh, D), H * dh, D), jnp.zeros(D))
        p["ff1"] = (glorot((D, FF), D, FF), jnp.zeros(FF))
        p["ff2"] = (glorot((FF, D), FF, D), jnp.zeros(D))
        p["head"] = (glorot((D, V), D, V), jnp.zeros(V))
        self.params = p

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

        opt = optax.adam(1e-3)
        self.state = opt.init(self.params)

        def loss_fn(p, x, y):
            return optax.softmax_cross_entropy_with_integer_labels(apply(p, x), y).mean()

        @jax.jit
        def step(p, state, x, y):
            loss, g = jax.value_and_grad(loss_fn)(p, x, y)
            updates, state = opt.update(g, state, p)
            return optax.apply_updates(p, updates), state, loss

        self.step, self.fwd = step, jax.jit(apply)

    def forward(self):
        return self.jax.block_until_ready(self.fwd(self.params, self.ids))

    def fit(self) -> list[float]:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            order = np.random.permutation(len(self.x))
            for i in range(0, len(self.x), B):
                idx = order[i : i + B]
                self.params, self.state, loss = self.step(
                    self.params, self.state, self.x[idx], self.y[idx]
                )
            loss.block_until_ready()
            times.append(time.perf_counter() - start)
        return times[1:]


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

    def fit(self) -> list[float]:
        times = []
        for _ in range(2):
            start = time.perf_counter()
            order = self.torch.randperm(len(self.x))
            for i in range(0, len(self.x), B):
                idx = order[i : i + B]
                self.opt.zero_grad(set_to_none=True)
                loss = self.loss(self.model(self.x[idx]).reshape(-1, V), self.y[idx].reshape(-1))
                loss.backward()
                self.opt.step()
            times.append(time.perf_counter() - start)
        return times[1:]


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
            print(json.dumps(per_call(c.forward, float(cmd[1]))), flush=True)
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
    forward = {
        "callax eager": cx.forward,
        "callax.jit": lambda: jax.block_until_ready(jitted(cx.ids)),
        "keras3 eager": None,
        "hand-written jax.jit": hand.forward,
    }
    fits = {"callax fit": cx.fit, "keras3 fit": None, "hand-written jax+optax": hand.fit}
    try:
        torch = Torch(steps)
        forward["pytorch eager"] = torch.forward
        fits["pytorch"] = torch.fit
    except ImportError as error:
        notes.append(f"pytorch skipped: {error}")
    for fn in list(forward.values()) + list(fits.values()):
        if fn is not None:
            fn()  # warm-up (compiles)
    f_times: dict[str, list[float]] = {k: [] for k in forward}
    e_times: dict[str, list[float]] = {k: [] for k in fits}
    try:
        for _ in range(rounds):
            for name, fn in forward.items():
                f_times[name].append(
                    keras.ask(f"forward {min_time}") if fn is None else per_call(fn, min_time)
                )
            for name, fn in fits.items():
                e_times[name] += keras.ask("fit") if fn is None else fn()
    finally:
        keras.close()
    fwd = {k: statistics.median(v) for k, v in f_times.items()}
    rate = {k: steps * B / statistics.median(v) for k, v in e_times.items()}

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
