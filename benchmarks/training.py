"""fit / predict throughput: callax vs Keras 3 (JAX backend) vs hand-written JAX + optax.

Workloads (synthetic data of the right shapes; throughput does not depend on values):
  mlp fit         784→256→256→10 relu, batch 128, Adam, 60,000 samples per epoch
  mlp fit spe32   the same, batch 32, steps_per_execution=32 (Keras and callax)
  cnn fit         Conv2D 32 → MaxPool → Conv2D 64 → MaxPool → Flatten → Dense 10,
                  28×28×1, batch 128, Adam, 4,096 samples per epoch
  mlp predict     60,000 samples, batch 1024

fit is measured in steady state, as users run it: each round, every contender in
turn runs one fit of several epochs, timed per epoch by a callback (the
hand-written loop times its own epochs); the first epoch of each fit (compile,
data setup) is left out and the median epoch gives samples/s. predict: each
round times one full predict pass per contender, after a warm-up pass.
Reported: median samples/s and ratios. `--rss` prints callax's peak RSS per epoch
over 20 epochs (memory growth check).

Run: python benchmarks/training.py [--quick] [--rss]
"""

from __future__ import annotations

import os
import resource
import statistics
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from harness import HandWritten, elapsed, interleave, timed_fit  # noqa: E402

import callax  # noqa: E402

N, D, C = 60_000, 784, 10


def data(n=N, image=False, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, 28, 28, 1) if image else (n, D)
    return rng.random(shape, dtype=np.float32), rng.integers(0, C, n).astype("int32")


def mlp(lib):
    layers = lib.layers
    return lib.Sequential(
        [layers.Input((D,)), layers.Dense(256, activation="relu"),
         layers.Dense(256, activation="relu"), layers.Dense(C)]
    )  # fmt: skip


def cnn(lib):
    layers = lib.layers
    return lib.Sequential(
        [layers.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(),
         layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(), layers.Flatten(),
         layers.Dense(C)]
    )  # fmt: skip


def compiled(lib, model, spe=1):
    model.compile(
        optimizer=lib.optimizers.Adam(1e-3),
        loss=lib.losses.SparseCategoricalCrossentropy(from_logits=True),
        steps_per_execution=spe,
    )
    return model


# ----------------------------------------------------------- hand-written JAX
def jax_mlp_params(key):
    sizes = [D, 256, 256, C]
    params = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        lim = (6 / (a + b)) ** 0.5
        params += [jax.random.uniform(jax.random.fold_in(key, i), (a, b), minval=-lim, maxval=lim),
                   jnp.zeros(b)]  # fmt: skip
    return params


def jax_mlp_apply(params, x):
    for i in range(0, len(params) - 2, 2):
        x = jax.nn.relu(x @ params[i] + params[i + 1])
    return x @ params[-2] + params[-1]


def jax_cnn_params(key):
    k = [jax.random.fold_in(key, i) for i in range(3)]
    return [jax.random.normal(k[0], (3, 3, 1, 32)) * 0.1, jnp.zeros(32),
            jax.random.normal(k[1], (3, 3, 32, 64)) * 0.05, jnp.zeros(64),
            jax.random.normal(k[2], (5 * 5 * 64, C)) * 0.02, jnp.zeros(C)]  # fmt: skip


def jax_cnn_apply(params, x):
    dn = ("NHWC", "HWIO", "NHWC")
    for i in (0, 2):
        x = jax.lax.conv_general_dilated(x, params[i], (1, 1), "VALID", dimension_numbers=dn)
        x = jax.nn.relu(x + params[i + 1])
        x = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
    return x.reshape(x.shape[0], -1) @ params[4] + params[5]


# ---------------------------------------------------------------- measuring
def rounds_of(contenders: dict, samples: int, rounds: int) -> dict[str, float]:
    for fn in contenders.values():
        fn()  # warm-up epoch: compiles
    times = interleave({k: elapsed(fn) for k, fn in contenders.items()}, rounds)
    return {k: samples / statistics.median(v) for k, v in times.items()}


