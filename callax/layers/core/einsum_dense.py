"""``EinsumDense``: a dense layer whose contraction is any einsum equation
(``"abc,cde->abde"``), the building block of attention projections."""

from __future__ import annotations

import re
from typing import Any

import jax.numpy as jnp

from callax import activations, initializers
from callax.core.input_spec import InputSpec
from callax.core.layer import Layer
from callax.layers.core.lora import LoraMixin
from callax.layers.weight_args import add_weight_from_args, weight_args_config, weight_arguments

_FORMS = (
    # (pattern on the equation with "..." written as "0", where the ellipsis is)
    (re.compile(r"^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$"), None),
    (re.compile(r"^0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)$"), "left"),
    (re.compile(r"^([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0$"), "right"),
)


def parse_equation(equation: str) -> tuple[str, str, str, str | None]:
    """``(input_spec, kernel_spec, output_spec, ellipsis)``, ellipsis ``None``,
    ``"left"`` or ``"right"``; raises ``ValueError`` for other forms."""
    flat = equation.replace(" ", "").replace("...", "0")
    for pattern, side in _FORMS:
        match = pattern.match(flat)
        if match:
            return match.group(1), match.group(2), match.group(3), side
    raise ValueError(
        f"EinsumDense: the equation must have the form 'X,Y->Z', '...X,Y->...Z' or "
        f"'X...,Y->Z...' (letters only); received equation={equation!r}."
    )


def analyze(equation: str, bias_axes: str | None, input_shape: tuple, partial: tuple) -> dict:
    """Kernel and bias shapes, the full output shape and the kernel's input/output
    axes (for fan computation) for inputs of ``input_shape``."""
    in_spec, w_spec, out_spec, side = parse_equation(equation)
    rank = len(input_shape)
    elided = rank - len(in_spec)
    if elided < 0 or (side is None and elided != 0):
        raise ValueError(
            f"EinsumDense: equation {equation!r} expects inputs of rank {len(in_spec)}"
            f"{' or more' if side else ''}; received input shape {tuple(input_shape)}."
        )
    if side == "left" and elided > 0:
        full = list(input_shape[:elided]) + list(partial)
    else:
        full = [input_shape[0]] + list(partial)
        if side == "right":
            full += list(input_shape[rank - elided :])
    shift = elided if side == "left" else 0
    in_pos = {c: i + shift for i, c in enumerate(in_spec)}
    out_pos = {c: i + shift for i, c in enumerate(out_spec)}
    if len(full) != len(out_spec) + (elided if side else 0):
        raise ValueError(
            f"EinsumDense: output_shape {tuple(partial)} does not fit equation {equation!r} "
            f"(the output has {len(out_spec)} named axes; output_shape leaves out the batch "
            f"axis unless it is elided); received input shape {tuple(input_shape)}."
        )
    for c in in_spec:
        if c in out_pos:
            got, want = input_shape[in_pos[c]], full[out_pos[c]]
            if want is not None and got is not None and got != want:
                raise ValueError(
                    f"EinsumDense: input and output shapes disagree on shared axis '{c}': the "
                    f"input has {got} and output_shape asks for {want}; received input "
                    f"shape {tuple(input_shape)}."
                )
    for c in out_spec:
        if c not in in_spec and c not in w_spec:
            raise ValueError(
                f"EinsumDense: output axis '{c}' of equation {equation!r} is in neither the "
                f"input nor the kernel spec."
            )
    kernel_shape, input_axes, output_axes = [], [], []
    for i, c in enumerate(w_spec):
        if c in out_pos:
            kernel_shape.append(full[out_pos[c]])
            output_axes.append(i)
        elif c in in_pos:
            kernel_shape.append(input_shape[in_pos[c]])
            input_axes.append(i)
        else:
            raise ValueError(
                f"EinsumDense: kernel axis '{c}' of equation {equation!r} is in neither the "
                f"input nor the output spec: the kernel must be fully specified."
            )
    bias_shape = None
    if bias_axes:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(
                    f"EinsumDense: bias axis '{c}' is not an output axis of equation "
                    f"{equation!r}; received bias_axes={bias_axes!r}."
                )
        first = min(out_spec.index(c) for c in bias_axes)
        bias_shape = [full[out_pos[c]] if c in bias_axes else 1 for c in out_spec[first:]]
        if side == "right":
            bias_shape += [1] * elided  # broadcasts over the trailing elided axes
    if any(d is None for d in kernel_shape + (bias_shape or [])):
        raise ValueError(
            f"EinsumDense: every kernel and bias axis needs a known size; received input "
            f"shape {tuple(input_shape)} and output_shape {tuple(partial)}."
        )
    return {
        "kernel_shape": tuple(kernel_shape), "bias_shape": bias_shape and tuple(bias_shape),
        "output_shape": tuple(full), "input_axes": input_axes, "output_axes": output_axes,
    }  # fmt: skip


