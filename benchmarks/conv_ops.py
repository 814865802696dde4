"""Per-op convolution timings on CPU: forward, input gradient, weight gradient.

For each shape (the small CNN's two convolutions of `training.py` first, then a few
others that place the rule's thresholds) it times, interleaved round by round
(medians of `--rounds` rounds, each op repeated for >= 0.2 s):

  forward       XLA native `lax.conv_general_dilated` | per-tap products summed |
                callax's route (`callax.ops.convolution.conv_general`)
  input grad    XLA native (callax keeps it)
  weight grad   XLA native (transposed convolution) | each of callax's
                `WEIGHT_FORMS` (per-tap GEMMs in NHWC or channel-major order; all
                windows stacked into one GEMM, channel-major or NHWC) |
                `lax.conv_general_dilated_patches` + one GEMM | callax's route
  torch         `F.conv2d` / `torch.nn.grad.conv2d_input` / `conv2d_weight`
                (NCHW), when torch imports

and prints GFLOP/s (2 * out_pixels * kh * kw * in * out per op). `--steps` times
the CNN's jitted training step with XLA's native ops vs callax's ops (the CPU
routes) vs PyTorch's step, interleaved (`--one-thread --cpu-time` apply). `--fit` instead
times the small-CNN fit (samples/s, median epoch of interleaved rounds) of callax
(whichever `callax` is on PYTHONPATH: run it once per worktree to compare),
hand-written JAX + optax and PyTorch (eager loop, Adam).

Run: python benchmarks/conv_ops.py [--rounds N] [--cpu-time] [--one-thread] [--only NAME] [--steps] [--fit [--n SAMPLES]]
"""

from __future__ import annotations

import functools
import os
import statistics
import sys
import time

if "--one-thread" in sys.argv:
    # One XLA (and torch) thread + --cpu-time: the work each formulation does, the
    # measure least disturbed by other processes on a crowded machine.
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax import lax  # noqa: E402

from callax.ops import convolution  # noqa: E402

NHWC = ("NHWC", "HWIO", "NHWC")

# (name, input NHWC, kernel HWIO, strides, padding)
SHAPES = [
    ("cnn conv1", (128, 28, 28, 1), (3, 3, 1, 32), (1, 1), "VALID"),
    ("cnn conv2", (128, 13, 13, 32), (3, 3, 32, 64), (1, 1), "VALID"),
    ("rgb 32x32", (32, 32, 32, 3), (3, 3, 3, 32), (1, 1), "SAME"),
    ("c8 s1", (64, 16, 16, 8), (3, 3, 8, 32), (1, 1), "SAME"),
    ("c16 s2", (32, 32, 32, 16), (3, 3, 16, 32), (2, 2), "SAME"),
    ("c64 16x16", (32, 16, 16, 64), (3, 3, 64, 64), (1, 1), "SAME"),
]


def native(x, k, strides, padding):
    return lax.conv_general_dilated(x, k, strides, padding, dimension_numbers=NHWC)


def pads_of(x, k, strides, padding):
    return convolution._explicit_pads(padding, x.shape[1:3], k.shape[:2], strides)


