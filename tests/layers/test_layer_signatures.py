"""Layer constructor signatures: the weight arguments (``kernel_initializer``...) sit
where Keras 3 has them, with Keras's defaults, and bind the same whether passed by
position or by keyword; ``weight_arguments`` (which declares them for the built-in
layers) keeps a layer's signature, attributes, config and errors those of the
written-out constructor."""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np
import pytest
from layer_catalog import CASES, build

import callax
from callax import layers
from callax.layers.weight_args import (
    add_weight_from_args,
    weight_arg_names,
    weight_args_config,
    weight_arguments,
)

WEIGHT_ARG = re.compile(r"_(initializer|regularizer|constraint)$")
NON_DEFAULT = {"initializer": "ones", "regularizer": "l2", "constraint": "non_neg"}
RESOLVED = {"initializer": "Ones", "regularizer": "L2", "constraint": "NonNeg"}


def _weight_params(cls) -> list[inspect.Parameter]:
    return [
        p
        for p in inspect.signature(cls).parameters.values()
        if WEIGHT_ARG.search(p.name) and p.name != "activity_regularizer"
    ]


def _weight_cases() -> list[tuple]:
    """One catalog case per layer class with weight arguments, plus the RNN cells."""
    cases = {}
    for case in CASES + [
        ("SimpleRNNCell", {"units": 3}),
        ("GRUCell", {"units": 3}),
        ("LSTMCell", {"units": 3}),
        ("SeparableConv2D", {"filters": 2, "kernel_size": 2}),
        ("ConvLSTM2D", {"filters": 2, "kernel_size": 3}),
    ]:
        cases.setdefault(case[0], case[:2])
    return [case for case in cases.values() if _weight_params(getattr(layers, case[0]))]


WEIGHT_CASES = _weight_cases()


def test_the_weight_cases_cover_every_built_in_family():
    names = {case[0] for case in WEIGHT_CASES}
    assert {
        "Dense",
        "EinsumDense",
        "Conv2D",
        "Conv2DTranspose",
        "DepthwiseConv2D",
        "SeparableConv2D",
        "Embedding",
        "ReversibleEmbedding",
        "BatchNormalization",
        "LayerNormalization",
        "GroupNormalization",
        "SimpleRNN",
        "GRU",
        "LSTM",
        "LSTMCell",
        "MultiHeadAttention",
        "GroupQueryAttention",
        "PReLU",
    } <= names


@pytest.mark.parametrize("case", WEIGHT_CASES, ids=lambda c: c[0])
def test_weight_arguments_bind_by_position_as_by_keyword(case):
    name, kwargs = case
    cls = getattr(layers, name)
    params = list(inspect.signature(cls).parameters.values())
    kwargs = dict(kwargs)
    for p in _weight_params(cls):
        kwargs[p.name] = NON_DEFAULT[p.name.rsplit("_", 1)[1]]
    if "activity_regularizer" in inspect.signature(cls).parameters:
        kwargs["activity_regularizer"] = "l1"
    by_keyword = build(layers, (name, kwargs))
    for p in _weight_params(cls):
        resolved = getattr(by_keyword, p.name)
        assert type(resolved).__name__ == RESOLVED[p.name.rsplit("_", 1)[1]], p.name
    # Every parameter up to the last one given, by position (defaults in between).
    last = max(
        i for i, p in enumerate(params) if p.name in kwargs and p.kind is p.POSITIONAL_OR_KEYWORD
    )
    args = [kwargs.get(p.name, p.default) for p in params[: last + 1]]
    rest = {k: v for k, v in kwargs.items() if k not in {p.name for p in params[: last + 1]}}
    by_position = cls(*args, **rest)
    ours, theirs = by_keyword.get_config(), by_position.get_config()
    ours.pop("name"), theirs.pop("name")
    assert ours == theirs
    reloaded = cls.from_config(by_keyword.get_config()).get_config()
    assert reloaded == by_keyword.get_config()


