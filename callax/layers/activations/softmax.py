"""``Softmax`` activation layer (with an optional mask), under Keras 3's arguments."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from callax.core.layer import Layer


def _large_negative(dtype: Any) -> float:
    # -1e9 overflows float16 (max 65504); Keras uses -3e4 there.
    return -3e4 if jnp.dtype(dtype) == jnp.float16 else -1e9


class Softmax(Layer):
    """Softmax over ``axis`` (an int, or a list of axes normalized together).

    ``call(inputs, mask=None)``: where the boolean ``mask`` (broadcastable to
    ``inputs``) is False the input is ignored and the output is 0, so a fully
    masked row gives zeros rather than a uniform distribution (as Keras 3).

    Example:
        >>> import callax
        >>> x = callax.ops.array([[1.0, 2.0, 3.0]])
        >>> mask = callax.ops.array([[True, True, False]])
        >>> [round(v, 4) for v in callax.layers.Softmax()(x, mask=mask).tolist()[0]]
        [0.2689, 0.7311, 0.0]
    """

    _kernel_call = True

    def __init__(self, axis: int | list[int] = -1, **kwargs: Any):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = jnp.asarray(mask)
            in_shape, m_shape = tuple(inputs.shape), tuple(mask.shape)
            if len(m_shape) > len(in_shape) or any(
                m != 1 and m != i for m, i in zip(m_shape[::-1], in_shape[::-1])
            ):
                raise ValueError(
                    f"Softmax '{self.name}': mask must be broadcastable to the inputs (each mask "
                    f"axis 1 or equal to the input's, no extra axes); received inputs of shape "
                    f"{in_shape} and mask of shape {m_shape}."
                )
            if mask.dtype != jnp.bool_:
                mask = mask > 0.5
            inputs = jnp.where(mask, inputs, _large_negative(inputs.dtype))
        if isinstance(self.axis, (list, tuple)):
            axis = tuple(self.axis)
            outputs = jnp.exp(inputs - jax.nn.logsumexp(inputs, axis=axis, keepdims=True))
        else:
            outputs = jax.nn.softmax(inputs, axis=self.axis)
        if mask is not None:
            outputs = jnp.where(mask, outputs, jnp.zeros((), outputs.dtype))
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
