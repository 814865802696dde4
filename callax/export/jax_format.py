"""The ``"jax"`` export format: a serialized ``jax.export.Exported`` (StableHLO).

The file holds the endpoint's StableHLO module with the variables baked in as
constants, lowered for CPU, CUDA and TPU by default, with a symbolic batch
dimension. It reloads and runs with JAX alone, no callax and no model code::

    import jax
    exported = jax.export.deserialize(open("model.jax", "rb").read())
    outputs = exported.call(x)                # any batch size
    outputs = exported.call(x1, x2)           # several inputs: the call's arguments
    outputs = exported.call({"a": a, "b": b}) # a dict of inputs, as the model took it

``exported.in_avals`` lists the expected shapes (``batch`` is symbolic).
Inputs keep the structure the model was called with (a list stays a list).

Example:
    >>> import numpy as np, jax, callax
    >>> from callax.export.endpoint import Endpoint
    >>> from callax.export.jax_format import export_endpoint
    >>> layer = callax.layers.Dense(2)
    >>> _ = layer(np.ones((1, 3)))
    >>> ep = Endpoint("serve", layer, [callax.layers.InputSpec(shape=(None, 3))])
    >>> blob = export_endpoint(ep, layer.variables, platforms=("cpu",))
    >>> jax.export.deserialize(blob).call(np.ones((5, 3), "float32")).shape
    (5, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax

from callax.export import signature as _sig
from callax.export.endpoint import Endpoint, symbolic_trace_note

# Where the artifact should run: lowering for several platforms costs one trace,
# and a file exported on a laptop then also runs on a GPU or TPU server.
DEFAULT_PLATFORMS = ("cpu", "cuda", "tpu")


def _platforms(platforms: Any) -> tuple[str, ...]:
    if platforms is None:
        return DEFAULT_PLATFORMS
    if isinstance(platforms, str):
        platforms = (platforms,)
    platforms = tuple(platforms)
    if not platforms or not all(isinstance(p, str) for p in platforms):
        raise ValueError(
            "export: platforms must be platform names such as ('cpu', 'cuda', 'tpu'); "
            f"received {platforms!r}."
        )
    return platforms


def export_endpoint(endpoint: Endpoint, variables: Sequence[Any], platforms: Any = None) -> bytes:
    """The endpoint as serialized ``jax.export.Exported`` bytes, variables baked in."""
    fn = jax.jit(endpoint.baked(variables))
    args = _sig.symbolic_args(endpoint.signature)
    with symbolic_trace_note(endpoint.name):
        try:
            exported = jax.export.export(fn, platforms=_platforms(platforms))(*args)
        except Exception as error:
            if platforms is None and "platform" in str(error).lower():
                error.add_note(
                    f"callax export: lowering for {DEFAULT_PLATFORMS} failed; pass "
                    f"platforms=({jax.default_backend()!r},) to export for this machine only."
                )
            raise
    return bytes(exported.serialize())