@pytest.mark.parametrize("case", WEIGHT_CASES, ids=lambda c: c[0])
def test_weight_argument_signatures_are_keras(case):
    keras = pytest.importorskip("keras")
    name = case[0]
    theirs_cls = getattr(keras.layers, name, None)
    if theirs_cls is None:
        pytest.skip(f"keras.layers has no {name}")
    ours = inspect.signature(getattr(layers, name)).parameters
    theirs = inspect.signature(theirs_cls).parameters
    if name.startswith("ConvLSTM"):
        pytest.skip("callax's ConvLSTMnD take (filters, kernel_size, *args, **kwargs)")
    shared = [n for n in ours if n in theirs]
    assert shared == [n for n in theirs if n in ours]  # same order
    assert set(ours) - set(theirs) == set()
    for n in shared:
        assert ours[n].kind == theirs[n].kind, n
        if WEIGHT_ARG.search(n):
            assert ours[n].default == theirs[n].default, n
    # Positional calls reach the same weight argument as in Keras.
    positions = {n: i for i, n in enumerate(theirs)}
    for i, n in enumerate(ours):
        if WEIGHT_ARG.search(n) and name not in KERAS_ONLY_BEFORE_WEIGHTS:
            assert positions[n] == i, n


# Keras 3.15 added `sliding_window` before MultiHeadAttention's weight arguments;
# callax takes it as a keyword argument only (so positional initializers differ).
KERAS_ONLY_BEFORE_WEIGHTS = {"MultiHeadAttention"}


# ------------------------------------------------------------- the mechanism
class _Scale(callax.layers.Layer):
    @weight_arguments("kernel", "bias", after="units", defaults={"kernel": "ones"})
    def __init__(self, units: int = 1, use_bias: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.use_bias = use_bias

    def build(self, input_shape):
        self.kernel = add_weight_from_args(
            self, "kernel", shape=(input_shape[-1], self.units), name="kernel"
        )

    def call(self, x):
        return x @ self.kernel

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "use_bias": self.use_bias,
            **weight_args_config(self, "kernel", "bias"),
        }


def test_weight_arguments_gives_the_written_out_signature():
    def written_out(
        self,
        units: int = 1,
        kernel_initializer: Any = "ones",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        use_bias: bool = True,
        **kwargs,
    ): ...

    assert inspect.signature(_Scale.__init__) == inspect.signature(written_out)
    assert _Scale.__init__.__name__ == "__init__"


def test_weight_arguments_resolve_set_and_serialize():
    layer = _Scale(2, "zeros", "ones", "l2", None, "l1", "non_neg", None, False, name="s")
    assert type(layer.kernel_initializer).__name__ == "Zeros"
    assert type(layer.kernel_regularizer).__name__ == "L2"
    assert type(layer.kernel_constraint).__name__ == "NonNeg"
    assert type(layer.activity_regularizer).__name__ == "L1"
    assert type(layer.bias_initializer).__name__ == "Ones" and layer.bias_regularizer is None
    assert layer.use_bias is False and layer.name == "s"
    config = layer.get_config()
    assert list(config)[-6:] == list(weight_arg_names("kernel", "bias"))
    assert _Scale.from_config(config).get_config() == config
    np.testing.assert_array_equal(np.asarray(layer(np.ones((1, 3), "float32"))), [[0.0, 0.0]])


def test_weight_arguments_errors_name_the_layer():
    with pytest.raises(TypeError, match=r"_Scale.__init__\(\) takes from 1 to 10 positional"):
        _Scale(*range(10))
    with pytest.raises(TypeError, match="multiple values for argument 'units'"):
        _Scale(1, units=2)
    with pytest.raises(TypeError, match=r"Layer accepts: name"):
        _Scale(1, bogus=2)
    with pytest.raises(ValueError, match="Unknown initializer 'nope'"):
        _Scale(kernel_initializer="nope")
    with pytest.raises(
        TypeError, match=r"Dense.__init__\(\) missing 1 required positional argument: 'units'"
    ):
        layers.Dense()


