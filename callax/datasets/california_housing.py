"""California housing prices: 20,640 districts, 8 features (1990 census)."""

from __future__ import annotations

from callax.datasets._housing import check_test_split, load_xy, shuffle_split

_SHA256 = "1a2e3a52e0398de6463aebe6f4a8da34fb21fbb6b934cf88c3425e766f2a1a6f"


def load_data(
    version: str = "large",
    path: str = "california_housing.npz",
    test_split: float = 0.2,
    seed: int = 113,
):
    """Returns ``(x_train, y_train), (x_test, y_test)``: features ``(n, 8)`` and
    prices ``(n,)``. ``version="small"`` keeps the first 600 samples."""
    check_test_split(test_split)
    x, y = load_xy(path, "california_housing.npz", _SHA256)
    if version == "small":
        x, y = x[:600], y[:600]
    elif version != "large":
        raise ValueError(
            "california_housing.load_data: version must be 'small' or 'large'; "
            f"received version={version!r}."
        )
    return shuffle_split(x, y, test_split, seed)
