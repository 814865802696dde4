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
from callax.core.dtypes import (
    get_uid,
    is_float_dtype,
    is_int_dtype,
    result_type,
    standardize_dtype,
)
from callax.core.keras_tensor import is_keras_tensor


def clear_session(free_memory: bool = True) -> None:
    """Resets default layer names (``dense``, ``dense_1``...), ``get_uid``
    counters and the global random stream, as Keras's ``clear_session`` does for
    a fresh start; ``free_memory`` also runs the garbage collector."""
    from callax.core.dtypes import reset_uids
    from callax.core.names import reset_names
    from callax.core.seed_generator import reset_global_stream

    reset_names()
    reset_uids()
    reset_global_stream(None)
    if free_memory:
        import gc

        gc.collect()


__all__ = [
    "backend", "clear_session", "epsilon", "floatx", "image_data_format", "set_epsilon",
    "set_floatx", "set_image_data_format", "get_uid", "is_float_dtype", "is_int_dtype",
    "is_keras_tensor", "result_type", "standardize_dtype",
]  # fmt: skip
