"""Debugging tools: :func:`find_nonfinite` finds where numbers go bad."""

from callax.debug.nonfinite import NonFiniteReport, SiteStats, find_nonfinite

__all__ = ["NonFiniteReport", "SiteStats", "find_nonfinite"]
