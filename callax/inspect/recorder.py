"""The call recorder: one :class:`CallRecord` per layer call, nested like the calls.

A :class:`Recorder` registered on the call context (``callax.core.call_context``)
is told when every ``Layer.__call__`` starts and ends. It keeps what the views in
``callax.inspect`` need: who was called (path, layer, class, call index), on what
(argument structure with shapes and dtypes), with which ``training`` value, what
came out, which weights the call created and which it read, and which earlier
call produced each input tensor (so ``plot_model`` can draw edges for a
subclassed model, where there is no graph of layers to read).

With no recorder registered the call protocol pays one truthiness check per call.

Example:
    >>> import callax
    >>> from callax.core.call_context import listening
    >>> from callax.inspect.recorder import Recorder
    >>> layer = callax.layers.Dense(3)
    >>> with listening(Recorder()) as rec:
    ...     _ = layer(callax.ops.ones((2, 4)))
    >>> call = rec.roots[0]
    >>> call.class_name, call.inputs[0].short(), call.outputs.short(), call.created
    ('Dense', 'f32[2,4]', 'f32[2,3]', [('kernel', (4, 3), 'float32'), ('bias', (3,), 'float32')])
"""

from __future__ import annotations

import threading
from typing import Any

import jax
import numpy as np

from callax.core.call_context import current_frame as _current_frame
from callax.core.call_spec import call_spec
from callax.core.keras_tensor import KerasTensor
from callax.core.pitfalls import attribute_name
from callax.core.stateless_scope import StatelessScope

_SHORT_DTYPES = {
    "float32": "f32", "float16": "f16", "bfloat16": "bf16", "float64": "f64",
    "int32": "i32", "int64": "i64", "int16": "i16", "int8": "i8", "uint8": "u8",
    "uint32": "u32", "bool": "bool", "complex64": "c64",
}  # fmt: skip


def _dim(d: Any) -> str:
    return "None" if d is None else str(d)


class TensorInfo:
    """The shape and dtype of one tensor seen by the recorder (never its values)."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple, dtype: str):
        self.shape = shape
        self.dtype = dtype

    @classmethod
    def of(cls, x: Any) -> TensorInfo:
        # Symbolic dimensions (jax.export) are kept as their names: `b`.
        shape = tuple(d if d is None or isinstance(d, int) else str(d) for d in x.shape)
        return cls(shape, np.dtype(x.dtype).name if not isinstance(x, KerasTensor) else x.dtype)

    def short(self) -> str:
        """``f32[32,16]``."""
        dtype = _SHORT_DTYPES.get(self.dtype, self.dtype)
        return f"{dtype}[{','.join(_dim(d) for d in self.shape)}]"

    def keras_shape(self) -> str:
        """``(32, 16)``, as Keras's summary prints shapes."""
        inner = ", ".join(_dim(d) for d in self.shape)
        return f"({inner},)" if len(self.shape) == 1 else f"({inner})"

    def to_dict(self) -> dict:
        return {"shape": list(self.shape), "dtype": self.dtype}

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TensorInfo)
            and self.shape == other.shape
            and self.dtype == other.dtype
        )

    def __hash__(self) -> int:
        return hash((self.shape, self.dtype))

    def __repr__(self) -> str:
        return self.short()


class Value:
    """A non-tensor argument, kept as a short ``repr``."""

    __slots__ = ("text",)

    def __init__(self, value: Any):
        text = repr(value)
        self.text = text if len(text) <= 40 else text[:37] + "..."

    def short(self) -> str:
        return self.text

    def to_dict(self) -> dict:
        return {"value": self.text}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Value) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return self.text


def _is_tensor(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, type)


def _map_tensors(x: Any, tensor_fn: Any, other_fn: Any) -> Any:
    """``x``'s tuples, lists and dicts rebuilt, each tensor leaf through
    ``tensor_fn`` and every other leaf through ``other_fn``."""
    if isinstance(x, tuple):
        return tuple(_map_tensors(v, tensor_fn, other_fn) for v in x)
    if isinstance(x, list):
        return [_map_tensors(v, tensor_fn, other_fn) for v in x]
    if isinstance(x, dict):
        return {k: _map_tensors(v, tensor_fn, other_fn) for k, v in x.items()}
    return tensor_fn(x) if _is_tensor(x) else other_fn(x)


def describe(x: Any) -> Any:
    """The structure of ``x`` with tensors replaced by :class:`TensorInfo`."""
    return _map_tensors(x, TensorInfo.of, Value)


def as_specs(x: Any) -> Any:
    """``x`` with tensors replaced by ``jax.ShapeDtypeStruct`` (other values kept),
    so a recorded call can be lowered again without its data."""
    return _map_tensors(x, lambda t: jax.ShapeDtypeStruct(tuple(t.shape), t.dtype), lambda v: v)


