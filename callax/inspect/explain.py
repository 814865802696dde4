"""``explain(model, *inputs)``: a short report on how the call protocol treats a model.

For people learning the subclassing workflow: for each layer, when it was built
and from which input shape; which calls see ``training`` and with which value
(tracing both modes when ``call`` takes ``training``); which layers are shared;
and pitfalls found: a layer created inside ``call``, a ``__call__`` override,
weights no call reads, a layer assigned in ``__init__`` but never called.

Example:
    >>> import callax
    >>> class Mlp(callax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = callax.layers.Dense(8)
    ...         self.unused = callax.layers.Dense(4)
    ...         self.out = callax.layers.Dense(2)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> report = callax.explain(Mlp(), (None, 3))
    >>> print(report.pitfalls[0])
    unused (Dense) is assigned in __init__ but no call used it; it has no weights yet \
and adds nothing to the model. Remove it, or call it in `call`.
"""

from __future__ import annotations

from typing import Any

from callax.core.call_spec import call_spec
from callax.core.layer import Layer
from callax.core.pitfalls import attribute_name
from callax.inspect.recorder import CallRecord, render
from callax.inspect.summary import build_inputs
from callax.inspect.trace import CallTrace, shape_text, trace


class Explanation:
    """The report: ``print(e)`` shows it; ``pitfalls`` lists the problems found.

    Attributes:
        traces: the traces it was written from (``{"training=True": CallTrace...}``).
        sections: ``(title, lines)`` pairs.
        pitfalls: one message per problem found (empty when none).
    """

    def __init__(self, title: str, sections: list[tuple[str, list[str]]], pitfalls: list[str],
                 traces: dict[str, CallTrace]):  # fmt: skip
        self.title = title
        self.sections = sections
        self.pitfalls = pitfalls
        self.traces = traces

    def text(self) -> str:
        out = [self.title]
        for title, lines in self.sections + [("Pitfalls", self.pitfalls or ["none found"])]:
            out.append(f"\n{title}")
            out += [f"  • {line}" for line in lines]
        return "\n".join(out)

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return self.text()

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython
        printer.text(self.text())


def _label(rec_or_layer: Any, owner: Any = None) -> str:
    if isinstance(rec_or_layer, CallRecord):
        return f"{rec_or_layer.label} ({rec_or_layer.class_name})"
    name = attribute_name(owner, rec_or_layer) if owner is not None else None
    return f"{name or rec_or_layer.name} ({type(rec_or_layer).__name__})"


def _user_call_override(layer: Layer) -> type | None:
    for cls in type(layer).__mro__:
        if cls is Layer:
            return None
        if "__call__" in cls.__dict__ and not cls.__module__.startswith("callax."):
            return cls
    return None


def _shapes_text(shapes: Any) -> str:
    if isinstance(shapes, list) and shapes and isinstance(shapes[0], (list, tuple)):
        return "[" + ", ".join(_shapes_text(s) for s in shapes) + "]"
    if isinstance(shapes, (list, tuple)):
        return (
            "("
            + ", ".join("None" if d is None else str(d) for d in shapes)
            + (",)" if len(shapes) == 1 else ")")
        )
    return str(shapes)


def explain(model, *inputs: Any, **kwargs: Any) -> Explanation:
    """Traces ``model`` on ``inputs`` and reports how the call protocol treats it.

    Args:
        model: a model or layer.
        *inputs: arrays or shapes, as for :func:`callax.trace` (default: the
            shapes the model was built with).
        **kwargs: passed to the call. Without ``training``, a ``call`` that takes
            ``training`` is traced with ``training=False`` and ``training=True``.
    """
    args = inputs if inputs else build_inputs(model)
    built_before = {id(layer): layer.built for layer in model._flatten_layers()}
    spec = call_spec(type(model))
    modes: list[Any]
    if "training" in kwargs:
        modes = [kwargs.pop("training")]
    elif spec.accepts_training:
        modes = [False, True]
    else:
        modes = [None]
    traces: dict[str, CallTrace] = {}
    for mode in modes:
        extra = {} if mode is None else {"training": mode}
        traces[f"training={mode}"] = trace(model, *args, flops=False, **kwargs, **extra)
    first = next(iter(traces.values()))
    # A second trace in the same mode: a layer made inside `call` is a new object.
    again = trace(model, *args, flops=False, **kwargs,
                  **({} if modes[0] is None else {"training": modes[0]}))  # fmt: skip

    calls = [r for t in traces.values() for r in t.root.walk()]  # the model's own call too
    signature = ", ".join(p for p in spec.positional if p not in ("training", "mask"))
    title = (
        f"explain {type(model).__name__} '{model.name}': call({signature})"
        f" on {render(first.root.inputs)}"
    )
    sections = [
        ("Building", _building(model, first, built_before)),
        ("training", _training(model, traces, spec)),
        ("Shared layers", _shared(first)),
    ]
    pitfalls = _pitfalls(model, traces, first, again, calls)
    return Explanation(title, sections, pitfalls, traces)


