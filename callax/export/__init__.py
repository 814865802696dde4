"""Exporting models for inference: ``model.export`` and ``ExportArchive``.

Formats (see :mod:`callax.export.formats`):

* ``"jax"`` (alias ``"stablehlo"``): one file, a serialized ``jax.export.Exported``
  (StableHLO, weights baked in, lowered for CPU/CUDA/TPU, batch axis symbolic).
  It runs with JAX alone, no callax and no model code::

      import jax
      exported = jax.export.deserialize(open("model.jax", "rb").read())
      y = exported.call(x)           # or .call(x1, x2), .call({"a": a, "b": b})

* ``"onnx"``: one ``.onnx`` file (jax2onnx; ``pip install callax[onnx]``), run by
  ``onnxruntime.InferenceSession(path).run(None, {name: array, ...})``.
* ``"tf_saved_model"`` (Keras's default): a SavedModel directory (jax2tf; needs
  TensorFlow), run by ``tf.saved_model.load(path).serve(x)``.

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
