"""Keras 3 code that must run unchanged: protocol rows found by users (issue 10/11).

Each test states the Keras behaviour it checks; Keras itself is the oracle where
the behaviour is about structure (weight paths, order)."""

import numpy as np
import pytest

import callax


# ------------------------------------------- sublayer before super().__init__()
def _before_init_classes(lib):
    class Net(lib.Model):
        def __init__(self):
            self.first = lib.layers.Dense(2)  # before super().__init__(): Keras accepts
            super().__init__()
            self.second = lib.layers.Dense(3)

        def call(self, x):
            return self.second(self.first(x))

    class Holder(lib.layers.Layer):
        def __init__(self):
            self.v = lib.Variable(np.ones(2, "float32"))
            self.seed = lib.random.SeedGenerator(1)
            self.number = 3
            super().__init__()

    return Net, Holder


def test_sublayer_assigned_before_super_init_is_tracked_as_keras():
    keras = pytest.importorskip("keras")
    callax.utils.clear_session()
    Net, Holder = _before_init_classes(callax)
    m = Net()
    x = np.arange(8, dtype="float32").reshape(2, 4)
    y = m(x)
    keras.utils.clear_session()
    KNet, KHolder = _before_init_classes(keras)
    km = KNet()
    km(x)
    # Same layers in the same (assignment) order, same weight paths and shapes.
    assert [layer.name for layer in m.layers] == [layer.name for layer in km.layers]
    assert [w.path for w in m.weights] == [w.path for w in km.weights]
    assert [tuple(w.shape) for w in m.weights] == [tuple(w.shape) for w in km.weights]
    # The numbers are those of the tracked weights.
    k1, b1, k2, b2 = [np.asarray(w.value) for w in m.weights]
    np.testing.assert_allclose(np.asarray(y), (x @ k1 + b1) @ k2 + b2, rtol=1e-5)
    # A Variable, a SeedGenerator and a plain attribute before super().__init__()
    # are accepted too (Keras: tracked variable, tracked seed state, plain value).
    h, kh = Holder(), KHolder()
    assert len(h.weights) == len(kh.weights) == 1
    assert len(h.variables) == len(kh.variables) == 2
    assert h.number == 3


def test_sublayer_assigned_before_super_init_saves_and_loads(tmp_path):
    class Net(callax.Model):
        def __init__(self, **kwargs):
            self.first = callax.layers.Dense(2)
            super().__init__(**kwargs)

        def call(self, x):
            return self.first(x)

    m = Net()
    x = np.ones((2, 4), "float32")
    y = np.asarray(m(x))
    path = str(tmp_path / "m.keras")
    m.save(path)
    loaded = callax.saving.load_model(path, custom_objects={"Net": Net})
    np.testing.assert_allclose(np.asarray(loaded(x)), y, rtol=1e-6)


def test_forgetting_super_init_still_explains():
    class Net(callax.Model):
        def __init__(self):
            self.first = callax.layers.Dense(2)

        def call(self, x):
            return self.first(x)

    with pytest.raises(RuntimeError, match=r"super\(\)\.__init__\(\)"):
        Net()(np.ones((1, 2), "float32"))


# ------------------------------------------------------ build(self), no shape
def test_build_without_input_shape_parameter():
    class Scale(callax.layers.Layer):
        def build(self):  # Keras accepts a build that takes no shape
            self.w = self.add_weight(shape=(3,), initializer="ones", name="w")

        def call(self, x):
            return x * 2.0 * self.w

    layer = Scale()
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(np.asarray(layer(x)), 2.0 * x)
    assert layer.built and [w.path for w in layer.weights] == ["scale/w"]
    other = Scale()
    other.build((None, 3))  # the shape a caller passes is dropped, as Keras does
    assert other.built and len(other.weights) == 1


def test_build_without_input_shape_in_a_saved_model(tmp_path):
    @callax.saving.register_keras_serializable(package="h6_rows")
    class Bias(callax.layers.Layer):
        def build(self):
            self.b = self.add_weight(shape=(2,), initializer="zeros", name="b")

        def call(self, x):
            return x + self.b

    model = callax.Sequential([callax.Input((2,)), Bias()])
    model.layers[0].b.assign(np.array([1.0, -1.0], "float32"))
    path = str(tmp_path / "bias.keras")
    model.save(path)
    loaded = callax.saving.load_model(path)
    np.testing.assert_allclose(np.asarray(loaded(np.zeros((1, 2), "float32"))), [[1.0, -1.0]])


# ------------------------------------------------------ training must be bool
@pytest.mark.parametrize("bad", ["False", 0, 1.0, np.array([True])])
def test_training_must_be_bool(bad):
    layer = callax.layers.Dropout(0.5)
    with pytest.raises(TypeError, match=r"Dropout 'dropout'.*`training`.*received"):
        layer(np.ones((2, 4), "float32"), training=bad)


def test_training_accepts_numpy_and_zero_d_bool_arrays():
    import jax.numpy as jnp

    layer = callax.layers.Dropout(0.5, seed=1)
    x = np.ones((4, 8), "float32")
    np.testing.assert_array_equal(np.asarray(layer(x, training=np.bool_(False))), x)
    np.testing.assert_array_equal(np.asarray(layer(x, training=jnp.asarray(False))), x)
    dropped = np.asarray(layer(x, training=np.asarray(True)))
    assert set(np.unique(dropped)) <= {0.0, 2.0} and (dropped == 0).any()


def test_training_checked_for_user_layers_positionally_too():
    class Net(callax.Model):
        def call(self, x, training=False):
            return x * 2.0 if training else x

    with pytest.raises(TypeError, match=r"Net 'net'.*received str 'yes'"):
        Net()(np.ones((1, 2), "float32"), "yes")
