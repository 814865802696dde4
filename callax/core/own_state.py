"""What a layer saves of itself: Keras 3's per-layer saving hooks.

Keras 3 gives every layer four methods that model files use, and that custom
layers override to keep state that is not a plain variable (a cache derived
from a weight, a Python-side table):

- ``save_own_variables(store)`` / ``load_own_variables(store)``: this layer's
  own variables (not its sublayers') as ``store["0"]``, ``store["1"]``, ... —
  trainable ones first, then the others, in creation order (the layout of a
  ``.weights.h5`` file's ``<path>/vars`` group);
- ``get_build_config()`` / ``build_from_config(config)``: the input shapes the
  layer was built for, so a loaded layer creates its weights before they are
  filled.

The weights file (``callax/saving/weights_file.py``) calls a class's own
``save_own_variables`` / ``load_own_variables`` when it overrides them, and
reads and writes the variables directly otherwise (same layout).

Example:
    >>> import numpy as np, callax
    >>> dense = callax.layers.Dense(2)
    >>> _ = dense(np.ones((1, 3), "float32"))
    >>> store = {}
    >>> dense.save_own_variables(store)
    >>> sorted(store), store["0"].shape, dense.get_build_config()
    (['0', '1'], (3, 2), {'input_shape': (1, 3)})
    >>> fresh = callax.layers.Dense(2)
    >>> fresh.build_from_config(dense.get_build_config())
    >>> fresh.load_own_variables(store)
    >>> bool(np.all(fresh.kernel.numpy() == dense.kernel.numpy()))
    True
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any

from callax.core.call_spec import call_spec


def variables_in_file_order(layer: Any) -> list[Any]:
    """The layer's own variables as files store them: trainable first, then the
    others, each group in creation order (a LoRA layer: its merged kernel in the
    kernel's place, no factors)."""
    custom = getattr(type(layer), "_saved_own_variables", None)
    saved = custom(layer) if custom is not None else None
    if saved is not None:
        return saved
    variables, _ = layer._direct_state()
    flags = layer._trainable_flags
    trainable = [v for v in variables if flags.get(id(v), v.trainable)]
    frozen = [v for v in variables if not flags.get(id(v), v.trainable)]
    return trainable + frozen


def save_own_variables(layer: Any, store: MutableMapping) -> None:
    """Writes this layer's own variables into ``store`` as ``"0"``, ``"1"``, ...
    (NumPy arrays; values sharded over several processes are gathered)."""
    for i, variable in enumerate(variables_in_file_order(layer)):
        store[str(i)] = variable.numpy()


def load_own_variables(layer: Any, store: Mapping) -> None:
    """Assigns ``store["0"]``, ``store["1"]``, ... to this layer's own variables;
    the count and every shape are checked before anything is assigned."""
    variables = variables_in_file_order(layer)
    who = f"{type(layer).__name__} '{layer.name}'"
    if len(store) != len(variables):
        raise ValueError(
            f"{who}.load_own_variables: the layer has {len(variables)} variables "
            f"({[v.name for v in variables]}); the store holds {len(store)} "
            f"(keys {sorted(store)})."
        )
    values = []
    for i, variable in enumerate(variables):
        if str(i) not in store:
            raise ValueError(
                f"{who}.load_own_variables: the store has no entry {str(i)!r} for variable "
                f"'{variable.name}' (keys {sorted(store)})."
            )
        value = store[str(i)]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(
                f"{who}.load_own_variables: variable '{variable.name}' has shape "
                f"{tuple(variable.shape)}; the store's entry {str(i)!r} has {tuple(value.shape)}."
            )
        values.append(value)
    for variable, value in zip(variables, values):
        variable.assign(value)


def get_build_config(layer: Any) -> dict | None:
    """Keras's ``build_config`` of a built layer with a ``build`` of its own:
    ``{"input_shape": shape}``, or ``{"shapes_dict": {"query_shape": ...}}`` for a
    ``build`` taking several shapes; ``None`` otherwise (nothing to rebuild)."""
    shapes = layer.__dict__.get("_build_shapes")
    spec = call_spec(type(layer))
    if not layer.built or shapes is None or not spec.own_build:
        return None
    if len(spec.build_params) >= 2 and isinstance(shapes, list):
        named = {p: s for p, s in zip(spec.build_params, shapes) if s is not None}
        if len(named) == 1:
            return {"input_shape": next(iter(named.values()))}
        return {"shapes_dict": named}
    return {"input_shape": shapes}


def build_from_config(layer: Any, config: dict | None) -> None:
    """Builds the layer from :func:`get_build_config`'s dict (shapes as JSON
    keeps them: lists); a config without shapes builds nothing."""
    if not config:
        return
    if not isinstance(config, Mapping):
        raise TypeError(
            f"{type(layer).__name__} '{layer.name}'.build_from_config: expected a dict "
            f"like {{'input_shape': [None, 3]}}; received {type(config).__name__}: {config!r:.80}."
        )
    shapes_dict = config.get("shapes_dict")
    if isinstance(shapes_dict, dict):
        layer.build(**{k: _to_shape(v) for k, v in shapes_dict.items()})
        layer.built = True
        return
    shape = config.get("input_shape")
    if shape is not None:
        shape = _to_shape(shape)
        layer.build(shape)
        layer.built = True  # as Keras's build wrapper: a layer built by hand is built
        if layer.__dict__.get("_build_shapes") is None:
            layer.__dict__["_build_shapes"] = shape


def _to_shape(shape: Any) -> Any:
    """A JSON shape back as a tuple (a list of shapes: a list of tuples)."""
    if isinstance(shape, dict):
        return {k: _to_shape(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_to_shape(s) for s in shape]
    return tuple(shape) if isinstance(shape, (list, tuple)) else shape
