"""``Model.get_state_tree`` / ``set_state_tree`` (Keras 3.6+), with Keras 3 as
the oracle for the tree's layout, and variable paths of a Sequential model
built from its ``Input`` (``sequential/<layer>/<weight>``, as Keras names them)."""

from __future__ import annotations

import numpy as np
import pytest

import callax


def _trained(lib):
    model = lib.Sequential([
        lib.Input((3,)), lib.layers.Dense(4, name="d1"), lib.layers.BatchNormalization(name="bn"),
        lib.layers.Dense(1, name="d2"),
    ], name="seq")  # fmt: skip
    model.compile(lib.optimizers.Adam(name="adam"), "mse", metrics=["mae"])  # a fixed name
    x = np.linspace(0, 1, 24, dtype="float32").reshape(8, 3)
    model.fit(x, x[:, :1], epochs=1, batch_size=4, verbose=0)
    return model


def _layout(tree):
    return {k: _layout(v) if isinstance(v, dict) else tuple(np.shape(v)) for k, v in tree.items()}


def test_state_tree_layout_matches_keras():
    keras = pytest.importorskip("keras", reason="Keras 3 (the test oracle) is not installed")
    ours = _trained(callax).get_state_tree("numpy_array")
    theirs = _trained(keras).get_state_tree("numpy_array")
    assert _layout(ours) == _layout(theirs)
    assert list(ours["trainable_variables"]["seq"]) == ["d1", "bn", "d2"]


def test_set_state_tree_round_trips_every_group_and_checks_first():
    source, target = _trained(callax), _trained(callax)
    source.fit(np.ones((4, 3), "float32"), np.zeros((4, 1), "float32"), epochs=2, verbose=0)
    tree = source.get_state_tree()
    assert isinstance(
        tree["trainable_variables"]["seq"]["d1"]["kernel"], type(source.weights[0].value)
    )
    kept = [v.numpy() for v in source.variables + source.optimizer.variables]
    for v in source.variables + source.optimizer.variables:
        v.assign(np.zeros(v.shape, v.dtype))
    source.set_state_tree(tree)  # all four groups back
    for v, value in zip(source.variables + source.optimizer.variables, kept):
        np.testing.assert_array_equal(v.numpy(), value)
    # another model of the same layout takes the whole tree
    target.set_state_tree(tree)
    for a, b in zip(source.variables + source.optimizer.variables,
                    target.variables + target.optimizer.variables):  # fmt: skip
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    renamed = {**tree, "optimizer_variables": {"other": tree["optimizer_variables"]["adam"]}}
    with pytest.raises(ValueError, match="optimizer_variables has no variable at path 'other/"):
        target.set_state_tree(renamed)
    as_lists = source.get_state_tree("python_list")
    assert as_lists["non_trainable_variables"]["seq"]["bn"]["moving_mean"] == (
        source.get_layer("bn").moving_mean.numpy().tolist()
    )
    before = target.get_layer("d2").kernel.numpy()
    bad = {
        "trainable_variables": {"seq": {"d2": {"kernel": np.zeros((4, 1)), "bias": np.zeros(3)}}}
    }
    with pytest.raises(ValueError, match=r"'seq/d2/bias' has shape \(1,\).*\(3,\)"):
        target.set_state_tree(bad)
    np.testing.assert_array_equal(target.get_layer("d2").kernel.numpy(), before)  # nothing assigned
    with pytest.raises(ValueError, match="no variable at path 'seq/nope/kernel'"):
        target.set_state_tree({"trainable_variables": {"seq": {"nope": {"kernel": before}}}})
    with pytest.raises(ValueError, match="unknown groups"):
        target.set_state_tree({"weights": {}})
    with pytest.raises(ValueError, match="value_format"):
        target.get_state_tree("torch")


def test_sequential_paths_carry_the_model_name_like_keras():
    model = callax.Sequential([callax.Input((2,)), callax.layers.Dense(1, name="out")], name="s")
    assert [v.path for v in model.weights] == ["s/out/kernel", "s/out/bias"]
    model.add(callax.layers.Dense(2, name="more"))
    assert model.weights[-1].path == "s/more/bias"
