"""``Model.get_state_tree()`` / ``set_state_tree()``: a model's whole state as
nested dicts keyed by variable path (Keras 3.6+'s API).

The tree has four groups, ``trainable_variables``, ``non_trainable_variables``,
``optimizer_variables`` and ``metrics_variables``; inside each, a variable whose
path is ``"dense/kernel"`` sits at ``tree[group]["dense"]["kernel"]``. It is the
shape JAX users hand to their own loops and to checkpointers (Orbax saves such
trees as they are), and ``set_state_tree`` puts one back.

Example:
    >>> import numpy as np, callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2, name="d")], name="m")
    >>> tree = model.get_state_tree(value_format="numpy_array")
    >>> sorted(tree), tree["trainable_variables"]["m"]["d"]["kernel"].shape
    (['metrics_variables', 'non_trainable_variables', 'optimizer_variables', 'trainable_variables'], (3, 2))
    >>> tree["trainable_variables"]["m"]["d"]["bias"] = np.ones(2, "float32")
    >>> model.set_state_tree(tree)
    >>> model.layers[0].bias.numpy().tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FORMATS = ("backend_tensor", "numpy_array", "python_list")
GROUPS = (
    "trainable_variables", "non_trainable_variables", "optimizer_variables", "metrics_variables",
)  # fmt: skip


def _group_variables(model: Any, group: str) -> list[Any]:
    if group == "optimizer_variables":
        optimizer = getattr(model, "optimizer", None)
        return list(optimizer.variables) if optimizer is not None else []
    return list(getattr(model, group))


def _value(variable: Any, value_format: str) -> Any:
    if value_format == "backend_tensor":
        return variable.value
    array = variable.numpy()  # gathered when sharded over several processes
    return array if value_format == "numpy_array" else array.tolist()


def get_state_tree(model: Any, value_format: str = "backend_tensor") -> dict[str, dict]:
    """The model's variables as ``{group: {path part: ... {name: value}}}``;
    ``value_format`` is ``"backend_tensor"`` (``jax.Array``), ``"numpy_array"``
    or ``"python_list"``."""
    if value_format not in _FORMATS:
        raise ValueError(
            f"{type(model).__name__} '{model.name}'.get_state_tree: value_format must be one "
            f"of {list(_FORMATS)}; received {value_format!r}."
        )
    tree: dict[str, dict] = {}
    for group in GROUPS:
        nested: dict[str, Any] = {}
        for variable in _group_variables(model, group):
            *parents, leaf = variable.path.split("/")
            node = nested
            for part in parents:
                node = node.setdefault(part, {})
                if not isinstance(node, dict):
                    break
            if not isinstance(node, dict) or leaf in node:
                raise ValueError(
                    f"{type(model).__name__} '{model.name}'.get_state_tree: two {group} share "
                    f"the path {variable.path!r} (or one path is the prefix of another); "
                    "give the layers distinct names."
                )
            node[leaf] = _value(variable, value_format)
        tree[group] = nested
    return tree


def _flatten(tree: dict, prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}/{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(_flatten(value, path))
        else:
            flat[path] = value
    return flat


def set_state_tree(model: Any, state_tree: dict[str, dict]) -> None:
    """Assigns the values of a tree shaped like :func:`get_state_tree`'s (groups may
    be left out; every path given must name a variable of its group, with the
    variable's shape). Everything is checked before anything is assigned."""
    who = f"{type(model).__name__} '{model.name}'.set_state_tree"
    unknown = sorted(set(state_tree) - set(GROUPS))
    if unknown:
        raise ValueError(f"{who}: unknown groups {unknown}; expected some of {list(GROUPS)}.")
    plan = []
    for group, subtree in state_tree.items():
        by_path = {v.path: v for v in _group_variables(model, group)}
        for path, value in _flatten(subtree).items():
            variable = by_path.get(path)
            if variable is None:
                raise ValueError(
                    f"{who}: {group} has no variable at path {path!r}; its paths are "
                    f"{sorted(by_path)[:20]}{' ...' if len(by_path) > 20 else ''}."
                )
            if tuple(np.shape(value)) != tuple(variable.shape):
                raise ValueError(
                    f"{who}: {group} variable {path!r} has shape {tuple(variable.shape)}; "
                    f"received a value of shape {tuple(np.shape(value))}."
                )
            plan.append((variable, value))
    for variable, value in plan:
        variable.assign(value)
