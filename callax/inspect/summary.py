"""``model.summary()``: Keras's summary table, for subclassed models too.

Keras lists a subclassed model's child layers with ``?`` output shapes, because
it has no graph of layers to read. callax traces the call (abstractly, from the
shapes the model was built with), so every row has its real output shape, a
layer used twice gets a row per call, and a layer never called says so.

Example:
    >>> import callax
    >>> class Mlp(callax.Model):
    ...     def __init__(self, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.hidden = callax.layers.Dense(8, activation="relu")
    ...         self.out = callax.layers.Dense(2)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> model = Mlp(name="mlp")
    >>> model.build((None, 3))
    >>> model.summary(line_length=60)
    Model: "mlp"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━┓
    ┃ Layer (type)           ┃ Output Shape        ┃   Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━┩
    │ hidden (Dense)         │ (None, 8)           │        32 │
    ├────────────────────────┼─────────────────────┼───────────┤
    │ out (Dense)            │ (None, 2)           │        18 │
    └────────────────────────┴─────────────────────┴───────────┘
     Total params: 50 (200.00 B)
     Trainable params: 50 (200.00 B)
     Non-trainable params: 0 (0.00 B)
"""

from __future__ import annotations

import inspect
import textwrap
from collections.abc import Callable
from typing import Any

import numpy as np

from callax.core import pitfalls
from callax.core.call_spec import call_spec
from callax.core.keras_tensor import KerasTensor
from callax.inspect.recorder import CallRecord, TensorInfo
from callax.inspect.trace import trace as run_trace
from callax.utils.io_utils import print_msg


# ------------------------------------------------------------------ inputs
def graph_inputs(model) -> Any:
    """The symbolic inputs of a Functional/Sequential model, as its call takes
    them (one tensor, a list or a dict), or ``None``."""
    inputs = getattr(model, "_inputs_struct", None)
    if inputs is None:
        inputs = getattr(model, "inputs", None)
        if isinstance(inputs, (list, tuple)) and len(inputs) == 1:
            inputs = inputs[0]
    if inputs is None or isinstance(inputs, property):
        return None
    return inputs


def build_inputs(model) -> tuple:
    """Positional inputs (shapes or symbolic tensors) to trace a built model with.

    Raises:
        ValueError: the model is not built and has no known input shape.
    """
    inputs = graph_inputs(model)
    if inputs is not None:
        return (inputs,)
    shapes = getattr(model, "_build_shapes", None)
    if shapes is None:
        shapes = getattr(model, "_input_shape_arg", None)
    if shapes is None:
        raise ValueError(unbuilt_message(model))
    return shapes_to_args(model, shapes, model.__dict__.get("_build_dtypes"))


def shapes_to_args(model, shapes: Any, dtypes: Any = None) -> tuple:
    """Recorded build shapes (and dtypes, when known) → positional arguments, one
    per ``call`` input: shape tuples, or symbolic tensors carrying the dtype."""

    def as_shape(s: Any, dt: Any) -> Any:
        if isinstance(s, dict):
            return {
                k: as_shape(v, dt.get(k) if isinstance(dt, dict) else None) for k, v in s.items()
            }
        if isinstance(s, (list, tuple)) and s and isinstance(s[0], (list, tuple, dict)):
            dts = dt if isinstance(dt, list) and len(dt) == len(s) else [None] * len(s)
            return [as_shape(v, d) for v, d in zip(s, dts)]
        if isinstance(dt, str):
            return KerasTensor(tuple(s), dt)
        return tuple(s)

    shapes = as_shape(shapes, dtypes)
    if isinstance(shapes, list):
        positional = [p for p in call_spec(type(model)).positional if p not in ("training", "mask")]
        if len(positional) >= len(shapes) > 1:
            return tuple(shapes)
    return (shapes,)


