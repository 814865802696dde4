"""model.summary(): Keras's table for subclassed, Sequential and Functional models."""

import re

import numpy as np
import pytest
from example1_sequential import SimpleSequentialModel
from example2_conditional import ConditionalModel
from example3_multi_input import MultiInputModel

import callax


def _capture(model, **kwargs):
    out = []
    model.summary(print_fn=out.append, **kwargs)
    assert len(out) == 1  # one call with the whole table, as Keras does
    return out[0]


def _rows(text):
    """The table's rows as lists of cells (wrapped cells joined with a space)."""
    rows, current = [], None
    for line in text.splitlines():
        if line.startswith(("├", "└")) and current is not None:
            rows.append(current)
            current = None
        elif line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            if current is None:
                current = cells
            else:
                current = [(a + " " + b).strip() for a, b in zip(current, cells)]
    return rows


def test_example1_numbers():
    model = SimpleSequentialModel()
    model(np.zeros((32, 32), "float32"))
    text = _capture(model)
    assert text.splitlines()[0] == 'Model: "simple_sequential_model"'
    assert _rows(text) == [
        ["dense1 (Dense)", "(32, 64)", "2,112"],
        ["dense2 (Dense)", "(32, 10)", "650"],
    ]
    assert " Total params: 2,762 (10.79 KB)" in text
    assert " Trainable params: 2,762 (10.79 KB)" in text
    assert " Non-trainable params: 0 (0.00 B)" in text
    header = next(line for line in text.splitlines() if "Layer (type)" in line)
    assert re.match(r"┃ Layer \(type\) +┃ Output Shape +┃ +Param # ┃", header)


def test_example1_totals_match_keras():
    keras = pytest.importorskip("keras")

    class KerasModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = keras.layers.Dense(64, activation="relu")
            self.dense2 = keras.layers.Dense(10, activation="softmax")

        def call(self, inputs):
            return self.dense2(self.dense1(inputs))

    km = KerasModel()
    km(np.zeros((32, 32), "float32"))
    theirs = []
    km.summary(print_fn=lambda line, line_break=False: theirs.append(line))
    theirs = "\n".join(theirs)
    model = SimpleSequentialModel()
    model(np.zeros((32, 32), "float32"))
    ours = _capture(model)
    for key in ("Total params", "Trainable params", "Non-trainable params"):
        mine = next(line for line in ours.splitlines() if key in line).strip()
        other = next(line for line in theirs.splitlines() if key in line).strip()
        assert mine == other


def test_shared_layer_lists_each_call_and_counts_weights_once():
    model = MultiInputModel()
    model(np.zeros((32, 16), "float32"), np.zeros((32, 16), "float32"))
    rows = _rows(_capture(model, line_length=100))
    assert rows == [
        ["dense1 (Dense) [call 1/2]", "(32, 16)", "272"],
        ["dense1 (Dense) [call 2/2]", "(32, 16)", "shared"],
        ["concat (Concatenate)", "(32, 32)", "0"],
        ["dense2 (Dense)", "(32, 10)", "330"],
    ]
    assert "Total params: 602 (2.35 KB)" in _capture(model)


def test_built_with_build_shows_unknown_batch_and_uncalled_layer():
    model = ConditionalModel()
    model.build((None, 32))
    rows = _rows(_capture(model))
    assert rows == [
        ["dense1 (Dense)", "(None, 32)", "1,056"],
        ["dense2 (Dense)", "(None, 10)", "330"],
        ["dropout (Dropout)", "? (not called)", "0"],
    ]


def test_unbuilt_model_explains_how_to_build():
    model = ConditionalModel()
    with pytest.raises(ValueError, match="has not been built yet") as info:
        model.summary()
    message = str(info.value)
    assert "ConditionalModel 'conditional_model'" in message
    assert "conditional_model(x)" in message and ".build((None, 784))" in message


def test_show_trainable_positions_and_expand_nested():
    class Outer(callax.Model):
        def __init__(self):
            super().__init__()
            self.body = SimpleSequentialModel()
            self.head = callax.layers.Dense(3)
            self.head.trainable = False

        def call(self, x):
            return self.head(self.body(x))

    model = Outer()
    model(np.zeros((2, 32), "float32"))
    text = _capture(model, show_trainable=True, line_length=100)
    assert _rows(text) == [
        ["body (SimpleSequentialModel)", "(2, 10)", "2,762", "Y"],
        ["head (Dense)", "(2, 3)", "33", "N"],
    ]
    assert " Non-trainable params: 33 (132.00 B)" in text
    nested = _rows(_capture(model, expand_nested=True, line_length=100))
    assert [r[0] for r in nested] == [
        "body (SimpleSequentialModel)", "dense1 (Dense)", "dense2 (Dense)", "head (Dense)",
    ]  # fmt: skip
    narrow = _capture(model, line_length=50, positions=[0.5, 0.8, 1.0])
    assert max(len(line) for line in narrow.splitlines()[1:-3]) == 50
    absolute = _capture(model, positions=[30, 50, 64])
    assert max(len(line) for line in absolute.splitlines()[1:-3]) == 64
    with pytest.raises(ValueError, match="positions needs one entry per column"):
        model.summary(positions=[0.5, 1.0])


def test_layer_range():
    model = MultiInputModel()
    model.build([(None, 16), (None, 16)])
    rows = _rows(_capture(model, layer_range=["concat", "dense2"]))
    assert [r[0] for r in rows] == ["concat (Concatenate)", "dense2 (Dense)"]


def test_sequential_and_functional_models():
    seq = callax.Sequential(
        [callax.Input((8,)), callax.layers.Dense(3), callax.layers.Dense(1)], name="seq"
    )
    rows = _rows(_capture(seq))
    assert [r[1:] for r in rows] == [["(None, 3)", "27"], ["(None, 1)", "4"]]

    a, b = callax.Input((8,), name="a"), callax.Input((8,), name="b")
    shared = callax.layers.Dense(4, name="shared")
    out = callax.layers.Concatenate(name="cat")([shared(a), shared(b)])
    model = callax.Model([a, b], out)
    text = _capture(model)
    assert "Connected to" in text
    assert _rows(text) == [
        ["a (InputLayer)", "(None, 8)", "0", "-"],
        ["b (InputLayer)", "(None, 8)", "0", "-"],
        ["shared (Dense) [call 1/2]", "(None, 4)", "36", "a[0][0]"],
        ["shared (Dense) [call 2/2]", "(None, 4)", "shared", "b[0][0]"],
        ["cat (Concatenate)", "(None, 8)", "0", "shared[0][0], shared[1][0]"],
    ]


def test_builtin_layers_internals_are_not_reported_as_never_called():
    """An LSTM's cell runs inside the LSTM's scan: no '(not called)' row for it,
    while a user layer that is never called is still reported."""
    import io

    import callax

    model = callax.Sequential(
        [callax.Input((5,)), callax.layers.Embedding(20, 4), callax.layers.LSTM(3)]
    )
    out = io.StringIO()
    model.summary(print_fn=lambda line, **kw: out.write(line + "\n"))
    assert "not called" not in out.getvalue() and "lstm" in out.getvalue()
