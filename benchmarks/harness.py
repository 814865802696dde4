"""Side-by-side timing: contenders interleaved round by round, medians and ratios.

A workload is a dict ``{contender name: zero-argument callable}`` (each callable
runs one unit of work and blocks until its result is ready). ``interleave`` runs
every contender in turn, round after round (so a noisy neighbour slows all of
them alike); ``compare`` warms every contender, times each call that way and
reports the median per-call time of each and its ratio to the first contender.

Training workloads share ``timed_fit`` (a Keras-style ``fit`` timed per epoch by
a callback) and ``HandWritten`` (the plain ``jax.jit`` + optax loop a JAX user
would write), timed per epoch by ``timed_epochs``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np


def interleave(contenders: dict[Any, Callable[[], Any]], rounds: int) -> dict[Any, list]:
    """Calls every contender once per round, in turn; each one's results in order."""
    results: dict[Any, list] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            results[name].append(fn())
    return results


def elapsed(fn: Callable[[], object]) -> Callable[[], float]:
    """``fn`` as a callable returning the seconds one call took."""

    def timed() -> float:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start

    return timed


def timed_epochs(run_epoch: Callable[[], object], epochs: int) -> list[float]:
    """Seconds each of ``epochs`` calls of ``run_epoch`` took."""
    return [elapsed(run_epoch)() for _ in range(epochs)]


def epoch_timer(lib: Any) -> type:
    """A callback class of ``lib`` (callax or keras) recording each epoch's wall time."""

    class EpochTimer(lib.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._start)

    return EpochTimer


def timed_fit(lib: Any, model: Any, x: Any, y: Any, batch: int, epochs: int,
              **kwargs: Any) -> list[float]:  # fmt: skip
    """``model.fit`` (silent), returning each epoch's seconds."""
    timer = epoch_timer(lib)()
    model.fit(x, y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[timer], **kwargs)
    return timer.times


class HandWritten:
    """A plain jax.jit + optax training loop, as a JAX user would write it:
    Adam 1e-3 on the mean sparse softmax cross-entropy of ``apply(params, x)``."""

    def __init__(self, init: Callable[[Any], Any], apply: Callable[..., Any], batch: int):
        import jax
        import optax

        self.apply, self.batch = apply, batch
        self.params = init(jax.random.key(0))
        self.opt = optax.adam(1e-3)
        self.state = self.opt.init(self.params)

        def loss_fn(params, x, y):
            logits = apply(params, x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        @jax.jit
        def step(params, state, x, y):
            loss, grads = jax.value_and_grad(loss_fn)(params, x, y)
            updates, state = self.opt.update(grads, state, params)
            return optax.apply_updates(params, updates), state, loss

        self.step = step
        self.predict_fn = jax.jit(apply)

    def fit(self, x: Any, y: Any, epochs: int) -> list[float]:
        """Each epoch's seconds (one shuffled pass over whole batches)."""
        return timed_epochs(lambda: self.epoch(x, y), epochs)

    def epoch(self, x: Any, y: Any) -> None:
        order = np.random.permutation(len(x))
        n = len(x) // self.batch * self.batch
        for i in range(0, n, self.batch):
            idx = order[i : i + self.batch]
            self.params, self.state, loss = self.step(self.params, self.state, x[idx], y[idx])
        loss.block_until_ready()

    def predict(self, x: Any, batch: int) -> np.ndarray:
        out = [self.predict_fn(self.params, x[i : i + batch]) for i in range(0, len(x), batch)]
        return np.concatenate([np.asarray(o) for o in out])


def time_per_call(fn: Callable[[], object], min_time: float = 0.2, max_calls: int = 10000) -> float:
    """Seconds per call: repeats ``fn`` until ``min_time`` has passed."""
    calls = 0
    start = time.perf_counter()
    while True:
        fn()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time or calls >= max_calls:
            return elapsed / calls


def compare(
    contenders: dict[str, Callable[[], object]],
    rounds: int = 5,
    warmup: int = 3,
    min_time: float = 0.2,
) -> dict[str, float]:
    """Median seconds per call of each contender, measured interleaved."""
    for fn in contenders.values():
        for _ in range(warmup):
            fn()
    samples = interleave(
        {name: (lambda fn=fn: time_per_call(fn, min_time)) for name, fn in contenders.items()},
        rounds,
    )
    return {name: statistics.median(times) for name, times in samples.items()}


def format_table(title: str, medians: dict[str, float], unit: str = "us", per: str = "call",
                 throughput: float | None = None) -> str:  # fmt: skip
    """A text table: median time (or throughput) and ratio to the first row."""
    names = list(medians)
    base = medians[names[0]]
    lines = [f"## {title}", ""]
    if throughput is None:
        lines.append(f"| contender | median {unit}/{per} | time vs {names[0]} |")
        lines.append("| --- | ---: | ---: |")
        scale = {"us": 1e6, "ms": 1e3, "s": 1.0}[unit]
        for name in names:
            lines.append(f"| {name} | {medians[name] * scale:,.1f} | {medians[name] / base:.2f}x |")
    else:
        lines.append(f"| contender | samples/s | throughput vs {names[0]} |")
        lines.append("| --- | ---: | ---: |")
        for name in names:
            rate = throughput / medians[name]
            lines.append(f"| {name} | {rate:,.0f} | {base / medians[name]:.2f}x |")
    return "\n".join(lines) + "\n"
