"""``trace(model, *inputs)``: run one call and return its :class:`CallTrace`.

The trace is the tree of layer calls the call made, in order, with argument and
output shapes, the ``training`` value each call saw, the weights each call
built, which calls share weights, and XLA's FLOP estimates. It renders as a text
tree (``print(t)``; ``t.print()`` uses colours in a terminal), converts to a
dict / JSON, and compares with another trace (``t.diff(other)``).

Given arrays, the call runs for real, inside a ``StatelessScope`` so nothing
about the model changes (seed generators do not advance, BatchNorm statistics
do not move). Given shapes (tuples of ints, ``None`` for an unknown size),
``callax.Input``/``KerasTensor`` or ``jax.ShapeDtypeStruct``, it runs abstractly
with ``jax.eval_shape``: no computation, and weights it builds stay
uninitialised, so tracing a model too big for memory costs nothing.

Example:
    >>> import callax
    >>> class Mlp(callax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = callax.layers.Dense(8, activation="relu")
    ...         self.out = callax.layers.Dense(2)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> t = callax.trace(Mlp(), (4, 3), flops=False)
    >>> print(t)
    Mlp.call(x: f32[4,3])  training=None
    ├─ hidden  Dense  call 1/1  f32[4,3] → f32[4,8]  built here: kernel (3,8), bias (8,)
    └─ out     Dense  call 1/1  f32[4,8] → f32[4,2]  built here: kernel (8,2), bias (2,)
    params: 50 trainable · 0 non-trainable   output: f32[4,2]   (abstract: shapes only)
"""

from __future__ import annotations

import json
import sys
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from callax.core import call_context as _ctx
from callax.core import config
from callax.core.keras_tensor import KerasTensor
from callax.core.pitfalls import attribute_name
from callax.core.variable import abstract_variables
from callax.inspect.recorder import (
    CallRecord,
    ReadTrackingScope,
    Recorder,
    Value,
    render,
    structure_to_json,
)


# ------------------------------------------------------------------ inputs
def _is_shape(x: Any) -> bool:
    return (
        isinstance(x, tuple)
        and all(d is None or isinstance(d, int) for d in x)
        and (len(x) == 0 or not all(isinstance(d, bool) for d in x))
    )


class _Specs:
    """Turns user inputs into call arguments, noting whether any is abstract.

    ``None`` dimensions become symbolic sizes (``b`` for a leading one, shared by
    every input; ``d1``, ``d2``... elsewhere) so outputs keep them unknown.
    """

    def __init__(self, symbolic: bool):
        from jax import export

        self.symbolic = symbolic
        self.abstract = False
        self._export = export
        self._scope = export.SymbolicScope() if symbolic else None
        self._count = 0

    def shape(self, dims: tuple) -> tuple:
        if not any(d is None for d in dims):
            return tuple(int(d) for d in dims)
        if not self.symbolic:
            return tuple(1 if d is None else int(d) for d in dims)
        parts = []
        for axis, d in enumerate(dims):
            if d is not None:
                parts.append(str(int(d)))
            elif axis == 0:
                parts.append("b")
            else:
                self._count += 1
                parts.append(f"d{self._count}")
        return self._export.symbolic_shape(", ".join(parts), scope=self._scope)

    def convert(self, x: Any) -> Any:
        if _is_shape(x):
            self.abstract = True
            return jax.ShapeDtypeStruct(self.shape(x), jnp.dtype(config.floatx()))
        if isinstance(x, KerasTensor):
            self.abstract = True
            return jax.ShapeDtypeStruct(self.shape(x.shape), jnp.dtype(x.dtype))
        if isinstance(x, jax.ShapeDtypeStruct):
            self.abstract = True
            return x
        if isinstance(x, list):
            return [self.convert(v) for v in x]
        if isinstance(x, tuple):
            return tuple(self.convert(v) for v in x)
        if isinstance(x, dict):
            return {k: self.convert(v) for k, v in x.items()}
        return x


