"""Models: subclassed (``Model``), ``Sequential`` and Functional."""

from callax.models.cloning import clone_model, model_from_json
from callax.models.functional import Functional
from callax.models.model import Model
from callax.models.sequential import Sequential
from callax.saving.saving_api import load_model, save_model

__all__ = [
    "Functional", "Sequential", "Model", "load_model", "save_model", "clone_model",
    "model_from_json",
]  # fmt: skip