def tensor_leaves(x: Any) -> list[Any]:
    """Tensors of a nested list/tuple/dict structure, in order."""
    if isinstance(x, (list, tuple)):
        return [t for v in x for t in tensor_leaves(v)]
    if isinstance(x, dict):
        return [t for v in x.values() for t in tensor_leaves(v)]
    return [x] if _is_tensor(x) else []


def render(structure: Any) -> str:
    """``[f32[32,16], f32[32,16]]`` for a described structure."""
    if isinstance(structure, list):
        return "[" + ", ".join(render(v) for v in structure) + "]"
    if isinstance(structure, tuple):
        return (
            "(" + ", ".join(render(v) for v in structure) + (",)" if len(structure) == 1 else ")")
        )
    if isinstance(structure, dict):
        return "{" + ", ".join(f"{k!r}: {render(v)}" for k, v in structure.items()) + "}"
    if structure is None:
        return "None"
    return structure.short()


def structure_to_json(structure: Any) -> Any:
    if isinstance(structure, (list, tuple)):
        return [structure_to_json(v) for v in structure]
    if isinstance(structure, dict):
        return {str(k): structure_to_json(v) for k, v in structure.items()}
    if structure is None:
        return None
    return structure.to_dict()


class Producer:
    """Which call produced a tensor.

    ``record`` is the layer call that returned it (``position``: which output);
    ``None`` for a model input (``input_index``) or for a tensor made by plain JAX
    ops inside the ``call`` of ``ops_owner``. ``inner`` is the producer the tensor
    had before, when an enclosing call re-exported it (a nested model returning
    its last layer's output).
    """

    __slots__ = ("record", "position", "input_index", "inner", "ops_owner")

    def __init__(self, record, position: int, input_index: int = -1, inner=None, ops_owner=None):
        self.record = record
        self.position = position
        self.input_index = input_index
        self.inner = inner
        self.ops_owner = ops_owner


