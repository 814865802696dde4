"""Shared checks of a callax application against the same Keras 3 model (test-only oracle)."""

from __future__ import annotations

import importlib

import numpy as np

import callax


def build_pair(keras, builder: str, module: str, **kwargs):
    """``(keras_model, callax_model)`` of ``builder`` (weights=None), each built
    first in a fresh session, so default layer names (``conv2d_7``) line up too."""
    keras.backend.clear_session()
    k = getattr(keras.applications, builder)(weights=None, **kwargs)
    callax.backend.clear_session()
    c = getattr(importlib.import_module(f"callax.applications.{module}"), builder)(
        weights=None, **kwargs
    )
    return k, c


def assert_same_structure(k, c) -> None:
    """Same layers (names, order), weights (shapes, order), size and output shape."""
    assert c.name == k.name
    assert [lay.name for lay in c.layers] == [lay.name for lay in k.layers]
    assert [type(lay).__name__ for lay in c.layers] == [type(lay).__name__ for lay in k.layers]
    assert [tuple(w.shape) for w in c.weights] == [tuple(w.shape) for w in k.weights]
    assert c.count_params() == k.count_params()
    assert c.output_shape == k.output_shape


def trained_like_weights(model, seed: int = 1) -> list[np.ndarray]:
    """The model's weights with BatchNorm statistics, scales and biases moved off
    their initial values (so inference really uses them); kernels keep their
    variance-preserving initialization, so deep stacks stay finite."""
    rng = np.random.default_rng(seed)
    out = []
    for v, w in zip(model.weights, model.get_weights(), strict=True):
        kind = v.path.split("/")[-1]
        if kind in ("gamma", "moving_variance"):
            w = w * rng.uniform(0.8, 1.2, w.shape).astype(w.dtype)
        elif kind in ("beta", "moving_mean", "bias"):
            w = w + rng.uniform(-0.2, 0.2, w.shape).astype(w.dtype)
        out.append(w)
    return out


def assert_same_outputs(k, c, input_shape: tuple, seed: int = 0) -> None:
    """Copies Keras's (perturbed) weights into callax in order and compares the
    inference outputs on one random batch."""
    weights = trained_like_weights(k)
    k.set_weights(weights)
    c.set_weights(weights)
    x = np.random.default_rng(seed).uniform(-1, 1, (2, *input_shape)).astype("float32")
    expected = np.asarray(k(x, training=False))
    assert np.isfinite(expected).all() and np.abs(expected).max() > 1e-3
    np.testing.assert_allclose(np.asarray(c(x, training=False)), expected, rtol=1e-4, atol=1e-5)


def write_legacy_h5(model, path: str) -> None:
    """Writes ``model``'s weights in the Keras 2 layout of Keras's ImageNet files,
    by hand: one group per layer (``layer_names``), arrays in weight order."""
    import h5py

    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [lay.name.encode() for lay in model.layers]
        for lay in model.layers:
            g = f.create_group(lay.name)
            names = [
                f"{lay.name}/{w.path.split('/')[-1]}_{i}".encode()
                for i, w in enumerate(lay.weights)
            ]
            g.attrs["weight_names"] = names
            for n, w in zip(names, lay.get_weights()):
                g.create_dataset(n.decode(), data=w)


def offline(monkeypatch, tmp_path) -> None:
    """No network and an empty ``$KERAS_HOME``: a weights download fails."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    from callax.utils import file_utils

    def no_network(url, target, *args, **kwargs):
        raise OSError("no network")

    monkeypatch.setattr(file_utils, "_download", no_network)
