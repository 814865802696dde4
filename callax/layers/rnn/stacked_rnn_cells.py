"""``StackedRNNCells``: several RNN cells run as one cell, each step feeding the
output of one cell into the next (``keras.layers.RNN([cell1, cell2])`` wraps its
list in one).

States follow Keras: ``state_size`` is ``[cell.state_size for cell in cells]``
and ``call(inputs, states)`` takes and returns one entry per cell (a list of
arrays for a cell with several states, such as ``LSTMCell``, else one array).
Inside :class:`~callax.layers.RNN` the scan carries them flat; the RNN returns
them nested again (``return_state=True`` gives ``output, *states``, one entry
per cell), as Keras does.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer
from callax.core.names import layer_name_scope
from callax.layers.core.wrapper import deserialize_layer, serialize_layer
from callax.layers.rnn.base_cell import _RNNCellBase


def _is_nested(x: Any) -> bool:
    return isinstance(x, (list, tuple))


def _entry_is_list(cell: Any) -> bool:
    """Whether a cell's states travel as a list (as Keras: the built-in cells
    always use lists, even with one state) or as one array."""
    return _is_nested(cell.state_size) or isinstance(cell, _RNNCellBase)


def _cell_width(cell: Any) -> int:
    """The output width of one cell (what the next cell receives)."""
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state = cell.state_size
    return state[0] if _is_nested(state) else state


class StackedRNNCells(Layer):
    """Runs a list of RNN cells as one cell: ``x -> cell1 -> cell2 -> ...`` at each step.

    Args:
        cells: the RNN cells, first to last (each with ``call(inputs, states)``
            and a ``state_size``).

    Example:
        >>> import callax
        >>> cells = [callax.layers.LSTMCell(4), callax.layers.GRUCell(3)]
        >>> rnn = callax.layers.RNN(cells, return_state=True)
        >>> out, (h1, c1), (h2,) = rnn(callax.ops.ones((2, 5, 6)))
        >>> out.shape, h1.shape, c1.shape, h2.shape
        ((2, 3), (2, 4), (2, 4), (2, 3))
    """

    def __init__(self, cells: list, **kwargs: Any):
        super().__init__(**kwargs)
        cells = list(cells)
        if not cells:
            raise ValueError(
                f"StackedRNNCells '{self.name}' needs at least one cell; received cells=[]."
            )
        for cell in cells:
            if not hasattr(cell, "call") or getattr(cell, "state_size", None) is None:
                raise ValueError(
                    f"StackedRNNCells '{self.name}': every cell must have a `call` method and "
                    f"a `state_size` attribute; received cell={cell!r}."
                )
        self.cells = cells

    # --------------------------------------------------------------- sizes
    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        return _cell_width(self.cells[-1])

    @property
    def flat_state_size(self) -> list[int]:
        """Every state width, cell by cell (the layout RNN's scan carries)."""
        sizes: list[int] = []
        for cell in self.cells:
            s = cell.state_size
            sizes.extend(s if _is_nested(s) else [s])
        return sizes

    @property
    def output_state_index(self) -> int:
        """Index in the flat states of the last cell's first state (its previous
        output, which a masked step repeats)."""
        return len(self.flat_state_size) - len(self._sizes(self.cells[-1]))

    @staticmethod
    def _sizes(cell: Any) -> list:
        s = cell.state_size
        return list(s) if _is_nested(s) else [s]

    # -------------------------------------------------------- state layout
    def nest_states(self, flat: list) -> list:
        """Flat states (RNN's carry) -> one entry per cell (Keras's layout)."""
        nested, i = [], 0
        for cell in self.cells:
            n = len(self._sizes(cell))
            chunk = list(flat[i : i + n])
            nested.append(chunk if _entry_is_list(cell) else chunk[0])
            i += n
        return nested

    def flatten_states(self, nested: Any) -> list:
        return jax.tree_util.tree_leaves(nested)

    # ---------------------------------------------------------------- build
    def build(self, input_shape):
        with layer_name_scope(self):  # weight paths rnn/stacked_rnn_cells/lstm_cell/kernel
            self._build_cells(tuple(input_shape))

    def _build_cells(self, shape: tuple) -> None:
        batch = shape[0]
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                if type(cell).build is not Layer.build:
                    cell.build(shape)
                    cell.built = True
                else:
                    # A cell that creates its weights in `call`: run it abstractly once.
                    specs = [jax.ShapeDtypeStruct((batch or 1, s), self.compute_dtype)
                             for s in self._sizes(cell)]  # fmt: skip
                    x_spec = jax.ShapeDtypeStruct((batch or 1, shape[-1]), self.compute_dtype)
                    cell.abstract_call(x_spec, specs if _entry_is_list(cell) else specs[0])
            shape = (batch, _cell_width(cell))

    # ----------------------------------------------------------------- call
    def call(self, inputs, states, training=False):
        if not _is_nested(states) or len(states) != len(self.cells):
            got = len(states) if _is_nested(states) else "one array"
            raise ValueError(
                f"StackedRNNCells '{self.name}' expects states as a list with one entry per "
                f"cell ({len(self.cells)}); received {got}."
            )
        new_states = []
        x = inputs
        for cell, cell_states in zip(self.cells, states):
            nested = _is_nested(cell_states)
            cell_states = list(cell_states) if nested else [cell_states]
            x, new = cell(x, cell_states, training=training)
            new = list(new) if _is_nested(new) else [new]
            new_states.append(new if nested or _entry_is_list(cell) else new[0])
        return x, new_states

    def scan_step(self, first_input: jax.Array, flat_states: list, training: Any):
        """A step ``(x, flat_states) -> (output, flat_new_states)`` for RNN's scan.

        Built-in cells draw their dropout masks here, once per sequence (as Keras
        does), so the scan body never advances a seed generator.
        """
        batch = first_input.shape[0]
        width = first_input.shape[-1]
        plans = []  # (cell, number of states, nested, step function)
        i = 0
        for cell in self.cells:
            n = len(self._sizes(cell))
            nested = _entry_is_list(cell)
            if isinstance(cell, _RNNCellBase):
                x_like = jnp.zeros((batch, width), first_input.dtype)
                dp, rdp = cell._draw_masks(x_like, flat_states[i], training)
                plans.append((cell, n, nested, dp, rdp))
            else:
                plans.append((cell, n, nested, None, None))
            width = _cell_width(cell)
            i += n
        kwargs = {"training": training} if training is not None else {}

        def step(x, flat):
            out, new_flat, j = x, [], 0
            for cell, n, nested, dp, rdp in plans:
                states = list(flat[j : j + n])
                if isinstance(cell, _RNNCellBase):
                    out, new = cell._step(out, states, dp, rdp)
                else:
                    out, new = cell(out, states if nested else states[0], **kwargs)
                new_flat.extend(list(new) if _is_nested(new) else [new])
                j += n
            return out, new_flat

        return step

    def get_initial_state(self, batch_size: int | None = None) -> list:
        states = []
        for cell in self.cells:
            if hasattr(cell, "get_initial_state"):
                init = cell.get_initial_state(batch_size=batch_size)
                init = list(init) if _is_nested(init) else [init]
            else:
                init = [jnp.zeros((batch_size, s), self.compute_dtype) for s in self._sizes(cell)]
            states.append(init if _entry_is_list(cell) else init[0])
        return states

    def get_config(self):
        return {**super().get_config(), "cells": [serialize_layer(c) for c in self.cells]}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> StackedRNNCells:
        config = dict(config)
        cells = [deserialize_layer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)