class CallRecord:
    """Everything recorded about one layer call.

    Attributes:
        layer: the layer object; name, class_name: its name and class.
        attr: the attribute under which the caller holds it (``dense1``), if any.
        path: names from the outermost call down to this one.
        call_index: 1-based index of this call of ``layer`` within the outermost
            call; total_calls: how many times ``layer`` was called in all.
        arg_names: names of ``call``'s positional parameters, as bound.
        inputs: described positional arguments; kwargs: described keyword ones.
        outputs: described outputs (``None`` if the call raised).
        training: the resolved ``training`` value; sees_training: whether
            ``call`` declares ``training`` (else it only passes through).
        built_here: whether this call built the layer; created: the weights it
            created, ``(name, shape, dtype)``.
        reads: paths of the variables this call read itself (not through nested
            calls) when tracing (:class:`ReadTrackingScope`), else its own weights.
        children: the calls made from inside this one, in order.
        error: ``repr`` of the exception the call raised, if any.
        flops: XLA's estimate for this call (filled by ``trace``), or ``None``.
        sources: for each input tensor, its :class:`Producer` (``None``: made by
            plain JAX ops in the caller's ``call``).
        result_sources: for each output tensor, the producer it had inside this
            call (the last layer that made it; ``None``: made by JAX ops here).
    """

    __slots__ = (
        "layer", "name", "class_name", "attr", "path", "call_index", "total_calls",
        "arg_names", "inputs", "kwargs", "outputs", "training", "sees_training",
        "built_here", "created", "reads", "children", "parent", "error", "flops",
        "sources", "result_sources", "order", "specs",
    )  # fmt: skip

    def __init__(self, frame, parent: CallRecord | None, args: tuple, kwargs: dict, order: int):
        layer = frame.layer
        self.layer = layer
        self.name = layer.name
        self.class_name = type(layer).__name__
        self.parent = parent
        self.attr = attribute_name(parent.layer, layer) if parent is not None else None
        self.path = (parent.path if parent is not None else ()) + (layer.name,)
        self.call_index = frame.call_index
        self.total_calls = frame.call_index
        spec = call_spec(type(layer))
        self.arg_names = spec.positional[: len(args)]
        self.inputs = [describe(a) for a in args]
        self.kwargs = {k: describe(v) for k, v in kwargs.items() if k != "training"}
        self.training = frame.training
        self.sees_training = (
            "training" in spec.positional or spec.var_kwargs or (spec.training_position is not None)
        )
        self.outputs = None
        self.built_here = False
        self.created: list[tuple[str, tuple, str]] = []
        self.reads: list[str] = []
        self.children: list[CallRecord] = []
        self.error: str | None = None
        self.flops: float | None = None
        self.sources: list[Producer | None] = []
        self.result_sources: list[Producer | None] = []
        self.order = order
        # (args, kwargs) with tensors as ShapeDtypeStructs: enough to lower the
        # call again for XLA's cost analysis.
        self.specs = (as_specs(args), as_specs(kwargs))

    @property
    def depth(self) -> int:
        return len(self.path) - 1

    @property
    def label(self) -> str:
        """``dense1`` (the attribute holding the layer) or, when it has none or a
        private one (a Sequential's ``_layers[2]``), the layer's name."""
        return self.attr if self.attr and not self.attr.startswith("_") else self.name

    def walk(self):
        """This call and every call inside it, depth first, in call order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def __repr__(self) -> str:
        return (
            f"<CallRecord {'/'.join(self.path)} ({self.class_name}) "
            f"call {self.call_index}/{self.total_calls}>"
        )


class Recorder:
    """A call-context listener that records every layer call as a tree.

    Register it with ``callax.core.call_context.listening(Recorder())``. After the
    calls, ``roots`` holds one :class:`CallRecord` per outermost call.
    """

    def __init__(self) -> None:
        self.roots: list[CallRecord] = []
        self._open: dict[int, CallRecord] = {}
        self._producers: dict[int, Producer] = {}
        # Keep every tensor seen alive until the recorder is dropped, so that
        # `id()` identifies one tensor for the whole trace.
        self._keep: list[Any] = []
        self._order = 0
        # Set by `ReadTrackingScope`: reads are then observed, not assumed.
        self.tracks_reads = False
        # Listeners are process-wide; record only the calls of the thread that made us.
        self._thread = threading.get_ident()

    def on_read(self, frame, variable) -> None:
        """Notes that the call running in ``frame`` read ``variable``."""
        record = self._open.get(id(frame)) if frame is not None else None
        if record is not None and variable.path not in record.reads:
            record.reads.append(variable.path)

    def on_call_start(self, frame, args: tuple, kwargs: dict) -> None:
        if threading.get_ident() != self._thread:
            return
        parent = self._open.get(id(frame.parent)) if frame.parent is not None else None
        record = CallRecord(frame, parent, args, kwargs, self._order)
        self._order += 1
        self._open[id(frame)] = record
        leaves = tensor_leaves(args) + tensor_leaves(
            {k: v for k, v in kwargs.items() if k != "training"}
        )
        if parent is None:
            self.roots.append(record)
            for i, t in enumerate(leaves):
                if id(t) not in self._producers:
                    self._producers[id(t)] = Producer(None, 0, input_index=i)
        else:
            parent.children.append(record)
            for t in leaves:
                if id(t) not in self._producers:  # computed by JAX ops in the parent's call
                    self._producers[id(t)] = Producer(None, 0, ops_owner=parent)
        self._keep.extend(leaves)
        record.sources = [self._producers.get(id(t)) for t in leaves]

    def on_call_end(self, frame, outputs: Any, error: BaseException | None, built_here=False):
        record = self._open.pop(id(frame), None)
        if record is None:
            return
        layer = frame.layer
        if error is not None:
            record.error = f"{type(error).__name__}: {error}"
            return
        record.outputs = describe(outputs)
        record.built_here = bool(built_here)
        own = layer._direct_state()[0]
        if not self.tracks_reads:  # assume a call reads its layer's own weights
            record.reads = [v.path for v in own]
        if built_here:
            record.created = [(v.name, tuple(v.shape), np.dtype(v.dtype).name) for v in own]
        leaves = tensor_leaves(outputs)
        self._keep.extend(leaves)
        for i, t in enumerate(leaves):
            previous = self._producers.get(id(t))
            record.result_sources.append(previous)
            inner = None
            if previous is not None and previous.record is not None:
                if _is_inside(previous.record, record):
                    inner = previous
            self._producers[id(t)] = Producer(record, i, inner=inner)

    def finish(self) -> None:
        """Fills ``total_calls`` and drops the tensors kept for identity."""
        totals: dict[tuple[int, int], int] = {}
        for root in self.roots:
            for rec in root.walk():
                key = (id(root), id(rec.layer))
                totals[key] = max(totals.get(key, 0), rec.call_index)
            for rec in root.walk():
                rec.total_calls = totals[(id(root), id(rec.layer))]
        self._keep.clear()
        self._producers.clear()


def _is_inside(record: CallRecord, ancestor: CallRecord) -> bool:
    node = record.parent
    while node is not None:
        if node is ancestor:
            return True
        node = node.parent
    return False


class ReadTrackingScope(StatelessScope):
    """A stateless scope that tells ``recorder`` which call reads which variable:
    every variable read inside a scope asks it for the value."""

    __slots__ = ("recorder",)

    def __init__(self, recorder: Recorder, state_mapping: Any = None):
        super().__init__(state_mapping)
        self.recorder = recorder
        recorder.tracks_reads = True

    def get_current_value(self, variable: Any) -> Any:
        self.recorder.on_read(_current_frame(), variable)
        return super().get_current_value(variable)
