"""plot_model: nodes and edges for subclassed, Sequential and Functional models; files."""

import os
import shutil
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel

import callax
from callax.utils import plot_model

SVG = "{http://www.w3.org/2000/svg}"


def _svg(path):
    """(node texts, edges as (src text, dst text, label)) read back from the SVG."""
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    nodes = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class", "").startswith("node"):
            texts = [t.text for t in g.iter(f"{SVG}text")]
            nodes[g.get("id")] = texts[0]
    edges = []
    for g in root.iter(f"{SVG}g"):
        if g.get("class") == "edge":
            label = [t.text for t in g.iter(f"{SVG}text")]
            edges.append(
                (nodes[g.get("data-src")], nodes[g.get("data-dst")], label[0] if label else "")
            )
    return nodes, edges


def test_example3_shared_layer_is_one_node_with_numbered_edges(tmp_path):
    path = str(tmp_path / "m3.svg")
    model = MultiInputModel()
    graph = plot_model(model, path, show_shapes=True, show_layer_names=True,
                       inputs=[(None, 16), (None, 16)])  # fmt: skip
    nodes, edges = _svg(path)
    assert sorted(nodes.values()) == sorted([
        "inputs1", "inputs2", "dense1 (Dense)", "concat (Concatenate)", "dense2 (Dense)", "output",
    ])  # fmt: skip
    assert sorted(edges) == sorted([
        ("inputs1", "dense1 (Dense)", "#1 (None, 16)"),
        ("inputs2", "dense1 (Dense)", "#2 (None, 16)"),
        ("dense1 (Dense)", "concat (Concatenate)", "#1 (None, 16)"),
        ("dense1 (Dense)", "concat (Concatenate)", "#2 (None, 16)"),
        ("concat (Concatenate)", "dense2 (Dense)", "(None, 32)"),
        ("dense2 (Dense)", "output", "(None, 10)"),
    ])  # fmt: skip
    assert len(graph.nodes) == 6 and len(graph.edges) == 6
    assert [n.name for n in graph.find("dense1")] == ["dense1"]


def test_example1_built_model_needs_no_inputs_and_layer_names_are_optional(tmp_path):
    model = SimpleSequentialModel()
    model(np.zeros((32, 32), "float32"))
    path = str(tmp_path / "m1.svg")
    plot_model(model, to_file=path)  # Keras's defaults: class names, no shapes
    nodes, edges = _svg(path)
    assert sorted(nodes.values()) == ["Dense", "Dense", "inputs", "output"]
    assert [label for _, _, label in edges] == ["", "", ""]


def test_example2_training_changes_the_graph(tmp_path):
    model = ConditionalModel()
    model.build((None, 32))
    infer = plot_model(model, str(tmp_path / "a.svg"), show_layer_names=True)
    train = plot_model(model, str(tmp_path / "b.svg"), show_layer_names=True, training=True)
    assert "dropout (Dropout)" not in [n.label for n in infer.nodes]
    assert "dropout (Dropout)" in [n.label for n in train.nodes]
    _, edges = _svg(str(tmp_path / "b.svg"))
    assert ("dense1 (Dense)", "dropout (Dropout)", "") in edges


