"""``profile(model, *inputs)``: where the time of a call goes, call site by call site.

Two views of the same call, one row per call site (a layer called twice is two
sites, ``call 1/2`` and ``call 2/2``):

- **eager**: the call runs op by op, ``repeat`` times after ``warmup`` runs; a
  call-context listener notes the clock when each layer call starts and when its
  outputs are ready (it blocks on them with ``jax.block_until_ready``), so every
  site gets its *total* time (itself and the calls inside it) and its *self*
  time (total minus its children's totals). Medians over the runs.
- **compiled**: XLA's cost analysis of each site lowered on its own (FLOPs and
  bytes accessed, as ``trace`` computes FLOPs), and the measured time of the
  whole call compiled as one ``jax.jit`` step (median of ``repeat`` runs).

Measurement overhead: blocking on every call's outputs removes the overlap of
JAX's asynchronous dispatch, and the listener's own bookkeeping (a few
microseconds per call, measured and subtracted from the enclosing calls'
times) still lengthens the call; the report's footer gives the eager call
timed with and without the listener, so the overhead is stated, not guessed.
Eager times rank layers; the compiled step is what ``fit`` and ``predict`` pay.
The model is not changed: the calls run in a stateless scope (no seed advances,
no BatchNorm statistics move).

Example:
    >>> import callax
    >>> model = callax.Sequential([
    ...     callax.Input((128,)),
    ...     callax.layers.Dense(64, activation="relu", name="hidden"),
    ...     callax.layers.Dense(10, name="out"),
    ... ])
    >>> report = callax.profile(model, callax.ops.ones((32, 128)), repeat=2)
    >>> [row.label for row in report.rows if row.depth == 1]   # by self time, slowest first
    ... # doctest: +SKIP
    ['hidden', 'out']
    >>> sorted(row.label for row in report.rows), report.rows[0].flops > 0
    (['hidden', 'out'], True)
    >>> print(report)  # doctest: +SKIP
"""

from __future__ import annotations

import statistics
import threading
import time
from typing import Any

import jax
import numpy as np

from callax.core import call_context as _ctx
from callax.core import config
from callax.core.stateless_scope import StatelessScope
from callax.inspect.recorder import CallRecord, tensor_leaves
from callax.inspect.trace import (
    CallTrace,
    _is_shape,
    _signature,
    human,
    layer_cost,
    split_dynamic,
    trace,
)

SORT_KEYS = ("self", "total", "flops", "bytes", "order")


def _key_of_frame(frame) -> tuple:
    names = []
    f = frame
    while f is not None:
        names.append(f.layer.name)
        f = f.parent
    return (tuple(reversed(names)), frame.call_index)


def _key(rec: CallRecord) -> tuple:
    return (rec.path, rec.call_index)


def site_path(rec: CallRecord) -> str:
    """``block1.conv``: the labels from the model's call down to ``rec``, as
    ``callax.trace`` prints them and ``callax.capture`` takes them."""
    labels = []
    while rec is not None and rec.parent is not None:
        labels.append(rec.label)
        rec = rec.parent
    return ".".join(reversed(labels))


def _block(tree: Any) -> None:
    leaves = [x for x in tensor_leaves(tree) if isinstance(x, jax.Array)]
    if leaves:
        jax.block_until_ready(leaves)


class _Timer:
    """A call-context listener: per call site, the time from its start to its
    outputs being ready, minus the listener's own bookkeeping inside it."""

    def __init__(self) -> None:
        self.times: dict[tuple, list[float]] = {}
        self._open: dict[int, list] = {}  # id(frame) -> [key, start, overhead inside]
        self.overhead = 0.0  # bookkeeping seconds in this run, all calls together
        self.calls = 0
        # Listeners are process-wide; time only the calls of the profiling thread.
        self._thread = threading.get_ident()

    def on_call_start(self, frame, args: tuple, kwargs: dict) -> None:
        if threading.get_ident() != self._thread:
            return
        _block((args, kwargs))  # work queued by the caller is the caller's time
        enter = time.perf_counter()
        entry = [_key_of_frame(frame), 0.0, 0.0]
        self._open[id(frame)] = entry
        self.calls += 1
        entry[1] = now = time.perf_counter()
        self._charge(frame.parent, now - enter)

    def on_call_end(self, frame, outputs: Any, error, built_here=False) -> None:
        if error is None:
            _block(outputs)
        done = time.perf_counter()
        entry = self._open.pop(id(frame), None)
        if entry is None:
            return
        key, start, inside = entry
        self.times.setdefault(key, []).append(done - start - inside)
        self._charge(frame.parent, time.perf_counter() - done)

    def _charge(self, frame, seconds: float) -> None:
        """Adds bookkeeping time to every open call enclosing ``frame``."""
        self.overhead += seconds
        while frame is not None:
            entry = self._open.get(id(frame))
            if entry is not None:
                entry[2] += seconds
            frame = frame.parent


