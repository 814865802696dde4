"""Layers called inside a TensorFlow graph: ``tf.data.Dataset.map``, ``tf.function``.

Keras users put preprocessing layers into their input pipelines::

    ds = ds.map(lambda x, y: (augment(x), y))      # RandomFlip, Rescaling, ...
    ds = ds.map(text_vectorization)                # strings -> token ids

Inside ``map`` the layer receives *symbolic* TensorFlow tensors: there is no
value yet, only a shape and a dtype. A layer called on one (step 3 of the call
protocol finds it) runs through :func:`tf_graph_call`: the output specs come
from the same symbolic pass ``callax.Input`` uses (the layer is built there,
once), and the call itself becomes a ``tf.numpy_function`` node that, for each
element or batch, hands NumPy arrays to the ordinary eager call and NumPy
arrays back. So every layer (custom ones too) works in a pipeline, with the
output's static shape and dtype known to the rest of the graph; random layers
draw new numbers for each batch from their seed generator.

The cost is TensorFlow's for a Python function in a graph: the call holds the
GIL, so ``num_parallel_calls`` does not run it in parallel.

Example (skipped unless TensorFlow is installed):
    >>> import numpy as np, callax
    >>> tf = __import__("pytest").importorskip("tensorflow")
    >>> scale = callax.layers.Rescaling(0.5)
    >>> ds = tf.data.Dataset.from_tensor_slices(np.ones((4, 2), "float32")).batch(2)
    >>> [b.tolist() for b in ds.map(scale).as_numpy_iterator()][0]
    [[0.5, 0.5], [0.5, 0.5]]
"""

from __future__ import annotations

import sys
from typing import Any

import jax
import numpy as np

from callax.core.foreign_arrays import is_tf_graph_tensor, to_numpy
from callax.core.keras_tensor import KerasTensor
from callax.core.symbolic import symbolic_specs

#: What :func:`callax.core.call.convert_args` reports (instead of ``True`` for
#: ``callax.Input`` tensors) when an argument is a symbolic TensorFlow tensor.
IN_TF_GRAPH = "tf-graph"


def _is_spec(x: Any) -> bool:
    return hasattr(x, "shape") and hasattr(x, "dtype")


def tf_graph_call(layer: Any, args: tuple, kwargs: dict, training: Any) -> Any:
    """``layer(*args, **kwargs)`` where some arguments are symbolic TensorFlow
    tensors: a ``tf.numpy_function`` node whose outputs have the layer's output
    shapes and dtypes."""
    tf = sys.modules["tensorflow"]
    who = f"{type(layer).__name__} '{layer.name}'"
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
    positions = [i for i, v in enumerate(leaves) if is_tf_graph_tensor(v)]
    # eager TensorFlow/torch values as NumPy; the graph tensors are filled in per call
    constants = [v if i in positions else to_numpy(v) for i, v in enumerate(leaves)]
    stand_ins = list(constants)
    for i in positions:
        tensor = leaves[i]
        if tensor.shape.rank is None:
            raise ValueError(
                f"{who} was called inside a TensorFlow graph (tf.data `map` or tf.function) "
                f"on a tensor of unknown rank; it needs at least the rank. Received {tensor}. "
                "Give the dataset's elements a known shape (e.g. `tf.ensure_shape`)."
            )
        dtype = "string" if tensor.dtype == tf.string else tensor.dtype.as_numpy_dtype
        stand_ins[i] = KerasTensor(tensor.shape.as_list(), dtype=dtype)
    stand_in_args, stand_in_kwargs = treedef.unflatten(stand_ins)
    specs = symbolic_specs(layer, stand_in_args, stand_in_kwargs, training)
    out_specs, out_treedef = jax.tree_util.tree_flatten(specs, is_leaf=_is_spec)
    out_dtypes = [tf.string if s.dtype == "string" else tf.as_dtype(np.dtype(s.dtype))
                  for s in out_specs]  # fmt: skip

    def run(*values: np.ndarray) -> list[np.ndarray]:
        filled = list(constants)
        for i, value in zip(positions, values):
            filled[i] = value
        call_args, call_kwargs = treedef.unflatten(filled)
        if training is not None:
            call_kwargs["training"] = training
        outputs = jax.tree_util.tree_leaves(layer(*call_args, **call_kwargs))
        if len(outputs) != len(out_dtypes):
            raise ValueError(
                f"{who}: inside a TensorFlow graph the call returned {len(outputs)} "
                f"tensors where its output spec promised {len(out_dtypes)}."
            )
        return [_as_output(o, t) for o, t in zip(outputs, out_dtypes)]

    outputs = tf.numpy_function(
        run, [leaves[i] for i in positions], out_dtypes, stateful=True, name=layer.name
    )
    for tensor, spec in zip(outputs, out_specs):
        tensor.set_shape(spec.shape)
    return out_treedef.unflatten(outputs)


def _as_output(value: Any, dtype: Any) -> np.ndarray:
    """A layer output as the NumPy array ``tf.numpy_function`` declared (JAX
    narrows 64-bit integers to 32 bits; TensorFlow wants the declared dtype)."""
    value = np.asarray(value)
    if dtype.name == "string":
        return value.astype(object)
    return value.astype(dtype.as_numpy_dtype, copy=False)