def test_plain_ops_and_nested_clusters(tmp_path):
    class Outer(callax.Model):
        def __init__(self):
            super().__init__()
            self.inner = MultiInputModel()
            self.head = callax.layers.Dense(3)

        def call(self, x):
            y = self.inner(x, x * 2.0)
            return self.head(y) + self.head(y)

    model = Outer()
    flat = plot_model(model, str(tmp_path / "flat.svg"), show_layer_names=True, inputs=[(4, 16)])
    labels = [n.label for n in flat.nodes]
    assert "inner (MultiInputModel)" in labels and "dense1 (Dense)" not in labels
    assert flat.clusters == []
    path = str(tmp_path / "nested.svg")
    nested = plot_model(model, path, show_layer_names=True, expand_nested=True, inputs=[(4, 16)])
    assert [c.label for c in nested.clusters] == ["inner (MultiInputModel)"]
    members = [n.label for n in nested.nodes if n.cluster == nested.clusters[0].key]
    assert members == ["dense1 (Dense)", "concat (Concatenate)", "dense2 (Dense)"]
    nodes, edges = _svg(path)
    # x * 2.0 comes from the ops node; head's two outputs go into the add (dashed).
    assert ("ops in Outer.call", "dense1 (Dense)", "#2") in edges
    assert ("dense2 (Dense)", "head (Dense)", "#1") in edges
    assert ("head (Dense)", "ops in Outer.call", "#2") in edges
    assert ("ops in Outer.call", "output", "") in edges
    assert [e.dashed for e in nested.edges if e.dst[0] == "ops"] == [True, True]
    root = ET.parse(path).getroot()
    assert len([g for g in root.iter(f"{SVG}g") if g.get("class") == "cluster"]) == 1


def test_sequential_and_functional(tmp_path):
    seq = callax.Sequential([callax.Input((8,)), callax.layers.Dense(3), callax.layers.Dense(1)])
    g = plot_model(seq, str(tmp_path / "seq.svg"), show_shapes=True, rankdir="LR")
    assert [e.label for e in g.edges] == ["(None, 8)", "(None, 3)", "(None, 1)"]
    a, b = callax.Input((8,), name="a"), callax.Input((8,), name="b")
    out = callax.layers.Add(name="add")([callax.layers.Dense(8, name="d")(a), b])
    g = plot_model(callax.Model([a, b], out), str(tmp_path / "f.svg"), show_layer_names=True)
    nodes, edges = _svg(str(tmp_path / "f.svg"))
    assert sorted(edges) == sorted([
        ("a", "d (Dense)", ""), ("d (Dense)", "add (Add)", ""), ("b", "add (Add)", ""),
        ("add (Add)", "output", ""),
    ])  # fmt: skip


def test_dot_output_and_options(tmp_path):
    path = str(tmp_path / "m.dot")
    plot_model(MultiInputModel(), path, show_shapes=True, show_dtype=True,
               show_layer_activations=True, show_trainable=True, inputs=[(2, 16), (2, 16)])  # fmt: skip
    text = open(path).read()
    assert text.startswith('digraph "multi_input_model" {') and text.rstrip().endswith("}")
    assert "activation: relu" in text and "trainable: Y" in text
    assert 'label="#2 float32 (2, 16)"' in text
    assert text.count("->") == 6


def test_raster_formats_need_graphviz_and_writes_are_atomic(tmp_path, monkeypatch):
    # Whatever this machine has installed: with no `dot` on PATH, a raster format is a
    # clear ImportError and nothing is written (no partial file, no temp file left).
    path = str(tmp_path / "model.png")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    with pytest.raises(ImportError, match="Graphviz") as info:
        plot_model(MultiInputModel(), path, inputs=[(2, 16), (2, 16)])
    assert str(info.value).endswith(f"received to_file={path!r}.")
    assert not os.path.exists(path)
    plot_model(MultiInputModel(), str(tmp_path / "ok.svg"), inputs=[(2, 16), (2, 16)])
    assert sorted(os.listdir(tmp_path)) == ["ok.svg"]


def test_raster_formats_with_graphviz(tmp_path):
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's `dot` is not installed on this machine (apt install graphviz)")
    path = str(tmp_path / "model.png")
    plot_model(MultiInputModel(), path, inputs=[(2, 16), (2, 16)])
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert sorted(os.listdir(tmp_path)) == ["model.png"]


def test_bad_arguments():
    with pytest.raises(ValueError, match="rankdir must be"):
        plot_model(MultiInputModel(), "x.svg", rankdir="XY", inputs=[(2, 16), (2, 16)])
    with pytest.raises(ValueError, match="has not been built yet"):
        plot_model(MultiInputModel(), "x.svg")
