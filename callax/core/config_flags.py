"""The process-wide switches of ``keras.config`` beyond dtypes and formats.

Debug caps on training (``set_max_epochs``, ``set_max_steps_per_epoch``, also read
from ``KERAS_MAX_EPOCHS`` / ``KERAS_MAX_STEPS_PER_EPOCH`` as in Keras), the
interactive-logging switch the progress bar obeys, and flags Keras code sets
that have no effect on a JAX-only engine but must exist (traceback filtering,
flash attention, NNX, backend selection).

Example:
    >>> import callax
    >>> callax.config.set_max_epochs(2)
    >>> callax.config.max_epochs()
    2
    >>> callax.config.set_max_epochs(None)
    >>> callax.config.is_interactive_logging_enabled()
    True
"""

from __future__ import annotations

import os
import warnings


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None


_FLAGS: dict = {
    "max_epochs": _env_int("KERAS_MAX_EPOCHS"),
    "max_steps_per_epoch": _env_int("KERAS_MAX_STEPS_PER_EPOCH"),
    "interactive_logging": True,
    "traceback_filtering": True,
    "flash_attention": None,  # None: let the attention layer choose (Keras's default)
    # Loading may run Python code stored in configs (lambdas) outside a
    # SafeModeScope; callax.core.serialization reads it.
    "unsafe_deserialization": False,
}


# ------------------------------------------------------------ training caps
def set_max_epochs(max_epochs: int | None) -> None:
    """Caps the epochs of every later ``fit`` (a debugging aid); ``None`` removes the cap."""
    _FLAGS["max_epochs"] = max_epochs


def max_epochs() -> int | None:
    """The cap set by ``set_max_epochs`` (or ``KERAS_MAX_EPOCHS``), else ``None``."""
    return _FLAGS["max_epochs"]


def set_max_steps_per_epoch(max_steps_per_epoch: int | None) -> None:
    """Caps the steps of every later epoch of ``fit``/``evaluate``/``predict``."""
    _FLAGS["max_steps_per_epoch"] = max_steps_per_epoch


def max_steps_per_epoch() -> int | None:
    """The cap set by ``set_max_steps_per_epoch`` (or its environment variable)."""
    return _FLAGS["max_steps_per_epoch"]


def cap_epochs(epochs: int) -> int:
    """``epochs`` limited by ``max_epochs()``, warning when it cuts (as Keras's fit)."""
    cap = _FLAGS["max_epochs"]
    if cap and cap < epochs:
        warnings.warn(f"Limiting epochs to {cap} (keras.config.max_epochs).", stacklevel=3)
        return cap
    return epochs


def cap_steps_per_epoch(steps: int | None) -> int | None:
    """``steps`` limited by ``max_steps_per_epoch()``; an unset count becomes the cap."""
    cap = _FLAGS["max_steps_per_epoch"]
    if cap and (not steps or cap < steps):
        warnings.warn(
            f"Limiting steps_per_epoch to {cap} (keras.config.max_steps_per_epoch).",
            stacklevel=3,
        )
        return cap
    return steps


# ------------------------------------------------------------ logging
def enable_interactive_logging() -> None:
    """Progress bars and messages go to stdout (the default)."""
    _FLAGS["interactive_logging"] = True


def disable_interactive_logging() -> None:
    """Progress bars and messages go to the ``callax`` Python logger at INFO level
    instead of stdout (silent unless logging is configured to show INFO)."""
    _FLAGS["interactive_logging"] = False


def is_interactive_logging_enabled() -> bool:
    """Whether progress output is printed to stdout."""
    return bool(_FLAGS["interactive_logging"])


# ------------------------------------------------------------ accepted flags
def enable_traceback_filtering() -> None:
    """Recorded for compatibility: callax tracebacks are never filtered; errors
    raised inside ``call`` carry the call path instead."""
    _FLAGS["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """Recorded for compatibility (see ``enable_traceback_filtering``)."""
    _FLAGS["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    """The flag set by ``enable/disable_traceback_filtering`` (default ``True``)."""
    return bool(_FLAGS["traceback_filtering"])


def enable_flash_attention() -> None:
    """Asks attention layers for a flash-attention kernel where one applies."""
    _FLAGS["flash_attention"] = True


def disable_flash_attention() -> None:
    """Asks attention layers not to use a flash-attention kernel."""
    _FLAGS["flash_attention"] = False


def is_flash_attention_enabled() -> bool | None:
    """``True``/``False`` once set, ``None`` (layer's choice) by default, as Keras."""
    return _FLAGS["flash_attention"]


def is_nnx_enabled() -> bool:
    """callax does not use Flax NNX."""
    return False


def set_backend(backend: str) -> None:
    """callax has one engine: ``"jax"`` is accepted, anything else is refused."""
    if backend != "jax":
        raise ValueError(
            "set_backend: callax runs on JAX only; expected backend='jax', "
            f"received backend={backend!r}."
        )


def enable_unsafe_deserialization() -> None:
    """Lets every later load run Python code (``lambda``s) stored in configs.
    Only do this for files you trust as you trust your own code. A
    ``safe_mode=`` given to a loading call (a ``SafeModeScope``) still wins."""
    _FLAGS["unsafe_deserialization"] = True


def is_unsafe_deserialization_enabled() -> bool:
    """Whether :func:`enable_unsafe_deserialization` was called in this process."""
    return bool(_FLAGS["unsafe_deserialization"])


def keras_home() -> str:
    """The cache root: ``$KERAS_HOME``, else ``~/.keras`` (``/tmp/.keras`` when the
    home directory is not writable), read at each call."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    base = os.path.expanduser("~")
    if not os.access(base, os.W_OK):
        base = "/tmp"
    return os.path.join(base, ".keras")
