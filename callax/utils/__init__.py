"""Utilities under ``keras.utils`` names."""

from callax.utils.progbar import Progbar
from callax.utils.py_dataset import PyDataset
from callax.utils.rng import set_random_seed

__all__ = ["set_random_seed", "Progbar", "PyDataset"]
