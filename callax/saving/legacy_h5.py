"""Legacy (Keras 2) ``.h5`` weight files: what ``model.save("x.h5")`` and
``save_weights("x.h5")`` wrote before Keras 3, and the format of Keras's ImageNet
application weights.

Such a file lists its layers in the ``layer_names`` attribute (under
``model_weights`` for a whole-model file); each layer group holds its arrays in
the order of its ``weight_names``. They are matched to the model's layers that
have weights, in order, after every shape was checked (all or nothing).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def legacy_group(f: Any) -> Any:
    """The group holding per-layer weights in a legacy file, or ``None`` if the
    file is not in the legacy layout."""
    group = f["model_weights"] if "model_weights" in f else f
    return group if "layer_names" in group.attrs else None


def is_legacy_h5(path: str) -> bool:
    import h5py

    with h5py.File(path, "r") as f:
        return legacy_group(f) is not None


def load_legacy_h5(model: Any, path: str) -> None:
    """Loads a legacy ``.h5`` file's weights into ``model`` (layers in order)."""
    import h5py

    with h5py.File(path, "r") as f:
        group = legacy_group(f)
        if group is None:
            raise ValueError(f"{path!r} is not a legacy Keras .h5 weights file (no layer_names).")
        load_legacy_h5_group(model, group, path)


def _decode(names: Any) -> list[str]:
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in names]


def load_legacy_h5_group(model: Any, group: Any, path: str) -> None:
    """Assigns a legacy h5 group's per-layer arrays to the model's layers, in order."""
    saved = []
    for layer_name in _decode(group.attrs["layer_names"]):
        g = group[layer_name]
        weight_names = _decode(g.attrs.get("weight_names", []))
        if weight_names:
            saved.append((layer_name, [np.asarray(g[w]) for w in weight_names]))
    layers = [layer for layer in model.layers if layer.weights]
    if len(layers) != len(saved):
        raise ValueError(
            f"Cannot load legacy weights file {path!r} into model '{model.name}': the model "
            f"has {len(layers)} layers with weights, the file has {len(saved)}."
        )
    for layer, (layer_name, arrays) in zip(layers, saved):
        expected = [tuple(w.shape) for w in layer.weights]
        received = [a.shape for a in arrays]
        if expected != received:
            raise ValueError(
                f"Cannot load legacy weights file {path!r}: layer '{layer.name}' of model "
                f"'{model.name}' expects weights of shapes {expected}; file layer "
                f"'{layer_name}' has shapes {received}."
            )
    for layer, (_, arrays) in zip(layers, saved):
        layer.set_weights(arrays)
