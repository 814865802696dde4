"""The export format names callax accepts, and the error for the others.

| format | artifact | reload with |
| --- | --- | --- |
| ``"tf_saved_model"`` (Keras's default) | a TensorFlow SavedModel directory (jax2tf) | ``tf.saved_model.load(path).serve(x)`` |
| ``"jax"`` (alias ``"stablehlo"``) | a serialized ``jax.export.Exported`` (StableHLO) | ``jax.export.deserialize(open(path, "rb").read()).call(x)`` |
| ``"onnx"`` | an ONNX model (jax2onnx) | ``onnxruntime.InferenceSession(path)`` |

Example:
    >>> from callax.export.formats import resolve_format
    >>> resolve_format("stablehlo")
    'jax'
"""

from __future__ import annotations

from typing import Any

FORMATS = ("tf_saved_model", "jax", "onnx")
ALIASES = {"saved_model": "tf_saved_model", "stablehlo": "jax"}
# Keras formats that need another backend's converter; named in the error.
KERAS_ONLY = {
    "openvino": "OpenVINO export needs the OpenVINO converter",
    "litert": "LiteRT export needs the TensorFlow Lite converter on TensorFlow tensors",
    "torch": "torch export needs PyTorch modules",
}


def resolve_format(format: Any, where: str = "export") -> str:
    """The canonical format name, or a ValueError naming the supported ones."""
    if isinstance(format, str):
        name = ALIASES.get(format.lower(), format.lower())
        if name in FORMATS:
            return name
    supported = ", ".join(repr(f) for f in FORMATS)
    why = KERAS_ONLY.get(format) if isinstance(format, str) else None
    reason = f" ({why}, which callax's JAX engine does not produce)" if why else ""
    raise ValueError(
        f"{where}: unsupported format{reason}. Supported formats: {supported} "
        f"('stablehlo' is an alias of 'jax'). Received: format={format!r}."
    )
