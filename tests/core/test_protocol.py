"""The call protocol: training routing, lazy build, conversion, multiple inputs."""

import jax.numpy as jnp
import numpy as np
import pytest

import callax
from callax import layers


class Probe(layers.Layer):
    """Records the training value it sees, without declaring it in call."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def call(self, x):
        from callax.core.call_context import current_frame

        self.seen.append(current_frame().training)
        return x


class ProbeDeclared(layers.Layer):
    def __init__(self, **kw):
        super().__init__(**kw)
        self.seen = []

    def call(self, x, training=None):
        self.seen.append(training)
        return x


class Middle(layers.Layer):
    """Neither declares nor forwards `training`."""

    def __init__(self):
        super().__init__()
        self.inner = ProbeDeclared()
        self.dropout = layers.Dropout(0.5, seed=1)

    def call(self, x):
        return self.dropout(self.inner(x))


class Outer(callax.Model):
    def __init__(self):
        super().__init__()
        self.middle = Middle()
        self.probe = Probe()

    def call(self, x, training=False):
        return self.probe(self.middle(x))


def test_training_reaches_three_levels_through_undeclared_call():
    model = Outer()
    x = jnp.ones((8, 16))
    y = model(x, training=True)
    assert model.middle.inner.seen == [True]
    assert model.probe.seen == [True]
    assert not np.allclose(y, x)  # the nested Dropout saw training=True
    y = model(x)  # the model's default, False, flows down
    assert model.middle.inner.seen[-1] is False
    np.testing.assert_array_equal(y, x)


def test_default_never_leaks_to_siblings():
    class WithDefaultTrue(layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Probe()

        def call(self, x, training=True):
            return self.inner(x)

    class Parent(layers.Layer):
        def __init__(self):
            super().__init__()
            self.a = WithDefaultTrue()
            self.b = Probe()

        def call(self, x):
            return self.b(self.a(x))

    p = Parent()
    p(jnp.ones(3))
    assert p.a.inner.seen == [True]  # a's default applies below a
    assert p.b.seen == [None]  # ...but not to its sibling b


def test_explicit_training_on_inner_call_wins():
    class P(callax.Model):
        def __init__(self):
            super().__init__()
            self.inner = ProbeDeclared()

        def call(self, x):
            return self.inner(x, training=False)

    p = P()
    p(jnp.ones(2), training=True)
    assert p.inner.seen == [False]


def test_training_popped_for_call_without_it():
    layer = Probe()
    layer(jnp.ones(2), training=True)  # call(x) has no training: still fine
    assert layer.seen == [True]


def test_build_gets_first_input_shape_and_runs_once():
    class B(layers.Layer):
        builds = []

        def build(self, input_shape):
            B.builds.append(input_shape)
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.w

    b = B()
    b(np.ones((2, 5)))
    b(np.ones((3, 5)))
    assert B.builds == [(2, 5)]
    assert b.built and b.w.shape == (5,)


def test_build_with_one_shape_per_argument():
    class Two(layers.Layer):
        def build(self, a_shape, b_shape):
            self.shapes = (a_shape, b_shape)

        def call(self, a, b):
            return a + b.sum()

    t = Two()
    t(jnp.ones((2, 3)), jnp.ones((4,)))
    assert t.shapes == ((2, 3), (4,))


def test_layer_without_build_runs_call_once():
    calls = []

    class NoBuild(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(3)

        def call(self, x):
            calls.append(1)
            return self.d(x)

    m = NoBuild()
    m(jnp.ones((2, 4)))
    assert len(calls) == 1  # Keras would run call twice here
    assert m.built


def test_explicit_build_builds_sublayers_abstractly():
    class M(callax.Model):
        def __init__(self):
            super().__init__()
            self.d1 = layers.Dense(8)
            self.d2 = layers.Dense(2)

        def call(self, x):
            return self.d2(self.d1(x))

    m = M()
    m.build((None, 5))
    assert m.built and m.d1.kernel.shape == (5, 8) and m.d2.kernel.shape == (8, 2)
    assert m.count_params() == 5 * 8 + 8 + 8 * 2 + 2
    assert isinstance(m.d1.kernel.numpy(), np.ndarray)


def test_numpy_list_and_scalar_inputs_converted():
    class Echo(layers.Layer):
        def call(self, x, y=None):
            return x

    e = Echo()
    out = e(np.ones((2, 2), dtype="float64"))
    assert out.dtype == jnp.float32
    assert e([[1.0, 2.0]]).shape == (1, 2)
    assert e(3.0).dtype == jnp.float32


def test_keyword_tensor_arguments():
    class KW(layers.Layer):
        def call(self, x, *, mask_values):
            return x * mask_values

    k = KW()
    out = k(jnp.ones(3), mask_values=np.array([1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(out, [1.0, 0.0, 2.0])


def test_dtype_policy_casts_inputs():
    d = layers.Dense(2, dtype="float16")
    assert d(np.ones((1, 3), "float32")).dtype == jnp.float16
    m = layers.Dense(2, dtype="mixed_bfloat16")
    y = m(np.ones((1, 3), "float32"))
    assert y.dtype == jnp.bfloat16 and m.kernel.dtype == jnp.float32


def test_call_path_note_on_shared_layer_second_call():
    from example3_multi_input import MultiInputModel

    model = MultiInputModel()
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 16") as e:
        model(jnp.ones((32, 16)), jnp.ones((32, 8)))
    note = "\n".join(e.value.__notes__)
    assert "MultiInputModel.call → dense1 (Dense 'dense', call 2) → Dense.call" in note
    assert "(32, 8)" in str(e.value)


def test_super_build_from_own_build_just_marks_built():
    class L(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 2), initializer="ones")
            super().build(input_shape)  # the Keras idiom

        def call(self, x):
            return x @ self.w

    layer = L()
    assert layer(np.ones((3, 4))).shape == (3, 2) and len(layer.weights) == 1

    class M(callax.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(3)

        def build(self, input_shape):
            self.d.build(input_shape)
            super().build(input_shape)

        def call(self, x):
            return self.d(x)

    m = M()
    m.build((None, 5))
    assert m.built and len(m.weights) == 2
    assert m(np.ones((2, 5))).shape == (2, 3)


def test_explicit_build_then_call_does_not_build_again():
    d = layers.Dense(3)
    d.build((None, 4))
    assert d.built and d._build_shapes == (None, 4)
    d.set_weights([np.ones((4, 3)), np.zeros(3)])
    np.testing.assert_array_equal(d(jnp.ones((2, 4))), np.full((2, 3), 4.0))
    assert len(d.weights) == 2  # the call used the weights build made
