import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's bundled handwritten digits (no download), split 1500/297."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.data / 16.0).astype("float32")
    y = d.target.astype("int32")
    idx = np.random.default_rng(0).permutation(len(x))
    x, y = x[idx], y[idx]
    return x[:1500], y[:1500], x[1500:], y[1500:]