def table(title: str, rates: dict[str, float], notes: str = "") -> str:
    names = list(rates)
    lines = [
        f"## {title}",
        "",
        f"| contender | samples/s | vs {names[0]} |",
        "| --- | ---: | ---: |",
    ]
    for name in names:
        lines.append(f"| {name} | {rates[name]:,.0f} | {rates[name] / rates[names[0]]:.2f}x |")
    text = "\n".join(lines) + "\n" + (f"\n{notes}\n" if notes else "")
    print(text, flush=True)
    return text


def fit_workload(kind: str, batch: int, spe: int, n: int, rounds: int, with_jax=True,
                 epochs: int = 4) -> str:  # fmt: skip
    import keras

    x, y = data(n, image=kind == "cnn")
    build = mlp if kind == "mlp" else cnn
    cm = compiled(callax, build(callax), spe)
    km = compiled(keras, build(keras), spe)
    contenders = {
        "callax fit": lambda: timed_fit(callax, cm, x, y, batch, epochs),
        "keras3 fit": lambda: timed_fit(keras, km, x, y, batch, epochs),
    }
    if with_jax:
        hand = HandWritten(*(
            (jax_mlp_params, jax_mlp_apply) if kind == "mlp" else (jax_cnn_params, jax_cnn_apply)
        ), batch)  # fmt: skip
        contenders["hand-written jax+optax"] = lambda: hand.fit(x, y, epochs)
    fits = interleave(contenders, rounds)
    # The first epoch of each fit compiles: left out.
    rates = {k: n / statistics.median([t for times in v for t in times[1:]])
             for k, v in fits.items()}  # fmt: skip
    title = f"fit: {kind}, batch {batch}" + (f", steps_per_execution={spe}" if spe > 1 else "")
    notes = f"callax / keras3 = {rates['callax fit'] / rates['keras3 fit']:.2f}"
    if with_jax:
        notes += f";  callax / hand-written = {rates['callax fit'] / rates['hand-written jax+optax']:.2f}"
    return table(title, rates, notes)


def predict_workload(rounds: int) -> str:
    import keras

    x, _ = data()
    cm, km = compiled(callax, mlp(callax)), compiled(keras, mlp(keras))
    hand = HandWritten(jax_mlp_params, jax_mlp_apply, 1024)
    rates = rounds_of(
        {
            "callax predict": lambda: cm.predict(x, batch_size=1024, verbose=0),
            "keras3 predict": lambda: km.predict(x, batch_size=1024, verbose=0),
            "hand-written jax.jit": lambda: hand.predict(x, 1024),
        },
        N, rounds,
    )  # fmt: skip
    notes = (
        f"callax / keras3 = {rates['callax predict'] / rates['keras3 predict']:.2f};  "
        f"callax / hand-written = {rates['callax predict'] / rates['hand-written jax.jit']:.2f}"
    )
    return table("predict: mlp, batch 1024, 60,000 samples", rates, notes)


def rss_check(epochs: int = 20) -> str:
    x, y = data()
    model = compiled(callax, mlp(callax))
    lines = ["## Memory: callax fit, MLP, 20 epochs (peak RSS after each epoch, MiB)", ""]
    peaks = []
    for _ in range(epochs):
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        peaks.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    lines.append(" ".join(f"{p:.0f}" for p in peaks))
    lines.append(f"\ngrowth after epoch 2: {peaks[-1] - peaks[1]:.1f} MiB")
    text = "\n".join(lines) + "\n"
    print(text, flush=True)
    return text


def main(argv: list[str]) -> str:
    quick = "--quick" in argv
    rounds = 2 if quick else 3
    out = []
    if "--rss" in argv:
        return rss_check()
    out.append(fit_workload("mlp", 128, 1, N, rounds))
    out.append(fit_workload("mlp", 32, 32, N // 4 if quick else N, rounds, with_jax=False))
    out.append(predict_workload(rounds + 2))
    out.append(fit_workload("cnn", 128, 1, 2048 if quick else 4096, rounds, epochs=3))
    return "\n".join(out)


if __name__ == "__main__":
    main(sys.argv[1:])
