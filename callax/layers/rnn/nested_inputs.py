"""RNNs over nested inputs (Keras's "RNNs with list/dict inputs").

A cell may take several inputs per step (``call((x1_t, x2_t), states)``) and keep
states of any rank (``state_size = [(10,), (20, 30)]``). ``RNN`` hands each step one
time slice of every input; the outputs keep the cell's nesting.

Example:
    >>> import callax
    >>> class Pair(callax.layers.Layer):
    ...     state_size = [2]
    ...     def call(self, inputs, states):
    ...         a, b = inputs
    ...         out = states[0] + a + b
    ...         return out, [out]
    >>> rnn = callax.layers.RNN(Pair())
    >>> rnn((callax.ops.ones((1, 3, 2)), callax.ops.ones((1, 3, 2)))).tolist()
    [[6.0, 6.0]]
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from callax.core.layer import Layer


def _as_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


def _shapes_str(shapes) -> str:
    return ", ".join(str(tuple(s)) for s in shapes)


def build_nested(self, shapes) -> None:
    """``RNN.build`` for a list of input shapes: builds the cell on one step of each."""
    if self.stateful:
        raise ValueError(
            f"{type(self).__name__} '{self.name}': stateful=True is not supported with "
            f"nested inputs; received input shapes {_shapes_str(shapes)}."
        )
    if not self.cell.built:
        step_shapes = [(shape[0], *shape[2:]) for shape in shapes]
        if type(self.cell).build is not Layer.build:
            self.cell.build(step_shapes)
        self.cell.built = True


def call_nested(self, sequences, initial_state, mask, training):
    """``RNN.call`` on nested inputs: scans the cell over one slice of every input."""
    leaves, treedef = jax.tree_util.tree_flatten(sequences)
    if any(jnp.ndim(x) < 3 for x in leaves) or len({tuple(x.shape[:2]) for x in leaves}) > 1:
        raise ValueError(
            f"{type(self).__name__} '{self.name}': nested inputs must all be "
            f"(batch, time, ...) with the same batch and time; received shapes "
            f"{[tuple(x.shape) for x in leaves]}."
        )
    if mask is not None:
        raise ValueError(
            f"{type(self).__name__} '{self.name}': masks are not supported with nested "
            "inputs; received a mask."
        )
    states = self._initial_state(leaves[0], initial_state)
    xs = treedef.unflatten([jnp.swapaxes(x, 0, 1) for x in leaves])
    kwargs = {"training": training} if training is not None else {}
    cell = self.cell

    def body(carry, x_t):
        out, new = cell(x_t, list(carry), **kwargs)
        return _as_list(new), out

    final, outputs = jax.lax.scan(
        body, states, xs, reverse=self.go_backwards, unroll=self.unroll or 1
    )
    tree_map = jax.tree_util.tree_map
    if self.go_backwards:
        outputs = tree_map(lambda o: o[::-1], outputs)
    if self.return_sequences:
        output = tree_map(lambda o: jnp.swapaxes(o, 0, 1), outputs)
    else:
        output = tree_map(lambda o: o[-1], outputs)
    return (output, *final) if self.return_state else output
