"""Keras 3 as oracle: the same Functional / Sequential models, the same weights, the
same outputs; Keras-written configs load here, ours have Keras's layout."""

import json

import numpy as np
import pytest

import callax

keras = pytest.importorskip("keras")
# Keras's own variables warn when it reads their values as numpy (not ours to fix).
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture(autouse=True)
def _fresh_keras_names():
    keras.backend.clear_session()  # Keras's default names restart, as callax's do


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _build(lib):
    """A model exercising multiple inputs/outputs, a shared layer, merges, reshapes
    and ops on symbolic tensors, written once for either library."""
    L = lib.layers
    a = lib.Input((6,), name="a")
    b = lib.Input((2, 3), name="b")
    shared = L.Dense(5, activation="tanh", name="shared")
    fa = shared(a)
    fb = shared(L.Flatten(name="flat")(b))
    merged = L.Concatenate(name="cat")([fa, fb])
    summed = L.Add(name="sum")([fa, fb])
    x = lib.ops.concatenate([merged, summed * 2.0], axis=-1) + 1.0
    x = L.Dropout(0.3, name="drop")(x)
    x = L.Reshape((3, 5), name="reshape")(x)
    x = L.Activation("relu", name="act")(x)
    head = L.Dense(4, name="head")(L.Flatten(name="flat2")(x))
    return lib.Model(inputs=[a, b], outputs=[head, x[:, 0, :2]], name="parity")


def _copy(src, dst):
    dst.set_weights([np.asarray(w) for w in src.get_weights()])


def test_functional_same_outputs_and_layer_order_as_keras():
    kmodel, cmodel = _build(keras), _build(callax)
    assert [x.name for x in cmodel.layers] == [x.name for x in kmodel.layers]
    assert [tuple(w.shape) for w in cmodel.weights] == [tuple(w.shape) for w in kmodel.weights]
    assert cmodel.output_shape == [tuple(s) for s in kmodel.output_shape]
    _copy(kmodel, cmodel)
    xa, xb = _x(4, 6), _x(4, 2, 3, seed=1)
    for got, want in zip(cmodel([xa, xb]), kmodel([xa, xb])):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


def test_functional_config_matches_keras_layout():
    kconf = _build(keras).get_config()
    cconf = _build(callax).get_config()
    assert set(cconf) == set(kconf)
    assert cconf["input_layers"] == kconf["input_layers"]
    assert cconf["output_layers"] == kconf["output_layers"]
    # layers (ops included) in the same order, each with the same calls
    assert [e["name"] for e in cconf["layers"]] == [e["name"] for e in kconf["layers"]]
    for ce, ke in zip(cconf["layers"], kconf["layers"]):
        if ke["module"].startswith("keras.src.ops"):
            continue  # Keras keeps some op arguments in the op's config instead
        assert ce["class_name"] == ke["class_name"]
        assert json.loads(json.dumps(ce["inbound_nodes"])) == json.loads(
            json.dumps(ke["inbound_nodes"])
        ), ke["name"]
        if "build_config" in ce:  # (layers built at creation have none, here or in Keras)
            got = json.loads(json.dumps(ce["build_config"]))
            assert got == json.loads(json.dumps(ke["build_config"])), ke["name"]


def test_keras_functional_config_loads_with_same_outputs():
    kmodel = _build(keras)
    config = json.loads(json.dumps(kmodel.get_config()))  # as read from a file
    model = callax.Model.from_config(config)
    assert isinstance(model, callax.Functional) and model.name == "parity"
    _copy(kmodel, model)
    xa, xb = _x(3, 6), _x(3, 2, 3, seed=2)
    for got, want in zip(model([xa, xb]), kmodel([xa, xb])):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-6)


def test_config_round_trip_gives_equal_outputs():
    model = _build(callax)
    clone = callax.Model.from_config(json.loads(json.dumps(model.get_config())))
    assert [x.name for x in clone.layers] == [x.name for x in model.layers]
    _copy(model, clone)
    xa, xb = _x(2, 6), _x(2, 2, 3, seed=3)
    for got, want in zip(clone([xa, xb]), model([xa, xb])):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    assert clone.get_config() == model.get_config()


def test_keras_loads_our_layer_only_config():
    def build(lib):
        i = lib.Input((4,), name="i")
        h = lib.layers.Dense(3, name="h")(i)
        out = lib.layers.Concatenate(name="c")([h, lib.layers.Dropout(0.1, name="d")(h)])
        return lib.Model(i, out)

    ours = build(callax)
    theirs = keras.Model.from_config(json.loads(json.dumps(ours.get_config())))
    _copy(ours, theirs)
    x = _x(2, 4)
    np.testing.assert_allclose(np.asarray(theirs(x)), ours(x), rtol=1e-6)


