"""Convolutional LSTM layers: ``ConvLSTM1D``, ``ConvLSTM2D``, ``ConvLSTM3D`` and
their ``ConvLSTMCell``.

An LSTM whose input and recurrent transforms are convolutions (Shi et al., 2015):
inputs are ``(batch, time, *spatial, channels)`` (``channels_last``) and the states
``h``, ``c`` are feature maps ``(batch, *out_spatial, filters)``. The time loop is one
``jax.lax.scan``. Weights follow Keras 3 exactly, so weight files move both ways:
``conv_lstm2d/conv_lstm_cell/kernel`` ``(*kernel_size, channels, 4 * filters)``,
``recurrent_kernel`` ``(*kernel_size, filters, 4 * filters)``, ``bias (4 * filters,)``,
gates in Keras's order ``i, f, c, o``. The input convolution uses ``strides``,
``padding`` and ``dilation_rate``; the recurrent one is stride 1, ``"same"``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

from callax import activations, random, regularizers
from callax.core import config as _config
from callax.core.layer import Layer
from callax.layers.convolutional.base_conv import check_strides_or_dilation
from callax.layers.rnn.base_cell import (
    _lstm_update,
    _set_dropout_args,
    _unit_forget_bias,
    lstm_cell_weight_arguments,
)
from callax.layers.rnn.cell_layer_arguments import LOOP_ARGS, cell_arg_names, cell_layer_arguments
from callax.layers.rnn.recurrent_loop import _RecurrentLoop
from callax.layers.rnn.rnn import _CELL_WEIGHTS, scan_steps
from callax.layers.weight_args import add_weight_from_args, weight_args_config


def _tuple(value: Any, rank: int, what: str, owner: str) -> tuple[int, ...]:
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank or not all(isinstance(v, int) and v > 0 for v in values):
        raise ValueError(
            f"{owner}: {what} must be a positive int or {rank} positive ints; "
            f"received {what}={value!r}."
        )
    return values


def _out_size(n: int, k: int, s: int, d: int, padding: str) -> int:
    if padding == "same":
        return -(-n // s)
    return max(0, -(-(n - (k - 1) * d) // s))


def _dimension_numbers(rank: int, data_format: str) -> lax.ConvDimensionNumbers:
    spatial = "DHW"[3 - rank :]
    feature = f"NC{spatial}" if data_format == "channels_first" else f"N{spatial}C"
    return lax.conv_dimension_numbers(
        (1,) * (rank + 2), (1,) * (rank + 2), (feature, f"{spatial}IO", feature)
    )


class ConvLSTMCell(Layer):
    """One step of a convolutional LSTM: ``call(inputs, [h, c]) -> (h, [h, c])``
    on feature maps (``inputs`` ``(batch, *spatial, channels)``).

    Args:
        rank: number of spatial dimensions (1, 2 or 3).
        Others as in :class:`ConvLSTM2D`.

    Example:
        >>> import callax
        >>> from callax.layers.rnn.conv_lstm import ConvLSTMCell
        >>> cell = ConvLSTMCell(2, filters=4, kernel_size=3, padding="same")
        >>> x = callax.ops.ones((2, 8, 8, 3))
        >>> cell.build(x.shape)
        >>> h, (h2, c) = cell(x, cell.get_initial_state(batch_size=2))
        >>> h.shape, cell.kernel.shape
        ((2, 8, 8, 4), (3, 3, 3, 16))
    """

    _kernel_call = True

    @lstm_cell_weight_arguments
    def __init__(
        self,
        rank: int,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        activation: Any = "tanh",
        recurrent_activation: Any = "sigmoid",
        use_bias: bool = True,
        unit_forget_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        owner = f"{type(self).__name__} '{self.name}'"
        if rank not in (1, 2, 3):
            raise ValueError(f"{owner}: rank must be 1, 2 or 3; received rank={rank!r}.")
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{owner}: filters must be a positive int; received {filters!r}.")
        self.rank = rank
        self.filters = filters
        self.kernel_size = _tuple(kernel_size, rank, "kernel_size", owner)
        self.strides = _tuple(strides, rank, "strides", owner)
        self.dilation_rate = _tuple(dilation_rate, rank, "dilation_rate", owner)
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError(
                f"{owner}: padding must be 'valid' or 'same'; received padding={padding!r}."
            )
        self.padding = padding
        data_format = data_format or _config.image_data_format()
        if data_format not in ("channels_last", "channels_first"):
            raise ValueError(
                f"{owner}: data_format must be 'channels_last' or 'channels_first'; "
                f"received data_format={data_format!r}."
            )
        self.data_format = data_format
        check_strides_or_dilation(owner, self.strides, self.dilation_rate)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.unit_forget_bias = bool(unit_forget_bias)
        _set_dropout_args(self, dropout, recurrent_dropout, seed)
        self.state_size = -1  # as Keras: the states are feature maps, see state_shape()
        self.spatial_dims: tuple | None = None
        self.input_dim: int | None = None

    # ------------------------------------------------------------ shapes
    @property
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def _spatial(self, shape: tuple) -> tuple:
        return tuple(shape[2:]) if self.data_format == "channels_first" else tuple(shape[1:-1])

    def state_shape(self, batch_size: int | None) -> tuple:
        """The shape of ``h`` and ``c`` for a batch (after the input convolution)."""
        out = tuple(
            _out_size(n, k, s, d, self.padding)
            for n, k, s, d in zip(
                self.spatial_dims, self.kernel_size, self.strides, self.dilation_rate
            )  # fmt: skip
        )
        if self.data_format == "channels_first":
            return (batch_size, self.filters) + out
        return (batch_size,) + out + (self.filters,)

    # ------------------------------------------------------------ weights
    def build(self, input_shape, states_shape=None):
        owner = f"{type(self).__name__} '{self.name}'"
        if len(input_shape) != self.rank + 2:
            raise ValueError(
                f"{owner} expects one timestep of rank {self.rank + 2} (batch, *spatial, "
                f"channels); received input shape {tuple(input_shape)}."
            )
        spatial = self._spatial(input_shape)
        if None in spatial or input_shape[self._channel_axis] is None:
            raise ValueError(
                f"{owner} needs static spatial and channel dimensions; received input shape "
                f"{tuple(input_shape)}."
            )
        self.spatial_dims = tuple(int(n) for n in spatial)
        self.input_dim = int(input_shape[self._channel_axis])
        width = 4 * self.filters
        self.kernel = add_weight_from_args(
            self, "kernel", shape=self.kernel_size + (self.input_dim, width), name="kernel"
        )
        self.recurrent_kernel = add_weight_from_args(
            self,
            "recurrent",
            shape=self.kernel_size + (self.filters, width),
            name="recurrent_kernel",
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(width,), name="bias", initializer=self._bias_init(),
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )  # fmt: skip

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        return _unit_forget_bias(self.bias_initializer, self.filters)

    # ------------------------------------------------------------ dropout
    def _draw_masks(self, x: jax.Array, h: jax.Array, training: Any) -> tuple:
        """Four masks per rate (one per gate), drawn once per sequence as Keras."""
        if not training:
            return None, None
        dp = rdp = None
        if 0.0 < self.dropout < 1.0:
            keep = random.uniform((4,) + tuple(x.shape), seed=self.seed_generator) >= self.dropout
            dp = keep.astype(x.dtype) / (1.0 - self.dropout)
        if 0.0 < self.recurrent_dropout < 1.0:
            rate = self.recurrent_dropout
            keep = random.uniform((4,) + tuple(h.shape), seed=self.seed_generator) >= rate
            rdp = keep.astype(h.dtype) / (1.0 - rate)
        return dp, rdp

    # --------------------------------------------------------------- step
    def _conv(self, x, w, strides, padding, dilation):
        return lax.conv_general_dilated(
            x, w, window_strides=strides, padding=padding.upper(), rhs_dilation=dilation,
            dimension_numbers=_dimension_numbers(self.rank, self.data_format),
        )  # fmt: skip

    def _gates(self, x, w, mask, strides, padding, dilation):
        """The four gate pre-activations, concatenated on the channel axis.
        Without dropout one convolution computes all four (same result as four)."""
        if mask is None:
            return self._conv(x, w, strides, padding, dilation)
        ws = jnp.split(w, 4, axis=-1)
        parts = [self._conv(x * mask[g], ws[g], strides, padding, dilation) for g in range(4)]
        return jnp.concatenate(parts, axis=self._channel_axis)

    def _step(self, inputs, states, dp_mask, rec_mask):
        h_prev, c_prev = states[0], states[1]
        ones = (1,) * self.rank
        z = self._gates(inputs, self.kernel.value, dp_mask, self.strides, self.padding,
                        self.dilation_rate)  # fmt: skip
        if self.bias is not None:
            b = self.bias.value
            z = z + (b.reshape((-1,) + ones) if self.data_format == "channels_first" else b)
        z = z + self._gates(h_prev, self.recurrent_kernel.value, rec_mask, ones, "same", ones)
        return _lstm_update(self, z, c_prev, axis=self._channel_axis)

    def call(self, inputs, states, training=False):
        states = list(states)
        dp, rdp = self._draw_masks(inputs, states[0], training)
        return self._step(inputs, states, dp, rdp)

    def compute_output_shape(self, inputs_shape, states_shape=None):
        if self.spatial_dims is None:
            self.spatial_dims = self._spatial(inputs_shape)
        out = self.state_shape(inputs_shape[0])
        return out, [out, out]

    def get_initial_state(self, batch_size: int | None = None) -> list[jax.Array]:
        shape = self.state_shape(batch_size)
        return [jnp.zeros(shape, self.compute_dtype), jnp.zeros(shape, self.compute_dtype)]

    def get_config(self):
        weights = list(weight_args_config(self, "kernel", "recurrent", "bias").items())
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            # Keras lists unit_forget_bias between the initializers and the regularizers.
            **dict(weights[:3]),
            "unit_forget_bias": self.unit_forget_bias,
            **dict(weights[3:]),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        }


class ConvLSTM(_RecurrentLoop, Layer):
    """The shared ConvLSTM layer: a :class:`ConvLSTMCell` scanned over the time axis.
    Use :class:`ConvLSTM1D`, :class:`ConvLSTM2D` or :class:`ConvLSTM3D`."""

    _kernel_call = True  # built-in cell: the whole scan may run as one compiled kernel
    _rank = 2

    @cell_layer_arguments(
        ConvLSTMCell, loop_after="seed", loop_args=LOOP_ARGS + ("zero_output_for_mask",)
    )
    def __init__(self, cell_args: dict, loop_args: dict, **kwargs: Any):
        kwargs.pop("cell", None)
        super().__init__(**kwargs)
        self.cell = ConvLSTMCell(**cell_args, name="conv_lstm_cell", dtype=kwargs.get("dtype"))
        self.rank = cell_args["rank"]
        self._init_loop(**loop_args)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: `layer.filters`, `layer.kernel`, ...
        if name in _CELL_WEIGHTS or name in cell_arg_names(ConvLSTMCell):
            cell = self.__dict__.get("cell")
            if cell is not None:
                return getattr(cell, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ---------------------------------------------------------------- build
    def build(self, sequences_shape, initial_state_shape=None):
        if len(sequences_shape) != self.rank + 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of rank {self.rank + 3} "
                f"(batch, time, *spatial, channels); received input shape "
                f"{tuple(sequences_shape)}."
            )
        batch = sequences_shape[0]
        if not self.cell.built:
            self.cell.build((batch,) + tuple(sequences_shape[2:]))
            self.cell.built = True
        self._build_state_variables(sequences_shape,
                                    lambda batch: [self.cell.state_shape(batch)] * 2)  # fmt: skip

    def get_initial_state(self, batch_size: int) -> list[jax.Array]:
        return self.cell.get_initial_state(batch_size)

    # ----------------------------------------------------------------- call
    def _expected_state_shapes(self, batch):
        return [self.cell.state_shape(batch)] * 2, "[h, c]"

    def call(self, sequences, initial_state=None, mask=None, training=False):
        if sequences.ndim != self.rank + 3:
            raise ValueError(
                f"{type(self).__name__} '{self.name}' expects inputs of rank {self.rank + 3} "
                f"(batch, time, *spatial, channels); received input with shape "
                f"{tuple(sequences.shape)}."
            )
        cell = self.cell
        states = self._initial_state(sequences, initial_state)
        dp, rdp = cell._draw_masks(sequences[:, 0], states[0], training)

        def step(x, s):
            return cell._step(x, s, dp, rdp)

        final, outputs = scan_steps(self, step, states, sequences, mask)
        self._carry_final_states(final)
        output = jnp.swapaxes(outputs, 0, 1) if self.return_sequences else outputs[-1]
        if self.return_state:
            return (output, *final)
        return output

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        batch, time = sequences_shape[0], sequences_shape[1]
        state, _ = self.cell.compute_output_shape((batch,) + tuple(sequences_shape[2:]))
        out = (batch, time) + state[1:] if self.return_sequences else state
        if self.return_state:
            return [out, state, state]
        return out

    def get_config(self):
        cell_config = self.cell.get_config()
        for key in ("name", "trainable", "dtype"):
            cell_config.pop(key, None)
        return {
            **super().get_config(),
            **self._loop_config(),
            **cell_config,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> ConvLSTM:
        return cls(**config)


_ARGS_DOC = """
    Args:
        filters: output channels.
        kernel_size: an int or one int per spatial dimension.
        strides, padding (``"valid"``/``"same"``), data_format, dilation_rate: as for
            the input convolution of a Conv layer (the recurrent convolution is
            stride 1, ``"same"``).
        activation: ``"tanh"``; recurrent_activation: ``"sigmoid"``.
        use_bias, kernel_initializer (``glorot_uniform``), recurrent_initializer
            (``orthogonal``), bias_initializer, unit_forget_bias (``True``),
            regularizers, constraints, dropout, recurrent_dropout, seed.
        return_sequences, return_state, go_backwards, stateful: as for ``LSTM``.
