"""Call inputs: rank, dtype, shapes after build, non-tensors, Functional inputs."""

from __future__ import annotations

import numpy as np
from fault_case import OK, C, x

import callax

L = callax.layers
V = ValueError
T = TypeError


def _built(layer, *shape, dtype="float32"):
    layer(x(*shape, dtype=dtype))
    return layer


def _functional():
    i = callax.Input((4,), name="features")
    return callax.Model(i, L.Dense(2, name="head")(i), name="net")


def _two_inputs(as_dict=False):
    a, b = callax.Input((4,), name="a"), callax.Input((4,), name="b")
    inputs = {"a": a, "b": b} if as_dict else [a, b]
    return callax.Model(inputs, L.Add()([a, b]), name="pair")


class _Sub(callax.Model):
    def __init__(self):
        super().__init__(name="sub")
        self.dense = L.Dense(3, name="inner")

    def call(self, inputs):
        return self.dense(inputs)


def _sub_built():
    m = _Sub()
    m(x(2, 4))
    return m


# fmt: off
CASES = [
    # Shapes after build
    C("dense-wrong-last-dim-after-build", lambda: _built(L.Dense(3, name="d"), 2, 4)(x(2, 5)), V, '"d"', "axis -1", "value 4", "(2, 5)"),
    C("conv2d-rank-3-input", lambda: L.Conv2D(3, 2, name="c")(x(2, 4, 4)), V, "Conv2D 'c'", "rank 4", "(2, 4, 4)"),
    C("conv2d-wrong-channels-after-build", lambda: _built(L.Conv2D(3, 2, name="c"), 1, 4, 4, 2)(x(1, 4, 4, 3)), V, "Conv2D 'c'", "2 channels", "(1, 4, 4, 3)"),
    C("lstm-rank-2-input", lambda: L.LSTM(3, name="r")(x(2, 4)), V, "LSTM 'r'", "(batch, time, features)", "(2, 4)"),
    C("gru-rank-4-input", lambda: L.GRU(3, name="r")(x(2, 3, 4, 5)), V, "GRU 'r'", "(2, 3, 4, 5)"),
    C("subclassed-model-wrong-shape-after-build", lambda: _sub_built()(x(2, 7)), V, "inner", "value 4", "(2, 7)"),
    C("dense-unknown-last-dim-build", lambda: L.Dense(3, name="d").build((None, None)), V, "Dense 'd'", "last dimension", "(None, None)"),
    C("dense-rank-1-build", lambda: L.Dense(3, name="d").build((None,)), V, "Dense 'd'", "(None,)"),
    C("reshape-size-mismatch", lambda: L.Reshape((5,), name="r")(x(2, 4)), V, "Reshape 'r'", "(2, 4)", "(5,)"),
    C("add-incompatible-shapes", lambda: L.Add(name="a")([x(2, 4), x(2, 5)]), V, "Add 'a'", "(2, 4)", "(2, 5)"),
    C("add-single-input", lambda: L.Add(name="a")([x(2, 4)]), V, "Add 'a'", "at least 2", "(2, 4)"),
    C("concatenate-mismatched-shapes", lambda: L.Concatenate(name="c")([x(2, 4), x(3, 5)]), V, "Concatenate 'c'", "(2, 4)", "(3, 5)"),
    C("mha-value-rank-4", lambda: L.MultiHeadAttention(2, 4, name="mha")(x(2, 3, 4), x(2, 3, 4, 1)), V, "MultiHeadAttention 'mha'", "(2, 3, 4, 1)"),
    C("dense-rank-1-input", lambda: L.Dense(3, name="d")(x(4)), V, "Dense 'd'", "(4,)",
      xfail="Dense accepts a rank-1 input (Keras: ValueError, expected min_ndim=2)"),
    # Non-tensors
    C("dense-string-input", lambda: L.Dense(3, name="d")("hello"), (V, T), "Dense 'd'", "str"),
    C("dense-none-input", lambda: L.Dense(3, name="d")(None), (V, T), "Dense 'd'", "None"),
    C("dense-dict-input", lambda: L.Dense(3, name="d")({"a": 1}), (V, T), "Dense 'd'", "dict"),
    C("dense-object-input", lambda: L.Dense(3, name="d")(object()), (V, T), "Dense 'd'", "object"),
    C("dense-extra-positional", lambda: L.Dense(3)(x(2, 4), x(2, 4)), T, "call()", "positional"),
    C("dense-call-unknown-kwarg", lambda: L.Dense(3)(x(2, 4), bogus=1), T, "bogus"),
    C("embedding-float-ids", lambda: L.Embedding(10, 3, name="e")(x(2, 4, value=1.5)), (V, T), "Embedding 'e'", "float"),
    # Empty and degenerate shapes: graceful
    OK("dense-zero-batch", lambda: L.Dense(3)(x(0, 4)), lambda y: y.shape == (0, 3) or (_ for _ in ()).throw(AssertionError(y.shape))),
    OK("dense-bool-input-cast", lambda: L.Dense(3)(np.ones((2, 4), bool)), lambda y: str(y.dtype) == "float32" or (_ for _ in ()).throw(AssertionError(y.dtype))),
    # Functional models
    C("functional-wrong-feature-dim", lambda: _functional()(x(2, 5)), V, "Functional model 'net'", "(None, 4)", "(2, 5)"),
    C("functional-dict-wrong-key", lambda: _two_inputs(True)({"a": x(2, 4), "c": x(2, 4)}), V, "'pair'", "lacks ['b']", "'c'"),
    C("functional-dict-missing-key", lambda: _two_inputs(True)({"a": x(2, 4)}), V, "'pair'", "lacks ['b']", "['a']"),
    C("functional-list-too-short", lambda: _two_inputs()([x(2, 4)]), V, "'pair'", "2 input(s)", "received 1"),
    C("functional-one-array-for-two-inputs", lambda: _two_inputs()(x(2, 4)), V, "'pair'", "2 input(s)", "received 1"),
    C("sequential-built-wrong-dim", lambda: _seq_built()(x(2, 5)), V, "value 4", "(2, 5)"),
    C("sequential-input-rank-mismatch", lambda: callax.Sequential([callax.Input((4,)), L.Dense(3)], name="s")(x(2, 4, 4)), V, "(None, 4)", "(2, 4, 4)",
      xfail="a Sequential with an Input((4,)) accepts a rank-3 batch (Keras: ValueError 'Invalid input shape')"),
    # Weights
    C("set-weights-too-few", lambda: _built(L.Dense(3, name="d"), 1, 4).set_weights([x(4, 3)]), V, "set_weights", "2", "received 1"),
    C("set-weights-too-many", lambda: _built(L.Dense(3, name="d"), 1, 4).set_weights([x(4, 3), x(3), x(3)]), V, "set_weights", "2", "received 3"),
    C("set-weights-wrong-shape", lambda: _built(L.Dense(3, name="d"), 1, 4).set_weights([x(3, 3), x(3)]), V, "(4, 3)", "(3, 3)"),
    C("variable-assign-wrong-shape", lambda: _built(L.Dense(3, name="d"), 1, 4).kernel.assign(x(3, 3)), V, "(4, 3)", "(3, 3)"),
]
# fmt: on


def _seq_built():
    s = callax.Sequential([L.Dense(3, name="d")], name="s")
    s.build((None, 4))
    return s
