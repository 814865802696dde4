"""Boston housing prices (13 features, 506 samples). Keras keeps it with a
warning about its ethically problematic feature "B"; prefer ``california_housing``."""

from __future__ import annotations

from callax.datasets._housing import check_test_split, load_xy, shuffle_split

_SHA256 = "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"


def load_data(path: str = "boston_housing.npz", test_split: float = 0.2, seed: int = 113):
    """Returns ``(x_train, y_train), (x_test, y_test)``: features ``(n, 13)`` and
    prices ``(n,)``, shuffled with ``seed`` before the last ``test_split``
    fraction is kept for testing (the same split as Keras)."""
    check_test_split(test_split)
    x, y = load_xy(path, "boston_housing.npz", _SHA256)
    return shuffle_split(x, y, test_split, seed)