def unbuilt_message(model) -> str:
    kind = type(model).__name__
    return (
        f"{kind} '{model.name}' has not been built yet, so it has no weights and no output "
        "shapes to show: a model creates its weights from the shape of its first inputs. "
        "Build it first, either by calling it on data:\n\n"
        f"    {model.name}(x)                  # e.g. x of shape (32, 784)\n\n"
        "or with the input shape (this traces `call` abstractly: no computation):\n\n"
        f"    {model.name}.build((None, 784))\n\n"
        "or pass the inputs to look at directly: callax.trace(model, x) / "
        "plot_model(model, inputs=[(None, 784)])."
    )


# ------------------------------------------------------------- formatting
def format_size(num_bytes: float) -> str:
    """``10.79 KB`` (1 KB = 1024 B, as Keras prints)."""
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} TB"


def keras_shape(structure: Any) -> str:
    """Output shape(s) as Keras prints them: ``(None, 64)``; symbolic sizes as None."""
    if isinstance(structure, TensorInfo):
        dims = tuple(d if d is None or isinstance(d, int) else None for d in structure.shape)
        return TensorInfo(dims, structure.dtype).keras_shape()
    if isinstance(structure, (list, tuple)):
        return "[" + ", ".join(keras_shape(s) for s in structure) + "]"
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k}: {keras_shape(s)}" for k, s in structure.items()) + "}"
    return "?"


def _params(layer) -> tuple[int, int]:
    weights = layer.weights
    return (
        int(sum(v.size for v in weights if v.trainable)),
        int(sum(v.size for v in weights if not v.trainable)),
    )


def _bytes(variables) -> int:
    return int(sum(v.size * np.dtype(v.dtype).itemsize for v in variables))


class _Row:
    __slots__ = ("name", "shape", "params", "trainable", "connected", "depth")

    def __init__(self, name, shape, params, trainable, connected, depth):
        self.name, self.shape, self.params = name, shape, params
        self.trainable, self.connected, self.depth = trainable, connected, depth


def input_names(model, count: int) -> list[str] | None:
    """Names of a graph model's ``InputLayer``s, when there is one per input."""
    layers = [c for c in model._direct_children() if type(c).__name__ == "InputLayer"]
    return [layer.name for layer in layers] if len(layers) == count else None


def _connected(rec: CallRecord, inputs: list[str] | None) -> str:
    parts = []
    for source in rec.sources:
        if source is None:
            continue
        if source.record is None:
            if source.ops_owner is not None:
                parts.append(f"(ops in {source.ops_owner.class_name}.call)")
            elif inputs is not None and source.input_index < len(inputs):
                parts.append(f"{inputs[source.input_index]}[0][0]")
            else:
                parts.append(f"input[{source.input_index}]")
        else:
            p = source.record
            parts.append(f"{p.name}[{p.call_index - 1}][{source.position}]")
    return ", ".join(parts) or "-"


def _trainable_mark(layer) -> str:
    if not layer.weights:
        return "-"
    return "Y" if layer.trainable else "N"


def rows_from_trace(t, expand_nested: bool) -> list[_Row]:
    rows: list[_Row] = []
    infos = tensor_infos(t.root.inputs)
    names = input_names(t.model, len(infos))
    if names is not None and type(t.model).__name__ != "Sequential":
        # A Functional model lists its inputs first, as Keras does.
        for name, info in zip(names, infos):
            rows.append(_Row(f"{name} (InputLayer)", keras_shape(info), "0", "-", "-", 0))

    def visit(rec: CallRecord, depth: int) -> None:
        for child in rec.children:
            name = f"{child.label} ({child.class_name})"
            if child.total_calls > 1:
                name += f" [call {child.call_index}/{child.total_calls}]"
            if child.call_index > 1 and child.layer.weights:
                params = "shared"
            else:
                params = f"{sum(_params(child.layer)):,}" if child.layer.built else "unbuilt"
            shape = keras_shape(child.outputs) if child.outputs is not None else "?"
            mark = _trainable_mark(child.layer)
            rows.append(_Row(name, shape, params, mark, _connected(child, names), depth))
            if expand_nested and child.children and child.call_index == 1:
                visit(child, depth + 1)

    visit(t.root, 0)
    by_label = {}
    for layer in t.model._direct_children():
        attr = pitfalls.attribute_name(t.model, layer)
        by_label[attr if attr and not attr.startswith("_") else layer.name] = layer
    for label, cls in t.not_called:
        layer = by_label.get(label)
        params = f"{sum(_params(layer)):,}" if layer is not None else "0"
        mark = _trainable_mark(layer) if layer is not None else "-"
        rows.append(_Row(f"{label} ({cls})", "? (not called)", params, mark, "-", 0))
    return rows


