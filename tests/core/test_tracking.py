"""Layer and variable tracking, names, trainable, config."""

import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import layers
from callax.core.pitfalls import CallaxPitfallWarning


def test_unique_default_names():
    a, b, c = layers.Dense(1), layers.Dense(1), layers.Dropout(0.1)
    assert (a.name, b.name, c.name) == ("dense", "dense_1", "dropout")


def test_unknown_kwarg_is_type_error():
    with pytest.raises(TypeError, match="unexpected keyword argument.*'unitz'"):
        layers.Dense(3, unitz=4)


def test_tracking_in_lists_dicts_tuples_in_order():
    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(4), layers.Dense(4)]
            self.heads = {"a": layers.Dense(1), "b": layers.Dense(2)}
            self.pair = (layers.Dense(3),)
            self.blocks.append(layers.Dense(5))  # appended after assignment: still tracked
            self.scale = callax.Variable(jnp.ones(()), name="scale")

        def call(self, x):
            for blk in self.blocks:
                x = blk(x)
            return self.heads["a"](x) + self.heads["b"](x).sum() + self.pair[0](x).sum()

    n = Net()
    n(jnp.ones((2, 3)))
    # Attribute order; the appended layer sits in `blocks`, after its two siblings.
    assert [layer.name for layer in n.layers] == [
        "dense",
        "dense_1",
        "dense_5",
        "dense_2",
        "dense_3",
        "dense_4",
    ]
    assert len(n.weights) == 1 + 2 * 6
    assert n.weights[0].name == "scale"


def test_reassigning_sublayer_replaces_it():
    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    n = Net()
    n(jnp.ones((1, 3)))
    n.d = layers.Dense(5)
    assert n(jnp.ones((1, 3))).shape == (1, 5)
    assert len(n.weights) == 2 and n.weights[0].shape == (3, 5)


def test_trainable_setter_freezes_subtree():
    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.a = layers.Dense(2)
            self.b = layers.Dense(2)

        def call(self, x):
            return self.b(self.a(x))

    n = Net()
    n(jnp.ones((1, 2)))
    n.trainable = False
    assert n.trainable_weights == [] and len(n.non_trainable_weights) == 4
    n.trainable = True
    assert len(n.trainable_weights) == 4


def test_variable_paths_and_seed_state_not_a_weight():
    from example2_conditional import ConditionalModel

    m = ConditionalModel()
    m(jnp.ones((2, 32)), training=True)
    assert [w.path for w in m.weights] == [
        "conditional_model/dense/kernel", "conditional_model/dense/bias",
        "conditional_model/dense_1/kernel", "conditional_model/dense_1/bias",
    ]  # fmt: skip
    assert len(m.non_trainable_variables) == 1  # the dropout's seed state
    assert m.non_trainable_weights == []


def test_get_config_round_trip_builtin_layers():
    for layer in [
        layers.Dense(3, activation="relu", use_bias=False, kernel_initializer="he_normal"),
        layers.Dropout(0.3, seed=2), layers.Concatenate(axis=1), layers.Activation("tanh"),
        layers.Identity(), layers.Flatten(), layers.Reshape((2, -1)), layers.Add(),
        layers.Multiply(),
    ]:  # fmt: skip
        config = layer.get_config()
        clone = type(layer).from_config(config)
        assert clone.get_config() == config


def test_set_weights_checks_before_changing():
    from example1_sequential import SimpleSequentialModel

    m = SimpleSequentialModel()
    m(jnp.ones((1, 32)))
    before = m.get_weights()
    bad = [np.zeros(w.shape) for w in before]
    bad[-1] = np.zeros((3,))
    with pytest.raises(ValueError, match="has shape \\(10,\\).*\\(3,\\)"):
        m.set_weights(bad)
    for a, b in zip(before, m.get_weights()):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------- pitfalls
def test_dunder_call_override_warns_at_class_creation():
    with pytest.warns(CallaxPitfallWarning, match="Define `call` instead"):

        class Bad(callax.Model):
            def __call__(self, x):
                return x


def test_assign_before_super_init():
    class Early(callax.Model):
        def __init__(self):
            self.d = layers.Dense(2)
            super().__init__()

        def call(self, x):
            return self.d(x)

    # Accepted, as in Keras: the sublayer is tracked like any other.
    model = Early()
    model(np.ones((1, 3), "float32"))
    assert model.layers == [model.d]
    assert [w.path for w in model.weights] == ["early/dense/kernel", "early/dense/bias"]


def test_missing_super_init_on_call():
    class NoInit(layers.Layer):
        def __init__(self):
            pass

        def call(self, x):
            return x

    with pytest.raises(RuntimeError, match="never called `super\\(\\).__init__\\(\\)`"):
        NoInit()(jnp.ones(1))


def test_model_without_call():
    class NoCall(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

    with pytest.raises(NotImplementedError, match="has no `call` method"):
        NoCall()(jnp.ones((1, 2)))


def test_layer_created_in_call_warns_once():
    class Sloppy(callax.Model):
        def call(self, x):
            return layers.Dense(2)(x)

    m = Sloppy()
    m(jnp.ones((1, 2)))  # first call: building, cannot tell yet
    with pytest.warns(CallaxPitfallWarning, match="created inside Sloppy.call"):
        m(jnp.ones((1, 2)))


def test_add_weight_signature_follows_keras3():
    layer = layers.Identity()
    w = layer.add_weight((2, 3), "ones", "float32", name="w", trainable=False)
    assert w.shape == (2, 3) and not w.trainable and w.name == "w"
    with pytest.raises(ValueError, match="`name` must be passed as a keyword argument"):
        layer.add_weight("kernel", (2, 3))
    with pytest.raises(TypeError):
        layer.add_weight((2,), "zeros", "float32", True)  # at most 3 positional, as Keras 3
    v = layer.add_variable((4,), "zeros", name="v")
    assert v.shape == (4,) and any(w is v for w in layer.weights)


def test_dunder_call_override_that_delegates_does_not_warn():
    # A wrapper that hands the call on keeps the protocol (KerasHub's preprocessing
    # layers are written this way), so it is not the mistake the warning describes.
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")

        class Wrapper(layers.Dense):
            def __call__(self, *args, **kwargs):
                return super().__call__(*args, **kwargs)

    assert Wrapper(2)(np.ones((1, 3), "float32")).shape == (1, 2)