# ----------------------------------------------------- formulations (jit-able)
def fwd_taps(x, k, strides, padding):
    wins = convolution._windows(x, k.shape, strides, pads_of(x, k, strides, padding))
    return sum(w @ k[t // k.shape[1], t % k.shape[1]] for t, w in enumerate(wins))


def dw_native(x, g, k, strides, padding):
    return jax.vjp(lambda k: native(x, k, strides, padding), k)[1](g)[0]


def dw_route(x, g, k, strides, padding):
    conv = lambda k: convolution.conv_general(x, k, strides, padding, (1, 1), convolution._NHWC)  # noqa: E731
    return jax.vjp(conv, k)[1](g)[0]


def dw_linear(weight):
    """The weight gradient as the transpose of callax's kernel-linear map (``weight``
    is ``"im2col"`` or ``"taps"``), whatever the shape rule would pick."""

    def dw(x, g, k, strides, padding):
        pads = pads_of(x, k, strides, padding)
        f = lambda k: convolution._kernel_linear(x, k, strides, pads, weight)  # noqa: E731
        return jax.vjp(f, k)[1](g)[0]

    return dw


def dw_patches(x, g, k, strides, padding):
    kh, kw, c, o = k.shape
    p = lax.conv_general_dilated_patches(x, (kh, kw), strides, padding, dimension_numbers=NHWC)
    r = lax.dot_general(p, g, (((0, 1, 2), (0, 1, 2)), ((), ())))  # (c * kh * kw, o)
    return r.reshape(c, kh, kw, o).transpose(1, 2, 0, 3)


def dx_native(x, g, k, strides, padding):
    return jax.vjp(lambda x: native(x, k, strides, padding), x)[1](g)[0]


def contenders(strides, padding):
    def bind(f, grad=True):
        if grad:
            return jax.jit(lambda x, g, k: f(x, g, k, strides, padding))
        return jax.jit(lambda x, g, k: f(x, k, strides, padding))

    route = lambda x, k, s, p: convolution.conv_general(x, k, s, p, (1, 1), convolution._NHWC)  # noqa: E731
    return {
        "fwd xla": bind(native, False),
        "fwd taps": bind(fwd_taps, False),
        "fwd callax": bind(route, False),
        "dx xla": bind(dx_native),
        "dw xla": bind(dw_native),
        **{f"dw {form}": bind(dw_linear(form)) for form in convolution.WEIGHT_FORMS},
        "dw patches": bind(dw_patches),
        "dw callax": bind(dw_route),
    }


def torch_contenders(x, g, k, strides, padding):
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return {}
    if "--one-thread" in sys.argv:
        torch.set_num_threads(1)
    tx = torch.from_numpy(np.asarray(x).transpose(0, 3, 1, 2).copy())
    tg = torch.from_numpy(np.asarray(g).transpose(0, 3, 1, 2).copy())
    tk = torch.from_numpy(np.asarray(k).transpose(3, 2, 0, 1).copy())
    (lo_h, hi_h), (lo_w, hi_w) = pads_of(x, k, strides, padding)
    if (lo_h, lo_w) != (hi_h, hi_w):  # torch pads symmetrically: pad the input first
        tx = F.pad(tx, (lo_w, hi_w, lo_h, hi_h))
        lo_h = lo_w = 0
    pad = (lo_h, lo_w)

    def fwd():
        with torch.no_grad():
            F.conv2d(tx, tk, stride=strides, padding=pad)

    return {
        "torch fwd": fwd,
        "torch dx": lambda: torch.nn.grad.conv2d_input(tx.shape, tk, tg, strides, pad),
        "torch dw": lambda: torch.nn.grad.conv2d_weight(tx, tk.shape, tg, strides, pad),
    }


# Wall time by default; --cpu-time measures process CPU seconds (all threads), which a
# crowded machine inflates far less than wall time (threads that wait for a core are
# not charged) -- fair between XLA formulations, unfair to torch, whose OpenMP
# threads spin while they wait.
CLOCK = time.perf_counter


def time_once(fn, min_time=0.2):
    calls, start, wall = 0, CLOCK(), time.perf_counter()
    while True:
        jax.block_until_ready(fn())
        calls += 1
        if time.perf_counter() - wall >= min_time:
            return (CLOCK() - start) / calls


def per_op(rounds: int, only: str = "") -> str:
    lines = [
        "| shape (N,H,W,C) k -> out, stride, pad | op | ms | GFLOP/s |",
        "| --- | --- | ---: | ---: |",
    ]
    for name, xs, ks, strides, padding in SHAPES:
        if only and only not in name:
            continue
        key = jax.random.key(0)
        x, k = jax.random.normal(key, xs), jax.random.normal(jax.random.fold_in(key, 1), ks)
        g = native(x, k, strides, padding)
        flops = 2 * np.prod(g.shape) * np.prod(ks[:3])
        args = (x, g, k)
        fns = {n: functools.partial(f, *args) for n, f in contenders(strides, padding).items()}
        ref = np.asarray(fns["dw xla"]())
        for n in [n for n in fns if n.startswith("dw ")]:
            err = np.abs(np.asarray(fns[n]()) - ref).max() / np.abs(ref).max()
            assert err < 1e-4, (name, n, err)
        fns.update(torch_contenders(x, g, k, strides, padding))
        for fn in fns.values():
            fn()
        times: dict[str, list[float]] = {n: [] for n in fns}
        for _ in range(rounds):
            for n, fn in fns.items():
                times[n].append(time_once(fn))
        plan = convolution.cpu_conv_plan(xs, ks, "float32", strides, (1, 1), 1, convolution._NHWC)
        label = f"{name}: {xs} {ks[0]}x{ks[1]} -> {ks[3]}, s{strides[0]}, {padding.lower()}"
        print(f"{label}   callax plan (forward, weight) = {plan}", flush=True)
        for n in fns:
            ms = statistics.median(times[n]) * 1e3
            print(f"  {n:14s} {ms:8.2f} ms {flops / ms / 1e6:7.1f} GFLOP/s", flush=True)
            lines.append(f"| {label} | {n} | {ms:.2f} | {flops / ms / 1e6:.1f} |")
    return "\n".join(lines)


# ------------------------------------------------------------------- CNN fit
def torch_cnn_fit(x, y, batch):
    import torch
    from torch import nn

    torch.manual_seed(0)
    if "--one-thread" in sys.argv:
        torch.set_num_threads(1)
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(5 * 5 * 64, 10),
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    tx = torch.from_numpy(x.transpose(0, 3, 1, 2).copy())
    ty = torch.from_numpy(y).long()
    loss_fn = nn.CrossEntropyLoss()

    def epoch():
        order = torch.randperm(len(tx))
        for i in range(0, len(tx) // batch * batch, batch):
            idx = order[i : i + batch]
            opt.zero_grad()
            loss = loss_fn(model(tx[idx]), ty[idx])
            loss.backward()
            opt.step()

    return epoch


def fit(rounds: int, n: int = 4096, batch: int = 128, epochs: int = 3) -> str:
    from training import HandWritten, cnn, compiled, data, jax_cnn_apply, jax_cnn_params, timed_fit

    import callax

    x, y = data(n, image=True)
    model = compiled(callax, cnn(callax))
    hand = HandWritten(jax_cnn_params, jax_cnn_apply, batch)
    runs = {
        "callax fit": lambda: timed_fit(callax, model, x, y, batch, epochs)[1:],
        "hand-written jax+optax": lambda: hand.fit(x, y, epochs)[1:],
    }
    try:
        epoch = torch_cnn_fit(x, y, batch)
        epoch()  # warm-up
        runs["pytorch"] = lambda: [_timed(epoch) for _ in range(epochs - 1)]
    except ImportError:
        pass
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name] += run()
    rates = {k: n / statistics.median(v) for k, v in times.items()}
    lines = [f"CNN fit, batch {batch}, {n} samples/epoch; callax = {callax.__file__}"]
    for k, r in rates.items():
        lines.append(f"  {k:24s} {r:8,.0f} samples/s  ({r / rates['callax fit']:.2f}x callax)")
    if "pytorch" in rates:
        lines.append(f"  callax / pytorch = {rates['callax fit'] / rates['pytorch']:.2f}")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def steps(rounds: int, batch: int = 128, n_steps: int = 8) -> str:
    """The CNN's training step (grad + Adam, jit) with XLA's native ops (lax conv +
    reduce_window max, as `training.py`'s hand-written model) against the same
    model written with `callax.ops.conv` / `callax.ops.max_pool` (the CPU routes),
    and PyTorch's step; interleaved rounds of `n_steps` steps, median ms per step."""
    from training import HandWritten, data, jax_cnn_apply, jax_cnn_params

    from callax import ops

    def callax_apply(params, x):
        for i in (0, 2):
            x = jax.nn.relu(ops.conv(x, params[i]) + params[i + 1])
            x = ops.max_pool(x, 2)
        return x.reshape(x.shape[0], -1) @ params[4] + params[5]

    x, y = data(batch * n_steps, image=True)
    runs = {}
    for name, apply in (("xla native ops", jax_cnn_apply), ("callax ops", callax_apply)):
        hand = HandWritten(jax_cnn_params, apply, batch)
        runs[name] = functools.partial(hand.epoch, x, y)
    try:
        runs["pytorch"] = torch_cnn_fit(x, y, batch)
    except ImportError:
        pass
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            times[name].append(_timed(run) / n_steps)
    base = statistics.median(times["xla native ops"])
    lines = [f"CNN training step, batch {batch} (median of {rounds} rounds of {n_steps} steps)"]
    for k, v in times.items():
        m = statistics.median(v)
        lines.append(f"  {k:16s} {m * 1e3:8.1f} ms/step  ({base / m:.2f}x xla native speed)")
    text = "\n".join(lines)
    print(text, flush=True)
    return text


def _timed(fn):
    start = CLOCK()
    fn()
    return CLOCK() - start


def main(argv: list[str]) -> str:
    global CLOCK
    rounds = int(argv[argv.index("--rounds") + 1]) if "--rounds" in argv else 5
    if "--cpu-time" in argv:
        CLOCK = time.process_time
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    if "--steps" in argv:
        return steps(rounds)
    if "--fit" in argv:
        n = int(argv[argv.index("--n") + 1]) if "--n" in argv else 4096
        return fit(rounds, n)
    return per_op(rounds, argv[argv.index("--only") + 1] if "--only" in argv else "")


if __name__ == "__main__":
    main(sys.argv[1:])