class SiteCost:
    """One call site's costs (times in seconds; ``None`` where not measured).

    Attributes:
        record: the :class:`~callax.inspect.recorder.CallRecord` of the site.
        site: ``"block1.conv"`` (labels, as ``trace`` prints them; add ``#2``
            for the second call of a shared layer: ``site_key``).
        path: ``"model/block/conv"`` (layer names); label, class_name, call_index, total_calls,
            depth: as in the trace.
        total_s: eager time of the call, the calls inside it included.
        self_s: ``total_s`` minus the calls inside it.
        flops, bytes: XLA's cost analysis of the site lowered on its own.
        params: the layer's weight count (``0`` for a repeated call of a shared
            layer, whose weights the first call counts).
    """

    __slots__ = (
        "record", "site", "path", "label", "class_name", "call_index", "total_calls", "depth",
        "total_s", "self_s", "flops", "bytes", "params",
    )  # fmt: skip

    def __init__(self, record: CallRecord):
        self.record = record
        self.site = site_path(record)
        self.path = "/".join(record.path)
        self.label = record.label
        self.class_name = record.class_name
        self.call_index = record.call_index
        self.total_calls = record.total_calls
        self.depth = record.depth
        self.total_s: float | None = None
        self.self_s: float | None = None
        self.flops: float | None = None
        self.bytes: float | None = None
        self.params = 0 if record.call_index > 1 else int(record.layer.count_params())

    @property
    def site_key(self) -> str:
        """``dense1#2`` for a layer called more than once, else ``dense1``."""
        return f"{self.site}#{self.call_index}" if self.total_calls > 1 else self.site

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__ if name != "record"}

    def __repr__(self) -> str:
        return (
            f"<SiteCost {self.site} call {self.call_index}/{self.total_calls} "
            f"self={_ms(self.self_s)} total={_ms(self.total_s)} flops={human(self.flops)}>"
        )


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f}"


def _bytes(n: float | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} B"


