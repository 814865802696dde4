"""``plot_model``: layers as nodes, tensors as edges, for any model.

The graph comes from a trace, so a subclassed model is drawn as the layers its
``call`` really used (Keras draws it as one box). A layer called several times
is one node whose edges are numbered by call (``#1``, ``#2``); a nested model is
a cluster (with ``expand_nested=True``) or one node; a tensor made by plain JAX
ops inside ``call`` comes from a dashed "ops in ….call" node.

Output formats: ``.svg`` is written by callax itself (no system dependency);
``.dot`` writes the Graphviz source; ``.png``, ``.pdf`` (and any other format
Graphviz knows) are rendered by Graphviz's ``dot`` program, which must then be
installed (``apt install graphviz`` / ``brew install graphviz``).

Example:
    >>> import os, tempfile, callax
    >>> class Mlp(callax.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.hidden = callax.layers.Dense(8)
    ...         self.out = callax.layers.Dense(2)
    ...     def call(self, x):
    ...         return self.out(self.hidden(x))
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp.svg")
    >>> g = callax.utils.plot_model(Mlp(), path, show_shapes=True, inputs=[(None, 3)])
    >>> [n.label for n in g.nodes], len(g.edges)
    (['x', 'Dense', 'Dense', 'output'], 3)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from typing import Any
from xml.sax.saxutils import escape

from callax.inspect.recorder import CallRecord, Producer, TensorInfo
from callax.inspect.summary import (
    build_inputs,
    graph_inputs,
    input_names,
    keras_shape,
    tensor_infos,
)
from callax.inspect.trace import trace


# ------------------------------------------------------------------ graph
class Node:
    """A box: a model input, a layer, an output, or "ops in ….call"."""

    __slots__ = ("key", "kind", "label", "name", "extra", "cluster", "x", "y", "w", "h", "rank")

    def __init__(self, key: Any, kind: str, label: str, name: str, extra=(), cluster=None):
        self.key, self.kind, self.label, self.name = key, kind, label, name
        self.extra = list(extra)  # further lines drawn under the label
        self.cluster = cluster
        self.x = self.y = self.w = self.h = 0.0
        self.rank = 0

    def __repr__(self) -> str:
        return f"<Node {self.kind} {self.label!r}>"


class Edge:
    """A tensor from ``src`` to ``dst`` (node keys), labelled with its shape; ``call``
    numbers the call of a shared layer it belongs to (``None`` if not shared)."""

    __slots__ = ("src", "dst", "label", "call", "dashed")

    def __init__(self, src: Any, dst: Any, label: str, call: int | None, dashed: bool = False):
        self.src, self.dst, self.label, self.call = src, dst, label, call
        self.dashed = dashed  # into plain JAX ops: where it goes is not recorded

    @property
    def text(self) -> str:
        return f"#{self.call} {self.label}".strip() if self.call else self.label

    def __repr__(self) -> str:
        return f"<Edge {self.src}→{self.dst} {self.text!r}>"


class Cluster:
    __slots__ = ("key", "label", "parent")

    def __init__(self, key: Any, label: str, parent: Any):
        self.key, self.label, self.parent = key, label, parent


class Graph:
    """Nodes, edges and clusters of a traced call (what ``plot_model`` returns)."""

    def __init__(self, title: str, rankdir: str):
        self.title = title
        self.rankdir = rankdir
        self.nodes: list[Node] = []
        self.edges: list[Edge] = []
        self.clusters: list[Cluster] = []
        self._by_key: dict[Any, Node] = {}

    def node(self, key: Any) -> Node:
        return self._by_key[key]

    def add_node(self, node: Node) -> Node:
        if node.key not in self._by_key:
            self._by_key[node.key] = node
            self.nodes.append(node)
        return self._by_key[node.key]

    def add_edge(self, edge: Edge) -> None:
        for e in self.edges:
            if (e.src, e.dst, e.text) == (edge.src, edge.dst, edge.text):
                return
        self.edges.append(edge)

    def find(self, name: str) -> list[Node]:
        """Nodes whose name (layer attribute or name, input name) or label is ``name``."""
        return [n for n in self.nodes if n.name == name or n.label == name]

    def _repr_svg_(self) -> str:  # notebooks draw the graph
        return to_svg(self)


def _tensor_label(info: Any, show_shapes: bool, show_dtype: bool) -> str:
    if not isinstance(info, TensorInfo):
        return ""
    parts = []
    if show_dtype:
        parts.append(info.dtype)
    if show_shapes:
        parts.append(keras_shape(info))
    return " ".join(parts)


def build_graph(
    t,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    expand_nested: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    rankdir: str = "TB",
) -> Graph:
    """The graph of a :class:`CallTrace`."""
    root = t.root
    graph = Graph(root.name, rankdir)

    def is_cluster(rec: CallRecord) -> bool:
        return expand_nested and bool(rec.children)

    def visible(rec: CallRecord) -> CallRecord:
        """The record drawn for ``rec``: itself, or its collapsed ancestor."""
        if expand_nested:
            return rec
        while rec.parent is not None and rec.parent is not root:
            rec = rec.parent
        return rec

    def visible_owner(rec: CallRecord) -> CallRecord:
        """The call whose "ops" node stands for JAX ops run inside ``rec.call``."""
        if expand_nested or rec is root:
            return rec
        return visible(rec)

    def cluster_key(rec: CallRecord) -> Any:
        parent = rec.parent
        return None if parent is None or parent is root else ("cluster", id(parent.layer))

    def layer_node(rec: CallRecord) -> Any:
        layer = rec.layer
        label = f"{rec.label} ({rec.class_name})" if show_layer_names else rec.class_name
        extra = []
        if show_layer_activations:
            act = getattr(layer, "activation", None)
            name = getattr(act, "__name__", None)
            if name:
                extra.append(f"activation: {name}")
        if show_trainable and layer.weights:
            extra.append(f"trainable: {'Y' if layer.trainable else 'N'}")
        node = Node(("layer", id(layer)), "layer", label, rec.label, extra, cluster_key(rec))
        return graph.add_node(node).key

    # Tensors made by plain JAX ops in a `call` come from an "ops" node of that
    # call. A new such node starts after each layer whose output went into ops,
    # so the drawing stays in call order (no false cycles).
    consumed: set[tuple[int, int]] = set()
    for rec in root.walk():
        for s in rec.sources + rec.result_sources:
            if s is not None and s.record is not None:
                consumed.add((id(s.record), s.position))

    def drawn(rec: CallRecord) -> bool:
        return rec is not root and not is_cluster(rec) and visible(rec) is rec

    def dangling(rec: CallRecord) -> list[int]:
        if not drawn(rec) or rec.outputs is None:
            return []
        count = len(tensor_infos(rec.outputs))
        return [i for i in range(count) if (id(rec), i) not in consumed]

    gen_before: dict[int, int] = {}  # which ops node a call's ops inputs come from
    gen_sink: dict[int, int] = {}  # which ops node a call's unused outputs go to
    gen_total: dict[int, int] = {}
    for rec in root.walk():
        g, open_sink = 0, False
        for child in rec.children:
            gen_before[id(child)] = g
            if any(s is not None and s.ops_owner is rec for s in child.sources):
                open_sink = False  # later outputs into ops start a new node
            if dangling(child):
                if not open_sink:
                    g, open_sink = g + 1, True
                gen_sink[id(child)] = g
        gen_total[id(rec)] = g

    def generation(owner: CallRecord, consumer: CallRecord | None) -> int:
        node = consumer
        while node is not None and node.parent is not owner:
            node = node.parent
        return gen_total[id(owner)] if node is None else gen_before[id(node)]

    def ops_node(owner: CallRecord, gen: int = 0) -> Any:
        cluster = None if owner is root else ("cluster", id(owner.layer))
        key = ("ops", f"{id(owner.layer)}.{gen}")
        label = f"ops in {owner.class_name}.call"
        graph.add_node(Node(key, "ops", label, label, (), cluster))
        return key

    def source_key(source: Producer | None, consumer: CallRecord | None) -> Any:
        """The node a tensor comes from, for ``consumer`` (``None``: the model output)."""
        while True:
            if source is None:  # made by ops in the model's own call
                return ops_node(root, gen_total[id(root)])
            if source.record is None:
                if source.ops_owner is not None:
                    owner = visible_owner(source.ops_owner)
                    return ops_node(owner, generation(owner, consumer))
                return ("input", source.input_index)
            rec = source.record
            if is_cluster(rec):
                if source.inner is None:  # made by ops inside the nested call
                    return ops_node(rec, gen_total[id(rec)])
                source = source.inner
                continue
            return layer_node(visible(rec))

    # Inputs: one node per tensor the model was called with.
    names = []
    for i, structure in enumerate(root.inputs):
        name = root.arg_names[i] if i < len(root.arg_names) else f"input_{i}"
        leaves = tensor_infos(structure)
        if isinstance(structure, dict) and len(structure) == len(leaves):
            names += [f"{name}[{k!r}]" for k in structure]
        else:
            names += [name] if len(leaves) == 1 else [f"{name}[{k}]" for k in range(len(leaves))]
    kw_leaves = [info for s in root.kwargs.values() for info in tensor_infos(s)]
    infos = [info for s in root.inputs for info in tensor_infos(s)] + kw_leaves
    names += [k for k, s in root.kwargs.items() for _ in tensor_infos(s)]
    layer_names = input_names(t.model, len(infos))
    for i, info in enumerate(infos):
        label = names[i] if i < len(names) else f"input_{i}"
        if layer_names is not None:  # a graph model: its Input names
            label = layer_names[i]
        extra = [_tensor_label(info, True, show_dtype)] if show_shapes or show_dtype else []
        graph.add_node(Node(("input", i), "input", label, label, extra))

    # Clusters, for nested calls drawn expanded.
    if expand_nested:
        for rec in root.walk():
            if rec is not root and rec.children:
                key = ("cluster", id(rec.layer))
                if all(c.key != key for c in graph.clusters):
                    parent = cluster_key(rec)
                    graph.clusters.append(Cluster(key, f"{rec.label} ({rec.class_name})", parent))

    # Layers, in call order, and their incoming edges.
    for rec in sorted(root.walk(), key=lambda r: r.order):
        if not drawn(rec):
            continue
        dst = layer_node(rec)
        shared = rec.total_calls > 1
        infos = tensor_infos(rec.inputs) + [
            info for s in rec.kwargs.values() for info in tensor_infos(s)
        ]
        for source, info in zip(rec.sources, infos):
            src = source_key(source, rec)
            call = rec.call_index if shared else _producer_call(source)
            if src == dst and call is None:
                continue
            graph.add_edge(Edge(src, dst, _tensor_label(info, show_shapes, show_dtype), call))

    # Outputs a layer returned that no layer used went into plain JAX ops.
    for rec in root.walk():
        infos = tensor_infos(rec.outputs)
        for i in dangling(rec):
            owner = visible_owner(rec.parent)
            ops = ops_node(owner, gen_sink[id(rec)])
            label = _tensor_label(infos[i], show_shapes, show_dtype)
            call = rec.call_index if rec.total_calls > 1 else None
            graph.add_edge(Edge(layer_node(rec), ops, label, call, dashed=True))

    # Outputs.
    out_infos = tensor_infos(root.outputs)
    for i, (source, info) in enumerate(zip(root.result_sources, out_infos)):
        key = ("output", i)
        name = "output" if len(out_infos) == 1 else f"output_{i}"
        extra = [_tensor_label(info, True, show_dtype)] if show_shapes or show_dtype else []
        graph.add_node(Node(key, "output", name, name, extra))
        src = source_key(source, None)
        label = _tensor_label(info, show_shapes, show_dtype)
        graph.add_edge(Edge(src, key, label, _producer_call(source)))
    return graph


def _producer_call(source: Producer | None) -> int | None:
    """The call number of a shared layer that produced a tensor (else ``None``)."""
    while source is not None and source.record is not None:
        if source.record.total_calls > 1:
            return source.record.call_index
        source = source.inner
    return None


# ----------------------------------------------------------------- layout
_CHAR_W = 7.0  # average glyph width of 12px sans-serif
_NODE_H = 34.0
_GAP_RANK = 64.0
_GAP_NODE = 28.0
_MARGIN = 24.0


def _node_size(node: Node) -> tuple[float, float]:
    lines = [node.label] + node.extra
    width = max(len(s) for s in lines) * _CHAR_W + 24
    return max(width, 60.0), _NODE_H + 14.0 * (len(lines) - 1)


def layout(graph: Graph) -> tuple[float, float]:
    """Places nodes in ranks (longest path from the inputs) and returns the size."""
    order = {n.key: i for i, n in enumerate(graph.nodes)}
    preds: dict[Any, list[Any]] = {n.key: [] for n in graph.nodes}
    for e in graph.edges:
        if order[e.src] < order[e.dst]:  # back edges (a layer fed its own output) skip ranking
            preds[e.dst].append(e.src)
    for n in graph.nodes:
        ranks = [graph.node(p).rank + 1 for p in preds[n.key]]
        n.rank = max(ranks, default=0)
    outputs = [n for n in graph.nodes if n.kind == "output"]
    last = max((n.rank for n in graph.nodes if n.kind != "output"), default=0) + 1
    for n in outputs:
        n.rank = max(n.rank, last)
    ranks: dict[int, list[Node]] = {}
    for n in graph.nodes:
        n.w, n.h = _node_size(n)
        ranks.setdefault(n.rank, []).append(n)
    # Two barycenter sweeps: order each rank by the mean position of its predecessors.
    position = {n.key: i for r in ranks.values() for i, n in enumerate(r)}
    for _ in range(2):
        for r in sorted(ranks):

            def bary(n: Node) -> float:
                ps = [position[p] for p in preds[n.key]]
                return sum(ps) / len(ps) if ps else position[n.key]

            ranks[r].sort(key=lambda n: (bary(n), order[n.key]))
            for i, n in enumerate(ranks[r]):
                position[n.key] = i
    horizontal = graph.rankdir in ("LR", "RL")
    # Left to right, edge labels run along the gap between ranks: make room for them.
    longest = max((len(e.text) for e in graph.edges), default=0)
    gap = max(_GAP_RANK, longest * 6.0 + 40) if horizontal else _GAP_RANK
    extent = 0.0
    for r in ranks.values():
        size = sum((n.h if horizontal else n.w) for n in r) + _GAP_NODE * (len(r) - 1)
        extent = max(extent, size)
    depth_pos = _MARGIN + 20.0
    size_along = 0.0
    for r in sorted(ranks):
        row = ranks[r]
        thickness = max((n.w if horizontal else n.h) for n in row)
        total = sum((n.h if horizontal else n.w) for n in row) + _GAP_NODE * (len(row) - 1)
        cursor = _MARGIN + 20.0 + (extent - total) / 2
        for n in row:
            along = n.h if horizontal else n.w
            if horizontal:
                n.x, n.y = depth_pos + (thickness - n.w) / 2, cursor
            else:
                n.x, n.y = cursor, depth_pos + (thickness - n.h) / 2
            cursor += along + _GAP_NODE
        depth_pos += thickness + gap
        size_along = depth_pos
    width, height = (size_along, extent) if horizontal else (extent, size_along)
    width += 2 * (_MARGIN + 20.0) if not horizontal else _MARGIN
    height += 2 * (_MARGIN + 20.0) if horizontal else _MARGIN
    if graph.rankdir in ("BT", "RL"):
        for n in graph.nodes:
            if horizontal:
                n.x = width - n.x - n.w
            else:
                n.y = height - n.y - n.h
    return width, height


# -------------------------------------------------------------------- SVG
_FILL = {"input": "#e8f1fb", "output": "#e9f7ec", "layer": "#ffffff", "ops": "#fafafa"}


def _cluster_boxes(graph: Graph) -> list[tuple[Cluster, float, float, float, float, int]]:
    members: dict[Any, list[Node]] = {c.key: [] for c in graph.clusters}
    parents = {c.key: c.parent for c in graph.clusters}
    for n in graph.nodes:
        key = n.cluster
        while key is not None and key in members:
            members[key].append(n)
            key = parents.get(key)

    def depth_below(key: Any) -> int:
        children = [c.key for c in graph.clusters if c.parent == key]
        return 1 + max((depth_below(k) for k in children), default=0)

    boxes = []
    for c in graph.clusters:
        nodes = members[c.key]
        if not nodes:
            continue
        pad = 10.0 * depth_below(c.key)
        x0 = min(n.x for n in nodes) - pad
        y0 = min(n.y for n in nodes) - pad - 14
        x1 = max(n.x + n.w for n in nodes) + pad
        y1 = max(n.y + n.h for n in nodes) + pad
        boxes.append((c, x0, y0, x1 - x0, y1 - y0, depth_below(c.key)))
    boxes.sort(key=lambda b: -b[5])  # outer clusters first, under inner ones
    return boxes


def _ports(graph: Graph) -> dict[int, tuple[float, float, float, float]]:
    """Where each edge leaves its source and enters its target: the edges at one
    side of a node spread over it, ordered by where the other end lies."""
    horizontal = graph.rankdir in ("LR", "RL")
    forward = graph.rankdir in ("TB", "LR")

    def across(n: Node) -> float:
        return n.y + n.h / 2 if horizontal else n.x + n.w / 2

    def spread(n: Node, k: int, count: int) -> float:
        span = (n.h if horizontal else n.w) * 0.6
        start = across(n) - span / 2
        return across(n) if count == 1 else start + span * k / (count - 1)

    out_edges: dict[Any, list[int]] = {}
    in_edges: dict[Any, list[int]] = {}
    for i, e in enumerate(graph.edges):
        out_edges.setdefault(e.src, []).append(i)
        in_edges.setdefault(e.dst, []).append(i)
    start: dict[int, float] = {}
    end: dict[int, float] = {}
    for key, idx in out_edges.items():
        idx.sort(key=lambda i: (across(graph.node(graph.edges[i].dst)), i))
        for k, i in enumerate(idx):
            start[i] = spread(graph.node(key), k, len(idx))
    for key, idx in in_edges.items():
        idx.sort(key=lambda i: (across(graph.node(graph.edges[i].src)), i))
        for k, i in enumerate(idx):
            end[i] = spread(graph.node(key), k, len(idx))
    ports = {}
    for i, e in enumerate(graph.edges):
        a, b = graph.node(e.src), graph.node(e.dst)
        if horizontal:
            x0 = a.x + a.w if forward else a.x
            x1 = b.x if forward else b.x + b.w
            ports[i] = (x0, start[i], x1, end[i])
        else:
            y0 = a.y + a.h if forward else a.y
            y1 = b.y if forward else b.y + b.h
            ports[i] = (start[i], y0, end[i], y1)
    return ports


def to_svg(graph: Graph) -> str:
    """The graph as a standalone SVG document."""
    layout(graph)
    ids = _svg_ids(graph)
    horizontal = graph.rankdir in ("LR", "RL")
    body: list[str] = []
    extent = [0.0, 0.0]

    def grow(x: float, y: float) -> None:
        extent[0], extent[1] = max(extent[0], x), max(extent[1], y)

    for c, x, y, w, h, _ in _cluster_boxes(graph):
        grow(x + w, y + h)
        body.append(
            f'<g class="cluster" id="{ids[c.key]}"><rect x="{x:.1f}" y="{y:.1f}" '
            f'width="{w:.1f}" height="{h:.1f}" rx="8" fill="#f6f4fb" stroke="#9a8fc2"/>'
            f'<text x="{x + 8:.1f}" y="{y + 14:.1f}" fill="#5b4f8a">{escape(c.label)}</text></g>'
        )
    ports = _ports(graph)
    into: dict[Any, list[int]] = {}
    for i, e in enumerate(graph.edges):
        into.setdefault(e.dst, []).append(i)
    loops = 0
    for i, e in enumerate(graph.edges):
        src, dst = graph.node(e.src), graph.node(e.dst)
        x0, y0, x1, y1 = ports[i]
        if src is dst or dst.rank <= src.rank:  # a loop back: around the right side
            x0, y0 = src.x + src.w, src.y + src.h * 0.7
            x1, y1 = dst.x + dst.w, dst.y + dst.h * 0.3
            bend = 40.0 + 14 * loops
            loops += 1
            path = (
                f"M{x0:.1f},{y0:.1f} C{x0 + bend:.1f},{y0 + 20:.1f} "
                f"{x1 + bend:.1f},{y1 - 20:.1f} {x1:.1f},{y1:.1f}"
            )
            lx, ly = max(x0, x1) + bend * 0.75, (y0 + y1) / 2
            grow(max(x0, x1) + bend, max(y0, y1))
        else:
            if horizontal:
                mx = (x0 + x1) / 2
                path = f"M{x0:.1f},{y0:.1f} C{mx:.1f},{y0:.1f} {mx:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
            else:
                my = (y0 + y1) / 2
                path = f"M{x0:.1f},{y0:.1f} C{x0:.1f},{my:.1f} {x1:.1f},{my:.1f} {x1:.1f},{y1:.1f}"
            # Labels of edges into one node sit at different heights along them.
            siblings = into[e.dst]
            k, count = siblings.index(i), len(siblings)
            t = 0.5 if count == 1 else 0.3 + 0.4 * k / (count - 1)
            s3 = 3 * t * t - 2 * t * t * t  # the curve's progress across at parameter t
            if horizontal:
                lx, ly = (x0 + x1) / 2, y0 + (y1 - y0) * s3 - 4
            else:
                lx, ly = x0 + (x1 - x0) * s3, y0 + (y1 - y0) * t + 4
        dash = ' stroke-dasharray="4 3"' if e.dashed else ""
        body.append(
            f'<g class="edge" data-src="{ids[e.src]}" data-dst="{ids[e.dst]}"><path d="{path}" fill="none" stroke="#555" '
            f'marker-end="url(#arrow)"{dash}/>'
        )
        if e.text:
            tw = len(e.text) * 6.0 + 6
            grow(lx + tw / 2, ly + 4)
            body.append(
                f'<rect x="{lx - tw / 2:.1f}" y="{ly - 10:.1f}" width="{tw:.1f}" height="14" '
                f'rx="3" fill="white" opacity="0.9"/><text x="{lx:.1f}" y="{ly:.1f}" '
                f'font-size="11" text-anchor="middle" fill="#333">{escape(e.text)}</text>'
            )
        body.append("</g>")
    for n in graph.nodes:
        grow(n.x + n.w, n.y + n.h)
        dash = ' stroke-dasharray="4 3"' if n.kind == "ops" else ""
        body.append(
            f'<g class="node {n.kind}" id="{ids[n.key]}">'
            f'<rect x="{n.x:.1f}" y="{n.y:.1f}" width="{n.w:.1f}" height="{n.h:.1f}" rx="5" '
            f'fill="{_FILL[n.kind]}" stroke="#333"{dash}/>'
        )
        lines = [n.label] + n.extra
        top = n.y + n.h / 2 - 7 * (len(lines) - 1) + 4
        for k, line in enumerate(lines):
            weight = ' font-weight="bold"' if k == 0 else ' fill="#555" font-size="11"'
            body.append(
                f'<text x="{n.x + n.w / 2:.1f}" y="{top + 14 * k:.1f}" text-anchor="middle"'
                f"{weight}>{escape(line)}</text>"
            )
        body.append("</g>")
    width, height = extent[0] + _MARGIN, extent[1] + _MARGIN
    head = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12">',
        f"<title>{escape(graph.title)}</title>",
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#555"/></marker></defs>',
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>',
        f'<text x="{_MARGIN}" y="{_MARGIN}" font-weight="bold">{escape(graph.title)}</text>',
    ]
    return "\n".join(head + body + ["</svg>"]) + "\n"


def _svg_ids(graph: Graph) -> dict[Any, str]:
    """Stable element ids (``n0``, ``n1``..., ``c0``...): the same model gives the same file."""
    ids = {n.key: f"n{i}" for i, n in enumerate(graph.nodes)}
    ids.update({c.key: f"c{i}" for i, c in enumerate(graph.clusters)})
    return ids


# -------------------------------------------------------------------- DOT
def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Graph, dpi: int | None = None) -> str:
    """The graph in Graphviz's DOT language."""
    ids = {n.key: f"n{i}" for i, n in enumerate(graph.nodes)}
    lines = [f"digraph {_dot_quote(graph.title)} {{", f"  rankdir={graph.rankdir};"]
    if dpi:
        lines.append(f"  dpi={int(dpi)};")
    lines.append('  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];')
    lines.append('  edge [fontname="Helvetica", fontsize=10];')

    def node_line(n: Node, indent: str) -> str:
        label = "\n".join([n.label] + n.extra)
        style = ', style="rounded,dashed"' if n.kind == "ops" else ""
        return (
            f'{indent}{ids[n.key]} [label={_dot_quote(label)}, fillcolor="{_FILL[n.kind]}"{style}];'
        )

    def emit(cluster_key: Any, indent: str) -> None:
        for n in graph.nodes:
            if n.cluster == cluster_key:
                lines.append(node_line(n, indent))
        for i, c in enumerate(graph.clusters):
            if c.parent == cluster_key:
                lines.append(f"{indent}subgraph cluster_{i} {{")
                lines.append(f"{indent}  label={_dot_quote(c.label)}; style=rounded;")
                emit(c.key, indent + "  ")
                lines.append(f"{indent}}}")

    emit(None, "  ")
    for e in graph.edges:
        attrs = [f"label={_dot_quote(e.text)}"] if e.text else []
        if e.dashed:
            attrs.append("style=dashed")
        label = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {ids[e.src]} -> {ids[e.dst]}{label};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -------------------------------------------------------------- the API
