"""IMDB movie reviews: 25,000 training and 25,000 test reviews labelled by
sentiment (0 negative, 1 positive), each a list of word indices."""

from __future__ import annotations

from typing import Any

import numpy as np

from callax.datasets import _sequences as seq
from callax.datasets._common import ORIGIN
from callax.datasets._npz import load_npz
from callax.utils.file_utils import get_file

_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"


def load_data(
    path: str = "imdb.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    **kwargs: Any,
) -> tuple:
    """Returns ``(x_train, y_train), (x_test, y_test)``: object arrays of word-index
    lists and integer labels, shuffled with ``seed`` (the same order as Keras).

    Args:
        path: file name in the cache.
        num_words: keep the ``num_words`` most frequent words (others: ``oov_char``).
        skip_top: also replace the ``skip_top`` most frequent words.
        maxlen: drop reviews of ``maxlen`` words or more.
        seed: shuffling seed.
        start_char: index marking the start of a review (``None``: none).
        oov_char: index of dropped words (``None``: remove them).
        index_from: offset added to every word index.
    """
    del kwargs  # legacy arguments, accepted and ignored as by Keras
    path = get_file(fname=path, origin=f"{ORIGIN}imdb.npz", file_hash=_SHA256)
    data = load_npz(path)
    rng = np.random.RandomState(seed)
    x_train, labels_train = seq.permute(rng, data["x_train"], data["y_train"])
    x_test, labels_test = seq.permute(rng, data["x_test"], data["y_test"])
    x_train = seq.shift(x_train, start_char, index_from)
    x_test = seq.shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = seq.drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = seq.drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"imdb.load_data: no review is shorter than maxlen={maxlen}; increase maxlen."
            )
    xs = seq.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    n = len(x_train)
    return (
        (np.array(xs[:n], dtype="object"), labels[:n]),
        (np.array(xs[n:], dtype="object"), labels[n:]),
    )


def get_word_index(path: str = "imdb_word_index.json") -> dict[str, int]:
    """``{word: index}`` for IMDB (indices before ``index_from`` shifting)."""
    return seq.word_index(path, "imdb_word_index.json", "bfafd718b763782e994055a2d397834f")