def _building(model, t: CallTrace, built_before: dict[int, bool]) -> list[str]:
    lines = []
    seen: set[int] = set()
    for rec in t.calls:
        layer = rec.layer
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        shapes = getattr(layer, "_build_shapes", None)
        source = f"from input shape {_shapes_text(shapes)}" if shapes is not None else ""
        if rec.created:
            weights = ", ".join(f"{n} {shape_text(s)}" for n, s, _ in rec.created)
            lines.append(
                f"{_label(rec)}: built by its first call in this trace, {source} → {weights}"
            )
        elif built_before.get(id(layer), False):
            count = len(layer.weights)
            what = f"{count} weight{'s' if count != 1 else ''}" if count else "no weights"
            lines.append(f"{_label(rec)}: already built before this trace, {source} ({what})")
        elif not layer.weights:
            lines.append(f"{_label(rec)}: has no weights; nothing to build")
        else:
            lines.append(f"{_label(rec)}: built during this trace {source}")
    if not lines:
        lines.append("no layer was called")
    return lines


def _training(model, traces: dict[str, CallTrace], spec) -> list[str]:
    lines = []
    if spec.accepts_training:
        default = spec.training_default
        lines.append(
            f"{type(model).__name__}.call declares `training` (default {default}); "
            "model(x, training=...) overrides it and the value reaches every nested layer."
        )
    else:
        lines.append(
            f"{type(model).__name__}.call does not declare `training`; a value passed to "
            "model(x, training=...) still reaches every nested layer that declares it."
        )
    for mode, t in traces.items():
        seen = [r for r in t.calls if r.sees_training]
        if seen:
            names = ", ".join(f"{_label(r)} saw training={r.training}" for r in seen)
            lines.append(f"with {mode}: {names}")
        else:
            lines.append(f"with {mode}: no called layer's `call` declares `training`")
    if len(traces) == 2:
        (mode_a, a), (mode_b, b) = traces.items()
        diff = a.diff(b)
        for r in diff.only_self:
            lines.append(f"{_label(r)} runs only with {mode_a} (a Python `if` on training)")
        for r in diff.only_other:
            lines.append(f"{_label(r)} runs only with {mode_b} (a Python `if` on training)")
    return lines


def _shared(t: CallTrace) -> list[str]:
    lines = []
    for rec in t.calls:
        if rec.call_index == 1 and rec.total_calls > 1:
            weights = ", ".join(path.rsplit("/", 1)[-1] for path in rec.reads)
            what = f"the same weights ({weights})" if weights else "no weights"
            lines.append(f"{_label(rec)} is called {rec.total_calls} times: {what} every call")
    return lines or ["none: each layer is called once"]


def _pitfalls(model, traces, first: CallTrace, again: CallTrace, calls) -> list[str]:
    out = []
    for layer in model._flatten_layers():
        cls = _user_call_override(layer)
        if cls is not None:
            out.append(
                f"{cls.__qualname__} defines __call__: the base class's __call__ (which builds "
                "weights, routes `training` and records calls) is bypassed. Rename it to `call`."
            )
    first_ids = {id(r.layer) for r in first.calls}
    fresh = [r for r in again.calls if id(r.layer) not in first_ids]
    reported: set[str] = set()
    for rec in fresh:
        parent = rec.parent.class_name if rec.parent is not None else type(model).__name__
        key = f"{parent}/{rec.class_name}"
        if key in reported:
            continue
        reported.add(key)
        out.append(
            f"a new {rec.class_name} is created inside {parent}.call on every call: its "
            "weights are re-initialised each time and never trained. Create it once in "
            "__init__ and only call it in `call`."
        )
    called = {id(r.layer) for r in calls}
    read = {path for r in calls for path in r.reads}
    never = [
        (label, cls)
        for label, cls in first.not_called
        if all((label, cls) in t.not_called for t in traces.values())
    ]
    held = {attribute_name(model, c) or c.name: c for c in model._direct_children()}
    for label, cls in never:
        layer = held.get(label)
        has = layer is not None and layer.weights
        out.append(
            f"{label} ({cls}) is assigned in __init__ but no call used it; "
            + ("its weights are saved and counted but never trained." if has else
               "it has no weights yet and adds nothing to the model.")
            + " Remove it, or call it in `call`."
        )  # fmt: skip
    unused = [
        v.path
        for layer in model._flatten_layers(include_self=True)
        if id(layer) in called
        for v in layer._direct_state()[0]
        if v.path not in read
    ]
    if unused:
        out.append(
            f"weights no traced call reads: {', '.join(unused)}. They are saved and counted "
            "in the parameters but never affect the outputs (nor get gradients)."
        )
    return out