def tensor_infos(structure: Any) -> list[TensorInfo]:
    """The :class:`TensorInfo` leaves of a described structure, in order."""
    if isinstance(structure, (list, tuple)):
        return [i for s in structure for i in tensor_infos(s)]
    if isinstance(structure, dict):
        return [i for s in structure.values() for i in tensor_infos(s)]
    return [structure] if isinstance(structure, TensorInfo) else []


def _rows_without_trace(model) -> list[_Row]:
    rows = []
    for layer in model._direct_children():
        params = f"{sum(_params(layer)):,}" if layer.built else "0 (unbuilt)"
        rows.append(_Row(f"{layer.name} ({type(layer).__name__})", "?", params,
                         _trainable_mark(layer), "-", 0))  # fmt: skip
    return rows


# ------------------------------------------------------------------ table
def _column_widths(line_length: int, positions: list[float], ncols: int) -> list[int]:
    """Text widths of the columns: ``positions`` are the columns' right edges, as
    fractions of the line or absolute; borders and padding come out of the text."""
    positions = [float(p) for p in list(positions)[:ncols]]
    if positions[-1] > 1:  # absolute positions: the last one is the line length
        line_length = int(positions[-1])
        positions = [p / positions[-1] for p in positions]
    available = line_length - (ncols + 1) - 2 * ncols
    bounds = [0.0] + positions
    widths = [int(round(available * (bounds[i + 1] - bounds[i]))) for i in range(ncols)]
    widths[-1] += available - sum(widths)  # rounding leftovers
    return [max(w, 4) for w in widths]


