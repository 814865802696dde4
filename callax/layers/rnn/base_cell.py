"""``_RNNCellBase``: what the SimpleRNN, LSTM and GRU cells share (weights,
dropout masks, initial states, configs)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax import activations, random
from callax.core.layer import Layer
from callax.core.seed_generator import SeedGenerator
from callax.layers.weight_args import add_weight_from_args, weight_args_config, weight_arguments

# The weight arguments of the built-in cells, declared once (Keras's order; a cell
# takes no activity_regularizer): ``kernel``, ``recurrent`` and ``bias`` after
# ``use_bias``; the LSTM cells' ``unit_forget_bias`` after their initializers.
cell_weight_arguments = weight_arguments(
    "kernel", "recurrent", "bias", after="use_bias", activity_regularizer=False
)
lstm_cell_weight_arguments = weight_arguments(
    "kernel",
    "recurrent",
    "bias",
    after="use_bias",
    after_initializers=("unit_forget_bias",),
    activity_regularizer=False,
)


def _as_list(states: Any) -> list:
    return list(states) if isinstance(states, (list, tuple)) else [states]


def _state_shape(batch: Any, size: Any) -> tuple:
    """A state's shape: ``(batch, size)``, or ``(batch, *size)`` for a cell whose
    ``state_size`` entry is itself a shape (Keras allows both)."""
    return (batch, *size) if isinstance(size, (list, tuple)) else (batch, size)


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


def _unit_forget_bias(base: Any, units: int) -> Any:
    """The bias initializer of an LSTM-style cell (gates ``i, f, c, o`` of ``units``
    each) with ``unit_forget_bias``: ``base`` for every gate but the forget gate's,
    which starts at one so early training keeps memory (Keras's default)."""

    def init(shape, dtype=None):
        return jnp.concatenate([
            jnp.asarray(base((units,), dtype), dtype),
            jnp.ones((units,), dtype),
            jnp.asarray(base((2 * units,), dtype), dtype),
        ])  # fmt: skip

    return init


def _set_dropout_args(cell: Layer, dropout: float, recurrent_dropout: float, seed: Any) -> None:
    """Sets a cell's ``dropout`` and ``recurrent_dropout`` (clipped to [0, 1]), ``seed``
    and the ``seed_generator`` its dropout masks draw from."""
    cell.dropout = min(1.0, max(0.0, float(dropout)))
    cell.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
    cell.seed = seed
    # Always created, as in Keras, so the state layout does not depend on rates.
    cell.seed_generator = SeedGenerator(seed, name=f"{cell.name}_seed_generator")


def _lstm_update(cell: Layer, z: jax.Array, c_prev: jax.Array, axis: int) -> tuple:
    """One LSTM update from the gate pre-activations ``z`` (gates ``i, f, c, o``
    concatenated on ``axis``): returns ``(h, [h, c])``."""
    zi, zf, zc, zo = jnp.split(z, 4, axis=axis)
    i = cell.recurrent_activation(zi)
    f = cell.recurrent_activation(zf)
    c = f * c_prev + i * cell.activation(zc)
    o = cell.recurrent_activation(zo)
    h = o * cell.activation(c)
    return h, [h, c]


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

    def __init__(
        self,
        units: int,
        activation: Any,
        recurrent_activation: Any,
        use_bias: bool,
        dropout: float,
        recurrent_dropout: float,
        seed: int | None,
        **kwargs: Any,
    ):
        """The arguments every cell takes (the ``kernel_*``, ``recurrent_*`` and
        ``bias_*`` ones are the subclass's :func:`weight_arguments`)."""
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
        _set_dropout_args(self, dropout, recurrent_dropout, seed)

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
        self.kernel = add_weight_from_args(
            self, "kernel", shape=(int(input_shape[-1]), width), name="kernel"
        )
        self.recurrent_kernel = add_weight_from_args(
            self, "recurrent", shape=(self.units, width), name="recurrent_kernel"
        )
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
            **weight_args_config(self, "kernel", "recurrent", "bias"),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }
