"""trace(): the call tree of the seed's models, abstract tracing, JSON, diff, FLOPs."""

import json

import jax
import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel

import callax
from callax.core import call_context
from callax.inspect import Recorder, TensorInfo


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _row(rec):
    return (rec.label, rec.class_name, rec.call_index, rec.total_calls)


def test_example3_call_tree_order_shapes_and_shared_weights():
    model = MultiInputModel()
    t = callax.trace(model, _x(32, 16), _x(32, 16, seed=1))
    assert [_row(r) for r in t.calls] == [
        ("dense1", "Dense", 1, 2),
        ("dense1", "Dense", 2, 2),
        ("concat", "Concatenate", 1, 1),
        ("dense2", "Dense", 1, 1),
    ]
    d1a, d1b, concat, d2 = t.calls
    f32 = "float32"
    assert d1a.inputs == [TensorInfo((32, 16), f32)]
    assert d1a.outputs == TensorInfo((32, 16), f32)
    assert concat.inputs == [[TensorInfo((32, 16), f32), TensorInfo((32, 16), f32)]]
    assert concat.outputs == TensorInfo((32, 32), f32)
    assert d2.outputs == TensorInfo((32, 10), f32)
    # The first call builds dense1; the second builds nothing and reads the same weights.
    assert d1a.built_here and d1a.created == [("kernel", (16, 16), f32), ("bias", (16,), f32)]
    assert not d1b.built_here and d1b.created == []
    assert d1a.reads == d1b.reads == [v.path for v in model.dense1.weights]
    assert concat.reads == []
    assert d2.created == [("kernel", (32, 10), f32), ("bias", (10,), f32)]
    assert t.trainable_params == 602 and t.non_trainable_params == 0
    text = str(t)
    assert text.splitlines()[0] == (
        "MultiInputModel.call(inputs1: f32[32,16], inputs2: f32[32,16])  training=None"
    )
    lines = text.splitlines()
    assert "call 1/2" in lines[1] and "built here: kernel (16,16), bias (16,)" in lines[1]
    assert "call 2/2" in lines[2] and "shares weights with call 1" in lines[2]
    assert "[f32[32,16], f32[32,16]] → f32[32,32]" in lines[3]
    assert lines[4].startswith("└─ dense2")
    assert lines[-1].startswith("params: 602 trainable · 0 non-trainable   output: f32[32,10]")


def test_example1_trace_matches_the_real_call_and_changes_nothing():
    model = SimpleSequentialModel()
    x = _x(32, 32)
    t = model.trace(x)
    assert [_row(r) for r in t.calls] == [("dense1", "Dense", 1, 1), ("dense2", "Dense", 1, 1)]
    assert t.calls[0].outputs.shape == (32, 64) and t.outputs.shape == (32, 10)
    assert t.trainable_params == 2762 == model.count_params()
    # Tracing built the model with real weights; calling it now gives the same numbers
    # as the numpy formula on those weights.
    k1, b1, k2, b2 = (np.asarray(w) for w in model.get_weights())
    h = np.maximum(x @ k1 + b1, 0)
    logits = h @ k2 + b2
    expected = np.exp(logits - logits.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model(x)), expected, rtol=1e-5, atol=1e-6)


def test_example2_training_value_seen_by_each_call():
    model = ConditionalModel()
    x = _x(32, 32)
    train = callax.trace(model, x, training=True)
    infer = callax.trace(model, x, training=False)
    default = callax.trace(model, x)
    assert [(r.label, r.training) for r in train.calls] == [
        ("dense1", True), ("dropout", True), ("dense2", True),
    ]  # fmt: skip
    assert [(r.label, r.training) for r in infer.calls] == [("dense1", False), ("dense2", False)]
    assert default.training is False  # call's default reaches the root
    assert train.calls[1].sees_training and not train.calls[0].sees_training
    assert infer.not_called == [("dropout", "Dropout")]
    assert train.not_called == []
    assert "training=True" in str(train).splitlines()[2]  # the dropout line shows it
    assert "not called: dropout (Dropout)" in str(infer)


def test_example2_diff_shows_the_dropout_call_in_one_trace_only():
    model = ConditionalModel()
    x = _x(32, 32)
    diff = callax.trace(model, x, training=True).diff(callax.trace(model, x, training=False))
    assert bool(diff)
    assert [r.label for r in diff.only_self] == ["dropout"]
    assert diff.only_other == [] and diff.changed == []
    lines = str(diff).splitlines()
    assert lines[0].startswith("--- ConditionalModel.call") and "training=True" in lines[0]
    assert lines[1].startswith("+++ ") and "training=False" in lines[1]
    assert [line[:2] for line in lines[2:]] == ["  ", "- ", "  "]
    assert lines[3].startswith("- dropout (Dropout) call 1/1")
    reverse = callax.trace(model, x, training=False).diff(callax.trace(model, x, training=True))
    assert [r.label for r in reverse.only_other] == ["dropout"]
    assert "+ dropout (Dropout)" in str(reverse)
    same = callax.trace(model, x).diff(callax.trace(model, x, training=False))
    assert not same and "same calls" in str(same)


def test_diff_reports_changed_shapes():
    model = SimpleSequentialModel()
    diff = callax.trace(model, (8, 32)).diff(callax.trace(model, (4, 32)))
    assert [(a.label, b.label) for a, b in diff.changed] == [("dense1", "dense1"), ("dense2",) * 2]
    assert "~ dense1 (Dense)" in str(diff)


def test_trace_does_not_advance_seed_generators_or_change_weights():
    model = ConditionalModel()
    x = _x(4, 32)
    model(x)
    state = [np.asarray(v.value).copy() for v in model.variables]
    callax.trace(model, x, training=True)
    after = [np.asarray(v.value) for v in model.variables]
    assert len(state) == len(after) == 5  # 4 weights + the dropout seed state
    for before, now in zip(state, after):
        np.testing.assert_array_equal(before, now)