def test_nested_models_config_from_keras():
    def build(lib):
        ii = lib.Input((3,), name="ii")
        inner = lib.Model(ii, lib.layers.Dense(3, name="inner_dense")(ii), name="inner")
        seq = lib.Sequential([lib.layers.Dense(2, name="seq_dense")], name="seq")
        x = lib.Input((3,), name="x")
        return lib.Model(x, seq(inner(inner(x))), name="outer")

    kmodel = build(keras)
    cmodel = callax.Model.from_config(json.loads(json.dumps(kmodel.get_config())))
    assert [x.name for x in cmodel.layers] == [x.name for x in kmodel.layers]
    _copy(kmodel, cmodel)
    x = _x(2, 3)
    np.testing.assert_allclose(cmodel(x), np.asarray(kmodel(x)), rtol=1e-5, atol=1e-6)
    ours = build(callax).get_config()
    theirs = kmodel.get_config()
    assert ours["output_layers"] == theirs["output_layers"]
    nodes = [json.loads(json.dumps(e["inbound_nodes"])) for e in ours["layers"]]
    assert nodes == [json.loads(json.dumps(e["inbound_nodes"])) for e in theirs["layers"]]


def _seq(lib, with_input=True):
    layers = [
        lib.layers.Dense(8, activation="relu", name="d1"),
        lib.layers.Dropout(0.2, name="drop"),
        lib.layers.Dense(3, activation="softmax", name="d2"),
    ]
    return lib.Sequential(([lib.Input((5,))] if with_input else []) + layers, name="seq")


@pytest.mark.parametrize("with_input", [True, False])
def test_sequential_same_outputs_and_config_as_keras(with_input):
    kmodel, cmodel = _seq(keras, with_input), _seq(callax, with_input)
    x = _x(4, 5)
    if not with_input:
        kmodel(x), cmodel(x)
    assert [w.shape for w in cmodel.weights] == [tuple(w.shape) for w in kmodel.weights]
    _copy(kmodel, cmodel)
    np.testing.assert_allclose(cmodel(x), np.asarray(kmodel(x)), rtol=1e-5, atol=1e-6)
    kconf = json.loads(json.dumps(kmodel.get_config()))
    cconf = json.loads(json.dumps(cmodel.get_config()))
    assert set(cconf) == set(kconf)
    assert cconf["build_input_shape"] == kconf["build_input_shape"]
    assert [e["class_name"] for e in cconf["layers"]] == [e["class_name"] for e in kconf["layers"]]
    assert (
        cconf["layers"][0]["config"]["batch_shape"] == kconf["layers"][0]["config"]["batch_shape"]
    )
    # Keras's config loads here, and ours round-trips
    for config in (kconf, cconf):
        loaded = callax.Sequential.from_config(config)
        assert loaded.built
        _copy(kmodel, loaded)
        np.testing.assert_allclose(loaded(x), np.asarray(kmodel(x)), rtol=1e-5, atol=1e-6)


def test_unbuilt_sequential_config_from_keras():
    kmodel = keras.Sequential([keras.layers.Dense(2, name="only")], name="s")
    model = callax.Sequential.from_config(json.loads(json.dumps(kmodel.get_config())))
    assert not model.built and [x.name for x in model.layers] == ["only"]
    assert model(_x(3, 4)).shape == (3, 2)


def test_masks_flow_like_keras():
    def build(lib):
        ids = lib.Input((6,), dtype="int32", name="ids")
        e = lib.layers.Embedding(20, 8, mask_zero=True, name="emb")(ids)
        q = lib.layers.Dense(8, name="q")(e)
        att = lib.layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(query=q, value=e)
        return lib.Model(ids, [lib.layers.LSTM(5, name="lstm")(att), lib.layers.GRU(3)(e)])

    kmodel, cmodel = build(keras), build(callax)
    _copy(kmodel, cmodel)
    ids = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 6, 7, 8, 0]])
    for got, want in zip(cmodel(ids), kmodel(ids)):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-5)
    # Keras writes the mask as an op node (`not_equal`) feeding `mask=`: it loads here
    loaded = callax.Model.from_config(json.loads(json.dumps(kmodel.get_config())))
    _copy(kmodel, loaded)
    for got, want in zip(loaded(ids), kmodel(ids)):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-5)