def _write_atomic(path: str, data: bytes) -> None:
    """Writes through a temporary file in the same folder, then renames: a reader
    never sees a half-written file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".plot_model-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _render_with_graphviz(dot_text: str, fmt: str, path: str) -> None:
    exe = shutil.which("dot")
    if exe is None:
        raise ImportError(
            f"plot_model: writing '{os.path.basename(path)}' ({fmt.upper()}) needs Graphviz's "
            "`dot` program, which is not installed (apt install graphviz / brew install "
            "graphviz). SVG needs nothing: use to_file='model.svg' (or '.dot' for the "
            f"Graphviz source); received to_file={path!r}."
        )
    result = subprocess.run(
        [exe, f"-T{fmt}"], input=dot_text.encode(), capture_output=True, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"plot_model: Graphviz failed to render {fmt.upper()}: "
            f"{result.stderr.decode(errors='replace').strip()}"
        )
    _write_atomic(path, result.stdout)


def plot_model(
    model,
    to_file: str = "model.png",
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = False,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    inputs: Any = None,
    **kwargs: Any,
) -> Graph:
    """Draws ``model``'s layers and the tensors between them into ``to_file``.

    Args:
        model: a subclassed, Sequential or Functional model (or any layer).
        to_file: ``.svg`` (no dependency), ``.dot``, or ``.png``/``.pdf``/... (Graphviz).
        show_shapes, show_dtype: label edges with tensor shapes / dtypes.
        show_layer_names: ``name (Class)`` in nodes instead of the class only.
        rankdir: ``"TB"`` (top to bottom), ``"LR"``, ``"BT"`` or ``"RL"``.
        expand_nested: draw nested models as clusters of their layers.
        dpi: resolution of raster output (Graphviz); SVG is resolution-free.
        show_layer_activations, show_trainable: add those to layer nodes.
        inputs: what to trace the call with (arrays, shapes such as
            ``[(None, 784)]``, ``callax.Input``s); default: the model's symbolic
            inputs or the shapes it was built with.
        **kwargs: passed to the call (e.g. ``training=True``); Keras's
            ``splines`` is accepted and ignored.

    Returns:
        The :class:`Graph` drawn (nodes, edges, clusters).
    """
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(
            f"plot_model: rankdir must be 'TB', 'LR', 'BT' or 'RL'; received {rankdir!r}."
        )
    kwargs.pop("splines", None)
    if inputs is None:
        args = build_inputs(model)
    elif isinstance(inputs, list) and graph_inputs(model) is None:
        args = tuple(inputs)  # a subclassed model: one list entry per `call` argument
    else:
        args = (inputs,)
    t = trace(model, *args, flops=False, **kwargs)
    graph = build_graph(
        t, show_shapes, show_dtype, show_layer_names, expand_nested,
        show_layer_activations, show_trainable, rankdir,
    )  # fmt: skip
    ext = os.path.splitext(to_file)[1].lower().lstrip(".") or "png"
    if ext == "svg":
        _write_atomic(to_file, to_svg(graph).encode("utf-8"))
    elif ext in ("dot", "gv"):
        _write_atomic(to_file, to_dot(graph).encode("utf-8"))
    else:
        _render_with_graphviz(to_dot(graph, dpi), ext, to_file)
    return graph


__all__ = ["plot_model", "build_graph", "to_svg", "to_dot", "Graph"]