def render_table(
    title: str,
    headers: list[str],
    rows: list[list[str]],
    widths: list[int],
    right: set[int],
    center: set[int],
) -> list[str]:
    def cell(text: str, i: int) -> str:
        if i in right:
            return text.rjust(widths[i])
        if i in center:
            return text.center(widths[i])
        return text.ljust(widths[i])

    def wrap(text: str, width: int) -> list[str]:
        return textwrap.wrap(text, width, break_on_hyphens=False) or [""]

    def line(cells: list[str], border: str = "│") -> list[str]:
        wrapped = [wrap(c, widths[i]) for i, c in enumerate(cells)]
        height = max(len(w) for w in wrapped)
        out = []
        for k in range(height):
            parts = [cell(w[k] if k < len(w) else "", i) for i, w in enumerate(wrapped)]
            out.append(f"{border} " + f" {border} ".join(parts) + f" {border}")
        return out

    def rule(left: str, mid: str, right_: str, fill: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right_

    out = [f'Model: "{title}"', rule("┏", "┳", "┓", "━")]
    out += line(headers, "┃")
    out.append(rule("┡", "╇", "┩", "━"))
    for i, row in enumerate(rows):
        if i:
            out.append(rule("├", "┼", "┤", "─"))
        out += line(row)
    out.append(rule("└", "┴", "┘", "─"))
    return out


def _emit(print_fn: Callable | None, text: str) -> None:
    if print_fn is None:
        print_msg(text)
        return
    try:
        accepts = "line_break" in inspect.signature(print_fn).parameters
    except (TypeError, ValueError):
        accepts = False
    if accepts:
        print_fn(text, line_break=False)
    else:
        print_fn(text)


def summary(
    model,
    line_length: int | None = None,
    positions: list[float] | None = None,
    print_fn: Callable | None = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: list[str] | tuple[str, str] | None = None,
    trace: Any = None,
) -> None:
    """Prints Keras's summary table for ``model`` (see :meth:`Model.summary`).

    Args:
        line_length: total width (default 76, 100 with a "Connected to" column).
        positions: right edges of the columns, fractions of ``line_length`` or
            absolute positions.
        print_fn: called with the whole table (default ``print``); given
            ``line_break=False`` when it accepts that argument, as in Keras.
        expand_nested: also list the calls made inside nested layers/models.
        show_trainable: add a "Trainable" column (Y / N / - for no weights).
        layer_range: ``[first, last]`` layer names: only rows between them.
        trace: a :class:`CallTrace` to use instead of tracing the built model.
    """
    if trace is None:
        args = build_inputs(model)  # raises, with the fix, on an unbuilt model
        try:
            trace = run_trace(model, *args, flops=False)
        except Exception:  # e.g. integer inputs the recorded shapes cannot express
            trace = None
    rows = rows_from_trace(trace, expand_nested) if trace is not None else None
    if rows is None:
        rows = _rows_without_trace(model)
    if layer_range is not None:
        names = [r.name.split(" ")[0] for r in rows]
        first, last = layer_range
        if first not in names or last not in names:
            raise ValueError(
                f"summary: layer_range names must be layers of '{model.name}' ({names}); "
                f"received {list(layer_range)}."
            )
        rows = rows[names.index(first) : len(names) - names[::-1].index(last)]

    graph = graph_inputs(model) is not None and type(model).__name__ != "Sequential"
    headers = ["Layer (type)", "Output Shape", "Param #"]
    if graph:
        headers.append("Connected to")
    if show_trainable:
        headers.append("Trainable")
    if line_length is None:
        line_length = 100 if graph else 76
    if positions is None:
        positions = [0.3, 0.6, 0.7, 1.0] if graph else [0.45, 0.84, 1.0]
        if show_trainable:
            positions = [p * 0.92 for p in positions] + [1.0]
    if len(positions) < len(headers):
        raise ValueError(
            f"summary: positions needs one entry per column ({len(headers)}: {headers}); "
            f"received {list(positions)}."
        )
    widths = _column_widths(line_length, positions, len(headers))
    if show_trainable and widths[-1] < len("Trainable"):
        widths[0] -= len("Trainable") - widths[-1]
        widths[-1] = len("Trainable")
    table_rows = []
    for r in rows:
        cells = ["  " * r.depth + r.name, r.shape, r.params]
        if graph:
            cells.append(r.connected)
        if show_trainable:
            cells.append(r.trainable)
        table_rows.append(cells)
    center = {len(headers) - 1} if show_trainable else set()
    lines = render_table(model.name, headers, table_rows, widths, {2}, center)

    weights = model.weights
    trainable = [v for v in weights if v.trainable]
    frozen = [v for v in weights if not v.trainable]
    total = int(sum(v.size for v in weights))
    lines.append(f" Total params: {total:,} ({format_size(_bytes(weights))})")
    n_train = int(sum(v.size for v in trainable))
    lines.append(f" Trainable params: {n_train:,} ({format_size(_bytes(trainable))})")
    n_frozen = int(sum(v.size for v in frozen))
    lines.append(f" Non-trainable params: {n_frozen:,} ({format_size(_bytes(frozen))})")
    optimizer = getattr(model, "optimizer", None)
    opt_vars = getattr(optimizer, "variables", None) if optimizer is not None else None
    if opt_vars:
        lines.append(
            f" Optimizer params: {int(sum(v.size for v in opt_vars)):,} "
            f"({format_size(_bytes(opt_vars))})"
        )
    _emit(print_fn, "\n".join(lines))
