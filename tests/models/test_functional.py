"""Functional models: graph building, calls, errors (numerics against layers called by hand)."""

import jax
import numpy as np
import pytest
from jax.test_util import check_grads

import callax
from callax import layers, ops


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_input_shapes_and_names():
    assert callax.Input((3,)).node.layer.name == "input_layer"
    assert callax.Input((3,)).node.layer.name == "input_layer_1"
    x = callax.Input((4,), name="x")
    assert x.shape == (None, 4) and x.dtype == "float32" and x.name == "x"
    assert callax.Input(shape=(2, 3), batch_size=8).shape == (8, 2, 3)
    assert callax.Input(batch_shape=(None, None, 5), dtype="int32").dtype == "int32"
    assert isinstance(x.node.layer, callax.InputLayer)
    with pytest.raises(ValueError, match="shape"):
        callax.Input()


def test_mlp_matches_layers_called_by_hand():
    inputs = callax.Input((8,))
    d1, d2 = layers.Dense(16, activation="relu"), layers.Dense(3, activation="softmax")
    outputs = d2(d1(inputs))
    assert outputs.shape == (None, 3)
    model = callax.Model(inputs=inputs, outputs=outputs)
    assert isinstance(model, callax.Functional)
    assert [type(layer).__name__ for layer in model.layers] == ["InputLayer", "Dense", "Dense"]
    assert model.input_shape == (None, 8) and model.output_shape == (None, 3)
    assert len(model.weights) == 4 and model.count_params() == 8 * 16 + 16 + 16 * 3 + 3
    x = _x(5, 8)
    np.testing.assert_allclose(model(x), d2(d1(x)), rtol=1e-6)
    # numpy reference for the same weights
    k1, b1, k2, b2 = [np.asarray(w) for w in model.get_weights()]
    h = np.maximum(x @ k1 + b1, 0)
    z = h @ k2 + b2
    ref = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(model(x), ref / ref.sum(-1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_weights_are_real_after_symbolic_build():
    inputs = callax.Input((3,))
    model = callax.Model(inputs, layers.Dense(2, kernel_initializer="ones")(inputs))
    assert isinstance(model.weights[0].value, jax.Array)
    np.testing.assert_array_equal(model.weights[0].numpy(), np.ones((3, 2)))
    assert model.layers[1]._build_shapes == (None, 3)
    assert [w.path for w in model.weights] == ["dense/kernel", "dense/bias"]


def test_multi_input_multi_output():
    a, b = callax.Input((4,), name="a"), callax.Input((6,), name="b")
    da, db = layers.Dense(5), layers.Dense(5)
    merged = layers.Concatenate()([da(a), db(b)])
    out1 = layers.Dense(1, name="score")(merged)
    out2 = layers.Add()([da(a), db(b)])
    model = callax.Model([a, b], [out1, out2])
    assert model.output_shape == [(None, 1), (None, 5)]
    assert model.input_shape == [(None, 4), (None, 6)]
    xa, xb = _x(2, 4), _x(2, 6, seed=1)
    y1, y2 = model([xa, xb])
    np.testing.assert_allclose(y2, da(xa) + db(xb), rtol=1e-6)
    score = model.get_layer("score")
    np.testing.assert_allclose(y1, score(ops.concatenate([da(xa), db(xb)], axis=-1)), rtol=1e-6)
    # by name, from a dict
    y1d, _ = model({"a": xa, "b": xb})
    np.testing.assert_allclose(y1d, y1, rtol=1e-6)
    assert model.output_names == ["score", "add"]


def test_dict_inputs_and_outputs():
    inputs = {"title": callax.Input((3,), name="title"), "body": callax.Input((2,), name="body")}
    x = layers.Concatenate()([inputs["title"], inputs["body"]])
    model = callax.Model(inputs, {"out": layers.Dense(1)(x), "raw": x})
    # model.inputs follow Keras: dict entries in sorted key order
    assert [t.name for t in model.inputs] == ["body", "title"]
    xt, xb = _x(2, 3), _x(2, 2, seed=1)
    out = model({"title": xt, "body": xb})
    assert set(out) == {"out", "raw"}
    np.testing.assert_allclose(out["raw"], np.concatenate([xt, xb], -1))
    with pytest.raises(ValueError, match=r"lacks \['title'\]"):
        model({"body": xb})


def test_shared_layer_shares_weights():
    a, b = callax.Input((4,)), callax.Input((4,))
    shared = layers.Dense(3)
    model = callax.Model([a, b], layers.Subtract()([shared(a), shared(b)]))
    assert len(model.trainable_weights) == 2
    assert len(shared._inbound_nodes) == 2
    xa, xb = _x(2, 4), _x(2, 4, seed=1)
    kernel = model.get_weights()[0]
    np.testing.assert_allclose(model([xa, xb]), (xa - xb) @ kernel, rtol=1e-5, atol=1e-6)


def test_nested_functional_and_subclassed_models():
    inner_in = callax.Input((4,))
    inner = callax.Model(inner_in, layers.Dense(3)(inner_in), name="inner")

    class Doubler(callax.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return 2 * self.dense(x)

    outer_in = callax.Input((4,))
    h = inner(outer_in)
    sub = Doubler()
    out = sub(h)
    model = callax.Model(outer_in, out)
    assert [layer.name for layer in model.layers] == [outer_in.node.layer.name, "inner", "doubler"]
    assert len(model.weights) == 4
    x = _x(3, 4)
    np.testing.assert_allclose(model(x), sub(inner(x)), rtol=1e-6)
    np.testing.assert_allclose(model(x), 2 * sub.dense(inner(x)), rtol=1e-6)


def test_ops_and_operators_on_symbolic_tensors():
    a, b = callax.Input((3,)), callax.Input((3,))
    c = ops.concatenate([a, b], axis=-1)
    d = (c + 1.0) * 2 - a[:, :1] / 4.0
    e = ops.sum(d**2, axis=-1, keepdims=True)
    f = -abs(e) @ ops.ones((1, 2))
    assert c.shape == (None, 6) and d.shape == (None, 6) and f.shape == (None, 2)
    model = callax.Model([a, b], [d, f])
    assert [type(x).__name__ for x in model.layers] == ["InputLayer", "InputLayer"]
    xa, xb = _x(2, 3), _x(2, 3, seed=1)
    yd, yf = model([xa, xb])
    ref_d = (np.concatenate([xa, xb], -1) + 1) * 2 - xa[:, :1] / 4
    np.testing.assert_allclose(yd, ref_d, rtol=1e-6)
    ref_e = (ref_d**2).sum(-1, keepdims=True)
    np.testing.assert_allclose(yf, -np.abs(ref_e) @ np.ones((1, 2)), rtol=1e-5)


def test_symbolic_dims_none_batch_and_sequence():
    x = callax.Input((None, 8))
    y = layers.Dense(4)(x)
    assert y.shape == (None, None, 4)
    pooled = ops.mean(y, axis=1)
    assert pooled.shape == (None, 4)
    total = ops.sum(y, axis=0)
    assert total.shape == (None, 4)
    flat = layers.Flatten()(callax.Input((2, 3)))
    assert flat.shape == (None, 6)


def test_training_flag_reaches_dropout():
    inputs = callax.Input((100,))
    model = callax.Model(inputs, layers.Dropout(0.5, seed=1)(inputs))
    x = np.ones((4, 100), "float32")
    np.testing.assert_array_equal(model(x), x)
    y = np.asarray(model(x, training=True))
    assert set(np.unique(y)) <= {0.0, 2.0} and 0 < (y == 0).mean() < 1


def test_explicit_training_at_construction_used_when_model_training_unset():
    inputs = callax.Input((100,))
    model = callax.Model(inputs, layers.Dropout(0.5, seed=1)(inputs, training=True))
    x = np.ones((4, 100), "float32")
    assert (np.asarray(model(x)) == 0).any()  # MC dropout: on by default
    np.testing.assert_array_equal(model(x, training=False), x)  # the model's flag wins


def test_training_reaches_functional_nested_in_subclassed_model():
    inputs = callax.Input((50,))
    inner = callax.Model(inputs, layers.Dropout(0.5)(inputs))

    class Wrapper(callax.Model):
        def __init__(self):
            super().__init__()
            self.inner = inner

        def call(self, x):  # neither declares nor forwards `training`
            return self.inner(x)

    x = np.ones((2, 50), "float32")
    assert (np.asarray(Wrapper()(x, training=True)) == 0).any()
    np.testing.assert_array_equal(Wrapper()(x), x)


def test_call_input_checks():
    a, b = callax.Input((4,), name="a"), callax.Input((2,), name="b")
    model = callax.Model([a, b], layers.Concatenate()([a, b]))
    with pytest.raises(ValueError, match=r"expects 2 input\(s\) \['a', 'b'\]; received 1"):
        model(_x(2, 4))
    with pytest.raises(ValueError, match=r"input 0 \('a'\) expects shape \(None, 4\); received"):
        model([_x(2, 5), _x(2, 2)])
    single = callax.Model(a, layers.Dense(1)(a))
    assert single([_x(2, 4)]).shape == (2, 1)  # a one-element list is fine
    # int arrays are cast to the Input's dtype; a trailing axis of 1 is added as Keras does
    col = callax.Input((3, 1))
    assert callax.Model(col, col * 2)(np.ones((2, 3), "int32")).shape == (2, 3, 1)


def test_disconnected_graph_names_the_input():
    a, b = callax.Input((4,), name="first"), callax.Input((4,), name="second")
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="depends on Input 'second'"):
        callax.Model(a, out)


def test_bad_inputs_type():
    with pytest.raises(TypeError, match="KerasTensor"):
        callax.Model(np.ones((2, 3)), callax.Input((3,)))


def test_symbolic_layer_errors_name_the_layer():
    x = callax.Input((4,))

    class Bad(callax.layers.Layer):
        def call(self, inputs):
            if inputs.sum() > 0:  # Python control flow on values
                return inputs
            return -inputs

    with pytest.raises(Exception, match="Bad 'bad'"):
        Bad()(x)
    with pytest.raises(ValueError, match="Dense 'dense'.*last dimension"):
        layers.Dense(2)(callax.Input((None,)))


def test_keras_tensor_has_no_values():
    x = callax.Input((2,))
    with pytest.raises(TypeError, match="symbolic KerasTensor"):
        np.asarray(x)
    with pytest.raises(TypeError, match="Python bool"):
        bool(x)
    with pytest.raises(TypeError, match="JAX array"):
        jax.numpy.asarray(x)


def test_intermediate_unused_input_and_model_as_layer_twice():
    a, b = callax.Input((2,), name="used"), callax.Input((5,), name="unused")
    model = callax.Model([a, b], layers.Dense(3)(a))
    assert [x.name for x in model.layers][:2] == ["unused", "used"] or len(model.layers) == 3
    np.testing.assert_allclose(model([_x(1, 2), _x(1, 5)]).shape, (1, 3))
    # a model used twice in another model shares weights
    i = callax.Input((2,))
    inner = callax.Model(i, layers.Dense(2)(i))
    o = callax.Input((2,))
    twice = callax.Model(o, inner(inner(o)))
    assert len(twice.weights) == 2
    x = _x(3, 2)
    np.testing.assert_allclose(twice(x), inner(inner(x)), rtol=1e-6)


def test_jit_and_grad_through_functional():
    inputs = callax.Input((3,))
    model = callax.Model(inputs, layers.Dense(1)(layers.Dense(4, activation="tanh")(inputs)))
    x = _x(8, 3)
    tv = [v.value for v in model.trainable_variables]

    def loss(tv):
        y, _ = model.stateless_call(tv, [], x)
        return (y**2).mean()

    grads = jax.jit(jax.grad(loss))(tv)
    assert [g.shape for g in grads] == [v.shape for v in model.trainable_variables]
    check_grads(loss, (tv,), order=1, modes=["rev"], atol=1e-2, rtol=1e-2)


def test_subclass_constructed_functionally():
    class CustomModel(callax.Model):
        def describe(self):
            return f"{self.name}: {len(self.layers)} layers"

    inputs = callax.Input((4,))
    outputs = layers.Dense(2)(inputs)
    model = CustomModel(inputs, outputs)
    assert isinstance(model, CustomModel) and isinstance(model, callax.Functional)
    assert model.describe() == "custom_model: 2 layers"
    x = _x(3, 4)
    np.testing.assert_allclose(model(x), model.layers[1](x), rtol=1e-6)

    class Builder(callax.Model):
        def __init__(self, units):
            inputs = callax.Input((3,))
            super().__init__(inputs=inputs, outputs=layers.Dense(units)(inputs), name="built")
            self.units = units

    built = Builder(5)
    assert isinstance(built, Builder) and built.output_shape == (None, 5) and built.units == 5
    assert type(Builder(2)) is type(built)  # one combined class per user class

    class Plain(callax.Model):  # positional arguments that are not tensors stay subclassed
        def __init__(self, units, scale=2):
            super().__init__()
            self.dense = layers.Dense(units)

        def call(self, x):
            return self.dense(x)

    assert not isinstance(Plain(3, 4), callax.Functional)


def test_functional_subclass_config_round_trip():
    class Custom(callax.Model):
        pass

    inputs = callax.Input((3,))
    model = Custom(inputs, layers.Dense(2)(inputs))
    clone = Custom.from_config(model.get_config())
    assert isinstance(clone, Custom) and isinstance(clone, callax.Functional)
    clone.set_weights(model.get_weights())
    x = _x(2, 3)
    np.testing.assert_allclose(clone(x), model(x), rtol=1e-6)
    assert isinstance(callax.Model.from_config(model.get_config()), callax.Functional)


def test_identity_and_passthrough_outputs():
    a, b = callax.Input((2,)), callax.Input((3,))
    model = callax.Model([a, b], [b, layers.Dense(1)(a)])
    xa, xb = _x(2, 2), _x(2, 3)
    yb, _ = model([xa, xb])
    np.testing.assert_array_equal(yb, xb)
    ident = callax.Model(a, a)
    np.testing.assert_array_equal(ident(xa), xa)


def test_layer_input_and_output_build_a_feature_extractor():
    """keras.io functional guide: `[layer.output for layer in model.layers]`."""
    base = callax.Sequential(
        [callax.Input((6, 6, 1)), callax.layers.Conv2D(2, 3), callax.layers.Conv2D(3, 3)]
    )
    features = callax.Model(inputs=base.input, outputs=[layer.output for layer in base.layers])
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 1)).astype("float32")
    first, second = features(x)
    np.testing.assert_allclose(first, base.layers[0](x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(second, base(x), rtol=1e-5, atol=1e-6)
    assert base.layers[1].input is base.layers[0].output
    with pytest.raises(AttributeError, match="never been called on symbolic"):
        _ = callax.layers.Dense(2).output
    shared = callax.layers.Dense(2)
    a, b = callax.Input((3,)), callax.Input((3,))
    shared(a), shared(b)
    with pytest.raises(AttributeError, match="called 2 times"):
        _ = shared.output


def test_int64_input_runs_as_int32_without_a_warning():
    # keras.io's text models declare Input(dtype="int64"); without x64 JAX narrows to
    # int32, and asking it for int64 would warn on every call and every fit step.
    import warnings

    inputs = callax.Input(shape=(None,), dtype="int64")
    outputs = callax.layers.Dense(1)(callax.layers.Embedding(10, 3)(inputs))
    model = callax.Model(inputs, outputs)
    ids = np.array([[1, 2, 3], [4, 5, 6]], "int64")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.compile("sgd", "mse")
        model.fit(ids, np.zeros((2, 3, 1), "float32"), verbose=0)
        out = model(ids)
    assert out.shape == (2, 3, 1)
    np.testing.assert_allclose(out, model(ids.astype("int32")), rtol=1e-6)
