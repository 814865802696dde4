"""Legacy (Keras 2) ``.h5`` files: what ``model.save("x.h5")`` and
``save_weights("x.h5")`` wrote before Keras 3 (and Keras 3 still writes for a
``.h5`` path), and the format of Keras's ImageNet application weights.

Such a file lists its layers in the ``layer_names`` attribute (under
``model_weights`` for a whole-model file); each layer group holds its arrays in
the order of its ``weight_names``. They are matched to the model's layers that
have weights, in order, after every shape was checked (all or nothing).
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from callax.package_version import __version__
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


def _open(path: str) -> Any:
    """The h5 file at ``path``, read-only; a file h5py cannot open is a
    ``WeightsFileError`` naming it."""
    import h5py

    try:
        return h5py.File(path, "r")
    except (OSError, ValueError) as e:
        raise WeightsFileError(
            f"Could not read weights file {path!r}: it is not a valid HDF5 file "
            f"(truncated, corrupted, or another format). Details: {e}"
        ) from None


def load_legacy_h5(model: Any, path: str) -> None:
    """Loads a legacy ``.h5`` file's weights into ``model`` (layers in order)."""
    with _open(path) as f:
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


# ------------------------------------------------------------ whole models
def write_legacy_h5(model: Any, f: Any, config: dict, compile_config: dict | None) -> None:
    """Writes a whole model to an open h5 file in the legacy layout Keras 3 writes
    for ``model.save("x.h5")``: the config as the ``model_config`` attribute, the
    compile arguments as ``training_config``, each layer's weights in a group of
    ``model_weights`` (``layer_names``, then ``weight_names`` per layer). The
    optimizer's state is not kept (use ``.keras`` for that)."""
    f.attrs["backend"] = "jax"
    f.attrs["keras_version"] = f"callax {__version__}"
    f.attrs["model_config"] = json.dumps(config)
    if compile_config:
        training = {k: v for k, v in compile_config.items() if k != "optimizer"}
        training["optimizer_config"] = compile_config.get("optimizer")
        f.attrs["training_config"] = json.dumps(training)
    group = f.create_group("model_weights")
    group.attrs["backend"] = "jax"
    group.attrs["keras_version"] = f.attrs["keras_version"]
    layers = list(model.layers)
    group.attrs["layer_names"] = np.array([layer.name.encode("utf8") for layer in layers])
    for layer in layers:
        g = group.create_group(layer.name)
        weights = list(layer.weights)
        names = [v.path for v in weights]
        g.attrs["weight_names"] = np.array([n.encode("utf8") for n in names])
        for name, v in zip(names, weights):
            g.create_dataset(name, data=v.numpy())


def read_legacy_h5_model(path: str) -> tuple[dict, dict | None, Any]:
    """Opens a legacy whole-model ``.h5`` file: its model config, its compile
    config (Keras's ``training_config`` with ``optimizer_config`` renamed
    ``optimizer``, or ``None``) and the open file (close it when done)."""
    f = _open(path)
    try:
        if "model_config" not in f.attrs:
            raise ValueError(
                f"{path!r} holds weights only (no model_config): build the model in code "
                "and call model.load_weights(...) on it."
            )
        config = _named_as_keras(json.loads(_text(f.attrs["model_config"])))
        training = f.attrs.get("training_config")
        compile_config = None
        if training is not None:
            compile_config = json.loads(_text(training))
            compile_config["optimizer"] = compile_config.pop("optimizer_config", None)
    except ValueError as e:  # json.JSONDecodeError too
        f.close()
        raise ValueError(f"Could not read the model stored in {path!r}: {e}") from None
    return config, compile_config, f


def _named_as_keras(config: Any) -> Any:
    """Keras 2's configs name a class without its module (``{"class_name": "Dense",
    "config": {...}}``): each such entry is looked up among Keras's public modules,
    as the ones Keras 3 writes are (registered classes still win)."""
    if isinstance(config, list):
        return [_named_as_keras(c) for c in config]
    if not isinstance(config, dict):
        return config
    out = {k: _named_as_keras(v) for k, v in config.items()}
    if "class_name" in out and "config" in out and out.get("module") is None:
        out["module"] = "keras"
    return out


def _text(value: Any) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)