def _is_dynamic(x: Any) -> bool:
    return isinstance(x, (jax.ShapeDtypeStruct, jax.Array, np.ndarray))


def split_dynamic(tree: Any) -> tuple[list[Any], Any]:
    """``(tensors, rebuild)``: the tensor leaves of ``tree`` and a function that
    puts new leaves back (non-tensor leaves stay as they are, static)."""
    leaves, treedef = jax.tree_util.tree_flatten(tree, is_leaf=_is_dynamic)
    positions = [i for i, leaf in enumerate(leaves) if _is_dynamic(leaf)]

    def rebuild(dynamic: list[Any]) -> Any:
        merged = list(leaves)
        for i, value in zip(positions, dynamic):
            merged[i] = value
        return jax.tree_util.tree_unflatten(treedef, merged)

    return [leaves[i] for i in positions], rebuild


def _to_spec(x: Any) -> Any:
    if isinstance(x, (jax.Array, np.ndarray)):
        return jax.ShapeDtypeStruct(x.shape, x.dtype)
    return x


# ------------------------------------------------------------------- FLOPs
def layer_cost(layer, args: Any, kwargs: Any) -> tuple[float | None, float | None]:
    """XLA's ``(flops, bytes accessed)`` estimate for ``layer(*args, **kwargs)``, where
    tensors may be ShapeDtypeStructs (lowered only: never run or compiled); ``None``
    for what XLA does not report or a call that cannot be lowered alone."""
    if not layer.built:
        return None, None
    var_specs = (
        [jax.ShapeDtypeStruct(v.shape, v.dtype) for v in layer.trainable_variables],
        [jax.ShapeDtypeStruct(v.shape, v.dtype) for v in layer.non_trainable_variables],
    )
    dynamic, rebuild = split_dynamic((args, kwargs))
    dynamic = [_to_spec(d) for d in dynamic]

    def fn(variables, dynamic):
        a, k = rebuild(dynamic)
        return layer.stateless_call(variables[0], variables[1], *a, **k)[0]

    try:
        cost = jax.jit(fn).lower(var_specs, dynamic).cost_analysis()
    except Exception:  # a call that cannot be lowered alone simply has no estimate
        return None, None
    if isinstance(cost, (list, tuple)):
        cost = cost[0] if cost else None
    if not cost:
        return None, None
    flops, nbytes = cost.get("flops"), cost.get("bytes accessed")
    return (None if flops is None else float(flops)), (None if nbytes is None else float(nbytes))


def layer_flops(layer, args: Any, kwargs: Any) -> float | None:
    """FLOPs of ``layer(*args, **kwargs)`` where tensors may be ShapeDtypeStructs."""
    return layer_cost(layer, args, kwargs)[0]


# -------------------------------------------------------------- formatting
def human(n: float | None) -> str:
    """``2.1M`` for 2.1e6 (``-`` for None)."""
    if n is None:
        return "-"
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"


def shape_text(shape: tuple) -> str:
    """``(16,)``, ``(16,16)``: a weight shape, compactly."""
    return f"({shape[0]},)" if len(shape) == 1 else f"({','.join(str(d) for d in shape)})"


def _weights_note(created: list[tuple]) -> str:
    return ", ".join(f"{name} {shape_text(shape)}" for name, shape, _ in created)


def _notes(rec: CallRecord) -> str:
    notes = []
    if rec.error is not None:
        notes.append(f"raised {rec.error.splitlines()[0]}")
    if rec.created:
        notes.append(f"built here: {_weights_note(rec.created)}")
    elif rec.call_index > 1 and rec.reads:
        notes.append("shares weights with call 1")
    parent_training = rec.parent.training if rec.parent is not None else None
    if rec.sees_training or rec.training != parent_training:
        notes.append(f"training={rec.training}")
    if rec.flops is not None and rec.flops > 0:
        notes.append(f"{human(rec.flops)} FLOPs")
    return "  ".join(notes)