class Profile:
    """What :func:`profile` measured; ``print(report)`` shows the table.

    Attributes:
        trace: the :class:`~callax.inspect.trace.CallTrace` of the call.
        rows: one :class:`SiteCost` per call site, sorted by ``sort``.
        sort: what ``rows`` is sorted by (``"self"``, ``"total"``, ``"flops"``,
            ``"bytes"`` or ``"order"``).
        repeat: eager runs measured (after the warm-up runs).
        eager_s: median eager time of the whole call, listener included.
        root_self_s: time spent in the model's own ``call`` outside any layer
            call (plain JAX ops written in ``call``).
        eager_plain_s: median eager time of the whole call with no listener.
        overhead_per_call_s: the listener's bookkeeping per layer call (measured,
            already subtracted from the sites' times).
        compiled_s: median time of the whole call compiled as one step (``None``
            when ``compiled=False`` or the call cannot be jitted).
        flops, bytes: XLA's cost analysis of the whole compiled call.
    """

    def __init__(self, t: CallTrace, rows: list[SiteCost], sort: str, repeat: int):
        self.trace = t
        self.sort = sort
        self.repeat = repeat
        self._sites = rows
        self.rows = _sorted(rows, sort)
        self.eager_s: float | None = None
        self.root_total_s: float | None = None
        self.root_self_s: float | None = None
        self.eager_plain_s: float | None = None
        self.overhead_per_call_s: float | None = None
        self.compiled_s: float | None = None
        self.compile_s: float | None = None
        self.flops: float | None = None
        self.bytes: float | None = None

    def site(self, key: str) -> SiteCost:
        """The row of a call site: ``"block1.conv"``, ``"dense1#2"`` (the second
        call), or a layer-name path ``"model/dense"`` (``#2`` works there too)."""
        path, _, index = key.partition("#")
        call_index = int(index) if index.isdigit() else 1
        for row in self._sites:
            if path in (row.site, row.path) and row.call_index == call_index:
                return row
        raise KeyError(
            f"Profile.site: no call site {key!r}; the sites are "
            f"{[r.site_key for r in self._sites]}."
        )

    def sorted_by(self, key: str) -> list[SiteCost]:
        """The rows sorted by ``key`` (one of ``SORT_KEYS``), largest first."""
        return _sorted(self._sites, key)

    def header(self) -> str:
        root = self.trace.root
        return f"profile of {root.class_name}.call({_signature(root)})  training={root.training}"

    def footer(self) -> list[str]:
        lines = []
        if self.root_self_s is not None:
            lines.append(
                f"ops in {self.trace.root.class_name}.call itself (call protocol and JAX ops outside the "
                f"layer calls): "
                f"{_ms(self.root_self_s)} ms of {_ms(self.root_total_s)} ms"
            )
        if self.compiled_s is not None:
            text = f"compiled step (whole call, one jax.jit): {_ms(self.compiled_s)} ms median"
            if self.flops is not None:
                text += f", {human(self.flops)} FLOPs"
            if self.bytes is not None:
                text += f", {_bytes(self.bytes)} accessed"
            lines.append(text)
        if self.eager_s is not None and self.eager_plain_s is not None:
            extra = self.eager_s - self.eager_plain_s
            pct = 100.0 * extra / self.eager_plain_s if self.eager_plain_s > 0 else 0.0
            lines.append(
                f"measurement overhead: eager call {_ms(self.eager_plain_s)} ms unprofiled, "
                f"{_ms(self.eager_s)} ms profiled "
                f"({f'{pct:+.0f}%' if pct > 0 else 'no more than run-to-run noise'}; "
                "each call blocks on its "
                f"outputs; bookkeeping ~{self.overhead_per_call_s * 1e6:.0f} us/call, "
                "subtracted from the sites' times)"
            )
        lines.append(
            f"eager times: median of {self.repeat} runs, op by op; self = total minus the "
            "calls inside. FLOPs/bytes: XLA cost analysis of each site on its own."
        )
        return lines

    def text(self, limit: int | None = None) -> str:
        """The table as plain text (``limit``: at most that many rows)."""
        rows = self.rows if limit is None else self.rows[:limit]
        total = self.root_total_s or self.eager_s or None
        head = ("#", "call site", "class", "call", "self ms", "total ms", "self %", "FLOPs",
                "bytes", "params")  # fmt: skip
        body = []
        for i, r in enumerate(rows, 1):
            share = "-" if (total is None or r.self_s is None) else f"{100 * r.self_s / total:.1f}%"
            body.append(
                (
                    str(i),
                    r.site,
                    r.class_name,
                    f"{r.call_index}/{r.total_calls}",
                    _ms(r.self_s),
                    _ms(r.total_s),
                    share,
                    human(r.flops),
                    _bytes(r.bytes),
                    f"{r.params:,}" if r.params else "-",
                )
            )
        widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
        right = {0, 4, 5, 6, 7, 8, 9}

        def fmt(cells: tuple) -> str:
            return "  ".join(
                c.rjust(widths[i]) if i in right else c.ljust(widths[i])
                for i, c in enumerate(cells)
            ).rstrip()

        out = [self.header(), fmt(head), "  ".join("─" * w for w in widths)]
        out += [fmt(b) for b in body]
        if limit is not None and len(self.rows) > limit:
            out.append(f"... {len(self.rows) - limit} more call sites")
        out += self.footer()
        return "\n".join(out)

    def to_dict(self) -> dict:
        """The rows (in call order) and the totals, JSON-ready."""
        return {
            "model": self.trace.root.name,
            "repeat": self.repeat,
            "eager_s": self.eager_s,
            "root_total_s": self.root_total_s,
            "root_self_s": self.root_self_s,
            "eager_plain_s": self.eager_plain_s,
            "overhead_per_call_s": self.overhead_per_call_s,
            "compiled_s": self.compiled_s,
            "flops": self.flops,
            "bytes": self.bytes,
            "rows": [r.to_dict() for r in self._sites],
        }

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<Profile {self.trace.root.class_name}: {len(self.rows)} call sites>"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython
        printer.text(self.text())


