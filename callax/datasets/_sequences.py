"""The word-index transforms IMDB and Reuters share (Keras's conventions:
0 padding, ``start_char`` first, ``oov_char`` for dropped words, indices
shifted by ``index_from``)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from callax.datasets._common import ORIGIN
from callax.utils.file_utils import get_file


def shift(seqs: Sequence, start_char: int | None, index_from: int) -> list[list[int]]:
    """Adds ``index_from`` to every word index and prepends ``start_char``."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in s] for s in seqs]
    if index_from:
        return [[w + index_from for w in s] for s in seqs]
    return [list(s) for s in seqs]


def drop_long(maxlen: int, seqs: list, labels: Sequence) -> tuple[list, list]:
    """Keeps the sequences shorter than ``maxlen`` (strictly, as Keras)."""
    kept = [(s, y) for s, y in zip(seqs, labels) if len(s) < maxlen]
    return [s for s, _ in kept], [y for _, y in kept]


def limit_vocabulary(
    seqs: list, num_words: int | None, skip_top: int, oov_char: int | None
) -> list[list[int]]:
    """Words outside ``[skip_top, num_words)`` become ``oov_char`` (or are
    removed when ``oov_char`` is None). ``num_words=None`` keeps every word."""
    if not num_words:
        num_words = max(max(s) for s in seqs if s)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in s] for s in seqs]
    return [[w for w in s if skip_top <= w < num_words] for s in seqs]


def permute(rng: np.random.RandomState, *arrays: np.ndarray) -> list[np.ndarray]:
    order = np.arange(len(arrays[0]))
    rng.shuffle(order)
    return [a[order] for a in arrays]


def word_index(path: str, remote: str, md5: str) -> dict[str, int]:
    """The ``{word: index}`` dictionary of a text data set."""
    path = get_file(fname=path, origin=f"{ORIGIN}{remote}", file_hash=md5)
    with open(path) as f:
        return json.load(f)
