"""Models: subclassed (``Model``), ``Sequential`` and Functional."""

from callax.models.model import Model
from callax.saving.saving_api import load_model

__all__ = ["Model", "load_model"]
