"""Reproducibility: one call seeds every random source callax uses."""

from __future__ import annotations

import random as _py_random

import numpy as np

from callax.core import seed_generator


def set_random_seed(seed: int) -> None:
    """Seeds Python's ``random``, NumPy's global RNG and callax's global stream, so
    initializers, unseeded ``callax.random`` calls and new ``SeedGenerator`` s
    created afterwards repeat exactly.

    Example:
        >>> import callax
        >>> callax.utils.set_random_seed(1); a = callax.random.normal((2,))
        >>> callax.utils.set_random_seed(1); b = callax.random.normal((2,))
        >>> bool((a == b).all())
        True
    """
    if not isinstance(seed, (int, np.integer)):
        raise ValueError(f"set_random_seed expects an int; received {seed!r}.")
    _py_random.seed(int(seed))
    np.random.seed(int(seed) % (2**32))
    seed_generator.reset_global_stream(int(seed))
