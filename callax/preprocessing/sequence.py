"""``keras.preprocessing.sequence``: ``pad_sequences``."""

from callax.utils.numerical_utils import pad_sequences

__all__ = ["pad_sequences"]
