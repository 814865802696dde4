"""Recurrent layers: the ``RNN`` loop (one ``jax.lax.scan``) and the SimpleRNN,
LSTM and GRU cells and layers, with Keras 3's weight names, layouts and gate
orders (LSTM ``i, f, c, o``; GRU ``z, r, h``) so Keras weights load as they are.

A layer such as ``LSTM(units)`` owns a cell (``lstm_cell``) that holds
``kernel (features, gates * units)``, ``recurrent_kernel (units, gates * units)``
and ``bias``; weight paths are ``lstm/lstm_cell/kernel`` as in Keras.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import activations, constraints, initializers, random, regularizers
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator
from callax.core.variable import Variable


def _ser(module, obj):
    return None if obj is None else module.serialize(obj)


def _as_list(states: Any) -> list:
    return list(states) if isinstance(states, (list, tuple)) else [states]


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


def _state_shape(batch: Any, size: Any) -> tuple:
    """A state's shape: ``(batch, size)``, or ``(batch, *size)`` for a cell whose
    ``state_size`` entry is itself a shape (Keras allows both)."""
    return (batch, *size) if isinstance(size, (list, tuple)) else (batch, size)


def _is_nested_shape(shape: Any) -> bool:
    return isinstance(shape, (list, tuple)) and bool(shape) and isinstance(shape[0], (list, tuple))


def _project(x: jax.Array, kernel: jax.Array, mask: jax.Array | None, gates: int) -> jax.Array:
    """``x @ kernel`` with an optional dropout mask: one mask ``(batch, in)``
    shared by every gate, or one per gate ``(gates, batch, in)`` (Keras's
    "implementation 1", used when recurrent dropout is on)."""
    if mask is None:
        return x @ kernel
    if mask.ndim == x.ndim:
        return (x * mask) @ kernel
    k = kernel.reshape(kernel.shape[0], gates, -1)
    return jnp.einsum("gbf,fgu->bgu", x[None] * mask, k).reshape(x.shape[0], -1)


class _RNNCellBase(Layer):
    """Weights, dropout masks and config shared by the built-in cells.

    ``call(inputs, states, training=False)`` runs one step (and draws dropout
    masks when training). ``RNN`` instead draws the masks once per sequence,
    outside its scan, and runs ``_step`` at each timestep (as Keras, the same
    mask is used at every step).
    """

    _kernel_call = True
    _gates = 1
    _bias_shape_rows = 0  # GRU(reset_after=True) stores a (2, 3 * units) bias

    def __init__(self, units, activation, recurrent_activation, use_bias, kernel_initializer,
                 recurrent_initializer, bias_initializer, kernel_regularizer,
                 recurrent_regularizer, bias_regularizer, kernel_constraint,
                 recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed,
                 **kwargs):  # fmt: skip
        super().__init__(**kwargs)
        if not isinstance(units, int) or isinstance(units, bool) or units <= 0:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': units must be a positive int; "
                f"received units={units!r}."
            )
        self.units = units
        self.activation = activations.get(activation)
        self.recurrent_activation = (
            None if recurrent_activation is None else activations.get(recurrent_activation)
        )
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        # Always created, as in Keras, so the state layout does not depend on rates.
        self.seed_generator = SeedGenerator(seed, name=f"{self.name}_seed_generator")

    # ------------------------------------------------------------ weights
    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        if input_shape is None or input_shape[-1] is None:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' needs inputs whose last dimension is "
                f"known; received input shape {input_shape}."
            )
        width = self._gates * self.units
        self.kernel = self.add_weight(
            shape=(int(input_shape[-1]), width), name="kernel",
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )  # fmt: skip
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, width), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )  # fmt: skip
        bias_shape = (self._bias_shape_rows, width) if self._bias_shape_rows else (width,)
        self.bias = (
            self.add_weight(
                shape=bias_shape,
                name="bias",
                initializer=self._bias_initializer(),
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )  # fmt: skip
            if self.use_bias
            else None
        )

    # ------------------------------------------------------------ dropout
    def _dropout_mask(self, shape: tuple, rate: float, dtype: Any) -> jax.Array:
        # Per-gate masks when recurrent dropout is on (as Keras's implementation 1).
        if self.recurrent_dropout > 0 and self._gates > 1:
            shape = (self._gates,) + tuple(shape)
        keep = random.uniform(shape, seed=self.seed_generator) >= rate
        return keep.astype(dtype) / (1.0 - rate)

    def _draw_masks(self, step_input: jax.Array, state: jax.Array, training: Any) -> tuple:
        if not training:
            return None, None
        dp = rdp = None
        if 0.0 < self.dropout < 1.0:
            dp = self._dropout_mask(step_input.shape, self.dropout, step_input.dtype)
        if 0.0 < self.recurrent_dropout < 1.0:
            rdp = self._dropout_mask(state.shape, self.recurrent_dropout, state.dtype)
        return dp, rdp

    # --------------------------------------------------------------- step
    def _step(self, inputs, states, dp_mask, rec_mask):  # pragma: no cover - abstract
        raise TypeError(f"{type(self).__name__} does not define a step.")

    def call(self, inputs, states, training=False):
        nested = isinstance(states, (list, tuple))
        states = _as_list(states)
        if inputs.ndim != 2:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' runs one timestep and expects inputs "
                f"of shape (batch, features); received input with shape {tuple(inputs.shape)}."
            )
        dp, rdp = self._draw_masks(inputs, states[0], training)
        output, new_states = self._step(inputs, states, dp, rdp)
        if not nested and len(new_states) == 1:
            return output, new_states[0]
        return output, new_states

    def get_initial_state(self, batch_size: int | None = None) -> list[jax.Array]:
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) else [self.state_size]
        return [jnp.zeros((batch_size, s), self.compute_dtype) for s in sizes]

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            **(
                {"recurrent_activation": activations.serialize(self.recurrent_activation)}
                if self.recurrent_activation is not None
                else {}
            ),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": _ser(regularizers, self.kernel_regularizer),
            "recurrent_regularizer": _ser(regularizers, self.recurrent_regularizer),
            "bias_regularizer": _ser(regularizers, self.bias_regularizer),
            "kernel_constraint": _ser(constraints, self.kernel_constraint),
            "recurrent_constraint": _ser(constraints, self.recurrent_constraint),
            "bias_constraint": _ser(constraints, self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


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

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None, **kwargs: Any):  # fmt: skip
        kwargs.pop("implementation", None)  # Keras's kernel-fusion switch; one path here
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                         seed, **kwargs)  # fmt: skip
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [units, units]
        self.output_size = units

    def _bias_initializer(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def init(shape, dtype=None):
            # Forget-gate bias starts at one so early training keeps memory.
            return jnp.concatenate([
                jnp.asarray(base((units,), dtype), dtype),
                jnp.ones((units,), dtype),
                jnp.asarray(base((2 * units,), dtype), dtype),
            ])  # fmt: skip

        return init

    def _step(self, inputs, states, dp_mask, rec_mask):
        h_prev, c_prev = states[0], states[1]
        z = _project(inputs, self.kernel.value, dp_mask, 4)
        z = z + _project(h_prev, self.recurrent_kernel.value, rec_mask, 4)
        if self.bias is not None:
            z = z + self.bias.value
        zi, zf, zc, zo = jnp.split(z, 4, axis=-1)
        i = self.recurrent_activation(zi)
        f = self.recurrent_activation(zf)
        c = f * c_prev + i * self.activation(zc)
        o = self.recurrent_activation(zo)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "unit_forget_bias": self.unit_forget_bias}


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

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 reset_after: bool = True, seed: int | None = None, **kwargs: Any):  # fmt: skip
        kwargs.pop("implementation", None)
        super().__init__(units, activation, recurrent_activation, use_bias, kernel_initializer,
                         recurrent_initializer, bias_initializer, kernel_regularizer,
                         recurrent_regularizer, bias_regularizer, kernel_constraint,
                         recurrent_constraint, bias_constraint, dropout, recurrent_dropout,
                         seed, **kwargs)  # fmt: skip
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


_CELLS = {"SimpleRNNCell": SimpleRNNCell, "LSTMCell": LSTMCell, "GRUCell": GRUCell}


class RNN(Layer):
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
            from callax.layers.stacked_cells import StackedRNNCells

            cell = StackedRNNCells(cell)
        if not hasattr(cell, "call") or getattr(cell, "state_size", None) is None:
            raise ValueError(
                f"RNN '{self.name}': cell must have a `call` method and a `state_size` "
                f"attribute (int or list of ints); received cell={cell!r}."
            )
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        size = getattr(cell, "flat_state_size", cell.state_size)  # scan carries flat states
        self.state_size = list(size) if isinstance(size, (list, tuple)) else [size]
        self.single_state = not isinstance(size, (list, tuple))
        self.states = None
        self.supports_masking = True

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
        if self.stateful:
            if batch is None:
                raise ValueError(
                    f"{type(self).__name__} '{self.name}': stateful=True needs a fixed batch "
                    f"size; received input shape {tuple(sequences_shape)}."
                )
            self.states = [
                Variable(jnp.zeros((batch, s), self.compute_dtype), trainable=False,
                         name="rnn_state")
                for s in self.state_size
            ]  # fmt: skip

    def reset_state(self, states: Any = None) -> None:
        """Zeroes the carried states of a stateful RNN (or sets them to ``states``)."""
        if not self.stateful or self.states is None:
            return
        values = _as_list(states) if states is not None else [None] * len(self.states)
        for var, value in zip(self.states, values):
            var.assign(jnp.zeros(var.shape, var.dtype) if value is None else value)

    reset_states = reset_state

    def get_initial_state(self, batch_size: int) -> list[jax.Array]:
        if hasattr(self.cell, "get_initial_state"):
            return jax.tree_util.tree_leaves(self.cell.get_initial_state(batch_size=batch_size))
        return [jnp.zeros(_state_shape(batch_size, s), self.compute_dtype) for s in self.state_size]

    # ----------------------------------------------------------------- call
    def _initial_state(self, sequences, initial_state):
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
        expected = [_state_shape(batch, s) for s in self.state_size]
        got = [tuple(s.shape) for s in states]
        if got != expected:
            raise ValueError(
                f"{type(self).__name__} '{self.name}': initial_state must be "
                f"{len(expected)} array(s) of shapes {expected}; received shapes {got}."
            )
        return [s.astype(self.compute_dtype) for s in states]

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
        last = outputs[-1]
        if self.stateful:
            for var, value in zip(self.states, final):
                var.assign(value)
        output = jnp.swapaxes(outputs, 0, 1) if self.return_sequences else last
        if self.return_state:
            if hasattr(self.cell, "nest_states"):  # one entry per stacked cell, as Keras
                final = self.cell.nest_states(final)
            return (output, *final)
        return output

    # Nested inputs (Keras's "RNNs with list/dict inputs"): see rnn_nested.py.
    def _build_nested(self, shapes):
        from callax.layers.rnn_nested import build_nested

        build_nested(self, shapes)

    def _call_nested(self, sequences, initial_state, mask, training):
        from callax.layers.rnn_nested import call_nested

        return call_nested(self, sequences, initial_state, mask, training)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The input mask when returning sequences, else ``None``."""
        if mask is None or not self.return_sequences:
            return None
        return mask

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
        from callax.layers.wrappers import serialize_layer

        return {
            **super().get_config(),
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "cell": serialize_layer(self.cell),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> RNN:
        from callax.layers.wrappers import deserialize_layer

        config = dict(config)
        config["cell"] = deserialize_layer(config["cell"], custom_objects)
        return cls(**config)


class _CellBackedRNN(RNN):
    """An RNN whose constructor takes the cell's arguments (SimpleRNN, LSTM, GRU);
    the cell's hyper-parameters read through as attributes."""

    _kernel_call = True  # built-in cell: the whole scan may run as one compiled kernel
    _cell_class: type = _RNNCellBase
    _cell_name = "cell"
    _cell_args: tuple = ()

    def __init__(self, cell_kwargs: dict, rnn_kwargs: dict, **kwargs: Any):
        kwargs.pop("use_cudnn", None)  # one implementation on every device here
        kwargs.pop("cell", None)
        kwargs.pop("time_major", None)
        cell = self._cell_class(**cell_kwargs, dtype=kwargs.get("dtype"), name=self._cell_name,
                                trainable=kwargs.get("trainable", True))  # fmt: skip
        super().__init__(cell, **rnn_kwargs, **kwargs)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: `lstm.units`, `lstm.kernel`, ...
        if name in type(self)._cell_args or name in ("kernel", "recurrent_kernel", "bias"):
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


_COMMON_CELL_ARGS = (
    "units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
    "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
    "recurrent_dropout", "seed",
)  # fmt: skip


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
        cell_kwargs = dict(
            units=units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
        )  # fmt: skip
        rnn_kwargs = dict(return_sequences=return_sequences, return_state=return_state,
                          go_backwards=go_backwards, stateful=stateful, unroll=unroll)  # fmt: skip
        super().__init__(cell_kwargs, rnn_kwargs, activity_regularizer=activity_regularizer,
                         **kwargs)  # fmt: skip


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
    _cell_args = _COMMON_CELL_ARGS + ("recurrent_activation", "unit_forget_bias")

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 unit_forget_bias: bool = True, kernel_regularizer: Any = None,
                 recurrent_regularizer: Any = None, bias_regularizer: Any = None,
                 activity_regularizer: Any = None, kernel_constraint: Any = None,
                 recurrent_constraint: Any = None, bias_constraint: Any = None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 **kwargs: Any):  # fmt: skip
        cell_kwargs = dict(
            units=units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed,
        )  # fmt: skip
        rnn_kwargs = dict(return_sequences=return_sequences, return_state=return_state,
                          go_backwards=go_backwards, stateful=stateful, unroll=unroll)  # fmt: skip
        super().__init__(cell_kwargs, rnn_kwargs, activity_regularizer=activity_regularizer,
                         **kwargs)  # fmt: skip


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
    _cell_args = _COMMON_CELL_ARGS + ("recurrent_activation", "reset_after")

    def __init__(self, units: int, activation: Any = "tanh",
                 recurrent_activation: Any = "sigmoid", use_bias: bool = True,
                 kernel_initializer: Any = "glorot_uniform",
                 recurrent_initializer: Any = "orthogonal", bias_initializer: Any = "zeros",
                 kernel_regularizer: Any = None, recurrent_regularizer: Any = None,
                 bias_regularizer: Any = None, activity_regularizer: Any = None,
                 kernel_constraint: Any = None, recurrent_constraint: Any = None,
                 bias_constraint: Any = None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, seed: int | None = None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 reset_after: bool = True, **kwargs: Any):  # fmt: skip
        cell_kwargs = dict(
            units=units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            seed=seed,
        )  # fmt: skip
        rnn_kwargs = dict(return_sequences=return_sequences, return_state=return_state,
                          go_backwards=go_backwards, stateful=stateful, unroll=unroll)  # fmt: skip
        super().__init__(cell_kwargs, rnn_kwargs, activity_regularizer=activity_regularizer,
                         **kwargs)  # fmt: skip
