"""Whole models and weights: subclassed, Sequential and Functional round trips,
automatic configs, rebuilding on load, weight matching and its reports,
optimizer state."""

from __future__ import annotations

import os
import warnings

import h5py
import numpy as np
import pytest

import callax
from callax import saving


class Block(callax.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = callax.layers.Dense(3)
        self.drop = callax.layers.Dropout(0.1)

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="count")
        self.offset = self.add_weight(shape=(3,), initializer="zeros", name="offset")

    def call(self, x):
        return self.drop(self.inner(x)) * self.scale + self.offset


class Nested(callax.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.zlast = callax.layers.Dense(units)
        self.blocks = [Block(), Block()]
        self.d = {"a": callax.layers.Dense(3), "b": [callax.layers.Dense(3)]}
        self._priv = callax.layers.Dense(3)
        self.bn = callax.layers.BatchNormalization()

    def call(self, x):
        for b in self.blocks:
            x = b(x)
        x = self.d["b"][0](self.d["a"](x))
        return self.zlast(self.bn(self._priv(x)))


CUSTOM = {"Nested": Nested, "Block": Block}
# Keras 3's file layout for Nested (taken from a file Keras 3.15 wrote for the
# same structure): attribute names in order, public first; lists by class name.
KERAS_GROUPS = {
    "vars": 0, "blocks/block/vars": 3, "blocks/block/drop/vars": 0,
    "blocks/block/inner/vars": 2, "blocks/block_1/vars": 3, "blocks/block_1/drop/vars": 0,
    "blocks/block_1/inner/vars": 2, "bn/vars": 4, "d/dense/vars": 2,
    "d/container/dense/vars": 2, "layers/dense/vars": 2, "layers/dense_3/vars": 2,
}  # fmt: skip


def _x(shape=(2, 5), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _groups(path):
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda name, obj: (
                out.__setitem__(name, len(obj))
                if isinstance(obj, h5py.Group) and name.split("/")[-1] == "vars"
                else None
            )
        )
    return out


def test_subclassed_round_trip_and_keras_layout(tmp_path):
    model = Nested(units=5)
    x = _x()
    y = np.asarray(model(x))
    model.save_weights(tmp_path / "n.weights.h5")
    assert _groups(tmp_path / "n.weights.h5") == KERAS_GROUPS
    model.save(tmp_path / "n.keras")
    same = saving.load_model(tmp_path / "n.keras", custom_objects=CUSTOM)
    assert type(same) is Nested and same.units == 5
    np.testing.assert_array_equal(np.asarray(same(x)), y)
    other = Nested(units=5)
    other(x)
    other.load_weights(tmp_path / "n.weights.h5")
    np.testing.assert_array_equal(np.asarray(other(x)), y)
    other.load_weights(tmp_path / "n.keras")  # weights from a whole-model file
    np.testing.assert_array_equal(np.asarray(other(x)), y)


def test_registered_model_loads_without_custom_objects(tmp_path):
    @saving.register_keras_serializable(package="tests_ms")
    class Reg(callax.Model):
        def __init__(self, width=3, **kwargs):
            super().__init__(**kwargs)
            self.d = callax.layers.Dense(width)

        def call(self, x):
            return self.d(x)

    m = Reg(width=7)
    x = _x()
    y = np.asarray(m(x))
    callax.saving.save_model(m, tmp_path / "r.keras")
    back = callax.models.load_model(tmp_path / "r.keras")
    assert back.d.units == 7
    np.testing.assert_array_equal(np.asarray(back(x)), y)


class TwoInputs(callax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = callax.layers.Dense(3)
        self.b = callax.layers.Dense(3)
        self.emb = callax.layers.Embedding(10, 3)

    def call(self, inputs):
        return self.a(inputs["x"]) + self.b(inputs["z"]) + self.emb(inputs["ids"]).sum(axis=1)


class Positional(callax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = callax.layers.Dense(2)
        self.b = callax.layers.Dense(2)

    def call(self, x, z):
        return self.a(x) * self.b(z)


def test_rebuild_from_dict_and_int_inputs(tmp_path):
    m = TwoInputs()
    inputs = {"x": _x((2, 4)), "z": _x((2, 6), 1), "ids": np.array([[1, 2], [3, 9]], "int32")}
    y = np.asarray(m(inputs))
    m.save(tmp_path / "t.keras")
    back = saving.load_model(tmp_path / "t.keras", custom_objects={"TwoInputs": TwoInputs})
    np.testing.assert_array_equal(np.asarray(back(inputs)), y)


def test_rebuild_from_several_positional_inputs(tmp_path):
    m = Positional()
    x, z = _x((2, 4)), _x((2, 6), 1)
    y = np.asarray(m(x, z))
    m.save(tmp_path / "p.keras")
    back = saving.load_model(tmp_path / "p.keras", custom_objects={"Positional": Positional})
    np.testing.assert_array_equal(np.asarray(back(x, z)), y)


def test_sequential_and_functional_round_trip(tmp_path):
    seq = callax.Sequential([
        callax.Input((5,)), callax.layers.Dense(4, activation="relu"),
        callax.layers.BatchNormalization(), callax.layers.Dense(2),
    ])  # fmt: skip
    inp = callax.Input((5,))
    h = callax.layers.Dense(3, activation="tanh")(inp)
    fun = callax.Model(inp, callax.layers.Dense(2)(h))
    x = _x()
    for name, m in (("seq", seq), ("fun", fun)):
        y = np.asarray(m(x))
        m.save(tmp_path / f"{name}.keras")
        back = saving.load_model(tmp_path / f"{name}.keras")
        assert type(back) is type(m)
        np.testing.assert_array_equal(np.asarray(back(x)), y)


# ------------------------------------------------------------- auto configs
def test_auto_config_records_init_arguments():
    m = Nested(7, name="nest")
    cfg = m.get_config()
    assert cfg["units"] == 7 and cfg["name"] == "nest"
    assert Nested.from_config(cfg).units == 7


class Holder(callax.Model):
    def __init__(self, encoder, scale=1.0):
        super().__init__()
        self.encoder = encoder
        self.scale = scale

    def call(self, x):
        return self.encoder(x) * self.scale


def test_unserializable_init_args_fail_before_writing(tmp_path):
    m = Holder(callax.layers.Dense(2), scale=2.0)
    x = _x()
    m(x)
    target = tmp_path / "h.keras"
    with pytest.raises(NotImplementedError) as info:
        m.save(target)
    msg = str(info.value)
    assert "Holder" in msg and "encoder: a Dense object" in msg
    assert "def get_config(self):" in msg and "save_weights" in msg
    assert "scale" not in msg.split("get_config(self)")[0].split("\n", 1)[1]
    assert not target.exists() and os.listdir(tmp_path) == []
    m.save_weights(tmp_path / "h.weights.h5")  # weights alone always work
    assert (tmp_path / "h.weights.h5").exists()


def test_user_get_config_makes_it_savable(tmp_path):
    class Fixed(Holder):
        def get_config(self):
            return {"encoder": saving.serialize_keras_object(self.encoder), "scale": self.scale}

        @classmethod
        def from_config(cls, config):
            config["encoder"] = saving.deserialize_keras_object(config["encoder"])
            return cls(**config)

    m = Fixed(callax.layers.Dense(2), scale=2.0)
    x = _x()
    y = np.asarray(m(x))
    m.save(tmp_path / "f.keras")
    back = saving.load_model(tmp_path / "f.keras", custom_objects={"Fixed": Fixed})
    np.testing.assert_array_equal(np.asarray(back(x)), y)


# ---------------------------------------------------------- weight matching
class Small(callax.Model):
    def __init__(self, hidden=4, extra=False, **kwargs):
        super().__init__(**kwargs)
        self.a_first = callax.layers.Dense(hidden)
        self.b_second = callax.layers.Dense(2)
        if extra:
            self.c_third = callax.layers.Dense(2)

    def call(self, x):
        x = self.b_second(self.a_first(x))
        return self.c_third(x) if hasattr(self, "c_third") else x


def _built(**kw):
    m = Small(**kw)
    m(_x())
    return m


def test_shape_mismatch_reports_and_loads_nothing(tmp_path):
    _built(hidden=4).save_weights(tmp_path / "w.weights.h5")
    target = _built(hidden=6)
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(ValueError) as info:
        target.load_weights(tmp_path / "w.weights.h5")
    msg = str(info.value)
    assert "w.weights.h5" in msg and "nothing was loaded" in msg
    assert "shape mismatch: a_first (Dense" in msg and "'kernel' expects shape (5, 6)" in msg
    assert "file has (5, 4)" in msg and "b_second (Dense" in msg
    for a, b in zip(before, target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_missing_and_extra_reported(tmp_path):
    _built().save_weights(tmp_path / "small.weights.h5")
    _built(extra=True).save_weights(tmp_path / "big.weights.h5")
    with pytest.raises(ValueError, match=r"missing: c_third \(Dense.*'kernel'"):
        _built(extra=True).load_weights(tmp_path / "small.weights.h5")
    with pytest.raises(ValueError, match=r"extra: the file has 2 variable\(s\) under 'c_third'"):
        _built().load_weights(tmp_path / "big.weights.h5")


def test_skip_mismatch_loads_what_matches(tmp_path):
    src = _built(hidden=4, extra=True)
    src.save_weights(tmp_path / "w.weights.h5")
    target = _built(hidden=4)
    with pytest.warns(UserWarning, match="skipped 1 problem"):
        target.load_weights(tmp_path / "w.weights.h5", skip_mismatch=True)
    np.testing.assert_array_equal(target.a_first.kernel.numpy(), src.a_first.kernel.numpy())
    np.testing.assert_array_equal(target.b_second.bias.numpy(), src.b_second.bias.numpy())


def test_unbuilt_model_load_weights_says_build_first(tmp_path):
    _built().save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(ValueError, match="has not been built yet.*model.build"):
        Small().load_weights(tmp_path / "w.weights.h5")


def test_wrong_extensions():
    m = _built()
    with pytest.raises(ValueError, match=r"must end in '.weights.h5'"):
        m.save_weights("w.h5")
    with pytest.raises(ValueError, match="'.keras'"):
        m.save("model.bin")
    with pytest.raises(FileNotFoundError, match="nope.keras"):
        saving.load_model("nope.keras")


def test_overwrite_false(tmp_path):
    m = _built()
    m.save_weights(tmp_path / "w.weights.h5")
    with pytest.raises(FileExistsError, match="overwrite=False"):
        m.save_weights(tmp_path / "w.weights.h5", overwrite=False)


# ----------------------------------------------------------- optimizer state
def test_optimizer_state_saved_and_restored(tmp_path):
    x, y = _x((16, 5)), _x((16, 2), 1)
    m = Small()
    m.compile(optimizer=callax.optimizers.Adam(0.01), loss="mse")
    m.fit(x, y, epochs=2, batch_size=8, verbose=0)
    m.save(tmp_path / "m.keras")
    back = saving.load_model(tmp_path / "m.keras", custom_objects={"Small": Small})
    assert int(back.optimizer.iterations.numpy()) == int(m.optimizer.iterations.numpy()) == 4
    for a, b in zip(m.optimizer.variables, back.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    m.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    back.fit(x, y, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(m.get_weights(), back.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    uncompiled = saving.load_model(
        tmp_path / "m.keras", custom_objects={"Small": Small}, compile=False
    )
    assert not uncompiled.compiled
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        uncompiled.load_weights(tmp_path / "m.keras")  # optimizer state ignored quietly
