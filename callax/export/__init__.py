"""Exporting models for inference: ``model.export`` and ``ExportArchive``.

Formats (see :mod:`callax.export.formats`): ``"jax"`` (alias ``"stablehlo"``; a
serialized ``jax.export.Exported`` that runs with JAX alone), ``"onnx"``
(jax2onnx) and ``"tf_saved_model"`` (jax2tf; needs TensorFlow).

Example:
    >>> import callax
    >>> callax.export.FORMATS
    ('tf_saved_model', 'jax', 'onnx')
"""

from callax.export.archive import ExportArchive
from callax.export.formats import FORMATS
from callax.export.model_export import export_model
from callax.export.signature import ExportSpec

__all__ = ["ExportArchive", "ExportSpec", "FORMATS", "export_model"]
