"""Rewrites jax2onnx's N-D ``MaxPool``/``AveragePool`` nodes into ones ONNX Runtime runs.

callax pools channels-last tensors with one ``lax.reduce_window`` over every
axis (window ``(1, 2, 2, 1)`` for ``MaxPooling2D``). jax2onnx turns that into a
``MaxPool`` whose "spatial" axes are all four tensor axes (the tensor gets two
leading unit axes as batch and channel). ONNX Runtime pools at most three
spatial axes and rejects it ("Unsupported pooling size").

The rewrite: when exactly two axes have a unit window, unit stride and no
padding (the batch and channel axes, in either layout) and at most three
remain, the node becomes ``Squeeze -> Transpose -> 2-D/1-D/3-D pool ->
Transpose -> Unsqueeze``: the pooled axes are moved last, the two unit axes
first (as ONNX's N and C). The values are the same; only the layout moves.
"""

from __future__ import annotations

from typing import Any

import numpy as np

_POOLS = ("MaxPool", "AveragePool", "LpPool")


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _plan(node: Any) -> tuple[list[int], list[int]] | None:
    """``(pass_through_axes, pooled_axes)`` of the operand, or None to keep the node."""
    kernel = list(_attr(node, "kernel_shape", []))
    rank = len(kernel)
    if rank <= 3:
        return None
    strides = list(_attr(node, "strides", [1] * rank))
    pads = list(_attr(node, "pads", [0] * (2 * rank)))
    dilations = list(_attr(node, "dilations", [1] * rank))
    if isinstance(_attr(node, "auto_pad", b"NOTSET"), bytes):
        auto_pad = _attr(node, "auto_pad", b"NOTSET").decode()
    else:
        auto_pad = str(_attr(node, "auto_pad", "NOTSET"))
    if auto_pad not in ("NOTSET", ""):
        return None
    unit = [
        i
        for i in range(rank)
        if kernel[i] == 1 and strides[i] == 1 and pads[i] == pads[i + rank] == 0
        and dilations[i] == 1
    ]  # fmt: skip
    # The first two unit axes become ONNX's N and C (batch and channel, in
    # either layout); any other unit axis is pooled with a window of 1.
    if len(unit) < 2:
        return None
    keep = unit[:2]
    pooled = [i for i in range(rank) if i not in keep]
    if len(pooled) > 3:
        return None
    return keep, pooled


def fix_pooling(model: Any) -> int:
    """Rewrites the model's N-D pools in place; returns how many it rewrote."""
    from onnx import helper, numpy_helper

    graph = model.graph
    new_nodes = []
    count = 0
    for node in graph.node:
        plan = _plan(node) if node.op_type in _POOLS else None
        if plan is None:
            new_nodes.append(node)
            continue
        keep, pooled = plan
        rank = len(keep) + len(pooled)
        perm = keep + pooled
        inverse = [perm.index(i) for i in range(rank)]
        base = f"{node.name or node.output[0]}_callax"
        axes = f"{base}_axes01"
        graph.initializer.append(numpy_helper.from_array(_i64([0, 1]), axes))
        squeezed, moved, pooled_out, back = (f"{base}_{s}" for s in ("sq", "tr", "pool", "back"))
        kernel = list(_attr(node, "kernel_shape", []))
        strides = list(_attr(node, "strides", [1] * rank))
        pads = list(_attr(node, "pads", [0] * (2 * rank)))
        dilations = list(_attr(node, "dilations", [1] * rank))
        attrs: dict[str, Any] = {
            "kernel_shape": [kernel[i] for i in pooled],
            "strides": [strides[i] for i in pooled],
            "pads": [pads[i] for i in pooled] + [pads[i + rank] for i in pooled],
        }
        if node.op_type != "AveragePool" and any(d != 1 for d in dilations):
            attrs["dilations"] = [dilations[i] for i in pooled]
        for a in node.attribute:
            if a.name not in ("kernel_shape", "strides", "pads", "dilations"):
                attrs[a.name] = helper.get_attribute_value(a)
        new_nodes += [
            helper.make_node("Squeeze", [node.input[0], axes], [squeezed]),
            helper.make_node("Transpose", [squeezed], [moved], perm=perm),
            helper.make_node(node.op_type, [moved], [pooled_out], **attrs),
            helper.make_node("Transpose", [pooled_out], [back], perm=inverse),
            helper.make_node("Unsqueeze", [back, axes], list(node.output)),
        ]
        count += 1
    if count:
        del graph.node[:]
        graph.node.extend(new_nodes)
    return count


def _i64(values: list[int]) -> Any:
    return np.asarray(values, dtype=np.int64)
