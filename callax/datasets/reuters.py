"""Reuters newswires: 11,228 articles in 46 topics, each a list of word indices."""

from __future__ import annotations

import numpy as np

from callax.datasets import _sequences as seq
from callax.datasets._common import ORIGIN
from callax.datasets._npz import load_npz
from callax.utils.file_utils import get_file

_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
_LABELS = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
    "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)  # fmt: skip


def load_data(
    path: str = "reuters.npz",
    num_words: int | None = None,
    skip_top: int = 0,
    maxlen: int | None = None,
    test_split: float = 0.2,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
) -> tuple:
    """Returns ``(x_train, y_train), (x_test, y_test)``: object arrays of word-index
    lists and topic labels 0-45; arguments as ``imdb.load_data``, and the last
    ``test_split`` fraction (after shuffling with ``seed``) is the test set."""
    path = get_file(fname=path, origin=f"{ORIGIN}reuters.npz", file_hash=_SHA256)
    data = load_npz(path)
    xs, labels = seq.permute(np.random.RandomState(seed), data["x"], data["y"])
    xs = seq.shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = seq.drop_long(maxlen, xs, labels)
    xs = seq.limit_vocabulary(xs, num_words, skip_top, oov_char)
    cut = int(len(xs) * (1 - test_split))
    return (
        (np.array(xs[:cut], dtype="object"), np.array(labels[:cut])),
        (np.array(xs[cut:], dtype="object"), np.array(labels[cut:])),
    )


def get_word_index(path: str = "reuters_word_index.json") -> dict[str, int]:
    """``{word: index}`` for Reuters (indices before ``index_from`` shifting)."""
    return seq.word_index(path, "reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921")


def get_label_names() -> tuple[str, ...]:
    """The 46 topic names, in label order."""
    return _LABELS
