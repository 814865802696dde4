"""keras.utils.legacy (Keras 2 configs), checked against Keras 3's own."""

import pytest

from callax.utils import legacy


def relu_like(x):
    return x


class Inner:
    def __init__(self, k=1):
        self.k = k

    def get_config(self):
        return {"k": self.k}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Outer:
    def __init__(self, name, inner, fn, sizes, flag=None):
        self.name, self.inner, self.fn, self.sizes, self.flag = name, inner, fn, sizes, flag

    def get_config(self):
        return {"name": self.name, "inner": self.inner, "fn": self.fn, "sizes": self.sizes,
                "flag": self.flag}  # fmt: skip


OBJECTS = {"Inner": Inner, "Outer": Outer, "relu_like": relu_like}


def test_serialize_matches_keras():
    keras = pytest.importorskip("keras")
    obj = Outer("o", Inner(3), relu_like, [1, 2], flag=True)
    ours = legacy.serialize_keras_object(obj)
    assert ours == keras.utils.legacy.serialize_keras_object(obj)
    assert ours == {
        "class_name": "Outer",
        "config": {"name": "o", "inner": {"class_name": "Inner", "config": {"k": 3},
                   "__passive_serialization__": True}, "fn": "relu_like", "sizes": [1, 2],
                   "flag": True},
    }  # fmt: skip
    assert legacy.serialize_keras_object(None) is None
    assert legacy.serialize_keras_object(relu_like) == "relu_like"


def test_deserialize_round_trip_and_lookup_order():
    config = legacy.serialize_keras_object(Outer("o", Inner(3), relu_like, [1, 2]))
    back = legacy.deserialize_keras_object(config, module_objects=OBJECTS)
    assert isinstance(back.inner, Inner) and back.inner.k == 3
    assert back.fn is relu_like and back.sizes == [1, 2] and back.name == "o"
    # KerasTuner passes its classes positionally as custom_objects: both places work.
    again = legacy.deserialize_keras_object(config, None, OBJECTS)
    assert again.fn is relu_like
    assert isinstance(legacy.deserialize_keras_object("Inner", OBJECTS), Inner)
    assert legacy.deserialize_keras_object(relu_like) is relu_like


def test_deserialize_matches_keras_on_keras_tuner_hyperparameters():
    keras = pytest.importorskip("keras")
    kt = pytest.importorskip("keras_tuner", reason="keras-tuner is an optional integration")
    from keras_tuner.src.engine.hyperparameters import hp_types

    hp = kt.HyperParameters()
    hp.Int("units", 4, 32, step=4)
    hp.Choice("act", ["relu", "tanh"])
    with hp.conditional_scope("act", ["relu"]):
        hp.Float("lr", 1e-4, 1e-2, sampling="log")
    config = keras.utils.legacy.serialize_keras_object(hp)
    assert legacy.serialize_keras_object(hp) == config
    objects = {**hp_types.ALL_CLASSES, "HyperParameters": kt.HyperParameters}
    back = legacy.deserialize_keras_object(config, custom_objects=objects)
    assert back.get_config() == hp.get_config()


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"unknown object 'Nope'"):
        legacy.deserialize_keras_object({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match=r"'class_name' and 'config'; received \{'a': 1\}"):
        legacy.deserialize_keras_object({"a": 1})
    with pytest.raises(ValueError, match=r"received 3 of type int"):
        legacy.serialize_keras_object(3)
