"""callax.show / CallTrace.to_html: one self-contained HTML page of a call (its
structure, what it shows, offline), read back with an HTML parser."""

import os
import re
from html.parser import HTMLParser

import numpy as np
import pytest
from call_page_models import ResidualCNN, TinyTransformer, images, tokens
from example1_sequential import SimpleSequentialModel
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel

import callax
from callax.inspect.html_page import ActivationStats, activation_stats


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


class Page(HTMLParser):
    """The call-tree nodes (path, summary text), and every tag and attribute."""

    def __init__(self, html):
        super().__init__()
        self.nodes, self.tags, self._stack, self._summary = [], [], [], None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "li" and "cx-node" in attrs.get("class", ""):
            self.nodes.append({"path": attrs["data-path"], "names": attrs["data-names"],
                               "summary": "", "depth": len(self._stack)})  # fmt: skip
            self._stack.append(len(self.nodes) - 1)
        elif tag == "li":
            self._stack.append(None)
        if tag == "summary" and self._stack and self._stack[-1] is not None:
            self._summary = self._stack[-1]

    def handle_endtag(self, tag):
        if tag == "li":
            self._stack.pop()
        if tag == "summary":
            self._summary = None

    def handle_data(self, data):
        if self._summary is not None:
            self.nodes[self._summary]["summary"] += data + " "


def _offline(html):
    """No fetch of any kind: no src/href to anything, no <link>, no CSS import."""
    page = Page(html)
    for tag, attrs in page.tags:
        assert tag not in ("link", "iframe", "img", "object", "embed"), tag
        assert "src" not in attrs and "href" not in attrs, (tag, attrs)
    assert "@import" not in html
    assert set(re.findall(r"url\((.)", html)) <= {"#"}  # only the page's own SVG markers
    # The only URL is SVG's namespace name (an identifier, never fetched).
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}


def test_example3_page_shows_the_tree_shared_weights_params_and_statistics(tmp_path):
    model = MultiInputModel()
    a, b = _x(32, 16), _x(32, 16, seed=1)
    path = tmp_path / "example3.html"
    page = callax.show(model, a, b, path=path)
    assert page.path == os.fspath(path) and os.fspath(page) == str(page) == page.path
    html = path.read_text()
    assert html == page.html and html.startswith("<!DOCTYPE html>")
    _offline(html)
    nodes = Page(html).nodes
    assert [n["path"] for n in nodes] == ["dense1", "dense1", "concat", "dense2"]
    assert [n["names"] for n in nodes] == [
        "multi_input_model/dense", "multi_input_model/dense", "multi_input_model/concatenate",
        "multi_input_model/dense_1"]  # fmt: skip
    first, second, concat, dense2 = (" ".join(n["summary"].split()) for n in nodes)
    assert "Dense call 1/2 f32[32,16] → f32[32,16]" in first and "272 params" in first
    assert "built here" in first and "shared: called 2×" in first
    assert "call 2/2" in second and "shares weights with call 1" in second
    assert "shared" in second and "params" not in second
    assert "[f32[32,16], f32[32,16]] → f32[32,32]" in concat
    assert "330 params" in dense2
    # Statistics of each call's outputs, from one run on the same data.
    expected = np.asarray(model.dense1(a))
    stats = re.findall(r'cx-stat-(\w+)">([^<]*)<', html)
    first_stats = dict(stats[:6])
    assert float(first_stats["max"]) == pytest.approx(expected.max(), rel=1e-3)
    assert float(first_stats["mean"]) == pytest.approx(expected.mean(), rel=1e-3)
    assert first_stats["zeros"] == f"{(expected == 0).mean():.1%}"  # relu: about half
    assert first_stats["NaN"] == "0.0%"
    assert html.count('class="cx-hist"') == 4 and html.count('class="cx-spark"') == 4
    # The header and the embedded plot_model graph.
    assert "MultiInputModel.call(inputs1: f32[32,16], inputs2: f32[32,16])" in html
    assert "params: 602 trainable · 0 non-trainable" in html
    assert "<title>multi_input_model</title>" in html and 'class="cx-search"' in html


def test_example2_training_values_and_layers_not_called(tmp_path):
    model = ConditionalModel()
    x = _x(8, 32)
    train = Page(callax.show(model, x, training=True, path=tmp_path / "t.html").html).nodes
    assert [n["path"] for n in train] == ["dense1", "dropout", "dense2"]
    assert "training=True" in train[1]["summary"]
    infer = callax.show(model, x, training=False, path=tmp_path / "i.html").html
    assert [n["path"] for n in Page(infer).nodes] == ["dense1", "dense2"]
    assert "not called: dropout (Dropout)" in infer
    assert "training=False" in infer