def _sorted(rows: list[SiteCost], key: str) -> list[SiteCost]:
    if key == "order":
        return list(rows)
    attr = {"self": "self_s", "total": "total_s", "flops": "flops", "bytes": "bytes"}[key]
    return sorted(rows, key=lambda r: -(getattr(r, attr) or 0.0))


# ------------------------------------------------------------- measuring
def _concrete(x: Any, rng: np.random.Generator) -> Any:
    """A shape tuple becomes a random array (profiling needs real data)."""
    if _is_shape(x):
        if any(d is None for d in x):
            raise ValueError(
                "profile: inputs must be arrays or fully known shapes (profiling runs the "
                f"call for real); received the shape {x} with an unknown size."
            )
        return rng.standard_normal(x).astype(config.floatx())
    if isinstance(x, list):
        return [_concrete(v, rng) for v in x]
    if isinstance(x, tuple):
        return tuple(_concrete(v, rng) for v in x)
    if isinstance(x, dict):
        return {k: _concrete(v, rng) for k, v in x.items()}
    if isinstance(x, jax.ShapeDtypeStruct) or type(x).__name__ == "KerasTensor":
        raise TypeError(
            "profile: inputs must be arrays or fully known shapes (profiling runs the "
            f"call for real); received a symbolic {type(x).__name__} {x}."
        )
    return x


def _on_device(tree: Any) -> Any:
    return jax.tree_util.tree_map(
        lambda x: jax.device_put(x) if isinstance(x, np.ndarray) else x, tree
    )


def _run_eager(model, args: tuple, kwargs: dict) -> Any:
    with StatelessScope(), _ctx.isolated_context():
        out = model(*args, **kwargs)
    _block(out)
    return out


def _time_compiled(model, args, kwargs, repeat: int) -> tuple[float | None, float | None, Any]:
    """``(median seconds per step, compile seconds, XLA cost dict)`` of the whole call."""
    variables = (
        [v.value for v in model.trainable_variables],
        [v.value for v in model.non_trainable_variables],
    )
    dynamic, rebuild = split_dynamic((args, kwargs))

    def fn(variables, dynamic):
        a, k = rebuild(dynamic)
        return model.stateless_call(variables[0], variables[1], *a, **k)[0]

    try:
        start = time.perf_counter()
        compiled = jax.jit(fn).lower(variables, dynamic).compile()
        compile_s = time.perf_counter() - start
        cost = compiled.cost_analysis()
        jax.block_until_ready(compiled(variables, dynamic))
    except Exception:  # not jittable (Python logic on values): eager view only
        return None, None, None
    start = time.perf_counter()
    jax.block_until_ready(compiled(variables, dynamic))
    once = time.perf_counter() - start
    # A fast step is timed more often (up to ~0.1 s in all): one run is noise.
    runs = max(repeat, min(200, int(0.1 / max(once, 1e-6))))
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        jax.block_until_ready(compiled(variables, dynamic))
        times.append(time.perf_counter() - start)
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    return statistics.median(times), compile_s, cost


