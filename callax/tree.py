"""Nested structures (``keras.tree``): flatten, map and rebuild lists, tuples,
dicts and namedtuples, on ``jax.tree_util``.

As in Keras, ``None`` is a leaf (not an empty subtree), dicts flatten in sorted key
order and keep their own order when rebuilt, and arrays, Variables and
KerasTensors are leaves.

Example:
    >>> from callax import tree
    >>> tree.flatten({"b": [1, None, (2, 3)], "a": 4})
    [4, 1, None, 2, 3]
    >>> tree.map_structure(lambda x: x * 10, {"w": [1, 2], "b": 3})
    {'w': [10, 20], 'b': 30}
    >>> tree.pack_sequence_as({"b": [0, 0], "a": 0}, [1, 2, 3])
    {'b': [2, 3], 'a': 1}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

__all__ = [
    "MAP_TO_NONE", "assert_same_paths", "assert_same_structure", "flatten",
    "flatten_with_path", "is_nested", "lists_to_tuples", "map_shape_structure",
    "map_structure", "map_structure_up_to", "pack_sequence_as", "traverse",
]  # fmt: skip

_tu = jax.tree_util


class _MapToNone:
    """Returned from a ``traverse`` function to put ``None`` in that place."""

    def __repr__(self) -> str:
        return "MAP_TO_NONE"


MAP_TO_NONE = _MapToNone()


def _none_leaf(x: Any) -> bool:
    return x is None


def is_nested(structure: Any) -> bool:
    """Whether ``structure`` is a list, tuple, dict or other registered container."""
    if structure is None:
        return False
    leaves, treedef = _tu.tree_flatten(structure, is_leaf=_none_leaf)
    return not (treedef.num_leaves == 1 and leaves and leaves[0] is structure)


def flatten(structure: Any) -> list:
    """The leaves of ``structure``, depth first, dict keys sorted."""
    return _tu.tree_leaves(structure, is_leaf=_none_leaf)


def flatten_with_path(structure: Any) -> list[tuple[tuple, Any]]:
    """``(path, leaf)`` pairs; a path is the tuple of dict keys and sequence
    indices (namedtuples by position) leading to the leaf."""
    out: list[tuple[tuple, Any]] = []

    def walk(node: Any, path: tuple) -> None:
        if isinstance(node, dict):
            for k in sorted(node):
                walk(node[k], (*path, k))
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk(v, (*path, i))
        elif node is not None and is_nested(node):  # another registered container
            for sub_path, leaf in _tu.tree_flatten_with_path(node, is_leaf=_none_leaf)[0]:
                out.append(((*path, *(_key(k) for k in sub_path)), leaf))
        else:
            out.append((path, node))

    walk(structure, ())
    return out


def _key(entry: Any) -> Any:
    for attr in ("key", "idx", "name"):
        if hasattr(entry, attr):
            return getattr(entry, attr)
    return entry


def map_structure(func: Callable, *structures: Any) -> Any:
    """``func`` applied leaf by leaf to structures of the same shape."""
    if not structures:
        raise ValueError("map_structure needs at least one structure; received none.")
    for other in structures[1:]:
        assert_same_structure(structures[0], other)
    return _keep_order(structures[0], _tu.tree_map(func, *structures, is_leaf=_none_leaf))


def _keep_order(template: Any, result: Any) -> Any:
    """``result`` with every dict's keys in ``template``'s order (JAX sorts them)."""
    if isinstance(template, dict) and isinstance(result, dict):
        return type(result)((k, _keep_order(template[k], result[k])) for k in template)
    if isinstance(template, (list, tuple)) and isinstance(result, (list, tuple)):
        items = [_keep_order(t, r) for t, r in zip(template, result)]
        if hasattr(result, "_fields"):
            return type(result)(*items)
        return type(result)(items)
    return result


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """Like ``map_structure``, but only as deep as ``shallow_structure``: deeper
    parts of ``structures`` are passed to ``func`` whole."""
    shallow = _tu.tree_structure(shallow_structure, is_leaf=_none_leaf)
    parts = [shallow.flatten_up_to(s) for s in structures]
    return _keep_order(shallow_structure, shallow.unflatten([func(*a) for a in zip(*parts)]))


def pack_sequence_as(structure: Any, flat_sequence: Any) -> Any:
    """Rebuilds ``structure``'s shape from a flat sequence of leaves."""
    treedef = _tu.tree_structure(structure, is_leaf=_none_leaf)
    flat = list(flat_sequence)
    if len(flat) != treedef.num_leaves:
        raise ValueError(
            f"pack_sequence_as: the structure has {treedef.num_leaves} leaves; received a "
            f"flat sequence of {len(flat)}."
        )
    return _keep_order(structure, treedef.unflatten(flat))


