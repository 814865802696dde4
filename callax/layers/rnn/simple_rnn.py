"""``SimpleRNN`` and its cell: ``h = activation(x W + h U + b)``."""

from __future__ import annotations

from typing import Any

from callax.layers.rnn.base_cell import _project, _RNNCellBase, cell_weight_arguments
from callax.layers.rnn.rnn import _CellBackedRNN, cell_backed_init


class SimpleRNNCell(_RNNCellBase):
    """One step of a fully connected RNN:
    ``h = activation(x @ kernel + h_prev @ recurrent_kernel + bias)``.

    Example:
        >>> import callax
        >>> cell = callax.layers.SimpleRNNCell(4)
        >>> x, h = callax.ops.ones((2, 3)), callax.ops.zeros((2, 4))
        >>> out, new_h = cell(x, [h])
        >>> out.shape, len(new_h)
        ((2, 4), 1)
    """

    @cell_weight_arguments
    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        use_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(
            units, activation, None, use_bias, dropout, recurrent_dropout, seed, **kwargs
        )
        self.state_size = units
        self.output_size = units

    def _step(self, inputs, states, dp_mask, rec_mask):
        h = _project(inputs, self.kernel.value, dp_mask, 1)
        if self.bias is not None:
            h = h + self.bias.value
        h = h + _project(states[0], self.recurrent_kernel.value, rec_mask, 1)
        h = self.activation(h)
        return h, [h]


class SimpleRNN(_CellBackedRNN):
    """Fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)``.

    Args: ``units``, ``activation="tanh"``, ``use_bias``, initializers
    (``glorot_uniform``, ``orthogonal``, ``zeros``), regularizers, constraints,
    ``dropout``, ``recurrent_dropout``, ``seed``, and the :class:`RNN` options
    (``return_sequences``, ``return_state``, ``go_backwards``, ``stateful``,
    ``unroll``).

    Example:
        >>> import callax
        >>> layer = callax.layers.SimpleRNN(4)
        >>> layer(callax.ops.ones((2, 5, 3))).shape
        (2, 4)
        >>> [w.name for w in layer.weights]
        ['kernel', 'recurrent_kernel', 'bias']
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"
    __init__ = cell_backed_init(SimpleRNNCell, loop_after="recurrent_dropout")
