"""Global settings, named as in ``keras.config``.

Example:
    >>> import callax
    >>> callax.config.floatx()
    'float32'
"""

from __future__ import annotations

from callax.core import dtype_policy as _policy
from callax.core.dtypes import floatx, set_floatx  # noqa: F401 — keras.config names

_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"


def epsilon() -> float:
    """The fuzz factor used to avoid dividing by zero in losses and metrics."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def image_data_format() -> str:
    return _IMAGE_DATA_FORMAT


def set_image_data_format(value: str) -> None:
    global _IMAGE_DATA_FORMAT
    if value not in ("channels_last", "channels_first"):
        raise ValueError(
            f"Unknown image_data_format {value!r}: expected 'channels_last' or 'channels_first'."
        )
    _IMAGE_DATA_FORMAT = value


_COMPILED_CALLS = False


def set_compiled_calls(enabled: bool) -> None:
    """Makes every top-level layer or model call run compiled, as through
    ``callax.jit`` (Python side effects in ``call`` then run at trace time only)."""
    global _COMPILED_CALLS
    _COMPILED_CALLS = bool(enabled)


def compiled_calls() -> bool:
    """Whether top-level calls run compiled (see ``set_compiled_calls``)."""
    return _COMPILED_CALLS


def backend() -> str:
    """callax has one engine."""
    return "jax"


def set_dtype_policy(policy) -> None:
    """Sets the dtype policy of layers created afterwards (``"mixed_bfloat16"``...)."""
    _policy.set_dtype_policy(policy)


def dtype_policy():
    """The global dtype policy."""
    return _policy.dtype_policy()


# Debug caps, logging and compatibility switches (one concept per file).
from callax.core.config_flags import (  # noqa: E402, F401
    disable_flash_attention,
    disable_interactive_logging,
    disable_traceback_filtering,
    enable_flash_attention,
    enable_interactive_logging,
    enable_traceback_filtering,
    enable_unsafe_deserialization,
    is_flash_attention_enabled,
    is_interactive_logging_enabled,
    is_nnx_enabled,
    is_traceback_filtering_enabled,
    keras_home,
    max_epochs,
    max_steps_per_epoch,
    set_backend,
    set_max_epochs,
    set_max_steps_per_epoch,
)
