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
from callax.layers.embedding import Embedding
from callax.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    UnitNormalization,
)  # fmt: skip
from callax.layers.recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, SimpleRNN, SimpleRNNCell
from callax.layers.wrappers import Bidirectional, TimeDistributed
from callax.layers.attention import Attention, MultiHeadAttention
from callax.layers.input_layer import Input, InputLayer
from callax.layers.reshaping import Flatten, Reshape

__all__ = [
    "Layer", "Activation", "Dense", "Identity", "Add", "Average", "Concatenate", "Maximum",
    "Minimum", "Multiply", "Subtract", "add", "concatenate", "multiply", "Dropout", "Flatten",
    "Reshape", "Input", "InputLayer",
]  # fmt: skip
__all__ += [
    "Embedding", "BatchNormalization", "GroupNormalization", "LayerNormalization",
    "UnitNormalization", "GRU", "LSTM", "RNN", "GRUCell", "LSTMCell", "SimpleRNN",
    "SimpleRNNCell", "Bidirectional", "TimeDistributed", "Attention", "MultiHeadAttention",
]  # fmt: skip