def _signature(rec: CallRecord) -> str:
    parts = []
    for i, structure in enumerate(rec.inputs):
        name = rec.arg_names[i] if i < len(rec.arg_names) else f"arg{i}"
        parts.append(f"{name}: {render(structure)}")
    for key, structure in rec.kwargs.items():
        parts.append(f"{key}={render(structure)}")
    return ", ".join(parts)


def _call_io(rec: CallRecord) -> str:
    args = list(rec.inputs) + [v for v in rec.kwargs.values() if not isinstance(v, Value)]
    inputs = render(args[0]) if len(args) == 1 else ", ".join(render(a) for a in args)
    outputs = "✗" if rec.outputs is None else render(rec.outputs)
    return f"{inputs} → {outputs}"


# The HTML page builds on this module (it renders a CallTrace), so it registers
# its renderer here when imported (``callax.inspect`` imports it with the package)
# instead of this module importing it back.
_HTML_RENDERER: dict[str, Any] = {}


def register_html_renderer(trace_html: Any, write_html: Any) -> None:
    """Makes ``CallTrace.to_html`` / ``_repr_html_`` use ``trace_html(trace, stats,
    profile, graph, fragment=...)`` and ``write_html(path, html)``
    (:mod:`callax.inspect.html_page` calls it once, at import)."""
    _HTML_RENDERER["trace_html"] = trace_html
    _HTML_RENDERER["write_html"] = write_html