class EinsumDense(LoraMixin, Layer):
    """``activation(einsum(equation, inputs, kernel) + bias)``.

    Args:
        equation: ``"X,Y->Z"`` with ``X`` the input's axes, ``Y`` the kernel's and
            ``Z`` the output's (one letter per axis; ``...`` allowed at the start or
            the end of the input and output).
        output_shape: the output's shape without the batch axis (and without elided
            axes); an int for a single axis. ``None`` marks an axis shared with the
            input whose size may vary (a sequence length).
        activation: name or callable (default none).
        bias_axes: letters of output axes that get a bias (default none).
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint, activity_regularizer: as in ``Dense``.

    Weights: ``kernel`` (axes of ``Y``) and ``bias``, named and shaped as Keras's.

    Example:
        >>> import callax
        >>> layer = callax.layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 4),
        ...                                   bias_axes="de")
        >>> layer(callax.ops.ones((3, 5, 6))).shape
        (3, 5, 2, 4)
        >>> layer.kernel.shape, layer.bias.shape
        ((6, 2, 4), (2, 4))
    """

    _kernel_call = True

    @weight_arguments("kernel", "bias", after="bias_axes", activity_regularizer=False)
    def __init__(
        self,
        equation: str,
        output_shape: int | tuple | list,
        activation: Any = None,
        bias_axes: str | None = None,
        lora_rank: int | None = None,
        lora_alpha: float | None = None,
        gptq_unpacked_column_size: Any = None,
        quantization_config: Any = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        if quantization_config is not None:
            raise ValueError(
                f"EinsumDense '{self.name}': quantization is not supported by callax; "
                f"received quantization_config={quantization_config!r}."
            )
        self._lora_setup(lora_rank, lora_alpha)
        if not isinstance(equation, str):
            raise TypeError(
                f"EinsumDense '{self.name}': equation must be a string; received "
                f"equation={equation!r}."
            )
        try:
            parse_equation(equation)
        except ValueError as error:
            raise ValueError(
                f"EinsumDense '{self.name}': {str(error)[len('EinsumDense: ') :]}"
            ) from None
        self.equation = equation
        if isinstance(output_shape, int):
            self.partial_output_shape = (output_shape,)
        else:
            self.partial_output_shape = tuple(output_shape)
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)

    def _analyze(self, input_shape) -> dict:
        try:
            return analyze(self.equation, self.bias_axes, tuple(input_shape),
                           self.partial_output_shape)  # fmt: skip
        except ValueError as error:
            raise ValueError(
                f"EinsumDense '{self.name}': {str(error)[len('EinsumDense: ') :]}"
            ) from None

    def build(self, input_shape):
        info = self._analyze(input_shape)
        self.full_output_shape = info["output_shape"]
        init = self.kernel_initializer
        if isinstance(init, initializers.VarianceScaling) and (
            init.input_axes is None or init.output_axes is None
        ):
            # Fans over the kernel's input and output axes, not its last two dims.
            config = init.get_config()
            config.update(input_axes=info["input_axes"], output_axes=info["output_axes"])
            init = type(init).from_config(config)
        self.kernel = self.add_weight(
            shape=info["kernel_shape"], initializer=init, name="kernel",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )  # fmt: skip
        self.bias = None
        if info["bias_shape"] is not None:
            self.bias = add_weight_from_args(self, "bias", shape=info["bias_shape"], name="bias")
        self.input_spec = InputSpec(ndim=len(input_shape))
        self._lora_after_build()

    def call(self, inputs):
        kernel = self._lora_value() if self.lora_enabled else self.kernel.value
        x = jnp.einsum(self.equation, inputs, kernel)
        if self.bias is not None:
            x = x + self.bias.value
        return self.activation(x)

    def compute_output_shape(self, input_shape):
        return self._analyze(input_shape)["output_shape"]

    def get_config(self):
        return {
            **super().get_config(),
            "output_shape": self.partial_output_shape,
            "equation": self.equation,
            "activation": activations.serialize(self.activation),
            "bias_axes": self.bias_axes,
            **weight_args_config(self, "kernel", "bias", activity_regularizer=True),
            "quantization_config": None,
            **self._lora_config(),
        }