"""


class ConvLSTM1D(ConvLSTM):
    """1D convolutional LSTM: inputs ``(batch, time, steps, channels)``, states
    ``(batch, new_steps, filters)``.

    Example:
        >>> import callax
        >>> layer = callax.layers.ConvLSTM1D(4, 3, padding="same", return_sequences=True)
        >>> layer(callax.ops.ones((2, 5, 10, 3))).shape
        (2, 5, 10, 4)
    """

    _rank = 1

    def __init__(self, filters: int, kernel_size: Any, *args: Any, **kwargs: Any):
        super().__init__(1, filters, kernel_size, *args, **kwargs)


class ConvLSTM2D(ConvLSTM):
    """2D convolutional LSTM: inputs ``(batch, time, rows, cols, channels)``, states
    ``(batch, new_rows, new_cols, filters)``.

    Example:
        >>> import callax
        >>> layer = callax.layers.ConvLSTM2D(4, 3)
        >>> layer(callax.ops.ones((2, 5, 8, 8, 3))).shape
        (2, 6, 6, 4)
        >>> layer.cell.kernel.shape, layer.cell.recurrent_kernel.shape
        ((3, 3, 3, 16), (3, 3, 4, 16))
    """

    _rank = 2

    def __init__(self, filters: int, kernel_size: Any, *args: Any, **kwargs: Any):
        super().__init__(2, filters, kernel_size, *args, **kwargs)


class ConvLSTM3D(ConvLSTM):
    """3D convolutional LSTM: inputs ``(batch, time, depth, rows, cols, channels)``,
    states ``(batch, new_depth, new_rows, new_cols, filters)``.

    Example:
        >>> import callax
        >>> layer = callax.layers.ConvLSTM3D(4, 3, padding="same")
        >>> layer(callax.ops.ones((1, 2, 4, 4, 4, 2))).shape
        (1, 4, 4, 4, 4)
    """

    _rank = 3

    def __init__(self, filters: int, kernel_size: Any, *args: Any, **kwargs: Any):
        super().__init__(3, filters, kernel_size, *args, **kwargs)


for _cls in (ConvLSTM1D, ConvLSTM2D, ConvLSTM3D):
    _cls.__doc__ += _ARGS_DOC
