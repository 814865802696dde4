"""The ``"tf_saved_model"`` export format: a TensorFlow SavedModel via jax2tf.

Each endpoint becomes a ``tf.function`` whose body is the endpoint's StableHLO
(jax2tf native serialization, an ``XlaCallModule`` op) with a dynamic batch
axis; the tracked variables become ``tf.Variable``s the function reads, so the
reloaded object lists them. Endpoints whose inputs are plain tensors are also
serving signatures, the first under ``"serving_default"`` (TF-Serving)::

    reloaded = tf.saved_model.load(path)
    y = reloaded.serve(x)                       # the endpoint, as a method
    y = reloaded.signatures["serving_default"](inputs1=x1, inputs2=x2)
    reloaded.variables                          # the tracked variables

Needs TensorFlow (``pip install tensorflow``); the artifact needs TensorFlow
alone to reload.
"""

from __future__ import annotations

import re
from typing import Any

import jax
import numpy as np

from callax.export import signature as _sig
from callax.export.endpoint import symbolic_trace_note
from callax.export.jax_format import DEFAULT_PLATFORMS


def import_tensorflow() -> tuple[Any, Any]:
    """``(tensorflow, jax2tf)``, or an ImportError saying what to install."""
    try:
        import tensorflow as tf
        from jax.experimental import jax2tf
    except ImportError as error:
        raise ImportError(
            f"format='tf_saved_model' needs TensorFlow and jax.experimental.jax2tf ({error}). "
            "Install TensorFlow with `pip install tensorflow`, or export with format='jax' "
            "(reloads with JAX alone) or format='onnx' (`pip install callax[onnx]`)."
        ) from error
    return tf, jax2tf


def _tf_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.\-/]", "_", path) or "variable"


def write(archive: Any, directory: str, options: Any = None) -> None:
    """Writes ``archive`` (an :class:`~callax.export.archive.ExportArchive`) as a
    SavedModel into ``directory``."""
    tf, jax2tf = import_tensorflow()
    variables = archive._variables
    tf_vars = {}
    for v in variables:
        tf_vars[id(v)] = tf.Variable(
            np.asarray(v.value), trainable=v.trainable, name=_tf_name(v.path)
        )
    root = tf.__internal__.tracking.AutoTrackable()
    root.variables = [tf_vars[id(v)] for v in variables]
    root.trainable_variables = [tf_vars[id(v)] for v in variables if v.trainable]
    root.non_trainable_variables = [tf_vars[id(v)] for v in variables if not v.trainable]
    for name, collection in archive._collections.items():
        for v in collection:
            if id(v) not in tf_vars:
                tf_vars[id(v)] = tf.Variable(
                    np.asarray(v.value), trainable=v.trainable, name=_tf_name(v.path)
                )
        setattr(root, name, [tf_vars[id(v)] for v in collection])

    state = [tf_vars[id(v)] for v in variables]
    signatures = {}
    for endpoint in archive._endpoints.values():
        convert_args = {
            "polymorphic_shapes": _sig.polymorphic_shapes(endpoint.signature),
            "with_gradient": False,
            "native_serialization_platforms": DEFAULT_PLATFORMS,
            **endpoint.jax2tf_kwargs,
        }
        convert_args.pop("native_serialization", None)  # the only mode left in jax2tf
        # The converted function's first argument is the variables' values: static.
        shapes = convert_args["polymorphic_shapes"]
        shapes = [shapes] if isinstance(shapes, str) or shapes is None else list(shapes)
        convert_args["polymorphic_shapes"] = (None, *shapes)
        converted = jax2tf.convert(endpoint.pure(variables), **convert_args)
        specs = _tensor_specs(tf, endpoint)

        fn = tf.function(_reading(converted, state), input_signature=list(specs), autograph=False)
        with symbolic_trace_note(endpoint.name):
            concrete = fn.get_concrete_function()
        setattr(root, endpoint.name, fn)
        if all(not isinstance(a, (list, tuple, dict)) for a in endpoint.signature):
            if not signatures and "serving_default" not in archive._endpoints:
                signatures["serving_default"] = concrete  # TF-Serving's default
            signatures[endpoint.name] = concrete
    tf.saved_model.save(root, directory, signatures=signatures or None, options=options)


def _reading(converted: Any, state: list) -> Any:
    def serve(*args: Any) -> Any:
        return converted([s.read_value() for s in state], *args)

    return serve


def _tensor_specs(tf: Any, endpoint: Any) -> tuple:
    leaves, treedef = jax.tree_util.tree_flatten(endpoint.signature)
    specs = [
        tf.TensorSpec(
            [d if isinstance(d, int) else None for d in s.shape], tf.as_dtype(s.dtype), name=n
        )
        for s, n in zip(leaves, endpoint.input_names)
    ]
    return tuple(jax.tree_util.tree_unflatten(treedef, specs))