def assert_same_structure(a: Any, b: Any, check_types: bool = False) -> None:
    """Raises ``ValueError`` unless ``a`` and ``b`` nest the same way."""
    ta = _tu.tree_structure(a, is_leaf=_none_leaf)
    tb = _tu.tree_structure(b, is_leaf=_none_leaf)
    if ta != tb and _loose(ta) != _loose(tb):
        raise ValueError(f"The two structures don't have the same nested structure: {ta} and {tb}.")


def _loose(treedef: Any) -> Any:
    # lists and tuples count as the same kind of sequence, as in Keras
    return str(treedef).replace("[", "(").replace("]", ")").replace(",)", ")")


def assert_same_paths(a: Any, b: Any) -> None:
    """Raises ``ValueError`` unless ``a`` and ``b`` have the same set of paths."""
    pa = {p for p, _ in flatten_with_path(a)}
    pb = {p for p, _ in flatten_with_path(b)}
    if pa != pb:
        raise ValueError(
            f"The two structures don't have the same paths: only in the first "
            f"{sorted(map(str, pa - pb))}, only in the second {sorted(map(str, pb - pa))}."
        )


def lists_to_tuples(structure: Any) -> Any:
    """The same structure with every list turned into a tuple."""
    if isinstance(structure, list):
        return tuple(lists_to_tuples(v) for v in structure)
    if isinstance(structure, tuple):
        items = [lists_to_tuples(v) for v in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else tuple(items)
    if isinstance(structure, dict):
        return type(structure)((k, lists_to_tuples(v)) for k, v in structure.items())
    return structure


def _is_shape(x: Any) -> bool:
    return isinstance(x, (tuple, list)) and all(d is None or isinstance(d, int) for d in x)


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """``func`` applied to every shape (a tuple/list of ints and ``None``)."""
    if _is_shape(structure):
        return func(structure)
    if isinstance(structure, dict):
        return type(structure)((k, map_shape_structure(func, v)) for k, v in structure.items())
    if isinstance(structure, (list, tuple)):
        items = [map_shape_structure(func, v) for v in structure]
        if hasattr(structure, "_fields"):
            return type(structure)(*items)
        return type(structure)(items)
    return func(structure)


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Walks every node of ``structure`` (containers and leaves).

    Top down: where ``func`` returns something other than ``None`` that replaces
    the node and its children are not visited (``MAP_TO_NONE`` puts ``None``).
    Bottom up: ``func`` sees each node after its children were rebuilt; ``None``
    keeps the rebuilt node.
    """

    def rebuild(node: Any, children: list) -> Any:
        if isinstance(node, dict):
            return type(node)(zip(node.keys(), children))
        if hasattr(node, "_fields"):
            return type(node)(*children)
        return type(node)(children)

    def children_of(node: Any) -> list | None:
        if isinstance(node, dict):
            return list(node.values())
        if isinstance(node, (list, tuple)):
            return list(node)
        return None

    def visit(node: Any) -> Any:
        if top_down:
            out = func(node)
            if out is MAP_TO_NONE:
                return None
            if out is not None:
                return out
            kids = children_of(node)
            return node if kids is None else rebuild(node, [visit(k) for k in kids])
        kids = children_of(node)
        new = node if kids is None else rebuild(node, [visit(k) for k in kids])
        out = func(new)
        if out is MAP_TO_NONE:
            return None
        return new if out is None else out

    return visit(structure)
