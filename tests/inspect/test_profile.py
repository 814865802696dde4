"""callax.profile: time per call site (eager, self vs total), XLA costs per site,
the compiled step, the table, and that profiling changes nothing."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from call_page_models import ResidualCNN, TinyTransformer, images, tokens
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel

import callax
from callax.core import call_context
from callax.inspect.trace import layer_flops


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_example3_one_row_per_call_site_with_costs_and_times():
    model = MultiInputModel()
    report = callax.profile(model, _x(32, 16), _x(32, 16, seed=1), repeat=2)
    keys = sorted((r.site_key, r.class_name) for r in report.rows)
    assert keys == [("concat", "Concatenate"), ("dense1#1", "Dense"), ("dense1#2", "Dense"),
                    ("dense2", "Dense")]  # fmt: skip
    first, second = report.site("dense1#1"), report.site("dense1#2")
    assert (first.call_index, first.total_calls, second.call_index) == (1, 2, 2)
    # The shared layer's weights count once, at its first call.
    assert (first.params, second.params, report.site("dense2").params) == (272, 0, 330)
    # FLOPs per site are trace's (XLA cost analysis of each call on its own).
    for row in report.rows:
        assert row.flops == layer_flops(row.record.layer, *row.record.specs)
        assert row.total_s > 0 and 0 <= row.self_s <= row.total_s
    assert first.flops == 2 * 32 * 16 * 16 + 32 * 16 * 2  # matmul + bias + relu, XLA's count
    assert report.site("dense2").bytes > report.site("concat").bytes > 0
    # Sorted by self time, slowest first; other orders on request.
    selfs = [r.self_s for r in report.rows]
    assert selfs == sorted(selfs, reverse=True)
    assert [r.site_key for r in report.sorted_by("order")] == ["dense1#1", "dense1#2", "concat",
                                                               "dense2"]  # fmt: skip
    flops = [r.flops or 0 for r in report.sorted_by("flops")]
    assert flops == sorted(flops, reverse=True)
    # The whole call, compiled as one step, and its cost analysis.
    assert report.compiled_s > 0 and report.flops > 0 and report.bytes > 0
    assert report.eager_s > 0 and report.eager_plain_s > 0 and report.overhead_per_call_s > 0
    json.dumps(report.to_dict())


def test_table_is_readable_and_states_the_overhead():
    report = callax.profile(MultiInputModel(), _x(8, 16), _x(8, 16), repeat=2)
    text = str(report)
    lines = text.splitlines()
    assert lines[0] == (
        "profile of MultiInputModel.call(inputs1: f32[8,16], inputs2: f32[8,16])  training=None"
    )
    assert lines[1].split() == ["#", "call", "site", "class", "call", "self", "ms", "total", "ms",
                                "self", "%", "FLOPs", "bytes", "params"]  # fmt: skip
    body = lines[3:7]
    assert [line.split()[1] for line in body] == [r.site for r in report.rows]
    assert any("1/2" in line and "272" in line for line in body)
    assert "measurement overhead: eager call" in text and "us/call" in text
    assert "compiled step (whole call, one jax.jit)" in text
    assert "ops in MultiInputModel.call itself" in text
    assert report.text(limit=1).count("\n") < text.count("\n")
    assert "... 3 more call sites" in report.text(limit=1)


def test_nested_sites_self_time_is_total_minus_children():
    model = ResidualCNN()
    report = callax.profile(model, images(), repeat=2, compiled=False)
    sites = {r.site for r in report.rows}
    assert {"stem", "block1", "block1.conv1", "block1.bn2", "block2.add", "head"} <= sites
    block = report.site("block1")
    children = [report.site(f"block1.{c}") for c in ("conv1", "bn1", "conv2", "bn2", "add")]
    assert block.self_s == pytest.approx(block.total_s - sum(c.total_s for c in children))
    assert block.total_s >= max(c.total_s for c in children)
    assert block.depth == 1 and children[0].depth == 2
    assert report.compiled_s is None and "compiled step" not in str(report)
    assert report.root_total_s >= block.total_s


def test_a_slow_layer_comes_first():
    class Slow(callax.layers.Layer):
        def call(self, x):
            for _ in range(30):
                x = jnp.tanh(x @ jnp.ones((256, 256)) / 256.0)
            return x

    class Model(callax.Model):
        def __init__(self):
            super().__init__()
            self.fast = callax.layers.Dense(256)
            self.slow = Slow()
            self.out = callax.layers.Dense(4)

        def call(self, x):
            return self.out(self.slow(self.fast(x)))

    report = callax.profile(Model(), _x(256, 8), repeat=3, compiled=False)
    assert report.rows[0].site == "slow"
    assert report.sorted_by("flops")[0].site == "slow"


def test_transformer_sites_and_shape_inputs():
    model = TinyTransformer()
    report = callax.profile(model, tokens(), repeat=2, compiled=False, costs=False)
    assert "block.attention.query_dense" in {r.site for r in report.rows}
    assert all(r.flops is None for r in report.rows)
    mlp = callax.Sequential([callax.Input((16,)), callax.layers.Dense(4)])
    shaped = callax.profile(mlp, (8, 16), repeat=1, compiled=False)
    assert shaped.rows[0].record.inputs[0].shape == (8, 16)


def test_profiling_changes_nothing_and_leaves_no_listener():
    cnn = ResidualCNN()
    x = images()
    cnn(x)
    before = [np.array(v.value) for v in cnn.weights]
    callax.profile(cnn, x, training=True, repeat=1, costs=False, compiled=False)
    after = [np.array(v.value) for v in cnn.weights]
    assert all((a == b).all() for a, b in zip(before, after))  # BatchNorm statistics unmoved
    cond = ConditionalModel()
    cond(_x(4, 32))
    seed = [np.array(v.value) for v in cond.non_trainable_variables]
    report = callax.profile(cond, _x(4, 32), training=True, repeat=1, costs=False, compiled=False)
    assert [np.array(v.value) for v in cond.non_trainable_variables][0].tolist() == seed[0].tolist()
    assert "dropout" in {r.site for r in report.rows}
    assert call_context.listeners() == [] and call_context._observers == []


def test_bad_arguments_are_refused_by_name():
    model = MultiInputModel()
    x = _x(4, 16)
    with pytest.raises(ValueError, match=r"sort must be one of .*received 'speed'"):
        callax.profile(model, x, x, sort="speed")
    with pytest.raises(ValueError, match=r"repeat must be an integer >= 1; received 0"):
        callax.profile(model, x, x, repeat=0)
    with pytest.raises(ValueError, match=r"warmup must be an integer >= 0; received -1"):
        callax.profile(model, x, x, warmup=-1)
    with pytest.raises(TypeError, match="give the inputs"):
        callax.profile(model)
    with pytest.raises(ValueError, match=r"fully known shapes.*\(None, 16\)"):
        callax.profile(model, (None, 16), (None, 16))
    report = callax.profile(model, x, x, repeat=1, compiled=False, costs=False)
    with pytest.raises(KeyError, match=r"no call site 'dense3'.*dense1#1"):
        report.site("dense3")