# --------------------------------------------------------------- the trace
class CallTrace:
    """The record of one call of a model: a tree of :class:`CallRecord`.

    Attributes:
        root: the model's own call; ``root.children`` are the calls it made.
        calls: every call below the root, in the order they started.
        outputs: the described outputs of the model call.
        abstract: whether the call ran abstractly (``jax.eval_shape``).
        trainable_params, non_trainable_params: the model's weight counts.
        flops: XLA's estimate for the whole call (``None`` when unavailable).
        not_called: ``(label, class name)`` of layers the model holds that this
            call never used (e.g. a Dropout used only when ``training``).
    """

    def __init__(self, model, root: CallRecord, abstract: bool, flops: float | None):
        self.model = model
        self.root = root
        self.abstract = abstract
        self.flops = flops
        self.outputs = root.outputs
        self.calls = sorted((r for r in root.walk() if r is not root), key=lambda r: r.order)
        weights = model.weights
        self.trainable_params = int(sum(v.size for v in weights if v.trainable))
        self.non_trainable_params = int(sum(v.size for v in weights if not v.trainable))
        self.not_called = _not_called(model, root)

    # ------------------------------------------------------------ queries
    def find(self, name: str) -> list[CallRecord]:
        """The calls of the layer with this name or attribute name, in order."""
        return [r for r in self.calls if r.name == name or r.attr == name]

    @property
    def training(self) -> Any:
        return self.root.training

    # ----------------------------------------------------------- rendering
    def lines(self) -> list[tuple[str, ...]]:
        """One ``(prefix+label, class, call, io, notes)`` row per call."""
        rows: list[tuple[str, ...]] = []

        def visit(rec: CallRecord, prefix: str) -> None:
            for i, child in enumerate(rec.children):
                last = i == len(rec.children) - 1
                branch = "└─ " if last else "├─ "
                rows.append(
                    (
                        prefix + branch + child.label,
                        child.class_name,
                        f"call {child.call_index}/{child.total_calls}",
                        _call_io(child),
                        _notes(child),
                    )
                )
                visit(child, prefix + ("   " if last else "│  "))

        visit(self.root, "")
        return rows

    def header(self) -> str:
        return f"{self.root.class_name}.call({_signature(self.root)})  training={self.training}"

    def footer(self) -> str:
        out = "✗" if self.outputs is None else render(self.outputs)
        text = (
            f"params: {self.trainable_params:,} trainable · {self.non_trainable_params:,} "
            f"non-trainable   output: {out}"
        )
        if self.flops is not None:
            text += f"   FLOPs: {human(self.flops)}"
        if self.abstract:
            text += "   (abstract: shapes only)"
        return text

    def text(self) -> str:
        """The call tree as plain text."""
        rows = self.lines()
        out = [self.header()]
        if rows:
            widths = [max(len(r[i]) for r in rows) for i in range(4)]
            io_width = min(widths[3], 60)
            for row in rows:
                cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2]]
                cells.append(row[3].ljust(io_width) if row[4] else row[3])
                if row[4]:
                    cells.append(row[4])
                out.append("  ".join(cells).rstrip())
        if self.not_called:
            names = ", ".join(f"{label} ({cls})" for label, cls in self.not_called)
            out.append(f"not called: {names}")
        out.append(self.footer())
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<CallTrace {self.root.class_name}: {len(self.calls)} calls>"

    def __rich__(self):
        from rich.text import Text

        rows = self.lines()
        text = Text(self.header() + "\n", style="bold")
        widths = [max((len(r[i]) for r in rows), default=0) for i in range(4)]
        for row in rows:
            text.append(row[0].ljust(widths[0]) + "  ", style="cyan")
            text.append(row[1].ljust(widths[1]) + "  ", style="magenta")
            text.append(row[2] + "  ", style="dim")
            text.append(row[3].ljust(min(widths[3], 60)) + "  ", style="green")
            text.append(row[4] + "\n", style="yellow")
        if self.not_called:
            names = ", ".join(f"{label} ({cls})" for label, cls in self.not_called)
            text.append(f"not called: {names}\n", style="red")
        text.append(self.footer(), style="bold")
        return text

    def print(self, file: Any = None) -> None:
        """Prints the tree: with colours (rich) in a terminal, plain otherwise."""
        file = sys.stdout if file is None else file
        if getattr(file, "isatty", lambda: False)():
            from rich.console import Console

            Console(file=file).print(self.__rich__())
        else:
            print(self.text(), file=file)

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython
        printer.text(self.text())

    def _repr_html_(self) -> str:  # notebooks: the browsable page, inline
        return _HTML_RENDERER["trace_html"](self, fragment=True)

    def to_html(
        self, path: Any = None, *, stats: Any = None, profile: Any = None, graph: bool = True
    ) -> str:
        """The call as one self-contained HTML page (collapsible tree, search by
        path, the ``plot_model`` graph; no network needed), written to ``path``
        when given. Returns the HTML text.

        ``stats``: activation statistics (``callax.inspect.html_page.activation_stats``
        or ``callax.capture``'s result); ``profile``: a ``callax.profile`` report of
        the same call. ``callax.show(model, x)`` gathers both and writes the page.

        Example:
            >>> import callax
            >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2)])
            >>> "<details>" in model.trace((4, 3)).to_html()
            True
        """
        html = _HTML_RENDERER["trace_html"](self, stats, profile, graph)
        if path is not None:
            _HTML_RENDERER["write_html"](path, html)
        return html

    # ------------------------------------------------------------ export
    def to_dict(self) -> dict:
        """A JSON-ready dict: the model, its totals, and the call tree."""

        def node(rec: CallRecord) -> dict:
            return {
                "name": rec.name,
                "attr": rec.attr,
                "class": rec.class_name,
                "path": "/".join(rec.path),
                "call_index": rec.call_index,
                "total_calls": rec.total_calls,
                "inputs": {
                    (rec.arg_names[i] if i < len(rec.arg_names) else f"arg{i}"): (
                        structure_to_json(s)
                    )
                    for i, s in enumerate(rec.inputs)
                },
                "kwargs": {k: structure_to_json(v) for k, v in rec.kwargs.items()},
                "outputs": structure_to_json(rec.outputs),
                "training": rec.training,
                "built_here": rec.built_here,
                "created": [{"name": n, "shape": list(s), "dtype": d} for n, s, d in rec.created],
                "reads": list(rec.reads),
                "shares_weights_with_call": 1 if rec.call_index > 1 and rec.reads else None,
                "flops": rec.flops,
                "error": rec.error,
                "children": [node(c) for c in rec.children],
            }

        return {
            "model": self.root.name,
            "class": self.root.class_name,
            "abstract": self.abstract,
            "training": self.training,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "flops": self.flops,
            "not_called": [{"name": n, "class": c} for n, c in self.not_called],
            "call": node(self.root),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    # -------------------------------------------------------------- diff
    def diff(self, other: CallTrace) -> TraceDiff:
        """What differs between this trace and ``other``, call by call.

        Calls are matched by path and call index. ``-`` marks a call made only
        in this trace, ``+`` one made only in ``other``, ``~`` a call made in both
        with other shapes or another ``training`` value.
        """
        return TraceDiff(self, other)


def _key(rec: CallRecord) -> tuple:
    return (rec.path[1:], rec.call_index)


def _summary(rec: CallRecord) -> tuple:
    # `training` counts only where the layer's `call` declares it: elsewhere it
    # merely passes through and changes nothing.
    return (render(rec.inputs), render(rec.outputs), rec.training if rec.sees_training else None)


class TraceDiff:
    """The difference between two traces (``a.diff(b)``); falsy when none.

    Attributes:
        only_self: calls made only in the first trace.
        only_other: calls made only in the second.
        changed: ``(mine, theirs)`` pairs of matched calls that differ.
    """

    def __init__(self, a: CallTrace, b: CallTrace):
        self.a, self.b = a, b
        mine = {_key(r): r for r in a.calls}
        theirs = {_key(r): r for r in b.calls}
        self.only_self = [r for r in a.calls if _key(r) not in theirs]
        self.only_other = [r for r in b.calls if _key(r) not in mine]
        self.changed = [
            (r, theirs[_key(r)])
            for r in a.calls
            if _key(r) in theirs and _summary(r) != _summary(theirs[_key(r)])
        ]

    def __bool__(self) -> bool:
        return bool(self.only_self or self.only_other or self.changed)

    def _describe(self, t: CallTrace) -> str:
        return f"{t.root.class_name}.call({_signature(t.root)}) training={t.training}"

    def text(self) -> str:
        lines = [f"--- {self._describe(self.a)}", f"+++ {self._describe(self.b)}"]
        if not self:
            lines.append("  (same calls, shapes and training values)")
            return "\n".join(lines)
        changed = {id(r): t for r, t in self.changed}
        only_other = {_key(r): r for r in self.only_other}
        # Walk the union in call order: the first trace's order, the second's
        # extra calls inserted after their predecessor.
        order = list(self.a.calls)
        for r in self.b.calls:
            if _key(r) in only_other:
                prev = [c for c in self.b.calls if c.order < r.order]
                anchor = _key(prev[-1]) if prev else None
                at = next((i for i, c in enumerate(order) if _key(c) == anchor), -1)
                order.insert(at + 1, r)
        only_self = {id(r) for r in self.only_self}
        for r in order:
            indent = "  " * (len(r.path) - 2)
            where = f"{indent}{r.label} ({r.class_name}) call {r.call_index}/{r.total_calls}"
            if id(r) in only_self:
                lines.append(f"- {where}  {_call_io(r)}  training={r.training}")
            elif _key(r) in only_other and r not in self.a.calls:
                lines.append(f"+ {where}  {_call_io(r)}  training={r.training}")
            elif id(r) in changed:
                t = changed[id(r)]
                lines.append(f"~ {where}  {_call_io(r)} training={r.training}")
                lines.append(f"  {' ' * len(where)}  {_call_io(t)} training={t.training}")
            else:
                lines.append(f"  {where}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return (
            f"<TraceDiff only_self={len(self.only_self)} only_other={len(self.only_other)} "
            f"changed={len(self.changed)}>"
        )


def _not_called(model, root: CallRecord) -> list[tuple[str, str]]:
    called = {id(r.layer) for r in root.walk()}
    out: list[tuple[str, str]] = []

    def visit(layer) -> None:
        for child in layer._direct_children():
            if id(child) in called:
                # A built-in layer's sublayers (an RNN's cell, run inside its scan)
                # are its own business; only user code can forget to call a layer.
                if not (type(child).__module__ or "").startswith("callax."):
                    visit(child)
            elif type(child).__name__ != "InputLayer":  # placeholders, never called
                attr = attribute_name(layer, child)
                label = attr if attr and not attr.startswith("_") else child.name
                out.append((label, type(child).__name__))

    visit(model)
    return out


# ------------------------------------------------------------ the function
def trace(model, *inputs: Any, flops: bool | str = True, **kwargs: Any) -> CallTrace:
    """Runs ``model(*inputs, **kwargs)`` once and returns its :class:`CallTrace`.

    Args:
        model: any layer or model (subclassed, Sequential or Functional).
        *inputs: arrays (the call runs for real, without changing the model's
            state), or shapes (tuples, ``None`` for an unknown size),
            ``callax.Input``/``KerasTensor`` or ``jax.ShapeDtypeStruct`` (the call
            runs abstractly: nothing is computed or allocated).
        flops: ``True`` for XLA's FLOP estimate of the whole call and of each
            call in it, ``"total"`` for the whole call only, ``False`` for none.
        **kwargs: passed to the call (``training=True``...).

    An unbuilt model is built by the trace (abstractly, when tracing shapes:
    its new weights stay uninitialised until first read).
    """
    specs = _Specs(symbolic=True)
    args, kw = specs.convert(inputs), specs.convert(kwargs)
    try:
        root = _record(model, args, kw, specs.abstract)
    except Exception:
        if not specs.symbolic or not _has_symbolic(args, kw):
            raise
        # Some layers need concrete sizes (`int(x.shape[0])`): unknown sizes become 1.
        specs = _Specs(symbolic=False)
        args, kw = specs.convert(inputs), specs.convert(kwargs)
        root = _record(model, args, kw, specs.abstract)
    total = None
    if flops:
        total = layer_flops(model, *root.specs)
        if flops != "total":
            for rec in root.walk():
                if rec is not root and rec.error is None:
                    rec.flops = layer_flops(rec.layer, *rec.specs)
    root.flops = total
    return CallTrace(model, root, specs.abstract, total)


def _has_symbolic(*trees: Any) -> bool:
    leaves = jax.tree_util.tree_leaves(trees, is_leaf=_is_dynamic)
    return any(
        isinstance(x, jax.ShapeDtypeStruct) and not all(isinstance(d, int) for d in x.shape)
        for x in leaves
    )


def _record(model, args: tuple, kwargs: dict, abstract: bool) -> CallRecord:
    recorder = Recorder()
    if abstract:
        dynamic, rebuild = split_dynamic((args, kwargs))
        dynamic = [_to_spec(d) for d in dynamic]

        def run(dynamic):
            a, k = rebuild(dynamic)
            return model(*a, **k)

        with _ctx.listening(recorder):
            with abstract_variables(), ReadTrackingScope(recorder), _ctx.isolated_context():
                jax.eval_shape(run, dynamic)
    else:
        with _ctx.listening(recorder):
            with ReadTrackingScope(recorder), _ctx.isolated_context():
                model(*args, **kwargs)
    recorder.finish()
    if not recorder.roots:
        raise ValueError(
            f"trace: calling {type(model).__name__} '{model.name}' made no layer call to "
            "record (was it called on symbolic inputs?); received inputs "
            f"{jax.tree_util.tree_map(_to_spec, args)}."
        )
    return recorder.roots[0]
