"""``LSTM`` and its cell (Keras's gate order ``i, f, c, o``)."""

from __future__ import annotations

from typing import Any

from callax.layers.rnn.base_cell import (
    _lstm_update,
    _project,
    _RNNCellBase,
    _unit_forget_bias,
    lstm_cell_weight_arguments,
)
from callax.layers.rnn.rnn import _CellBackedRNN, cell_backed_init


class LSTMCell(_RNNCellBase):
    """One step of a long short-term memory cell, gates in Keras's order
    ``i, f, c, o``; states ``[h, c]``.

    Args:
        unit_forget_bias: initialize the forget gate's bias to ones (Keras default).
        Others as in :class:`LSTM`.

    Example:
        >>> import callax
        >>> cell = callax.layers.LSTMCell(4)
        >>> out, (h, c) = cell(callax.ops.ones((2, 3)), cell.get_initial_state(2))
        >>> out.shape, cell.kernel.shape, cell.bias.shape
        ((2, 4), (3, 16), (16,))
    """

    _gates = 4

    @lstm_cell_weight_arguments
    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        unit_forget_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ):
        kwargs.pop("implementation", None)  # Keras's kernel-fusion switch; one path here
        super().__init__(
            units,
            activation,
            recurrent_activation,
            use_bias,
            dropout,
            recurrent_dropout,
            seed,
            **kwargs,
        )
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]
        self.output_size = units

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        return _unit_forget_bias(self.bias_initializer, self.units)

    def _step(self, inputs, states, dp_mask, rec_mask):
        h_prev, c_prev = states[0], states[1]
        z = _project(inputs, self.kernel.value, dp_mask, 4)
        z = z + _project(h_prev, self.recurrent_kernel.value, rec_mask, 4)
        if self.bias is not None:
            z = z + self.bias.value
        return _lstm_update(self, z, c_prev, axis=-1)

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


class LSTM(_CellBackedRNN):
    """Long short-term memory layer (Hochreiter & Schmidhuber, 1997).

    Args: ``units``, ``activation="tanh"``, ``recurrent_activation="sigmoid"``,
    ``use_bias``, initializers (``glorot_uniform``, ``orthogonal``, ``zeros``),
    ``unit_forget_bias=True``, regularizers, constraints, ``dropout``,
    ``recurrent_dropout``, ``seed``, and the :class:`RNN` options.

    Weights: ``kernel (features, 4 * units)``, ``recurrent_kernel (units, 4 * units)``,
    ``bias (4 * units,)``, gates ``i, f, c, o`` (Keras's layout).

    Example:
        >>> import callax
        >>> lstm = callax.layers.LSTM(4, return_sequences=True, return_state=True)
        >>> seq, h, c = lstm(callax.ops.ones((2, 5, 3)))
        >>> seq.shape, h.shape, c.shape
        ((2, 5, 4), (2, 4), (2, 4))
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"
    __init__ = cell_backed_init(LSTMCell, loop_after="seed")
