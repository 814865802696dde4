"""callax.tree against Keras 3's keras.tree (test-only oracle) and by hand."""

import collections

import numpy as np
import pytest

from callax import tree

P = collections.namedtuple("P", "x y")
STRUCTURES = [
    {"b": [1, None, (2, 3)], "a": 4},
    [1, [2, [3, {"z": 4, "y": 5}]]],
    P(1, [2, None]),
    (None,),
    7,
]


@pytest.mark.parametrize("structure", STRUCTURES, ids=range(len(STRUCTURES)))
def test_matches_keras_tree(structure):
    keras = pytest.importorskip("keras")
    assert tree.flatten(structure) == keras.tree.flatten(structure)
    assert tree.is_nested(structure) == keras.tree.is_nested(structure)
    assert tree.flatten_with_path(structure) == keras.tree.flatten_with_path(structure)
    double = lambda v: None if v is None else v * 2  # noqa: E731
    mapped = tree.map_structure(double, structure)
    assert mapped == keras.tree.map_structure(double, structure)
    assert repr(mapped) == repr(keras.tree.map_structure(double, structure))  # dict key order
    flat = list(range(len(tree.flatten(structure))))
    assert tree.pack_sequence_as(structure, flat) == keras.tree.pack_sequence_as(structure, flat)
    assert tree.lists_to_tuples(structure) == keras.tree.lists_to_tuples(structure)


def test_shapes_up_to_traverse_and_errors():
    shapes = ((None, 3), [(2,), (4, 5)])
    assert tree.map_shape_structure(lambda s: len(s), shapes) == (2, [1, 2])
    assert tree.map_structure_up_to([0, 0], lambda a: a, [[1, 2], 3]) == [[1, 2], 3]
    assert tree.traverse(lambda x: 0 if isinstance(x, int) else None, [1, (2, {"a": 3})]) == [
        0, (0, {"a": 0})
    ]  # fmt: skip
    assert tree.traverse(lambda x: tree.MAP_TO_NONE if x == 2 else None, [1, 2]) == [1, None]
    tree.assert_same_structure([1, 2], (3, 4))  # lists and tuples are both sequences
    with pytest.raises(ValueError, match="same nested structure"):
        tree.assert_same_structure([1, 2], [1, [2, 3]])
    with pytest.raises(ValueError, match="only in the first"):
        tree.assert_same_paths({"a": 1, "b": 2}, {"a": 1})
    with pytest.raises(ValueError, match="received a flat sequence of 1"):
        tree.pack_sequence_as([0, 0], [1])
    arrays = {"w": np.ones(2)}
    assert tree.flatten(arrays)[0] is arrays["w"]  # arrays are leaves
