"""Small models saved by callax, made once per session, for the saving cases and
the loader fuzzer: their ``.keras`` and ``.weights.h5`` files, and helpers to
rewrite a ``.keras`` zip member by member."""

from __future__ import annotations

import functools
import io
import json
import os
import zipfile
from typing import Any

import numpy as np
from fault_case import session_dir

import callax

L = callax.layers


class Tiny(callax.Model):
    """A subclassed model known to the loader only through ``custom_objects``."""

    def __init__(self, units: int = 2, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = L.Dense(4, activation="relu", name="hidden")
        self.out = L.Dense(units, name="out")

    def call(self, inputs):
        return self.out(self.hidden(inputs))

    def get_config(self):
        return {**super().get_config(), "units": self.units}


CUSTOM = {"Tiny": Tiny}


def make(kind: str) -> Any:
    """A fresh built model of ``kind`` ("tiny", "functional", "sequential")."""
    if kind == "tiny":
        model = Tiny(name="tiny")
        model(np.ones((1, 3), "float32"))
    elif kind == "functional":
        i = callax.Input((3,), name="features")
        h = L.Dense(4, activation="relu", name="hidden")(i)
        model = callax.Model(i, L.Dense(2, name="out")(h), name="functional_net")
    else:
        model = callax.Sequential(
            [callax.Input((3,)), L.Dense(4, name="hidden"), L.BatchNormalization(name="bn")],
            name="sequential_net",
        )
    return model


def weights_of(model: Any) -> list[np.ndarray]:
    return [np.array(w.value) for w in model.weights]


def randomize(model: Any, seed: int) -> list[np.ndarray]:
    """Gives ``model`` distinct weights; returns them."""
    rng = np.random.default_rng(seed)
    for w in model.weights:
        w.assign(rng.standard_normal(tuple(w.shape)).astype(str(w.dtype)))
    return weights_of(model)


@functools.cache
def saved(kind: str, compiled: bool = False) -> tuple[str, str, tuple]:
    """``(keras_path, weights_path, weights)`` of a model of ``kind`` saved once.
    Never modify these files: copy them."""
    model = make(kind)
    if compiled:
        model.compile(optimizer="adam", loss="mse")
        model.fit(
            np.ones((4, 3), "float32"),
            np.ones((4, model.output_shape[-1] if kind != "tiny" else 2), "float32"),
            verbose=0,
        )
    weights = tuple(randomize(model, seed=1))
    directory = session_dir()
    stem = os.path.join(directory, f"{kind}{'_compiled' if compiled else ''}")
    model.save(stem + ".keras")
    model.save_weights(stem + ".weights.h5")
    return stem + ".keras", stem + ".weights.h5", weights


def load(path: Any, **kwargs: Any) -> Any:
    kwargs.setdefault("custom_objects", CUSTOM)
    return callax.saving.load_model(path, **kwargs)


# ------------------------------------------------------------- zip surgery
def members(path: Any) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_zip(path: Any, content: dict[str, bytes] | list[tuple[str, bytes]]) -> str:
    items = content.items() if isinstance(content, dict) else content
    with zipfile.ZipFile(path, "w") as z:
        for name, data in items:
            z.writestr(zipfile.ZipInfo(name), data)
    return os.fspath(path)


def config_of(path: Any) -> dict:
    return json.loads(members(path)["config.json"])


def with_config(src: Any, dest: Any, config: Any) -> str:
    """A copy of the archive ``src`` at ``dest`` whose config.json is ``config``
    (a dict, or raw bytes/str)."""
    content = members(src)
    if isinstance(config, (dict, list)):
        config = json.dumps(config)
    content["config.json"] = config.encode() if isinstance(config, str) else config
    return write_zip(dest, content)


def with_weights(src: Any, dest: Any, weights_bytes: bytes) -> str:
    content = members(src)
    content["model.weights.h5"] = weights_bytes
    return write_zip(dest, content)


def h5_bytes(write: Any) -> bytes:
    """The bytes of an h5 file that ``write(h5py.File)`` fills."""
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        write(f)
    return buf.getvalue()


def signature(arrays) -> list:
    """Weights as a sorted multiset: independent of order and layer names."""
    return sorted((str(np.asarray(a).dtype), np.shape(a), np.asarray(a).tobytes()) for a in arrays)


def signature_of(model: Any) -> list:
    return signature(weights_of(model))


@functools.cache
def legacy_h5(kind: str = "functional") -> tuple[str, tuple]:
    """``(path, weights)``: ``kind``'s saved weights in the legacy Keras 2 ``.h5``
    layout (``model_weights`` with ``layer_names`` / ``weight_names``), as Keras
    3 writes it for ``model.save("x.h5")``."""
    import h5py

    model = make(kind)
    weights = tuple(randomize(model, seed=1))
    path = os.path.join(session_dir(), f"{kind}_legacy.h5")
    text = h5py.string_dtype()
    with h5py.File(path, "w") as f:
        group = f.create_group("model_weights")
        names = []
        for layer in model.layers:
            names.append(layer.name)
            sub = group.create_group(layer.name)
            weight_names = [f"{layer.name}/{w.name}" for w in layer.weights]
            sub.attrs["weight_names"] = (
                np.array(weight_names, dtype=text) if weight_names else np.array([], "float64")
            )
            for w, name in zip(layer.weights, weight_names):
                sub.create_dataset(name, data=np.asarray(w.value))
        group.attrs["layer_names"] = np.array(names, dtype=text)
    return path, weights
