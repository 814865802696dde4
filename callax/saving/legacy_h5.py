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

from callax.saving.weights_file import WeightsFileError


def legacy_group(f: Any) -> Any:
    """The group holding per-layer weights in a legacy file, or ``None`` if the
    file is not in the legacy layout."""
    import h5py

    if isinstance(f.get("model_weights", getlink=True), h5py.HardLink) and isinstance(
        f["model_weights"], h5py.Group
    ):
        group = f["model_weights"]
    else:
        group = f
    return group if "layer_names" in group.attrs else None


def is_legacy_h5(path: str) -> bool:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            return legacy_group(f) is not None
    except Exception as e:  # h5py raises OSError, ValueError or RuntimeError on damage
        raise WeightsFileError(
            f"Could not read weights file {path!r}: it is not a valid HDF5 file "
            f"(truncated, corrupted, or another format). Details: {e}"
        ) from None


def load_legacy_h5(model: Any, path: str) -> None:
    """Loads a legacy ``.h5`` file's weights into ``model`` (layers in order)."""
    import h5py

    try:
        f = h5py.File(path, "r")
    except (OSError, ValueError) as e:
        raise WeightsFileError(
            f"Could not read weights file {path!r}: it is not a valid HDF5 file "
            f"(truncated, corrupted, or another format). Details: {e}"
        ) from None
    with f:
        try:
            group = legacy_group(f)
        except Exception as e:  # noqa: BLE001 - a damaged file
            raise WeightsFileError(
                f"Could not read legacy weights file {path!r}: its contents are damaged "
                f"({type(e).__name__}: {e})."
            ) from None
        if group is None:
            raise ValueError(f"{path!r} is not a legacy Keras .h5 weights file (no layer_names).")
        load_legacy_h5_group(model, group, path)


def _decode(names: Any, what: str, path: str) -> list[str]:
    """A list of names from an attribute: strings or bytes, in a 1-D array or list
    (Keras writes an empty float array for a layer without weights)."""
    values = np.asarray(names)
    if values.size == 0:
        return []
    if values.ndim != 1 or not all(isinstance(n, (str, bytes, np.str_, np.bytes_)) for n in values):
        raise WeightsFileError(
            f"Legacy weights file {path!r}: attribute {what} must list names (strings); "
            f"received {values.dtype} of shape {values.shape}."
        )
    return [n.decode("utf8") if isinstance(n, bytes) else str(n) for n in values]


def _child(group: Any, name: str, path: str) -> Any:
    """``group[name]`` through plain (hard) links only: links could read other files."""
    import h5py

    node = group
    for part in name.split("/"):
        if not part:
            continue
        link = node.get(part, getlink=True)
        if link is None:
            raise WeightsFileError(
                f"Legacy weights file {path!r}: '{group.name}' lists {name!r}, which the "
                "file does not hold."
            )
        if not isinstance(link, h5py.HardLink):
            raise WeightsFileError(
                f"Legacy weights file {path!r} holds a {type(link).__name__} at "
                f"'{node.name}/{part}': only plain groups and datasets are accepted."
            )
        node = node[part]
    return node


def _dataset(group: Any, name: str, path: str) -> Any:
    import h5py

    ds = _child(group, name, path)
    if (
        not isinstance(ds, h5py.Dataset)
        or ds.dtype.kind not in "biuf"
        or ds.dtype.hasobject
        or ds.is_virtual
        or ds.external
    ):
        raise WeightsFileError(
            f"Legacy weights file {path!r}: '{group.name}/{name}' is not a plain numeric "
            f"dataset (found {type(ds).__name__}"
            f"{f' of dtype {ds.dtype}' if isinstance(ds, h5py.Dataset) else ''})."
        )
    return ds


def load_legacy_h5_group(model: Any, group: Any, path: str) -> None:
    """Assigns a legacy h5 group's per-layer arrays to the model's layers, in
    order: every name, link, dtype and shape is checked before anything is read,
    and nothing is assigned unless everything matches."""
    import h5py

    saved = []
    try:
        for layer_name in _decode(group.attrs["layer_names"], "layer_names", path):
            g = _child(group, layer_name, path)
            if not isinstance(g, h5py.Group):
                raise WeightsFileError(
                    f"Legacy weights file {path!r}: layer {layer_name!r} is not a group."
                )
            weight_names = _decode(g.attrs.get("weight_names", []), "weight_names", path)
            if weight_names:
                saved.append((layer_name, [_dataset(g, w, path) for w in weight_names]))
    except WeightsFileError:
        raise
    except Exception as e:  # h5py errors on a damaged file surface here
        raise WeightsFileError(
            f"Could not read legacy weights file {path!r}: its contents are damaged "
            f"({type(e).__name__}: {e})."
        ) from None
    layers = [layer for layer in model.layers if layer.weights]
    if len(layers) != len(saved):
        raise ValueError(
            f"Cannot load legacy weights file {path!r} into model '{model.name}': the model "
            f"has {len(layers)} layers with weights, the file has {len(saved)}."
        )
    for layer, (layer_name, datasets) in zip(layers, saved):
        expected = [tuple(w.shape) for w in layer.weights]
        received = [tuple(int(d) for d in ds.shape) for ds in datasets]
        if expected != received:
            raise ValueError(
                f"Cannot load legacy weights file {path!r}: layer '{layer.name}' of model "
                f"'{model.name}' expects weights of shapes {expected}; file layer "
                f"'{layer_name}' has shapes {received}."
            )
    values = []
    for layer, (_, datasets) in zip(layers, saved):
        for v, ds in zip(layer.weights, datasets):
            try:
                values.append((v, np.asarray(ds[()])))
            except Exception as e:  # noqa: BLE001 - a damaged dataset
                raise WeightsFileError(
                    f"Could not read '{ds.name}' from legacy weights file {path!r}: the file "
                    f"is damaged ({type(e).__name__}: {e})."
                ) from None
    for v, value in values:  # everything read and checked: now assign
        v.assign(value)