def profile(
    model,
    *inputs: Any,
    repeat: int = 5,
    warmup: int = 2,
    compiled: bool = True,
    costs: bool = True,
    sort: str = "self",
    **kwargs: Any,
) -> Profile:
    """Measures where the time of ``model(*inputs, **kwargs)`` goes, per call site.

    Args:
        model: any layer or model (subclassed, Sequential or Functional).
        *inputs: arrays, or fully known shapes such as ``(32, 784)`` (random
            normal data in ``floatx`` is made for them).
        repeat: eager runs (and compiled steps) measured; medians are reported.
        warmup: eager runs made first and not measured (JAX compiles each
            primitive on first use).
        compiled: also time the whole call compiled as one ``jax.jit`` step.
        costs: XLA's cost analysis (FLOPs, bytes accessed) of each site.
        sort: ``"self"`` (default), ``"total"``, ``"flops"``, ``"bytes"`` or ``"order"``.
        **kwargs: passed to the call (``training=True``...).

    Returns:
        A :class:`Profile`: ``print(report)`` shows the table, slowest first;
        ``report.rows`` holds the same numbers as :class:`SiteCost` objects.

    Overhead: the listener's bookkeeping is about 2-5 microseconds per layer
    call (measured on a CPU; it is measured at every run and subtracted from the
    sites' times), and each layer call waits for its outputs, which removes the
    overlap of JAX's asynchronous dispatch (small on a CPU; on a GPU a profiled
    eager call of small layers can take several times its unprofiled time).
    The footer states both eager times of the whole call, so the overhead of
    each profile is measured, not assumed.
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"profile: sort must be one of {SORT_KEYS}; received {sort!r}.")
    for name, value, least in (("repeat", repeat, 1), ("warmup", warmup, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ValueError(f"profile: {name} must be an integer >= {least}; received {value!r}.")
    if not inputs:
        raise TypeError("profile: give the inputs of the call (arrays or shapes); received none.")
    rng = np.random.default_rng(0)
    # On the device once, so no run times a host-to-device copy of the inputs.
    args = _on_device(tuple(_concrete(x, rng) for x in inputs))
    kw = _on_device({k: _concrete(v, rng) for k, v in kwargs.items()})

    t = trace(model, *args, flops=False, **kw)  # the structure (and builds the model)
    if t.abstract:
        raise TypeError("profile: the inputs must be concrete arrays; received abstract ones.")
    records = t.calls
    rows = [SiteCost(r) for r in records]
    if costs:
        for row in rows:
            if row.record.error is None:
                row.flops, row.bytes = layer_cost(row.record.layer, *row.record.specs)
                row.record.flops = row.flops

    # Runs with and without the listener alternate, so that a machine busy for a
    # moment slows both alike and their difference is the listener's overhead.
    timer = _Timer()
    plain, whole, overhead = [], [], []
    for i in range(warmup + repeat):
        start = time.perf_counter()
        _run_eager(model, args, kw)
        if i >= warmup:
            plain.append(time.perf_counter() - start)
        with _ctx.listening(timer):
            timer.overhead, timer.calls = 0.0, 0
            if i < warmup:
                _run_eager(model, args, kw)
                timer.times.clear()
                continue
            start = time.perf_counter()
            _run_eager(model, args, kw)
            whole.append(time.perf_counter() - start)
            overhead.append(timer.overhead / max(timer.calls, 1))
    for row in rows:
        measured = timer.times.get(_key(row.record))
        if measured:
            row.total_s = statistics.median(measured)
    by_key = {_key(r.record): r for r in rows}

    def inside(rec: CallRecord) -> float:
        return sum(by_key[_key(c)].total_s or 0.0 for c in rec.children if _key(c) in by_key)

    for row in rows:
        if row.total_s is not None:
            row.self_s = max(row.total_s - inside(row.record), 0.0)

    report = Profile(t, rows, sort, repeat)
    root_times = timer.times.get(_key(t.root))
    if root_times:
        report.root_total_s = statistics.median(root_times)
        report.root_self_s = max(report.root_total_s - inside(t.root), 0.0)
    report.eager_s = statistics.median(whole)
    report.eager_plain_s = statistics.median(plain)
    report.overhead_per_call_s = statistics.median(overhead)
    if compiled:
        step, compile_s, cost = _time_compiled(model, args, kw, repeat)
        report.compiled_s, report.compile_s = step, compile_s
        if cost:
            report.flops = None if cost.get("flops") is None else float(cost["flops"])
            nbytes = cost.get("bytes accessed")
            report.bytes = None if nbytes is None else float(nbytes)
    return report


__all__ = ["Profile", "SiteCost", "profile", "site_path"]
