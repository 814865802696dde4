"""The graph of a Functional model: its nodes in order, its operations, masks.

:func:`map_graph` walks the recorded nodes back from the outputs (depth first,
without recursion so deep models are fine), checks every path ends at one of the
model's inputs, and orders operations as Keras does (by depth from the outputs,
deepest first; ties in order of first visit) so ``model.layers``, ``weights`` and
configs line up with Keras's.

Masks (``Embedding(mask_zero=True)`` and friends) travel beside the values at
call time: a layer that defines ``compute_mask`` makes one, layers whose ``call``
takes ``mask`` receive it, and layers with ``supports_masking`` pass it on.
"""

from __future__ import annotations

import inspect
from typing import Any

from callax.core.keras_tensor import KerasTensor
from callax.core.layer import Layer


class Graph:
    """``nodes``: topological order (inputs first); ``operations``: Keras order."""

    __slots__ = ("nodes", "operations")

    def __init__(self, nodes: list, operations: list):
        self.nodes = nodes
        self.operations = operations


def _describe(t: KerasTensor) -> str:
    node = t.node
    source = f"from '{node.layer.name}'" if node is not None else "no history"
    return f"KerasTensor {t.name or ''} shape={t.shape} ({source})".replace("  ", " ")


def map_graph(model: Any, inputs: list, outputs: list) -> Graph:
    """Orders the nodes between ``inputs`` and ``outputs``; raises ``ValueError``
    naming the input a path reaches that is not among ``inputs``."""
    input_ids = {id(t) for t in inputs}
    finished: set[int] = set()
    ordered: list = []
    first_seen: dict[int, int] = {}
    owners: dict[int, Any] = {}

    def enter(tensor: KerasTensor, out_index: int, stack: list, in_progress: set) -> None:
        output = outputs[out_index]
        node = tensor.node
        if node is None:
            raise ValueError(
                f"Functional model '{model.name}': output {out_index} "
                f"({_describe(output)}) depends on {_describe(tensor)}, which no layer "
                "or Input produced; build graphs from callax.Input tensors."
            )
        if id(node) in finished:
            return
        if id(tensor) in input_ids and not node.is_input:
            finished.add(id(node))  # an intermediate tensor used as a model input
            return
        if node.is_input and id(tensor) not in input_ids:
            names = [t.name for t in inputs]
            raise ValueError(
                f"Functional model '{model.name}': output {out_index} "
                f"({_describe(output)}) is not connected to the model's inputs: it "
                f"depends on Input '{tensor.name}' (shape {tensor.shape}), which is not "
                f"in `inputs` {names}. Add it to `inputs`."
            )
        if id(node) in in_progress:
            raise ValueError(
                f"Functional model '{model.name}': the graph has a cycle through "
                f"layer '{node.layer.name}'."
            )
        layer = node.layer
        if id(layer) not in first_seen:
            first_seen[id(layer)] = len(first_seen)
            owners[id(layer)] = layer
        in_progress.add(id(node))
        stack.append([node, 0])

    for out_index, output in enumerate(outputs):
        # Iterative depth-first walk: entries are [node, next input position].
        stack: list[list] = []
        in_progress: set[int] = set()
        enter(output, out_index, stack, in_progress)
        while stack:
            top = stack[-1]
            node, pos = top
            parents = node.input_tensors
            if pos < len(parents):
                top[1] = pos + 1
                enter(parents[pos], out_index, stack, in_progress)
                continue
            stack.pop()
            in_progress.discard(id(node))
            finished.add(id(node))
            ordered.append(node)

    # Depth of each node and layer: distance from the outputs (Keras's definition).
    in_graph = {id(n) for n in ordered}
    node_depth: dict[int, int] = {}
    layer_depth: dict[int, int] = {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    # Inputs the outputs do not use still belong to the model (Keras keeps them).
    for t in inputs:
        layer = t.node.layer
        if id(layer) not in layer_depth and t.node.is_input:
            layer_depth[id(layer)] = 0
            first_seen[id(layer)] = -1
            owners[id(layer)] = layer
            ordered.insert(0, t.node)
    operations = sorted(owners.values(), key=lambda op: (-layer_depth[id(op)], first_seen[id(op)]))
    names = [op.name for op in operations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(
            f"Functional model '{model.name}': layer names must be unique within a model; "
            f"{dupes} appear more than once."
        )
    return Graph(ordered, operations)


# ------------------------------------------------------------------ masks
_mask_param: dict[type, tuple] = {}
_mask_maker: dict[type, bool] = {}


def _mask_params(layer: Any) -> tuple:
    """``(takes_mask, per_argument)``: whether ``call`` names ``mask``, and the
    ``(argument position or None, argument name, mask parameter)`` triples for
    parameters such as MultiHeadAttention's ``query_mask`` for ``query``."""
    cls = type(layer)
    known = _mask_param.get(cls)
    if known is None:
        params = inspect.signature(cls.call).parameters
        names = list(params)[1:]
        per_argument = tuple(
            (names.index(p[:-5]) if p[:-5] in names else None, p[:-5], p)
            for p in names
            if p.endswith("_mask") and p[:-5] in names
        )
        known = _mask_param[cls] = ("mask" in params, per_argument)
    return known


def takes_mask(layer: Any) -> bool:
    """Whether ``layer.call`` names a ``mask`` parameter (then it receives masks)."""
    return _mask_params(layer)[0]


def produces_mask(layer: Any) -> bool:
    """Whether the layer's class defines its own ``compute_mask``."""
    cls = type(layer)
    known = _mask_maker.get(cls)
    if known is None:
        own = getattr(cls, "compute_mask", None)
        base = getattr(Layer, "compute_mask", None)
        known = _mask_maker[cls] = own is not None and own is not base
    return known


def initial_masks(inputs: list, mask: Any) -> dict:
    if mask is None:
        return {}
    masks = mask if isinstance(mask, (list, tuple)) else [mask]
    return {id(t): m for t, m in zip(inputs, masks) if m is not None}


def _input_mask(node: Any, masks: dict) -> Any:
    found = [masks.get(id(t)) for t in node.input_tensors]
    if all(m is None for m in found):
        return None
    return found[0] if len(found) == 1 else found


def add_mask_argument(layer: Any, node: Any, kwargs: dict, masks: dict) -> None:
    takes, per_argument = _mask_params(layer)
    if takes and "mask" not in kwargs:
        mask = _input_mask(node, masks)
        if mask is not None:
            kwargs["mask"] = mask
    for position, name, param in per_argument:
        if param in kwargs:
            continue
        tensor = node.kwargs.get(name)
        if tensor is None and position is not None and position < len(node.args):
            tensor = node.args[position]
        mask = masks.get(id(tensor)) if isinstance(tensor, KerasTensor) else None
        if mask is not None:
            kwargs[param] = mask


def record_output_masks(layer: Any, node: Any, args: tuple, outputs: Any, masks: dict) -> None:
    if isinstance(layer, Layer) and produces_mask(layer):
        mask = layer.compute_mask(args[0] if args else None, _input_mask(node, masks))
    elif getattr(layer, "supports_masking", False) and len(node.flat_outputs) == 1:
        mask = _input_mask(node, masks)
        if isinstance(mask, list):
            mask = next((m for m in mask if m is not None), None)
    else:
        mask = None
    flat = node.flat_outputs
    if mask is None:
        for t in flat:
            masks.pop(id(t), None)
    elif len(flat) == 1:
        masks[id(flat[0])] = mask
    elif isinstance(mask, (list, tuple)) and len(mask) == len(flat):
        for t, m in zip(flat, mask):
            if m is not None:
                masks[id(t)] = m
