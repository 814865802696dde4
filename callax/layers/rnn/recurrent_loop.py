"""``_RecurrentLoop``: what the layers that scan a cell over time (``RNN`` and
its subclasses, ``ConvLSTM``) share around the scan: the loop options, the
stateful ``rnn_state`` variables, the initial states, the output mask and the
loop's config."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.variable import Variable
from callax.layers.rnn.base_cell import _as_list

# Keras's RNN loop options, in its config order.
_LOOP_OPTIONS = (
    "return_sequences", "return_state", "go_backwards", "stateful", "unroll",
    "zero_output_for_mask",
)  # fmt: skip


class _RecurrentLoop:
    """Mixin for a ``Layer`` with a ``cell`` scanned over the time axis.

    Subclasses define ``get_initial_state(batch_size)`` and
    ``_expected_state_shapes(batch)``, returning the shapes ``initial_state``
    must have and how an error message names them.
    """

    def _init_loop(self, return_sequences: bool, return_state: bool, go_backwards: bool,
                   stateful: bool, unroll: bool, zero_output_for_mask: bool) -> None:  # fmt: skip
        """Sets the loop options (Keras's ``RNN`` arguments) and no carried states."""
        values = (return_sequences, return_state, go_backwards, stateful, unroll,
                  zero_output_for_mask)  # fmt: skip
        for name, value in zip(_LOOP_OPTIONS, values):
            setattr(self, name, bool(value))
        self.states = None
        self.supports_masking = True

    def _build_state_variables(self, sequences_shape: tuple, state_shapes: Any) -> None:
        """Creates the non-trainable ``rnn_state`` variables of a stateful layer,
        one per shape of ``state_shapes(batch)``; the batch size must be fixed."""
        if not self.stateful:
            return
        batch = sequences_shape[0]
        if batch is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': stateful=True needs a fixed batch "
                f"size; received input shape {tuple(sequences_shape)}."
            )
        self.states = [
            Variable(jnp.zeros(shape, self.compute_dtype), trainable=False, name="rnn_state")
            for shape in state_shapes(batch)
        ]  # fmt: skip

    def reset_state(self, states: Any = None) -> None:
        """Zeroes the carried states of a stateful layer (or sets them to ``states``)."""
        if not self.stateful or self.states is None:
            return
        values = _as_list(states) if states is not None else [None] * len(self.states)
        for var, value in zip(self.states, values):
            var.assign(jnp.zeros(var.shape, var.dtype) if value is None else value)

    reset_states = reset_state

    def _initial_state(self, sequences, initial_state):
        """The states the scan starts from: ``initial_state`` (checked and cast), the
        carried states of a stateful layer, or the cell's initial states."""
        batch = sequences.shape[0]
        if initial_state is None:
            if self.stateful:
                if batch != self.states[0].shape[0]:
                    raise ValueError(
                        f"{type(self).__name__} '{self.name}' is stateful with batch size "
                        f"{self.states[0].shape[0]}; received input with shape "
                        f"{tuple(sequences.shape)}."
                    )
                return [v.value for v in self.states]
            return self.get_initial_state(batch)
        leaves = jax.tree_util.tree_leaves(initial_state)  # nested per cell when stacked
        states = [jnp.asarray(getattr(s, "value", s)) for s in leaves]
        expected, described = self._expected_state_shapes(batch)
        got = [tuple(s.shape) for s in states]
        if got != expected:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': initial_state must be {described} of "
                f"shapes {expected}; received shapes {got}."
            )
        return [s.astype(self.compute_dtype) for s in states]

    def _carry_final_states(self, final: list) -> None:
        """Stores the scan's final states in a stateful layer's variables."""
        if self.stateful:
            for var, value in zip(self.states, final):
                var.assign(value)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input mask when returning sequences, else ``None``."""
        if mask is None or not self.return_sequences:
            return None
        return mask

    def _loop_config(self) -> dict:
        """The loop options, in Keras's config order."""
        return {name: getattr(self, name) for name in _LOOP_OPTIONS}
