"""Models: subclassed (``Model``), ``Sequential`` and Functional."""

from callax.models.model import Model

__all__ = ["Model"]
