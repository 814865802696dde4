"""Utilities under ``keras.utils`` names."""

from callax.utils.progbar import Progbar
from callax.utils.py_dataset import PyDataset
from callax.utils.rng import set_random_seed
from callax.inspect.plot import plot_model  # noqa: E402  (after rng: no cycle)

__all__ = ["set_random_seed", "plot_model", "Progbar", "PyDataset"]