def test_deeper_models_nest_and_carry_the_profile(tmp_path):
    page = callax.show(ResidualCNN(), images(), path=tmp_path / "cnn.html", profile=True)
    html = page.html
    _offline(html)
    nodes = Page(html).nodes
    assert len(nodes) == 15
    by_path = {n["path"]: n for n in nodes}
    assert by_path["block1"]["depth"] == 0 and by_path["block1.conv1"]["depth"] == 1
    assert "training=False" in by_path["block1.bn1"]["summary"]
    assert " ms" in by_path["block1.conv1"]["summary"]  # its self time
    assert "Profile (slowest call site first)" in html and "measurement overhead" in html
    assert html.count("<tr><td>") == 15  # one profile row per call site
    assert "compiled step:" in html and page.profile.compiled_s > 0
    assert "<title>residual_cnn</title>" in html  # the graph
    tf = Page(callax.show(TinyTransformer(), tokens(), path=tmp_path / "tf.html").html).nodes
    assert "block.attention.query_dense" in {n["path"] for n in tf}


def test_statistics_count_nan_and_zeros():
    s = ActivationStats(np.array([0.0, 0.0, np.nan, 2.0, -2.0, np.inf, 1.0, 3.0]))
    assert (s.zeros, s.nan, s.inf) == (0.25, 0.125, 0.125)
    assert (s.min, s.max, s.mean) == (-2.0, 3.0, pytest.approx(4 / 6))
    assert s.std == pytest.approx(np.std([0, 0, 2, -2, 1, 3]))
    assert sum(s.hist) == 6 and len(s.hist) == 24
    empty = ActivationStats(np.array([np.nan]))
    assert empty.min is None and empty.nan == 1.0 and sum(empty.hist) == 0

    class Bad(callax.layers.Layer):
        def call(self, x):
            return callax.ops.log(x)  # NaN for negative inputs

    model = callax.Sequential([callax.Input((4,)), Bad()])
    x = np.array([[1.0, -1.0, 2.0, -2.0]], "float32")
    html = model.trace(x).to_html(stats=activation_stats(model, x))
    assert re.search(r'cx-stat-NaN">50.0%<', html)


def test_capture_results_repr_html_and_abstract_traces(tmp_path):
    model = SimpleSequentialModel()
    x = _x(4, 32)
    _, acts = callax.capture(model, x, at=["dense1", "dense2"])
    t = callax.trace(model, x)
    path = tmp_path / "sub" / "page.html"
    html = t.to_html(path, stats=acts)
    assert path.read_text() == html and html.count('class="cx-hist"') == 2
    frag1, frag2 = t._repr_html_(), t._repr_html_()
    assert not frag1.startswith("<!DOCTYPE") and "<html" not in frag1
    assert "<style>" in frag1 and "<script>" in frag1 and "<details>" in frag1
    ids = re.findall(r'id="(cx-page-[^"]+)"', frag1 + frag2)
    assert len(set(ids)) == 2  # two outputs in one notebook do not collide
    abstract = callax.trace(model, (None, 32)).to_html()
    assert "abstract: shapes only" in abstract and 'class="cx-hist"' not in abstract
    page = callax.show(model, x, stats=False, graph=False)
    assert os.path.dirname(page.path) and "callax-" in os.path.basename(page.path)
    assert 'class="cx-hist"' not in page.html and "<svg xmlns" not in page.html
    assert page._repr_html_().startswith("<style>")


def test_bad_arguments_are_refused_by_name(tmp_path):
    model = SimpleSequentialModel()
    x = _x(2, 32)
    with pytest.raises(TypeError, match=r"profile must be True, False or .* received str"):
        callax.show(model, x, profile="yes")
    with pytest.raises(TypeError, match=r"stats must be True, False or .* received list"):
        callax.show(model, x, stats=[1])
    t = callax.trace(model, x)
    with pytest.raises(TypeError, match=r"stats must be .* received list"):
        t.to_html(stats=[1])
    with pytest.raises(TypeError, match=r"profile must be a callax.profile.* received dict"):
        t.to_html(profile={})
    with pytest.raises(TypeError, match=r"path must be a str or os.PathLike; received 3"):
        t.to_html(3)
