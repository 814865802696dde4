"""``RNN``: the recurrent loop (one ``jax.lax.scan``) around a cell, and the base of
the SimpleRNN, LSTM and GRU layers. Their cells (``simple_rnn.py``, ``lstm.py``,
``gru.py``) keep Keras 3's weight names, layouts and gate
orders (LSTM ``i, f, c, o``; GRU ``z, r, h``) so Keras weights load as they are.

A layer such as ``LSTM(units)`` owns a cell (``lstm_cell``) that holds
``kernel (features, gates * units)``, ``recurrent_kernel (units, gates * units)``
and ``bias``; weight paths are ``lstm/lstm_cell/kernel`` as in Keras.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.core.wrapper import deserialize_layer, serialize_layer
from callax.layers.rnn.base_cell import _as_list, _RNNCellBase, _state_shape
from callax.layers.rnn.cell_layer_arguments import cell_arg_names, cell_layer_arguments
from callax.layers.rnn.nested_inputs import build_nested, call_nested
from callax.layers.rnn.recurrent_loop import _RecurrentLoop
from callax.layers.rnn.stacked_rnn_cells import StackedRNNCells


def scan_steps(layer: Any, step: Any, states: list, sequences: Any, mask: Any,
               out_index: int = 0) -> tuple[list, Any]:  # fmt: skip
    """The time loop every recurrent layer shares (RNN, ConvLSTM): ``step(x_t,
    states) -> (out, new_states)`` scanned over axis 1 of ``sequences``.

    A masked step keeps the states; its output repeats state ``out_index`` (Keras's
    convention) or is zero with ``layer.zero_output_for_mask``. Returns the final
    states and the outputs, time-major, in processing order (as Keras, also with
    ``go_backwards``).
    """
    xs = jnp.swapaxes(sequences, 0, 1)  # time-major for the scan
    if mask is not None:
        mask = jnp.asarray(mask)
        if tuple(mask.shape) != tuple(sequences.shape[:2]):
            raise ValueError(
                f"{type(layer).__name__} '{layer.name}': mask must have shape (batch, time) "
                f"= {tuple(sequences.shape[:2])}; received mask with shape {tuple(mask.shape)}."
            )
        xs = (xs, jnp.swapaxes(mask.astype(bool), 0, 1))
    zero_out = layer.zero_output_for_mask

    def keep(m, a, b):  # m: (batch,), broadcast over a's trailing axes
        return jnp.where(m.reshape(m.shape + (1,) * (a.ndim - 1)), a, b)

    def body(carry, inp):
        if mask is None:
            out, new = step(inp, carry)
            return list(new), out
        x_t, m_t = inp
        out, new = step(x_t, carry)
        out = keep(m_t, out, jnp.zeros_like(out) if zero_out else carry[out_index])
        return [keep(m_t, n, c) for n, c in zip(new, carry)], out

    final, outputs = jax.lax.scan(
        body, states, xs, reverse=layer.go_backwards, unroll=layer.unroll or 1
    )
    if layer.go_backwards:
        outputs = outputs[::-1]
    return final, outputs


def _is_nested_shape(shape: Any) -> bool:
    return isinstance(shape, (list, tuple)) and bool(shape) and isinstance(shape[0], (list, tuple))


class RNN(_RecurrentLoop, Layer):
    """Runs a cell over the time axis of ``(batch, time, features)`` inputs, as
    one ``jax.lax.scan``.

    Args:
        cell: an RNN cell: a layer with ``call(inputs, states)`` returning
            ``(output, new_states)`` and a ``state_size`` attribute (int or list).
        return_sequences: return every step's output ``(batch, time, units)``
            instead of the last one ``(batch, units)``.
        return_state: also return the final states (``[output, *states]``).
        go_backwards: process the sequence in reverse (outputs in processing order).
        stateful: carry the final states of one call into the next (non-trainable
            ``rnn_state`` variables; needs a fixed batch size; ``reset_state()``).
        unroll: unroll the loop (faster for short sequences, more compile time).
        zero_output_for_mask: masked steps output zeros instead of the previous output.

    ``call(sequences, initial_state=None, mask=None, training=False)``: ``mask`` is
    ``(batch, time)`` booleans; a masked step keeps the previous states.

    Example:
        >>> import callax
        >>> layer = callax.layers.RNN(callax.layers.LSTMCell(4), return_sequences=True)
        >>> layer(callax.ops.ones((2, 5, 3))).shape
        (2, 5, 4)
    """

    def __init__(
        self,
        cell: Any,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if isinstance(cell, (list, tuple)):  # Keras: a list of cells is one stacked cell
            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or getattr(cell, "state_size", None) is None:
            raise ValueError(
                f"RNN '{self.name}': cell must have a `call` method and a `state_size` "
                f"attribute (int or list of ints); received cell={cell!r}."
            )
        self.cell = cell
        self._init_loop(return_sequences, return_state, go_backwards, stateful, unroll,
                        zero_output_for_mask)  # fmt: skip
        size = getattr(cell, "flat_state_size", cell.state_size)  # scan carries flat states
        self.state_size = list(size) if isinstance(size, (list, tuple)) else [size]
        self.single_state = not isinstance(size, (list, tuple))

    # ---------------------------------------------------------------- build
    def build(self, sequences_shape, initial_state_shape=None):
        if _is_nested_shape(sequences_shape):
            return self._build_nested(sequences_shape)
        if len(sequences_shape) != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of shape (batch, time, "
                f"features); received input shape {tuple(sequences_shape)}."
            )
        batch, features = sequences_shape[0], sequences_shape[-1]
        if not self.cell.built:
            step_shape = (batch, features)
            if type(self.cell).build is not Layer.build:
                self.cell.build(step_shape)  # weight paths: rnn/cell/kernel
                self.cell.built = True
            else:
                # A cell without `build` creates its weights in `call`: run it once
                # abstractly (no computation) so the scan below never creates weights.
                specs = [jax.ShapeDtypeStruct((batch or 1, s), self.compute_dtype)
                         for s in self.state_size]  # fmt: skip
                x_spec = jax.ShapeDtypeStruct((batch or 1, features), self.compute_dtype)
                self.cell.abstract_call(x_spec, specs)
        self._build_state_variables(sequences_shape,
                                    lambda batch: [(batch, s) for s in self.state_size])  # fmt: skip

    def get_initial_state(self, batch_size: int) -> list[jax.Array]:
        if hasattr(self.cell, "get_initial_state"):
            return jax.tree_util.tree_leaves(self.cell.get_initial_state(batch_size=batch_size))
        return [jnp.zeros(_state_shape(batch_size, s), self.compute_dtype) for s in self.state_size]

    # ----------------------------------------------------------------- call
    def _expected_state_shapes(self, batch):
        expected = [_state_shape(batch, s) for s in self.state_size]
        return expected, f"{len(expected)} array(s)"

    def _step_fn(self, sequences, states, training):
        cell = self.cell
        if hasattr(cell, "scan_step"):  # StackedRNNCells: flat states, masks drawn once
            return cell.scan_step(sequences[:, 0], states, training)
        if isinstance(cell, _RNNCellBase):
            dp, rdp = cell._draw_masks(sequences[:, 0], states[0], training)
            return lambda x, s: cell._step(x, s, dp, rdp)
        kwargs = {"training": training} if training is not None else {}

        def step(x, s):
            out, new = cell(x, list(s), **kwargs)
            return out, _as_list(new)

        return step

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if isinstance(sequences, (list, tuple)):
            return self._call_nested(sequences, initial_state, mask, training)
        if sequences.ndim != 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of shape (batch, time, "
                f"features); received input with shape {tuple(sequences.shape)}."
            )
        states = self._initial_state(sequences, initial_state)
        step = self._step_fn(sequences, states, training)
        out_index = getattr(self.cell, "output_state_index", 0)
        final, outputs = scan_steps(self, step, states, sequences, mask, out_index)
        self._carry_final_states(final)
        output = jnp.swapaxes(outputs, 0, 1) if self.return_sequences else outputs[-1]
        if self.return_state:
            if hasattr(self.cell, "nest_states"):  # one entry per stacked cell, as Keras
                final = self.cell.nest_states(final)
            return (output, *final)
        return output

    # Nested inputs (Keras's "RNNs with list/dict inputs"): see nested_inputs.py.
    def _build_nested(self, shapes):
        build_nested(self, shapes)

    def _call_nested(self, sequences, initial_state, mask, training):
        return call_nested(self, sequences, initial_state, mask, training)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, time = sequences_shape[0], sequences_shape[1]
        units = getattr(self.cell, "output_size", None) or self.state_size[0]
        out = (batch, time, units) if self.return_sequences else (batch, units)
        if self.return_state:
            states = [(batch, s) for s in self.state_size]
            if hasattr(self.cell, "nest_states"):  # stacked cells: one entry per cell
                states = self.cell.nest_states(states)
            return [out] + states
        return out

    def get_config(self):
        return {
            **super().get_config(),
            **self._loop_config(),
            "cell": serialize_layer(self.cell),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> RNN:
        config = dict(config)
        config["cell"] = deserialize_layer(config["cell"], custom_objects)
        return cls(**config)


class _CellBackedRNN(RNN):
    """An RNN whose constructor takes the cell's arguments (SimpleRNN, LSTM, GRU);
    the cell's hyper-parameters read through as attributes."""

    _kernel_call = True  # built-in cell: the whole scan may run as one compiled kernel
    _cell_class: type = _RNNCellBase
    _cell_name = "cell"

    def __init__(self, cell_kwargs: dict, rnn_kwargs: dict, **kwargs: Any):
        """Builds the cell from ``cell_kwargs``; ``rnn_kwargs`` configure the loop. A
        subclass's ``__init__`` (:func:`cell_backed_init`) splits its arguments so."""
        kwargs.pop("use_cudnn", None)  # one implementation on every device here
        kwargs.pop("cell", None)
        kwargs.pop("time_major", None)
        cell = self._cell_class(**cell_kwargs, dtype=kwargs.get("dtype"), name=self._cell_name,
                                trainable=kwargs.get("trainable", True))  # fmt: skip
        super().__init__(cell, **rnn_kwargs, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: `lstm.units`, `lstm.kernel`, ...
        if name in _CELL_WEIGHTS or name in cell_arg_names(type(self)._cell_class):
            cell = self.__dict__.get("cell")
            if cell is not None:
                return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask, training=training)

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        return {**config, **cell_config}

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> RNN:
        return cls(**config)


def cell_backed_init(
    cell_class: type, loop_after: str, last: tuple[str, ...] = ()
) -> Callable[..., None]:
    """The ``__init__`` of a :class:`_CellBackedRNN` on ``cell_class``: Keras's signature,
    the cell's arguments with the loop's after ``loop_after`` (and ``last`` at the
    end; see :func:`cell_layer_arguments`)."""
    return cell_layer_arguments(cell_class, loop_after, last=last)(_CellBackedRNN.__init__)


# The weights a cell-backed RNN (and ConvLSTM) reads through from its cell.
_CELL_WEIGHTS = ("kernel", "recurrent_kernel", "bias")
