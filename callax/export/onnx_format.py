"""The ``"onnx"`` export format, converted by jax2onnx (optional extra).

``pip install callax[onnx]`` installs jax2onnx and onnxruntime. The ONNX graph
takes the flattened inputs by name (dict keys, ``Input`` names or the call's
argument names) with a dynamic ``batch`` axis, and returns the flattened
outputs (``output_0``, ... or the output dict's keys)::

    import onnxruntime
    session = onnxruntime.InferenceSession("model.onnx")
    [i.name for i in session.get_inputs()]            # e.g. ['inputs1', 'inputs2']
    outputs = session.run(None, {"inputs1": x1, "inputs2": x2})
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax

from callax.export import signature as _sig
from callax.export.endpoint import Endpoint, symbolic_trace_note
from callax.export.onnx_conv import canonical_conv_layouts
from callax.export.onnx_pooling import fix_pooling

INSTALL_HINT = "pip install callax[onnx]"


def import_jax2onnx() -> Any:
    """jax2onnx, or an ImportError saying how to install it."""
    try:
        import jax2onnx
    except ImportError as error:
        raise ImportError(
            f"format='onnx' needs the jax2onnx package, which is not installed "
            f"({error}). Install it with `{INSTALL_HINT}` (jax2onnx and onnxruntime), or "
            "export with format='jax' (needs only JAX)."
        ) from error
    return jax2onnx


def output_names(outputs: Any) -> list[str]:
    flat, _ = jax.tree_util.tree_flatten_with_path(outputs)
    names = []
    for i, (path, _leaf) in enumerate(flat):
        keys = [k.key for k in path if isinstance(k, jax.tree_util.DictKey)]
        name = str(keys[-1]) if keys else f"output_{i}"
        names.append(name if name not in names else f"{name}_{i}")
    return names


def _primitive_replay(fn: Any, leaves: list) -> Any:
    closed = jax.make_jaxpr(fn)(*leaves)

    def replay(*flat_args: Any) -> Any:
        return tuple(jax.core.eval_jaxpr(closed.jaxpr, closed.consts, *flat_args))

    return replay


def export_endpoint(
    endpoint: Endpoint, variables: Sequence[Any], opset_version: int | None = None
) -> bytes:
    """The endpoint as a serialized ONNX ``ModelProto``, variables baked in."""
    jax2onnx = import_jax2onnx()
    baked = endpoint.baked(variables)
    args = _sig.symbolic_args(endpoint.signature)
    leaves, treedef = jax.tree_util.tree_flatten(args)

    def flat_fn(*flat_args: Any) -> Any:
        # ONNX graphs take and return flat lists of tensors.
        outputs = baked(*jax.tree_util.tree_unflatten(treedef, list(flat_args)))
        return tuple(jax.tree_util.tree_leaves(outputs))

    outputs = endpoint.output_specs(variables)
    options: dict[str, Any] = {
        "inputs": leaves,
        "model_name": endpoint.name,
        "input_names": endpoint.input_names,
        "output_names": output_names(outputs),
    }
    if opset_version is not None:
        if isinstance(opset_version, bool) or not isinstance(opset_version, int):
            raise TypeError(
                f"export: opset_version must be an int such as 21; received {opset_version!r}."
            )
        options["opset"] = opset_version
    with symbolic_trace_note(endpoint.name), canonical_conv_layouts():
        try:
            proto = jax2onnx.to_onnx(flat_fn, **options)
        except Exception as error:
            # jax2onnx patches some jax.numpy functions while it traces, and the
            # patches do not take every argument callax passes (jnp.take's
            # fill_value, in Embedding). A replay of the traced primitives avoids them.
            try:
                proto = jax2onnx.to_onnx(_primitive_replay(flat_fn, leaves), **options)
            except Exception:
                raise error from None
    fix_pooling(proto)
    return proto.SerializeToString()
