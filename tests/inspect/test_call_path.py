"""Errors inside nested calls carry the call path (core: pitfalls.attach_call_path)."""

import traceback

import numpy as np
import pytest
from example3_multi_input import MultiInputModel

import callax


def test_error_in_second_call_of_shared_layer_names_the_path():
    model = MultiInputModel()
    a, bad = np.ones((32, 16), "float32"), np.ones((32, 8), "float32")
    with pytest.raises(ValueError) as info:
        model(a, bad)
    error = info.value
    assert str(error).endswith("but received input with shape (32, 8).")
    notes = error.__notes__
    assert len(notes) == 1  # attached once, at the innermost call
    assert notes[0] == (
        "callax call path: MultiInputModel.call → dense1 (Dense 'dense', call 2) → Dense.call"
        "  (training=None)"
    )
    # The traceback still reaches the line in MultiInputModel.call that failed.
    frames = traceback.extract_tb(error.__traceback__)
    assert any(f.name == "call" and "self.dense1(inputs2)" in (f.line or "") for f in frames)


def test_error_in_nested_model_names_every_level():
    class Outer(callax.Model):
        def __init__(self):
            super().__init__()
            self.body = MultiInputModel()

        def call(self, x, y):
            return self.body(x, y)

    model = Outer()
    model(np.ones((2, 16), "float32"), np.ones((2, 16), "float32"))
    with pytest.raises(ValueError) as info:
        model(np.ones((2, 16), "float32"), np.ones((2, 4), "float32"), training=True)
    assert info.value.__notes__[0] == (
        "callax call path: Outer.call → body (MultiInputModel 'multi_input_model', call 1) → "
        "dense1 (Dense 'dense', call 2) → Dense.call  (training=True)"
    )


def test_chained_cause_is_kept():
    class Fails(callax.Layer):
        def call(self, x):
            try:
                return x * [1.0][5]
            except IndexError as e:
                raise RuntimeError("lookup failed") from e

    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.f = Fails()

        def call(self, x):
            return self.f(x)

    with pytest.raises(RuntimeError) as info:
        Net()(np.zeros((2,), "float32"))
    assert isinstance(info.value.__cause__, IndexError)
    assert "Net.call → f (Fails 'fails', call 1) → Fails.call" in info.value.__notes__[0]
