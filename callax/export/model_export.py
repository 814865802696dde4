"""``model.export(filepath, format=...)``: a model's inference call as an artifact.

The exported function is ``model(*inputs, training=False)`` (Dropout off,
BatchNormalization on its moving statistics) with the weights' current values.
The input signature defaults to the built model's inputs with a dynamic batch
axis; pass ``input_signature`` to choose shapes, dtypes or more dynamic dims.

* ``format="jax"`` (alias ``"stablehlo"``): one file, a serialized
  ``jax.export.Exported``; ``jax.export.deserialize(open(p, "rb").read()).call(x)``
  runs it without callax (see :mod:`callax.export.jax_format`).
* ``format="onnx"``: one ``.onnx`` file (jax2onnx; ``pip install callax[onnx]``).
* ``format="tf_saved_model"`` (the default, as in Keras): a SavedModel directory
  with the endpoint ``serve`` (needs TensorFlow).

Example:
    >>> import os, tempfile, jax, numpy as np, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2)])
    >>> x = np.ones((5, 3), "float32")
    >>> with tempfile.TemporaryDirectory() as d:
    ...     model.export(d + "/model.jax", format="jax", verbose=False, platforms=("cpu",))
    ...     exported = jax.export.deserialize(open(d + "/model.jax", "rb").read())
    ...     y = exported.call(x)
    >>> bool(np.allclose(y, model.predict(x, verbose=0), atol=1e-6))
    True
"""

from __future__ import annotations

import os
from typing import Any

from callax.core import pitfalls
from callax.export import signature as _sig
from callax.export.archive import ExportArchive
from callax.export.endpoint import Endpoint
from callax.export.formats import resolve_format
from callax.utils.atomic_files import atomic_write

_OPTIONS = {
    "jax": {"platforms"},
    "onnx": {"opset_version"},
    "tf_saved_model": {"options", "is_static", "jax2tf_kwargs"},
}


def export_model(
    model: Any,
    filepath: str | os.PathLike,
    format: str = "tf_saved_model",
    verbose: bool | None = None,
    input_signature: Any = None,
    **kwargs: Any,
) -> None:
    """Writes ``model``'s inference call to ``filepath`` (atomically); see the module doc.

    Args:
        model: a built callax model (or layer).
        filepath: the file (``"jax"``, ``"onnx"``) or directory (``"tf_saved_model"``).
        format: ``"tf_saved_model"``, ``"jax"`` (``"stablehlo"``) or ``"onnx"``.
        verbose: print where the artifact went (default True).
        input_signature: specs for the call's positional arguments
            (:mod:`callax.export.signature`); default: inferred from the model.
        **kwargs: ``platforms`` (``"jax"``), ``opset_version`` (``"onnx"``),
            ``options`` (a ``tf.saved_model.SaveOptions``), ``jax2tf_kwargs`` and
            ``is_static`` (``"tf_saved_model"``, as in Keras; ``is_static`` changes
            nothing: the exported call never updates state).
    """
    fmt = resolve_format(format)
    unknown = sorted(set(kwargs) - _OPTIONS[fmt])
    if unknown:
        raise TypeError(
            f"export(format={fmt!r}): unexpected keyword arguments {unknown}; this format "
            f"accepts {sorted(_OPTIONS[fmt])}."
        )
    if not model.built:
        raise ValueError(pitfalls.unbuilt(model, "export()"))
    if fmt == "onnx":
        _check_onnx_dtypes(model)
    if input_signature is None:
        input_signature = _sig.model_signature(model)
    archive = ExportArchive(fmt)
    archive.track(model)
    params = _sig.data_params(model)

    def serve(*args: Any) -> Any:
        return model(*args, training=False)

    endpoint = Endpoint("serve", serve, input_signature, arg_names=params)
    endpoint.jax2tf_kwargs = dict(kwargs.get("jax2tf_kwargs") or {})
    endpoint.output_specs(archive.variables)  # trace once: errors before any writing
    archive._endpoints["serve"] = endpoint
    filepath = os.fspath(filepath)
    if fmt == "tf_saved_model":
        archive.write_out(filepath, options=kwargs.get("options"), verbose=False)
    else:
        blob = archive._export_endpoint(endpoint, fmt, kwargs)
        with atomic_write(filepath) as f:
            f.write(blob)
    if verbose or verbose is None:
        archive._print_summary(filepath, fmt)


def _check_onnx_dtypes(model: Any) -> None:
    # jax2onnx writes bfloat16 matmuls that ONNX Runtime refuses to load (float16 works).
    for layer in model._flatten_layers():
        if layer.dtype_policy.compute_dtype == "bfloat16":
            raise ValueError(
                f"export(format='onnx'): layer '{layer.name}' computes in bfloat16 (dtype "
                f"policy {layer.dtype_policy.name!r}), which the ONNX export does not support; "
                "export a float32 or float16 model, or use format='jax' or 'tf_saved_model'. "
                f"Received a model with a {layer.dtype_policy.name!r} layer."
            )
