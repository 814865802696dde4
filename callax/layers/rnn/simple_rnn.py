"""``SimpleRNN`` and its cell: ``h = activation(x W + h U + b)``."""

from __future__ import annotations

from typing import Any

from callax.layers.rnn.base_cell import _project, _RNNCellBase
from callax.layers.rnn.rnn import _COMMON_CELL_ARGS, _CellBackedRNN


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

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(units, activation, None, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                         seed, **kwargs)  # fmt: skip
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
    _cell_args = _COMMON_CELL_ARGS

    def __init__(self, units: int, activation: Any = "tanh", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, seed: int | None = None, **kwargs: Any):  # fmt: skip
        self._init_from_arguments(locals())
