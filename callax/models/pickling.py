"""Pickling models, as Keras 3 does: a built model pickles as the bytes of its
``.keras`` archive (config, weights, compile state and optimizer variables); an
unbuilt one as its config. ``copy.deepcopy`` goes the same way.

Example:
    >>> import pickle, numpy as np, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2)])
    >>> again = pickle.loads(pickle.dumps(model))
    >>> x = np.ones((1, 3), "float32")
    >>> bool(np.allclose(again.predict(x, verbose=0), model.predict(x, verbose=0)))
    True
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from callax.core.serialization import deserialize_keras_object, serialize_keras_object
from callax.layers.core.lora import raw_lora_weights
from callax.saving.saving_api import load_model, save_model


def serialize_model_as_bytes(model: Any) -> bytes:
    """The ``.keras`` archive of ``model``, as bytes."""
    with tempfile.TemporaryDirectory() as folder, raw_lora_weights():
        path = os.path.join(folder, "model.keras")
        save_model(model, path)  # LoRA factors as they are: the copy trains on exactly
        with open(path, "rb") as f:
            return f.read()


def deserialize_model_from_bytes(data: bytes) -> Any:
    """The model whose ``.keras`` archive is ``data`` (compiled as it was saved).
    Unpickling runs code anyway, so the archive is read with ``safe_mode=False``."""
    with tempfile.TemporaryDirectory() as folder, raw_lora_weights():
        path = os.path.join(folder, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return load_model(path, safe_mode=False)


def deserialize_model_from_config(config: dict) -> Any:
    """An unbuilt model from its serialized config."""
    return deserialize_keras_object(config, safe_mode=False)


def reduce_model(model: Any) -> tuple:
    """``Model.__reduce__``: the archive's bytes for a built model, else its config."""
    if model.built:
        return (deserialize_model_from_bytes, (serialize_model_as_bytes(model),))
    return (deserialize_model_from_config, (serialize_keras_object(model),))
