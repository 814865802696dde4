"""``Identity``: returns its input unchanged (a placeholder layer)."""

from __future__ import annotations

from callax.core.layer import Layer


class Identity(Layer):
    """Returns its input unchanged.

    Example:
        >>> import callax
        >>> callax.layers.Identity()(callax.ops.ones((2,))).tolist()
        [1.0, 1.0]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs
