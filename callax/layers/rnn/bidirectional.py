"""``Bidirectional``: an RNN run forwards and a copy of it backwards, outputs merged."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp

from callax.core.layer import Layer
from callax.layers.core.wrapper import deserialize_layer, serialize_layer

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _clone_with(layer: Layer, **overrides: Any) -> Layer:
    config = layer.get_config()
    config.update(overrides)
    return type(layer).from_config(config)


def _strip_prefix(name: str, prefix: str) -> str:
    return name[len(prefix) :] if name.startswith(prefix) else name


class Bidirectional(Layer):
    """Runs an RNN forwards and a copy of it backwards, and merges the outputs.

    Args:
        layer: an RNN layer (``LSTM``, ``GRU``, ``SimpleRNN``, ``RNN``). It is
            cloned from its config into ``forward_layer`` (named ``forward_<name>``)
            and, unless ``backward_layer`` is given, ``backward_layer``
            (``backward_<name>``, ``go_backwards`` flipped), as in Keras.
        merge_mode: ``"concat"`` (default), ``"sum"``, ``"mul"``, ``"ave"`` or
            ``None`` (return ``[forward, backward]``).
        weights: optional initial weights (forward's then backward's).
        backward_layer: an explicit backward RNN.

    With ``return_state``, returns ``[outputs..., *forward_states, *backward_states]``.

    Example:
        >>> import callax
        >>> bi = callax.layers.Bidirectional(callax.layers.LSTM(4, return_sequences=True))
        >>> bi(callax.ops.ones((2, 5, 3))).shape
        (2, 5, 8)
        >>> bi.weights[0].path
        'bidirectional.../forward_lstm.../lstm_cell/kernel'
    """

    def __init__(
        self,
        layer: Layer,
        merge_mode: str | None = "concat",
        weights: Any = None,
        backward_layer: Layer | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if not isinstance(layer, Layer) or not hasattr(layer, "return_sequences"):
            raise ValueError(
                f"Bidirectional '{self.name}': layer must be an RNN layer (with "
                f"return_sequences/go_backwards); received layer={layer!r}."
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Bidirectional '{self.name}': merge_mode must be one of {list(_MERGE_MODES)}; "
                f"received merge_mode={merge_mode!r}."
            )
        base = _strip_prefix(layer.name, "forward_")
        self.forward_layer = _clone_with(layer, name="forward_" + base)
        if backward_layer is None:
            self.backward_layer = _clone_with(
                layer, name="backward_" + base, go_backwards=not layer.go_backwards
            )
        else:
            for attr in ("return_sequences", "return_state"):
                if getattr(backward_layer, attr) != getattr(layer, attr):
                    raise ValueError(
                        f"Bidirectional '{self.name}': forward and backward layers must agree "
                        f"on {attr}; received forward {attr}={getattr(layer, attr)} and "
                        f"backward {attr}={getattr(backward_layer, attr)}."
                    )
            self.backward_layer = backward_layer
        # Masked steps of returned sequences output zeros (not the previous
        # output), so both directions line up after the backward flip (Keras).
        for rnn in (self.forward_layer, self.backward_layer):
            if hasattr(rnn, "zero_output_for_mask"):
                rnn.zero_output_for_mask = rnn.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.stateful = getattr(layer, "stateful", False)
        self.supports_masking = True
        self._initial_weights = weights

    def call(self, sequences, initial_state=None, mask=None, training=None):
        fw_kwargs: dict = {"training": training}
        bw_kwargs: dict = {"training": training}
        if mask is not None:
            fw_kwargs["mask"] = bw_kwargs["mask"] = mask
        if initial_state is not None:
            states = (
                list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
            )
            if len(states) % 2:
                raise ValueError(
                    f"Bidirectional '{self.name}': initial_state must hold the forward states "
                    f"then the backward states (an even number); received {len(states)}."
                )
            half = len(states) // 2
            fw_kwargs["initial_state"] = states[:half]
            bw_kwargs["initial_state"] = states[half:]
        fw = self.forward_layer(sequences, **fw_kwargs)
        bw = self.backward_layer(sequences, **bw_kwargs)
        if self._initial_weights is not None:
            weights, self._initial_weights = self._initial_weights, None
            self.set_weights(weights)
            fw = self.forward_layer(sequences, **fw_kwargs)
            bw = self.backward_layer(sequences, **bw_kwargs)
        if self.return_state:
            fw_out, fw_states = fw[0], list(fw[1:])
            bw_out, bw_states = bw[0], list(bw[1:])
        else:
            fw_out, bw_out = fw, bw
        if self.return_sequences:
            # The backward layer outputs in processing order: flip to align time.
            bw_out = jnp.flip(bw_out, axis=1)
        if self.merge_mode == "concat":
            out = jnp.concatenate([fw_out, bw_out], axis=-1)
        elif self.merge_mode == "sum":
            out = fw_out + bw_out
        elif self.merge_mode == "ave":
            out = (fw_out + bw_out) / 2
        elif self.merge_mode == "mul":
            out = fw_out * bw_out
        else:
            out = [fw_out, bw_out]
        if self.return_state:
            outputs = out if isinstance(out, list) else [out]
            return tuple(outputs) + tuple(fw_states) + tuple(bw_states)
        return out

    def reset_state(self) -> None:
        for layer in (self.forward_layer, self.backward_layer):
            if hasattr(layer, "reset_state"):
                layer.reset_state()

    reset_states = reset_state

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if mask is None or not self.return_sequences:
            return None
        return mask

    def get_config(self):
        return {
            **super().get_config(),
            "merge_mode": self.merge_mode,
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Bidirectional:
        config = dict(config)
        config["layer"] = deserialize_layer(config["layer"], custom_objects)
        if config.get("backward_layer") is not None:
            config["backward_layer"] = deserialize_layer(config["backward_layer"], custom_objects)
        return cls(**config)
