"""Endpoints: exported functions as pure functions of the tracked variables.

An endpoint wraps a Python function that reads callax variables (``model.call``,
``lambda x: model(x, training=False)``...). ``pure(values, *args)`` runs it in a
``StatelessScope`` mapping each tracked variable to the value given, so the
same function can be traced with the values as constants (the ``jax`` and
``onnx`` artifacts bake them in) or as inputs (``tf_saved_model`` keeps them as
``tf.Variable``s). Assignments inside the call (BatchNorm statistics, seed
states) are discarded: an exported endpoint never changes state.

Example:
    >>> import numpy as np
    >>> import callax
    >>> from callax.export.endpoint import Endpoint
    >>> layer = callax.layers.Dense(2, kernel_initializer="ones")
    >>> _ = layer(np.ones((1, 3)))
    >>> ep = Endpoint("serve", layer, [callax.layers.InputSpec(shape=(None, 3))])
    >>> values = [v.value for v in layer.variables]
    >>> ep.pure(layer.variables)(values, np.ones((4, 3), "float32")).shape
    (4, 2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax

from callax.core.stateless_scope import StatelessScope
from callax.export import signature as _sig


class Endpoint:
    """A named function with an input signature (see :mod:`callax.export.signature`).

    Args:
        name: the endpoint's name (a Python identifier: it names a file or method).
        fn: the function; it may read any callax variable.
        input_signature: specs for ``fn``'s positional arguments.
        arg_names: names of ``fn``'s data arguments (default: from its signature).
    """

    def __init__(
        self,
        name: str,
        fn: Callable[..., Any],
        input_signature: Any,
        arg_names: list[str] | None = None,
    ):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                f"ExportArchive endpoint name: expected a Python identifier such as 'serve'; "
                f"received {name!r}."
            )
        if not callable(fn):
            raise TypeError(
                f"ExportArchive endpoint '{name}': fn must be callable; received "
                f"{type(fn).__name__}."
            )
        self.name = name
        self.fn = fn
        params = arg_names if arg_names is not None else _sig.data_params(fn)
        self.signature = _sig.normalize_signature(
            input_signature, len(params) if params is not None else None
        )
        self.input_names = _sig.flat_input_names(self.signature, params)
        self.jax2tf_kwargs: dict[str, Any] = {}  # tf_saved_model: extra jax2tf.convert args

    def pure(self, variables: Sequence[Any]) -> Callable[..., Any]:
        """``f(values, *args)``: ``fn(*args)`` with ``variables`` reading ``values``."""
        variables = list(variables)
        fn = self.fn

        def pure(values: Sequence[Any], *args: Any) -> Any:
            with StatelessScope(list(zip(variables, values))):
                return fn(*args)

        return pure

    def baked(self, variables: Sequence[Any]) -> Callable[..., Any]:
        """``f(*args)``: ``fn`` with the variables' current values as constants."""
        pure = self.pure(variables)
        values = [v.value for v in variables]
        return lambda *args: pure(values, *args)

    def output_specs(self, variables: Sequence[Any]) -> Any:
        """Traces the endpoint once on its symbolic signature (nothing computed):
        early errors, and the output structure."""
        with symbolic_trace_note(self.name):
            return jax.eval_shape(self.baked(variables), *_sig.symbolic_args(self.signature))


class symbolic_trace_note:
    """Adds a hint to errors raised while tracing with symbolic dimensions."""

    def __init__(self, name: str):
        self.name = name

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, error: Any, tb: Any) -> bool:
        names = {c.__name__ for c in type(error).__mro__} if error is not None else set()
        symbolic = "InconclusiveDimensionOperation" in names or "symbolic" in str(error)
        if isinstance(error, Exception) and symbolic:
            error.add_note(
                f"callax export: endpoint '{self.name}' was traced with symbolic dimensions "
                "(`None` in the input signature; axis 0 is the shared symbol `batch`). A call "
                "that needs concrete sizes exports with a fixed shape: pass input_signature="
                "[callax.layers.InputSpec(shape=(8, ...), dtype=...)]."
            )
        return False
