"""The regression sets stored as one ``x``/``y`` npz (Boston, California)."""

from __future__ import annotations

import numpy as np

from callax.datasets._common import ORIGIN, check_test_split, shuffle_split
from callax.utils.file_utils import get_file


def load_xy(path: str, remote: str, sha256: str) -> tuple[np.ndarray, np.ndarray]:
    path = get_file(path, origin=f"{ORIGIN}{remote}", file_hash=sha256)
    with np.load(path, allow_pickle=False) as f:
        return f["x"], f["y"]


__all__ = ["load_xy", "check_test_split", "shuffle_split"]
