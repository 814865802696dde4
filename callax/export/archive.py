"""``ExportArchive``: several endpoints and variable collections in one artifact.

The API is Keras 3's: ``track(layer)``, ``add_endpoint(name, fn,
input_signature)``, ``add_variable_collection(name, variables)``,
``write_out(path)``. Each endpoint is a pure function of the tracked
variables' values at ``write_out`` time.

``write_out(path, format=...)`` writes a directory:

* ``"tf_saved_model"``: a SavedModel; ``tf.saved_model.load(path)`` has one
  method per endpoint, ``variables``/``trainable_variables``/
  ``non_trainable_variables`` and one attribute per variable collection.
* ``"jax"``: ``<endpoint>.jax`` (serialized ``jax.export.Exported``, variables
  baked in), ``variables.npz`` and ``<collection>.npz`` (arrays keyed by
  variable path) and ``manifest.json``. Reloads with JAX and numpy alone::

      serve = jax.export.deserialize(open(f"{path}/serve.jax", "rb").read())
      y = serve.call(x)
      weights = dict(numpy.load(f"{path}/variables.npz"))

* ``"onnx"``: ``<endpoint>.onnx`` per endpoint, plus the same ``.npz`` files
  and manifest.

Example:
    >>> import os, tempfile, jax, numpy as np, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2)])
    >>> archive = callax.export.ExportArchive()
    >>> archive.track(model)
    >>> _ = archive.add_endpoint(
    ...     "serve", model.call, [callax.layers.InputSpec(shape=(None, 3), dtype="float32")])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     archive.write_out(d + "/m", format="jax", verbose=False, platforms=("cpu",))
    ...     serve = jax.export.deserialize(open(d + "/m/serve.jax", "rb").read())
    ...     serve.call(np.ones((4, 3), "float32")).shape
    (4, 2)
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import jax
import numpy as np

from callax.core import pitfalls
from callax.core.layer import Layer
from callax.core.variable import Variable
from callax.export import jax_format, onnx_format, saved_model_format
from callax.export import signature as _sig
from callax.export.endpoint import Endpoint
from callax.export.files import atomic_directory
from callax.export.formats import resolve_format
from callax.utils.io_utils import print_msg

_RESERVED = {"variables", "trainable_variables", "non_trainable_variables", "manifest"}


class ExportArchive:
    """Collects endpoints and variables, then writes one artifact (see module doc).

    Args:
        format: the default format of :meth:`write_out`: ``"tf_saved_model"``
            (Keras's default; ``"saved_model"`` also accepted), ``"jax"`` or ``"onnx"``.
    """

    def __init__(self, format: str = "tf_saved_model"):
        self.format = resolve_format(format, "ExportArchive")
        self._layers: list[Any] = []
        self._variables: list[Any] = []
        self._endpoints: dict[str, Endpoint] = {}
        self._collections: dict[str, list[Any]] = {}

    # ----------------------------------------------------------- tracking
    @property
    def variables(self) -> list[Any]:
        """Every tracked variable (deduplicated, in tracking order)."""
        return list(self._variables)

    @property
    def trainable_variables(self) -> list[Any]:
        return [v for v in self._variables if v.trainable]

    @property
    def non_trainable_variables(self) -> list[Any]:
        return [v for v in self._variables if not v.trainable]

    @property
    def endpoint_names(self) -> list[str]:
        return list(self._endpoints)

    def _add_variables(self, variables: Sequence[Any]) -> None:
        seen = {id(v) for v in self._variables}
        for v in variables:
            if id(v) not in seen:
                seen.add(id(v))
                self._variables.append(v)

    def track(self, resource: Any) -> None:
        """Tracks a built layer or model: its variables become the endpoints' state."""
        if not isinstance(resource, Layer):
            raise TypeError(
                "ExportArchive.track: expected a callax Layer or Model; received "
                f"{type(resource).__name__}."
            )
        if not resource.built:
            raise ValueError(pitfalls.unbuilt(resource, "ExportArchive.track()"))
        if all(resource is not t for t in self._layers):
            self._layers.append(resource)
        # Seed-generator state too: a random layer's endpoint reads it.
        self._add_variables(list(resource.trainable_variables))
        self._add_variables(list(resource.non_trainable_variables))

    def add_endpoint(
        self,
        name: str,
        fn: Callable[..., Any],
        input_signature: Any = None,
        **kwargs: Any,
    ) -> Callable[..., Any]:
        """Registers ``fn`` as endpoint ``name`` and returns it as a jitted function
        of its inputs (running on the tracked variables' current values).

        ``input_signature`` gives specs for ``fn``'s positional arguments (see
        :mod:`callax.export.signature`); it may be left out when ``fn`` is a
        built layer or its bound ``call``/``__call__``. The endpoint is traced
        once here (symbolically), so a function that cannot export fails now.
        """
        # Keras's JAX-backend options: `is_static` (endpoints here are always pure, so
        # it changes nothing) and `jax2tf_kwargs` (used by the tf_saved_model format).
        kwargs.pop("is_static", None)
        jax2tf_kwargs = kwargs.pop("jax2tf_kwargs", None)
        if kwargs:
            raise TypeError(
                f"ExportArchive.add_endpoint: unexpected keyword arguments {sorted(kwargs)}; "
                "accepted: is_static, jax2tf_kwargs."
            )
        if jax2tf_kwargs is not None and not isinstance(jax2tf_kwargs, dict):
            raise TypeError(
                "ExportArchive.add_endpoint: jax2tf_kwargs must be a dict of jax2tf.convert "
                f"arguments; received {type(jax2tf_kwargs).__name__}."
            )
        if name in self._endpoints:
            raise ValueError(
                f"ExportArchive.add_endpoint: an endpoint named {name!r} already exists; "
                f"endpoints: {list(self._endpoints)}."
            )
        if name in _RESERVED or name in self._collections:
            raise ValueError(
                f"ExportArchive.add_endpoint: the name {name!r} is taken (reserved names: "
                f"{sorted(_RESERVED)}; collections: {list(self._collections)})."
            )
        if input_signature is None:
            input_signature = _signature_of_layer_fn(fn, name)
        endpoint = Endpoint(name, fn, input_signature)
        endpoint.jax2tf_kwargs = dict(jax2tf_kwargs or {})
        endpoint.output_specs(self._variables)  # trace now: errors at registration
        self._endpoints[name] = endpoint
        pure = jax.jit(endpoint.pure(self._variables))
        variables = list(self._variables)
        return lambda *args: pure([v.value for v in variables], *args)

    def track_and_add_endpoint(
        self, name: str, resource: Any, input_signature: Any = None, **kwargs: Any
    ) -> Callable[..., Any]:
        """``track(resource)`` then ``add_endpoint(name, resource, input_signature)``."""
        self.track(resource)
        return self.add_endpoint(name, resource, input_signature, **kwargs)

    def add_variable_collection(self, name: str, variables: Sequence[Any]) -> None:
        """Saves ``variables`` under ``name`` (an attribute of the reloaded SavedModel,
        ``<name>.npz`` in the ``jax``/``onnx`` directories)."""
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(
                "ExportArchive.add_variable_collection: name must be a Python identifier; "
                f"received {name!r}."
            )
        if name in _RESERVED or name in self._endpoints:
            raise ValueError(
                f"ExportArchive.add_variable_collection: the name {name!r} is taken "
                f"(reserved: {sorted(_RESERVED)}; endpoints: {list(self._endpoints)})."
            )
        if not isinstance(variables, (list, tuple, set)):
            raise TypeError(
                "ExportArchive.add_variable_collection: variables must be a list, tuple or "
                f"set of callax Variables; received {type(variables).__name__}."
            )
        variables = list(variables)
        bad = [v for v in variables if not isinstance(v, Variable)]
        if bad:
            raise TypeError(
                "ExportArchive.add_variable_collection: every item must be a callax Variable; "
                f"received {type(bad[0]).__name__}."
            )
        self._collections[name] = variables

    # ------------------------------------------------------------ writing
    def write_out(
        self,
        filepath: Any,
        options: Any = None,
        verbose: bool | None = True,
        format: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Writes the artifact directory (atomically) in ``format`` (default: the
        archive's). Extra keyword arguments: ``platforms`` (``"jax"``, default
        ``("cpu", "cuda", "tpu")``), ``opset_version`` (``"onnx"``); ``options``
        is a ``tf.saved_model.SaveOptions`` (``"tf_saved_model"``)."""
        fmt = self.format if format is None else resolve_format(format, "write_out")
        if not self._endpoints:
            raise ValueError(
                "ExportArchive.write_out: no endpoints to write; register one with "
                "add_endpoint(name, fn, input_signature) first."
            )
        allowed = {"jax": {"platforms"}, "onnx": {"opset_version"}, "tf_saved_model": set()}
        unknown = sorted(set(kwargs) - allowed[fmt])
        if unknown:
            raise TypeError(
                f"ExportArchive.write_out(format={fmt!r}): unexpected keyword arguments "
                f"{unknown}; this format accepts {sorted(allowed[fmt]) or 'none'}."
            )
        if options is not None and fmt != "tf_saved_model":
            raise ValueError(
                f"ExportArchive.write_out: options= applies to format='tf_saved_model'; "
                f"received options with format={fmt!r}."
            )
        filepath = os.fspath(filepath)
        if fmt == "tf_saved_model":
            with atomic_directory(filepath) as tmp:
                saved_model_format.write(self, tmp, options)
        else:
            blobs = {
                ep.name: self._export_endpoint(ep, fmt, kwargs) for ep in self._endpoints.values()
            }
            with atomic_directory(filepath) as tmp:
                self._write_files(tmp, fmt, blobs)
        if verbose or verbose is None:
            self._print_summary(filepath, fmt)

    def _export_endpoint(self, endpoint: Endpoint, fmt: str, kwargs: dict) -> bytes:
        if fmt == "jax":
            return jax_format.export_endpoint(endpoint, self._variables, **kwargs)
        return onnx_format.export_endpoint(endpoint, self._variables, **kwargs)

    def _write_files(self, directory: str, fmt: str, blobs: dict[str, bytes]) -> None:
        manifest: dict[str, Any] = {
            "format": f"callax-export-{fmt}",
            "version": 1,
            "endpoints": {},
            "variables": "variables.npz",
            "variable_collections": {},
        }
        for name, blob in blobs.items():
            endpoint = self._endpoints[name]
            filename = f"{name}.{fmt}"
            with open(os.path.join(directory, filename), "wb") as f:
                f.write(blob)
            manifest["endpoints"][name] = {
                "file": filename,
                "input_names": endpoint.input_names,
                "inputs": jax.tree_util.tree_map(lambda s: s.to_json(), list(endpoint.signature)),
            }
        _write_npz(os.path.join(directory, "variables.npz"), self._variables)
        for name, variables in self._collections.items():
            _write_npz(os.path.join(directory, f"{name}.npz"), variables)
            manifest["variable_collections"][name] = f"{name}.npz"
        with open(os.path.join(directory, "manifest.json"), "w") as f:
            json.dump(manifest, f, indent=2)

    def _print_summary(self, filepath: str, fmt: str) -> None:
        lines = [f"Saved artifact ({fmt}) at '{filepath}'. Endpoints:"]
        for ep in self._endpoints.values():
            lines.append(f"* {ep.name}({', '.join(_describe(ep))})")
        print_msg("\n".join(lines))


def _describe(endpoint: Endpoint) -> list[str]:
    leaves = jax.tree_util.tree_leaves(endpoint.signature)
    return [
        f"{n}: {s.dtype.name}[{', '.join('?' if d is None else str(d) for d in s.shape)}]"
        for n, s in zip(endpoint.input_names, leaves)
    ]


def _write_npz(path: str, variables: Sequence[Any]) -> None:
    arrays: dict[str, np.ndarray] = {}
    for v in variables:
        key, i = v.path, 1
        while key in arrays:
            key, i = f"{v.path}_{i}", i + 1
        arrays[key] = np.asarray(v.value)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    with open(path, "wb") as f:
        f.write(buffer.getvalue())


def _signature_of_layer_fn(fn: Any, name: str) -> tuple:
    owner = fn if isinstance(fn, Layer) else getattr(fn, "__self__", None)
    if isinstance(owner, Layer) and getattr(fn, "__name__", "call") in ("call", "__call__"):
        return _sig.model_signature(owner)
    raise ValueError(
        f"ExportArchive.add_endpoint('{name}'): input_signature is required for this fn "
        "(it is inferred only for a built layer or its `call`); e.g. input_signature="
        "[callax.layers.InputSpec(shape=(None, 3), dtype='float32')]. Received None."
    )
