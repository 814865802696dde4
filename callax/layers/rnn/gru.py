"""``GRU`` and its cell (Keras's gate order ``z, r, h``; ``reset_after``)."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.layers.rnn.base_cell import _project, _RNNCellBase, cell_weight_arguments
from callax.layers.rnn.rnn import _CellBackedRNN, cell_backed_init


class GRUCell(_RNNCellBase):
    """One step of a gated recurrent unit, gates in Keras's order ``z, r, h``.

    Args:
        reset_after: apply the reset gate after the recurrent matmul (default, as
            Keras 3 and cuDNN; then ``bias`` is ``(2, 3 * units)``: input and
            recurrent biases) or before it (``bias`` is ``(3 * units,)``).
        Others as in :class:`GRU`.

    Example:
        >>> import callax
        >>> cell = callax.layers.GRUCell(4)
        >>> out, h = cell(callax.ops.ones((2, 3)), callax.ops.zeros((2, 4)))
        >>> out.shape, cell.bias.shape
        ((2, 4), (2, 12))
    """

    _gates = 3

    @cell_weight_arguments
    def __init__(
        self,
        units: int,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        reset_after: bool = True,
        seed: int | None = None,
        **kwargs: Any,
    ):
        kwargs.pop("implementation", None)
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
        self.reset_after = bool(reset_after)
        self._bias_shape_rows = 2 if self.reset_after else 0
        self.state_size = units
        self.output_size = units

    def _step(self, inputs, states, dp_mask, rec_mask):
        h_prev = states[0]
        u = self.units
        kernel, rkernel = self.kernel.value, self.recurrent_kernel.value
        bias = None if self.bias is None else self.bias.value
        x = _project(inputs, kernel, dp_mask, 3)
        if bias is not None:
            x = x + (bias[0] if self.reset_after else bias)
        xz, xr, xh = jnp.split(x, 3, axis=-1)
        if self.reset_after:
            rec = _project(h_prev, rkernel, rec_mask, 3)
            if bias is not None:
                rec = rec + bias[1]
            rz, rr, rh = jnp.split(rec, 3, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            hh = self.activation(xh + r * rh)
        else:
            zr_mask = rec_mask if rec_mask is None or rec_mask.ndim == 2 else rec_mask[:2]
            rz, rr = jnp.split(_project(h_prev, rkernel[:, : 2 * u], zr_mask, 2), 2, axis=-1)
            z = self.recurrent_activation(xz + rz)
            r = self.recurrent_activation(xr + rr)
            h_in = h_prev
            if rec_mask is not None:
                h_in = h_prev * (rec_mask if rec_mask.ndim == 2 else rec_mask[2])
            hh = self.activation(xh + (r * h_in) @ rkernel[:, 2 * u :])
        h = z * h_prev + (1.0 - z) * hh
        return h, [h]

    def get_config(self):
        return {**super().get_config(), "reset_after": self.reset_after}


class GRU(_CellBackedRNN):
    """Gated recurrent unit layer (Cho et al., 2014), ``reset_after=True`` by
    default as in Keras 3 (cuDNN-compatible weights).

    Args: ``units``, ``activation="tanh"``, ``recurrent_activation="sigmoid"``,
    ``use_bias``, initializers, regularizers, constraints, ``dropout``,
    ``recurrent_dropout``, ``seed``, ``reset_after``, and the :class:`RNN` options.

    Weights: ``kernel (features, 3 * units)``, ``recurrent_kernel (units, 3 * units)``,
    ``bias (2, 3 * units)`` (``(3 * units,)`` if not ``reset_after``), gates ``z, r, h``.

    Example:
        >>> import callax
        >>> gru = callax.layers.GRU(4)
        >>> gru(callax.ops.ones((2, 5, 3))).shape, gru.bias.shape
        ((2, 4), (2, 12))
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"
    __init__ = cell_backed_init(GRUCell, loop_after="seed", last=("reset_after",))
