"""Functional graphs with layers that only run for some sizes of an unknown axis.

KerasHub's position embeddings slice a fixed-size table to the sequence length:
tracing them on callax's stand-in sizes fails, so (as Keras does) the layer's own
``compute_output_shape`` gives the symbolic output, and a nested Functional model
is walked layer by layer.
"""

from __future__ import annotations

import numpy as np
import pytest

import callax
from callax import layers


class PositionTable(layers.Layer):
    """Adds rows of a 4-row table: inputs may be at most 4 steps long."""

    def build(self, input_shape):
        self.table = self.add_weight(shape=(4, input_shape[-1]), initializer="ones")

    def call(self, x):
        return x + self.table.value[: x.shape[1]]

    def compute_output_shape(self, input_shape):
        return input_shape


class NoShapeTable(layers.Layer):
    """The same layer without a declared output shape."""

    build = PositionTable.build
    call = PositionTable.call


def test_declared_output_shape_is_used_when_the_trace_fails():
    inp = callax.Input((None, 3))
    model = callax.Model(inp, PositionTable()(inp))
    assert model.output_shape == (None, None, 3)
    x = np.zeros((2, 4, 3), "float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.ones((2, 4, 3)))


def test_nested_graph_is_walked_layer_by_layer():
    inner_in = callax.Input((None, 3))
    inner = callax.Model(inner_in, PositionTable()(inner_in), name="inner")
    outer_in = callax.Input((None, 3))
    head = layers.Dense(2, kernel_initializer="ones", name="head")
    model = callax.Model(outer_in, head(inner(outer_in)))
    assert model.output_shape == (None, None, 2)
    x = np.zeros((1, 3, 3), "float32")
    np.testing.assert_allclose(np.asarray(model(x)), np.full((1, 3, 2), 3.0))
    assert [layer.name for layer in model.layers][-2:] == ["inner", "head"]


def test_without_a_declared_shape_the_trace_error_is_raised():
    inp = callax.Input((None, 3))
    with pytest.raises(Exception, match="NoShapeTable"):
        NoShapeTable()(inp)
