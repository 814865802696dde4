"""Side-by-side timing: contenders interleaved round by round, medians and ratios.

A workload is a dict ``{contender name: zero-argument callable}`` (each callable
runs one unit of work and blocks until its result is ready). ``compare`` warms
every contender, then for each round times every contender in turn (so a noisy
neighbour slows all of them alike), and reports the median per-call time of each
and its ratio to the first contender.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


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
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(rounds):
        for name, fn in contenders.items():
            samples[name].append(time_per_call(fn, min_time))
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