def test_abstract_trace_from_shapes_keeps_unknown_batch():
    model = MultiInputModel()
    t = callax.trace(model, (None, 16), (None, 16))
    assert t.abstract
    assert t.calls[2].outputs.shape == ("b", 32)
    assert t.outputs.keras_shape() == "(b, 10)"
    assert "f32[b,16]" in str(t) and "(abstract: shapes only)" in str(t)
    # The same from ShapeDtypeStruct and from callax.Input.
    spec = jax.ShapeDtypeStruct((8, 16), np.float32)
    assert callax.trace(model, spec, spec).outputs.shape == (8, 10)
    inp = callax.Input((16,))
    assert callax.trace(model, inp, inp).outputs.shape == ("b", 10)


def test_abstract_trace_of_unbuilt_model_builds_without_computing():
    model = SimpleSequentialModel()
    callax.trace(model, (None, 32))
    assert model.built and model.count_params() == 2762
    # Weights made abstractly are uninitialised until first read.
    assert all(v._value is None for v in model.weights)
    assert model(_x(2, 32)).shape == (2, 10)


def test_to_dict_and_json_round_trip():
    t = callax.trace(MultiInputModel(), _x(4, 16), _x(4, 16))
    data = json.loads(t.to_json())
    assert data["class"] == "MultiInputModel" and data["trainable_params"] == 602
    calls = data["call"]["children"]
    assert [c["attr"] for c in calls] == ["dense1", "dense1", "concat", "dense2"]
    assert calls[0]["inputs"] == {"inputs": {"shape": [4, 16], "dtype": "float32"}}
    assert (
        calls[1]["shares_weights_with_call"] == 1 and calls[0]["shares_weights_with_call"] is None
    )
    assert calls[0]["created"][0] == {"name": "kernel", "shape": [16, 16], "dtype": "float32"}
    assert calls[2]["inputs"]["inputs"][1]["shape"] == [4, 16]


def test_flops_from_xla_cost_analysis():
    t = callax.trace(SimpleSequentialModel(), _x(32, 32))
    d1, d2 = t.calls
    # A matmul costs 2*m*k*n multiply-adds; XLA also counts the bias add and activation.
    assert d1.flops >= 2 * 32 * 32 * 64 and d1.flops < 2 * 32 * 32 * 64 * 1.2
    assert d2.flops >= 2 * 32 * 64 * 10
    assert t.flops >= d1.flops + d2.flops
    assert "FLOPs" in str(t)
    none = callax.trace(SimpleSequentialModel(), _x(32, 32), flops=False)
    assert none.flops is None and none.calls[0].flops is None
    total = callax.trace(SimpleSequentialModel(), _x(32, 32), flops="total")
    assert total.flops == pytest.approx(t.flops) and total.calls[0].flops is None


def test_nested_model_tree_and_read_tracking():
    class Block(callax.Layer):
        def __init__(self):
            super().__init__()
            self.inner = callax.layers.Dense(8)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(8,), initializer="ones", name="scale")

        def call(self, x):
            return self.inner(x) * self.scale

    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.head = callax.layers.Dense(2)

        def call(self, x):
            return self.head(self.block(x))

    t = callax.trace(Net(), _x(3, 5))
    block, inner, head = t.calls
    assert [c.label for c in t.root.children] == ["block", "head"]
    assert block.children == [inner] and inner.parent is block and inner.depth == 2
    assert inner.path[1:] == ("block", "dense")
    # Reads are observed per call: the block reads its scale, the Dense its kernel/bias.
    assert [p.rsplit("/", 1)[1] for p in block.reads] == ["scale"]
    assert [p.rsplit("/", 1)[1] for p in inner.reads] == ["kernel", "bias"]
    assert str(t).splitlines()[2].startswith("│  └─ inner  ")


def test_recorder_sees_nothing_unless_registered():
    model = SimpleSequentialModel()
    rec = Recorder()
    model(_x(2, 32))
    assert rec.roots == [] and call_context.listeners() == []
    with call_context.listening(rec):
        model(_x(2, 32))
    model(_x(2, 32))
    rec.finish()
    assert len(rec.roots) == 1 and [c.label for c in rec.roots[0].children] == ["dense1", "dense2"]
    assert call_context.listeners() == []


def test_trace_of_a_failing_call_raises_with_the_call_path():
    model = MultiInputModel()
    with pytest.raises(ValueError) as info:
        callax.trace(model, _x(32, 16), _x(32, 8))
    assert "MultiInputModel.call → dense1" in info.value.__notes__[0]
    assert call_context.listeners() == []


def test_rendering_plain_and_rich():
    import io

    from rich.console import Console

    t = callax.trace(MultiInputModel(), (2, 16), (2, 16), flops=False)
    plain = io.StringIO()
    t.print(file=plain)  # not a terminal: plain text
    assert plain.getvalue() == str(t) + "\n"
    console = Console(record=True, width=200, color_system="truecolor", force_terminal=True)
    console.print(t)
    rendered = console.export_text(clear=False)
    assert [line.rstrip() for line in rendered.splitlines()] == [
        line.rstrip() for line in str(t).splitlines()
    ]
    assert "\x1b[" in console.export_text(styles=True)  # coloured in a terminal


def test_recorder_ignores_calls_from_other_threads():
    import threading

    made = []
    worker = threading.Thread(target=lambda: made.append(Recorder()))
    worker.start()
    worker.join()
    with call_context.listening(made[0]):
        SimpleSequentialModel()(_x(2, 32))  # this thread's calls: not the recorder's
    assert made[0].roots == []
