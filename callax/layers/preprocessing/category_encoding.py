"""``CategoryEncoding``: integer categories to one-hot, multi-hot or count vectors."""

from __future__ import annotations

from typing import Any

from callax.core.layer import Layer
from callax.layers.preprocessing.base_preprocessing import (
    ENCODING_MODES,
    _check_mode,
    _check_sparse,
    encode_categorical,
)


class CategoryEncoding(Layer):
    """Encodes integer categories as one-hot, multi-hot or count vectors.

    Args:
        num_tokens: the number of categories (inputs in ``[0, num_tokens)``).
        output_mode: ``"multi_hot"`` (default), ``"one_hot"`` or ``"count"``.
        sparse: must be ``False`` (dense outputs only).

    ``call(inputs, count_weights=None)``: ``count_weights`` weights each input in
    ``"count"`` mode.

    Example:
        >>> import numpy as np, callax
        >>> layer = callax.layers.CategoryEncoding(num_tokens=4, output_mode="count")
        >>> layer(np.array([[0, 1, 1, 3], [2, 2, 0, 0]])).tolist()
        [[1.0, 2.0, 0.0, 1.0], [2.0, 0.0, 2.0, 0.0]]
    """

    _kernel_call = True

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot",
                 sparse: bool = False, **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        self.output_mode = _check_mode(self, output_mode, ENCODING_MODES)
        if not isinstance(num_tokens, int) or isinstance(num_tokens, bool) or num_tokens < 1:
            raise ValueError(
                f"CategoryEncoding '{self.name}': num_tokens must be a positive int; "
                f"received num_tokens={num_tokens!r}."
            )
        _check_sparse(self, sparse)
        self.num_tokens = num_tokens
        self.built = True

    def call(self, inputs, count_weights=None):
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                f"CategoryEncoding '{self.name}': count_weights is only used with "
                f"output_mode='count'; received output_mode={self.output_mode!r}."
            )
        return encode_categorical(inputs, self.num_tokens, self.output_mode,
                                  self.compute_dtype, count_weights)  # fmt: skip

    def compute_output_shape(self, input_shape, count_weights_shape=None):
        shape = tuple(input_shape)
        if not shape:
            return (self.num_tokens,)
        if self.output_mode == "one_hot":
            keep = shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape
            return keep + (self.num_tokens,)
        rest = (shape[0],) + shape[2:] if len(shape) > 1 else ()
        return rest + (self.num_tokens,)

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}  # fmt: skip
