"""``keras.backend`` names that user code calls (one engine: JAX).

Example:
    >>> import callax
    >>> callax.backend.backend(), callax.backend.floatx()
    ('jax', 'float32')
"""

from __future__ import annotations

from callax.core.config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)


def clear_session() -> None:
    """Resets default layer names (``dense``, ``dense_1``...) and the global
    random stream, as Keras's ``clear_session`` does for a fresh start."""
    from callax.core.layer import reset_names
    from callax.core.seed_generator import reset_global_stream

    reset_names()
    reset_global_stream(None)


__all__ = [
    "backend", "clear_session", "epsilon", "floatx", "image_data_format", "set_epsilon",
    "set_floatx", "set_image_data_format",
]  # fmt: skip
