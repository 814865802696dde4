"""Mixed precision under Keras's ``keras.mixed_precision`` names.

A ``mixed_bfloat16`` or ``mixed_float16`` policy computes in half precision and
keeps float32 weights: layers cast their floating inputs to the compute dtype
and read their float32 variables as the compute dtype (an autocast scope), while
optimizers update the float32 values.

Example:
    >>> import callax
    >>> callax.mixed_precision.set_global_policy("mixed_bfloat16")
    >>> layer = callax.layers.Dense(2)
    >>> y = layer(callax.ops.ones((1, 3)))
    >>> str(y.dtype), str(layer.kernel.dtype)
    ('bfloat16', 'float32')
    >>> callax.mixed_precision.set_global_policy("float32")
"""

from __future__ import annotations

from callax.core.dtype_policy import DTypePolicy, dtype_policy, set_dtype_policy
from callax.optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy


def set_global_policy(policy) -> None:
    """Sets the policy of layers created afterwards."""
    set_dtype_policy(policy)


def global_policy() -> DTypePolicy:
    return dtype_policy()


__all__ = [
    "DTypePolicy", "Policy", "set_global_policy", "global_policy", "dtype_policy",
    "set_dtype_policy", "LossScaleOptimizer",
]  # fmt: skip
