"""Utilities under ``keras.utils`` names."""

from callax.utils.rng import set_random_seed

__all__ = ["set_random_seed"]