def test_weight_arguments_hand_on_and_declaration_errors():
    class Outer(_Scale):
        @weight_arguments("kernel", "bias", after="units")  # Keras's default kernel here
        def __init__(self, units: int = 1, *, weight_args: dict, **kwargs):
            super().__init__(units, **weight_args, **kwargs)

    layer = Outer(3, "he_normal")
    assert type(layer.kernel_initializer).__name__ == "HeNormal"
    assert inspect.signature(Outer).parameters["kernel_initializer"].default == "glorot_uniform"
    assert "weight_args" not in inspect.signature(Outer).parameters
    with pytest.raises(ValueError, match="no default initializer for \\['alpha'\\]"):
        weight_arguments("alpha", after="units")
    with pytest.raises(TypeError, match="must have the parameters after='units'"):
        weight_arguments("kernel", after="units")(lambda self, **kwargs: None)
    with pytest.raises(TypeError, match="needs \\*\\*kwargs"):
        weight_arguments("kernel", after="units")(lambda self, units: None)


# ------------------------------------------- signatures derived from another's
def test_conv_lstm_signature_is_keras_with_rank_first():
    keras = pytest.importorskip("keras")
    from callax.layers.rnn.conv_lstm import ConvLSTM

    ours = list(inspect.signature(ConvLSTM).parameters)
    theirs = list(inspect.signature(keras.layers.ConvLSTM2D).parameters)
    assert ours[0] == "rank" and ours[1 : theirs.index("stateful") + 2] == theirs[:-1]
    assert ours[-4:] == ["stateful", "unroll", "zero_output_for_mask", "kwargs"]


def test_conv_lstm_binds_by_position_as_by_keyword():
    weights = {
        "kernel_initializer": "ones",
        "recurrent_initializer": "zeros",
        "bias_initializer": "ones",
        "unit_forget_bias": False,
        "kernel_regularizer": "l2",
        "recurrent_regularizer": "l1",
        "bias_regularizer": "l2",
        "activity_regularizer": "l1",
        "kernel_constraint": "non_neg",
        "recurrent_constraint": "max_norm",
        "bias_constraint": "non_neg",
    }
    by_keyword = layers.ConvLSTM2D(2, 3, dropout=0.1, seed=3, return_sequences=True, **weights)
    by_position = layers.ConvLSTM2D(
        2, 3, 1, "valid", None, 1, "tanh", "sigmoid", True, *weights.values(), 0.1, 0.0, 3, True
    )
    ours, theirs = by_keyword.get_config(), by_position.get_config()
    ours.pop("name"), theirs.pop("name")
    assert ours == theirs and ours["return_sequences"] and not ours["unit_forget_bias"]
    assert type(by_keyword.recurrent_constraint).__name__ == "MaxNorm"  # read from the cell
    assert by_keyword.cell.recurrent_constraint is by_keyword.recurrent_constraint


@pytest.mark.parametrize("name", ["SimpleRNN", "GRU", "LSTM"])
def test_a_cell_backed_rnn_takes_its_cells_arguments_and_the_loops(name):
    layer = list(inspect.signature(getattr(layers, name)).parameters)
    cell = list(inspect.signature(getattr(layers, name + "Cell")).parameters)
    loop = ["return_sequences", "return_state", "go_backwards", "stateful", "unroll"]
    assert sorted(layer) == sorted(cell + loop + ["activity_regularizer"])
    assert layer.index("activity_regularizer") == layer.index("bias_regularizer") + 1


@pytest.mark.parametrize(
    "name",
    [
        "RandomSaturation",
        "RandomHue",
        "RandomColorDegeneration",
        "RandomPosterization",
        "RandomSharpness",
    ],
)
def test_factor_image_layer_signatures_are_keras(name):
    keras = pytest.importorskip("keras")
    ours = [
        (p.name, p.default) for p in inspect.signature(getattr(layers, name)).parameters.values()
    ]
    theirs = inspect.signature(getattr(keras.layers, name)).parameters.values()
    assert ours == [(p.name, p.default) for p in theirs]
