"""Layers, under Keras 3's ``keras.layers`` names."""

from callax.core.layer import Layer
from callax.layers.core import Activation, Dense, Identity
from callax.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    concatenate,
    multiply,
)  # fmt: skip
from callax.layers.regularization import Dropout
from callax.layers.input_layer import Input, InputLayer
from callax.layers.reshaping import Flatten, Reshape

__all__ = [
    "Layer", "Activation", "Dense", "Identity", "Add", "Average", "Concatenate", "Maximum",
    "Minimum", "Multiply", "Subtract", "add", "concatenate", "multiply", "Dropout", "Flatten",
    "Reshape", "Input", "InputLayer",
]  # fmt: skip
