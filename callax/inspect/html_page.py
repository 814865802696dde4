"""One HTML page to browse a call: ``callax.show(model, x)`` / ``trace.to_html(path)``.

The page is a single self-contained file (inline CSS, JavaScript and SVG; no
network, no CDN), so it opens offline in any browser and can be mailed or
attached to an issue. It holds:

- the call tree, collapsible (HTML ``<details>``: expanding works even with
  JavaScript off), each call with its label, class, ``call i/n``, argument and
  output shapes and dtypes, the ``training`` value a call that declares it saw,
  the weights it built, ``shares weights with call 1`` for a shared layer's
  later calls, and the layer's parameter count;
- per call site, statistics of its outputs (min/max/mean/std, fraction of
  zeros and of NaN) with a small inline-SVG histogram, when the call ran on
  real data (``callax.show`` computes them; ``callax.capture`` results can be
  given instead);
- the ``plot_model`` graph (its SVG, inline);
- the profile figures (self/total time, FLOPs, bytes) when a
  :class:`~callax.inspect.profile.Profile` is given;
- a search box that filters the tree by call path (``block1.conv``).

In a notebook a trace renders as this page inline (``CallTrace._repr_html_``).

Example:
    >>> import os, tempfile, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(8, name="hidden")])
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.html")
    >>> page = callax.show(model, callax.ops.ones((4, 3)), path=path)
    >>> page.path == path, "hidden" in open(path).read()
    (True, True)
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Mapping
from html import escape
from typing import Any

import numpy as np

from callax.core import call_context as _ctx
from callax.core.stateless_scope import StatelessScope
from callax.inspect.plot import build_graph, to_svg
from callax.inspect.profile import Profile, _concrete, site_path
from callax.inspect.profile import profile as run_profile
from callax.inspect.recorder import CallRecord, render, tensor_leaves
from callax.inspect.taps import capturing
from callax.inspect.trace import (
    CallTrace,
    _call_io,
    _signature,
    human,
    register_html_renderer,
    shape_text,
    trace,
)
from callax.utils.atomic_files import atomic_write

HIST_BINS = 24
_ids = itertools.count(1)


# ------------------------------------------------------------ statistics
class ActivationStats:
    """Statistics of one tensor a call returned (NaN/inf excluded from the moments).

    Attributes:
        shape, dtype: the tensor's.
        min, max, mean, std: over its finite values (``None`` when there are none).
        zeros, nan, inf: fractions of its values that are exactly 0, NaN, ±inf.
        hist: counts in ``HIST_BINS`` equal bins from ``min`` to ``max``.
    """

    __slots__ = ("shape", "dtype", "min", "max", "mean", "std", "zeros", "nan", "inf", "hist")

    def __init__(self, array: Any):
        a = np.asarray(array)
        self.shape = tuple(a.shape)
        self.dtype = a.dtype.name
        if a.dtype == bool:
            a = a.astype(np.float32)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype.kind == "V"):
            a = np.zeros((0,), np.float32)
        a = a.astype(np.float64, copy=False).ravel()
        n = max(a.size, 1)
        finite = a[np.isfinite(a)]
        self.zeros = float(np.count_nonzero(a == 0)) / n
        self.nan = float(np.count_nonzero(np.isnan(a))) / n
        self.inf = float(np.count_nonzero(np.isinf(a))) / n
        if finite.size:
            self.min, self.max = float(finite.min()), float(finite.max())
            self.mean, self.std = float(finite.mean()), float(finite.std())
            span = (self.min, self.max) if self.max > self.min else (self.min - 0.5, self.max + 0.5)
            self.hist = [int(c) for c in np.histogram(finite, bins=HIST_BINS, range=span)[0]]
        else:
            self.min = self.max = self.mean = self.std = None
            self.hist = [0] * HIST_BINS

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}

    def __repr__(self) -> str:
        return (
            f"<ActivationStats min={_num(self.min)} max={_num(self.max)} mean={_num(self.mean)} "
            f"std={_num(self.std)} zeros={self.zeros:.1%} nan={self.nan:.1%}>"
        )


def activation_stats(model, *inputs: Any, **kwargs: Any) -> dict:
    """Runs ``model(*inputs, **kwargs)`` once with ``callax.capture`` at every call
    site (changing nothing in the model: a stateless scope) and returns
    ``{(id(layer), call_index): [ActivationStats per output tensor]}``."""
    with capturing(model, lambda site: True) as captures:
        with StatelessScope(), _ctx.isolated_context():
            model(*inputs, **kwargs)
    return stats_from_captures(captures)


def stats_from_captures(captures: Any) -> dict:
    """The same mapping as :func:`activation_stats`, from ``callax.capture``'s
    result (any mapping of objects with ``layer``, ``call_index``, ``outputs``)."""
    out = {}
    for item in captures.values():
        out[(id(item.layer), item.call_index)] = [
            ActivationStats(x) for x in tensor_leaves(item.outputs)
        ]
    return out


# -------------------------------------------------------------- formatting
def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if v == 0:
        return "0"
    if abs(v) >= 1e4 or abs(v) < 1e-3:
        return f"{v:.2e}"
    return f"{v:.4g}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1e3:.3f} ms"


def _hist_svg(stats: ActivationStats, width: int, height: int, cls: str) -> str:
    top = max(stats.hist) or 1
    bar = width / len(stats.hist)
    rects = []
    for i, count in enumerate(stats.hist):
        if count:
            h = max(1.0, height * count / top)
            rects.append(
                f'<rect x="{i * bar:.1f}" y="{height - h:.1f}" width="{max(bar - 0.6, 0.6):.1f}" '
                f'height="{h:.1f}"/>'
            )
    label = f"histogram of {stats.min} to {stats.max}"
    return (
        f'<svg class="{cls}" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{escape(label)}">{"".join(rects)}</svg>'
    )


def _params(rec: CallRecord) -> str:
    if rec.call_index > 1:
        return "shared"
    try:
        n = int(rec.layer.count_params()) if rec.layer.built else 0
    except Exception:
        n = 0
    return f"{n:,} params" if n else ""


def _badges(rec: CallRecord) -> list[tuple[str, str]]:
    out = []
    if rec.error is not None:
        out.append(("err", f"raised {rec.error.splitlines()[0]}"))
    if rec.total_calls > 1 and rec.call_index > 1 and rec.reads:
        out.append(("shared", "shares weights with call 1"))
    elif rec.total_calls > 1:
        out.append(("shared", f"shared: called {rec.total_calls}×"))
    if rec.sees_training:
        out.append(("train", f"training={rec.training}"))
    if rec.created:
        out.append(("built", "built here"))
    return out


# ------------------------------------------------------------------- HTML
_CSS = """
.cx-page{font:13px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 color:#1d2330;background:#fff;max-width:1280px;margin:0 auto;padding:12px 16px}
.cx-page h1{font-size:17px;margin:4px 0 2px}
.cx-page h2{font-size:14px;margin:18px 0 6px;color:#3b4256}
.cx-page code,.cx-page .cx-io,.cx-page .cx-mono{font-family:ui-monospace,SFMono-Regular,Menlo,
 Consolas,monospace;font-size:12px}
.cx-totals{color:#4b5368;margin-bottom:8px}
.cx-totals span{margin-right:14px}
.cx-toolbar{position:sticky;top:0;background:#fff;padding:6px 0;z-index:2;display:flex;gap:8px;
 align-items:center;border-bottom:1px solid #e3e6ee}
.cx-search{flex:0 0 340px;padding:5px 8px;border:1px solid #b9c0d0;border-radius:5px;font:inherit}
.cx-toolbar button{padding:4px 10px;border:1px solid #b9c0d0;border-radius:5px;background:#f4f6fa;
 cursor:pointer;font:inherit}
.cx-count{color:#6b7285}
.cx-tree ul{list-style:none;margin:0;padding-left:20px;border-left:1px dotted #c9cedb}
.cx-tree>ul{padding-left:0;border-left:none}
.cx-node>details>summary{cursor:pointer;padding:2px 4px;border-radius:4px;white-space:nowrap;
 display:flex;gap:10px;align-items:center}
.cx-node>details>summary::-webkit-details-marker{display:none}
.cx-node>details>summary::before{content:"▸";color:#5a6378;width:10px;flex:none}
.cx-node>details[open]>summary::before{content:"▾"}
.cx-leaf>details>summary::before{color:#b3b9c7}
.cx-node>details>summary:hover{background:#f1f4fb}
.cx-node.cx-hit>details>summary{background:#fff3c4}
.cx-node.cx-hidden{display:none}
.cx-label{font-weight:600;min-width:80px}
.cx-class{min-width:110px}
.cx-class{color:#7a3e9d}
.cx-call{color:#6b7285}
.cx-io{color:#1f6f43}
.cx-params{color:#4b5368}
.cx-badge{font-size:11px;padding:0 6px;border-radius:8px;background:#eef0f5;color:#3b4256}
.cx-badge.shared{background:#e4ecff;color:#1f4fb3}
.cx-badge.train{background:#fff0dc;color:#8a4b00}
.cx-badge.built{background:#e6f5ea;color:#1f6f43}
.cx-badge.err{background:#fde2e2;color:#a11}
.cx-time{display:inline-flex;align-items:center;gap:4px;color:#4b5368}
.cx-bar{display:inline-block;height:8px;background:#e8704a;border-radius:2px;min-width:1px}
.cx-spark{fill:#5a7bd6;vertical-align:middle}
.cx-hist{fill:#5a7bd6}
.cx-info{margin:4px 0 6px 22px;padding:6px 10px;background:#f8f9fc;border:1px solid #e3e6ee;
 border-radius:6px;display:flex;flex-wrap:wrap;gap:18px}
.cx-info table{border-collapse:collapse}
.cx-info td,.cx-info th{padding:1px 8px 1px 0;text-align:left;vertical-align:top}
.cx-info th{color:#6b7285;font-weight:500}
.cx-table{border-collapse:collapse;margin:4px 0}
.cx-table td,.cx-table th{padding:2px 10px;border-bottom:1px solid #eceef3;text-align:right}
.cx-table td:nth-child(2),.cx-table th:nth-child(2),.cx-table td:nth-child(3),
 .cx-table th:nth-child(3){text-align:left}
.cx-table th{color:#4b5368;font-weight:600;background:#f4f6fa}
.cx-graph{overflow:auto;border:1px solid #e3e6ee;border-radius:6px;padding:8px;max-height:720px}
.cx-note{color:#6b7285;font-size:12px;margin-top:14px}
.cx-notcalled{color:#a11}
"""

# The script finds its page by id, so several pages (notebook outputs) coexist.
_JS = """
(function(){
 var page=document.getElementById("%(id)s"); if(!page){return;}
 var nodes=Array.prototype.slice.call(page.querySelectorAll(".cx-node"));
 var box=page.querySelector(".cx-search"), count=page.querySelector(".cx-count");
 var saved=null;  // the open/closed state before a search, restored when it is cleared
 function kids(n){var ul=n.firstElementChild.querySelector(":scope>ul");
  return ul?Array.prototype.slice.call(ul.children):[];}
 function filter(){
  var q=box.value.trim().toLowerCase(), shown=0;
  if(!q){nodes.forEach(function(n,i){n.classList.remove("cx-hidden","cx-hit");
   if(saved){n.firstElementChild.open=saved[i];}}); saved=null;
   count.textContent=nodes.length+" calls"; return;}
  if(!saved){saved=nodes.map(function(n){return n.firstElementChild.open;});}
  function visit(n){
   var hit=(n.getAttribute("data-path")+" "+n.getAttribute("data-names")).toLowerCase()
    .indexOf(q)>=0;
   var below=false; kids(n).forEach(function(k){if(visit(k)){below=true;}});
   n.classList.toggle("cx-hit",hit); n.classList.toggle("cx-hidden",!(hit||below));
   if(below){n.firstElementChild.open=true;} if(hit){shown++;}
   return hit||below;}
  Array.prototype.slice.call(page.querySelectorAll(".cx-tree>ul>li")).forEach(visit);
  count.textContent=shown+" of "+nodes.length+" calls match";}
 box.addEventListener("input",filter);
 page.querySelector("[data-act=expand]").addEventListener("click",function(){
  nodes.forEach(function(n){n.firstElementChild.open=true;});});
 page.querySelector("[data-act=collapse]").addEventListener("click",function(){
  nodes.forEach(function(n){n.firstElementChild.open=false;});});
 filter();
})();
"""


class _Renderer:
    def __init__(self, t: CallTrace, stats: Mapping | None, report: Any):
        self.t = t
        self.stats = stats or {}
        self.report = report
        self.costs = {}
        if report is not None:
            for row in report._sites:
                self.costs[(row.record.path, row.record.call_index)] = row
        self.scale = None
        if report is not None:
            self.scale = report.root_total_s or report.eager_s

    def site_stats(self, rec: CallRecord) -> list[ActivationStats]:
        return self.stats.get((id(rec.layer), rec.call_index), [])

    def node(self, rec: CallRecord) -> str:
        path = site_path(rec)
        stats = self.site_stats(rec)
        cost = self.costs.get((rec.path, rec.call_index))
        parts = [
            f'<span class="cx-label">{escape(rec.label)}</span>',
            f'<span class="cx-class">{escape(rec.class_name)}</span>',
            f'<span class="cx-call">call {rec.call_index}/{rec.total_calls}</span>',
            f'<span class="cx-io">{escape(_call_io(rec))}</span>',
        ]
        parts += [f'<span class="cx-badge {k}">{escape(v)}</span>' for k, v in _badges(rec)]
        params = _params(rec)
        if params:
            parts.append(f'<span class="cx-params">{escape(params)}</span>')
        if stats:
            parts.append(_hist_svg(stats[0], 48, 14, "cx-spark"))
        if cost is not None and cost.self_s is not None:
            width = 0 if not self.scale else min(120.0, 120.0 * cost.self_s / self.scale)
            parts.append(
                f'<span class="cx-time" title="self {_ms(cost.self_s)}, total '
                f'{_ms(cost.total_s)}"><span class="cx-bar" style="width:{width:.1f}px"></span>'
                f"{escape(_ms(cost.self_s))}</span>"
            )
        children = "".join(self.node(c) for c in rec.children)
        kids = f"<ul>{children}</ul>" if children else ""
        leaf = "" if children else " cx-leaf"
        return (
            f'<li class="cx-node{leaf}" data-path="{escape(path)}" '
            f'data-names="{escape("/".join(rec.path))}"><details><summary>{"".join(parts)}'
            f"</summary>{self.info(rec, stats, cost)}{kids}</details></li>"
        )

    def info(self, rec: CallRecord, stats: list[ActivationStats], cost: Any) -> str:
        rows = [("path", f"<code>{escape(site_path(rec))}</code> (layer <code>"
                 f"{escape('/'.join(rec.path))}</code>)")]  # fmt: skip
        for i, structure in enumerate(rec.inputs):
            name = rec.arg_names[i] if i < len(rec.arg_names) else f"arg{i}"
            rows.append((escape(name), f"<code>{escape(render(structure))}</code>"))
        for key, structure in rec.kwargs.items():
            rows.append((escape(key), f"<code>{escape(render(structure))}</code>"))
        out = "✗" if rec.outputs is None else render(rec.outputs)
        rows.append(("returns", f"<code>{escape(out)}</code>"))
        rows.append(("training", escape(f"{rec.training}" + ("" if rec.sees_training else
                                                            " (passed through)"))))  # fmt: skip
        if rec.created:
            weights = ", ".join(f"{n} {shape_text(s)} {d}" for n, s, d in rec.created)
            rows.append(("built here", escape(weights)))
        if rec.reads:
            rows.append(("reads", escape(", ".join(rec.reads))))
        if rec.flops is not None:
            rows.append(("FLOPs", escape(human(rec.flops))))
        if cost is not None:
            rows.append(("time", escape(f"self {_ms(cost.self_s)}, total {_ms(cost.total_s)}")))
            if cost.bytes is not None:
                rows.append(("bytes", escape(f"{cost.bytes:,.0f} accessed (XLA estimate)")))
        if rec.error is not None:
            rows.append(("error", escape(rec.error)))
        table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        blocks = [f"<table>{table}</table>"]
        for i, s in enumerate(stats):
            title = "output" if len(stats) == 1 else f"output {i}"
            cells = (
                ("min", _num(s.min)), ("max", _num(s.max)), ("mean", _num(s.mean)),
                ("std", _num(s.std)), ("zeros", f"{s.zeros:.1%}"), ("NaN", f"{s.nan:.1%}"),
            )  # fmt: skip
            if s.inf:
                cells += (("inf", f"{s.inf:.1%}"),)
            srows = "".join(f'<tr><th>{k}</th><td class="cx-stat-{k}">{v}</td></tr>'
                            for k, v in cells)  # fmt: skip
            blocks.append(
                f'<div class="cx-stats"><b>{title} statistics</b><table>{srows}</table>'
                f"{_hist_svg(s, 180, 40, 'cx-hist')}<div class='cx-mono'>{_num(s.min)} … "
                f"{_num(s.max)}</div></div>"
            )
        return f'<div class="cx-info">{"".join(blocks)}</div>'

    def profile_table(self) -> str:
        r = self.report
        head = "<tr><th>#</th><th>call site</th><th>class</th><th>call</th><th>self</th>" \
               "<th>total</th><th>FLOPs</th><th>bytes</th></tr>"  # fmt: skip
        body = []
        for i, row in enumerate(r.rows, 1):
            width = 0 if not self.scale or row.self_s is None else 90 * row.self_s / self.scale
            body.append(
                f"<tr><td>{i}</td><td><code>{escape(row.site)}</code></td>"
                f"<td>{escape(row.class_name)}</td><td>{row.call_index}/{row.total_calls}</td>"
                f'<td><span class="cx-bar" style="width:{width:.1f}px"></span> '
                f"{escape(_ms(row.self_s))}</td><td>{escape(_ms(row.total_s))}</td>"
                f"<td>{escape(human(row.flops))}</td>"
                f"<td>{'-' if row.bytes is None else f'{row.bytes:,.0f}'}</td></tr>"
            )
        notes = "".join(f"<div>{escape(line)}</div>" for line in r.footer())
        return (
            f'<h2>Profile (slowest call site first)</h2><table class="cx-table cx-profile">'
            f'{head}{"".join(body)}</table><div class="cx-note">{notes}</div>'
        )

    def page(self, title: str | None, graph: bool) -> tuple[str, str]:
        t = self.t
        pid = f"cx-page-{os.getpid()}-{next(_ids)}"
        root = t.root
        heading = f"{root.class_name}.call({_signature(root)})"
        out = "✗" if t.outputs is None else render(t.outputs)
        totals = [
            f"training={t.training}",
            f"params: {t.trainable_params:,} trainable · {t.non_trainable_params:,} non-trainable",
            f"output: {out}",
            f"{len(t.calls)} calls",
        ]
        if t.flops is not None:
            totals.append(f"FLOPs: {human(t.flops)}")
        if self.report is not None and self.report.compiled_s is not None:
            totals.append(f"compiled step: {_ms(self.report.compiled_s)}")
        if t.abstract:
            totals.append("abstract: shapes only")
        parts = [
            f'<div class="cx-page" id="{pid}">',
            f"<h1>{escape(title or heading)}</h1>",
            '<div class="cx-totals">' + "".join(f"<span>{escape(s)}</span>" for s in totals)
            + "</div>",
            '<div class="cx-toolbar"><input class="cx-search" type="search" '
            'placeholder="filter by call path, e.g. block1.conv" aria-label="filter by call path">'
            '<button type="button" data-act="expand">expand all</button>'
            '<button type="button" data-act="collapse">collapse all</button>'
            '<span class="cx-count"></span></div>',
            '<h2>Call tree</h2><div class="cx-tree"><ul>'
            + "".join(self.node(c) for c in root.children)
            + "</ul></div>",
        ]  # fmt: skip
        if t.not_called:
            names = ", ".join(f"{label} ({cls})" for label, cls in t.not_called)
            parts.append(f'<div class="cx-notcalled">not called: {escape(names)}</div>')
        if self.report is not None:
            parts.append(self.profile_table())
        if graph:
            svg = _graph_svg(t)
            if svg:
                parts.append(
                    '<details class="cx-graph-box" open><summary><h2 style="display:inline">'
                    f'Graph (plot_model)</h2></summary><div class="cx-graph">{svg}</div></details>'
                )
        stats_note = (
            "Activation statistics: one run on the given inputs (NaN/inf excluded from "
            "min/max/mean/std). "
            if self.stats
            else ""
        )
        parts.append(
            f'<div class="cx-note">{stats_note}Written by callax; a self-contained page '
            "(no network needed).</div></div>"
        )
        return pid, "".join(parts)


def _graph_svg(t: CallTrace) -> str:
    try:
        svg = to_svg(build_graph(t, show_shapes=True, show_layer_names=True))
    except Exception:  # the page is still useful without its graph
        return ""
    return svg[svg.find("<svg") :]


def trace_html(
    t: CallTrace,
    stats: Any = None,
    profile: Any = None,
    graph: bool = True,
    title: str | None = None,
    fragment: bool = False,
) -> str:
    """The page for trace ``t`` (``fragment=True``: a ``<div>`` for a notebook).

    Args:
        t: the :class:`~callax.inspect.trace.CallTrace`.
        stats: activation statistics: the mapping :func:`activation_stats`
            returns, or ``callax.capture``'s result; ``None`` for none.
        profile: a :class:`~callax.inspect.profile.Profile` of the same call.
        graph: embed the ``plot_model`` graph.
        title: the page title (default: the model's call signature).
    """
    if not (hasattr(t, "root") and hasattr(t, "calls")):  # a CallTrace
        raise TypeError(f"trace_html: t must be a CallTrace; received {type(t).__name__}.")
    if stats is not None and not isinstance(stats, Mapping):
        raise TypeError(
            "to_html: stats must be the mapping activation_stats() returns or "
            f"callax.capture's result; received {type(stats).__name__}."
        )
    if stats and not all(isinstance(k, tuple) for k in stats):
        stats = stats_from_captures(stats)
    if profile is not None and not hasattr(profile, "_sites"):
        raise TypeError(
            f"to_html: profile must be a callax.profile(...) report; received "
            f"{type(profile).__name__}."
        )
    pid, body = _Renderer(t, stats, profile).page(title, graph)
    style = f"<style>{_CSS}</style>"
    script = f"<script>{_JS % {'id': pid}}</script>"
    if fragment:
        return style + body + script
    name = escape(title or f"{t.root.class_name} call")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{name} · callax</title>{style}</head><body>{body}{script}</body></html>\n"
    )


def write_html(path: str | os.PathLike, html: str) -> str:
    """Writes ``html`` to ``path`` atomically; returns the path as a string."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"to_html: path must be a str or os.PathLike; received {path!r}.")
    path = os.fspath(path)
    with atomic_write(path) as f:
        f.write(html.encode("utf-8"))
    return path


# ------------------------------------------------------------------- show
class CallPage:
    """What :func:`show` wrote: ``path`` (the file), ``html`` (its text), the
    ``trace``, ``stats`` and ``profile`` it shows. Renders inline in a notebook;
    ``os.fspath(page)`` and ``str(page)`` give the path."""

    def __init__(self, path: str, html: str, t: CallTrace, stats: Any, report: Any):
        self.path, self.html, self.trace, self.stats, self.profile = path, html, t, stats, report

    def __fspath__(self) -> str:
        return self.path

    def __str__(self) -> str:
        return self.path

    def __repr__(self) -> str:
        return f"<CallPage {self.path}>"

    def _repr_html_(self) -> str:
        return trace_html(self.trace, self.stats, self.profile, fragment=True)


def show(
    model,
    *inputs: Any,
    path: str | os.PathLike | None = None,
    stats: bool | Any = True,
    profile: bool | Any = False,
    graph: bool = True,
    title: str | None = None,
    **kwargs: Any,
) -> CallPage:
    """Traces ``model(*inputs, **kwargs)`` and writes one HTML page to browse it.

    Args:
        model: any layer or model.
        *inputs: arrays (statistics and timings need them), or shapes /
            ``callax.Input``s / ``jax.ShapeDtypeStruct``s (shapes only).
        path: the ``.html`` file to write; default ``<tempdir>/callax-<model>.html``.
        stats: ``True``: statistics of every call's outputs from one run;
            ``False``: none; or ``callax.capture``'s result to show instead.
        profile: ``True`` to run :func:`callax.profile` and show its figures, or a
            :class:`~callax.inspect.profile.Profile` of this call already made
            (its trace is the page's tree; ``inputs`` then give the statistics).
        graph: embed the ``plot_model`` graph.
        title: the page title.
        **kwargs: passed to the call (``training=True``...).

    Returns:
        A :class:`CallPage` (``page.path`` is the file; it renders inline in a notebook).
    """
    if not (isinstance(profile, (bool, Profile))):
        raise TypeError(
            "show: profile must be True, False or a callax.profile(...) report; "
            f"received {type(profile).__name__}."
        )
    report = None
    if profile is True:
        rng = np.random.default_rng(0)  # shapes become data: profiling runs the call
        inputs = tuple(_concrete(x, rng) for x in inputs)
        report = run_profile(model, *inputs, **kwargs)
        t = report.trace
    elif isinstance(profile, Profile):
        report = profile
        t = profile.trace  # the profiled call (its FLOPs are already there)
    else:
        t = trace(model, *inputs, **kwargs)
    if report is not None and t.flops is None:
        t.flops = report.flops
    if stats is True:
        table = None if t.abstract else activation_stats(model, *inputs, **kwargs)
    elif stats is False or stats is None:
        table = None
    elif isinstance(stats, Mapping):
        table = stats if all(isinstance(k, tuple) for k in stats) else stats_from_captures(stats)
    else:
        raise TypeError(
            "show: stats must be True, False or callax.capture's result; received "
            f"{type(stats).__name__}."
        )
    if path is None:
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in model.name)
        path = os.path.join(tempfile.gettempdir(), f"callax-{safe}.html")
    html = trace_html(t, table, report, graph, title)
    return CallPage(write_html(path, html), html, t, table, report)


__all__ = ["ActivationStats", "CallPage", "activation_stats", "show", "trace_html"]


register_html_renderer(trace_html, write_html)  # CallTrace.to_html / _repr_html_
