"""``ActivityRegularization``: the identity, adding an L1/L2 penalty on its input to ``losses``."""

from __future__ import annotations

from typing import Any

from callax import regularizers
from callax.core.input_spec import InputSpec, assert_input_compatibility  # noqa: F401 (re-export)
from callax.core.layer import Layer


# -------------------------------------------------------- ActivityRegularization
class ActivityRegularization(Layer):
    """Returns its input unchanged and adds ``l1 * sum(|x|) + l2 * sum(x**2)``
    (divided by the batch size, as every activity penalty) to ``losses``.

    Example:
        >>> import callax
        >>> layer = callax.layers.ActivityRegularization(l1=0.5)
        >>> _ = layer(callax.ops.ones((2, 3)))
        >>> float(layer.losses[0])
        1.5
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0, **kwargs: Any):
        kwargs.pop("activity_regularizer", None)  # always the l1/l2 penalty
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
