"""ExportArchive: several endpoints (pure functions of the tracked variables),
variable collections, the jax/onnx directory layouts, errors, atomic writes."""

import json

import jax
import numpy as np
import pytest
from export_models import CASES

import callax
from callax.export import ExportArchive

SPEC = callax.layers.InputSpec(shape=(None, 3), dtype="float32")


def _mlp():
    model = callax.Sequential(
        [
            callax.Input((3,)),
            callax.layers.Dense(4, activation="relu", name="hidden"),
            callax.layers.Dense(2, name="out"),
        ]
    )
    return model


def _numpy_forward(model, x):
    k1, b1, k2, b2 = (np.asarray(w.value) for w in model.weights)
    h = np.maximum(x @ k1 + b1, 0)
    return h, h @ k2 + b2


def _load(path):
    return jax.export.deserialize(path.read_bytes())


def test_two_endpoints_and_collections_in_a_jax_directory(tmp_path):
    model = _mlp()
    archive = ExportArchive(format="jax")
    archive.track(model)
    archive.add_endpoint("serve", model.call, [SPEC])
    archive.add_endpoint("features", lambda x: model.get_layer("hidden")(x), [SPEC])
    archive.add_variable_collection("head", model.get_layer("out").weights)
    archive.write_out(tmp_path / "art", verbose=False, platforms=("cpu",))

    files = sorted(p.name for p in (tmp_path / "art").iterdir())
    assert files == ["features.jax", "head.npz", "manifest.json", "serve.jax", "variables.npz"]
    manifest = json.loads((tmp_path / "art" / "manifest.json").read_text())
    assert manifest["endpoints"]["serve"]["inputs"] == [
        {"shape": [None, 3], "dtype": "float32", "name": None}
    ]
    assert manifest["variable_collections"] == {"head": "head.npz"}

    for n in (2, 5):
        x = np.random.default_rng(n).normal(size=(n, 3)).astype("float32")
        hidden, out = _numpy_forward(model, x)
        np.testing.assert_allclose(_load(tmp_path / "art/serve.jax").call(x), out, atol=1e-5)
        np.testing.assert_allclose(_load(tmp_path / "art/features.jax").call(x), hidden, atol=1e-5)
    head = np.load(tmp_path / "art" / "head.npz")
    assert sorted(head.files) == sorted(w.path for w in model.get_layer("out").weights)
    for w in model.get_layer("out").weights:
        np.testing.assert_array_equal(head[w.path], np.asarray(w.value))
    assert len(np.load(tmp_path / "art" / "variables.npz").files) == len(archive.variables) == 4


def test_endpoint_reads_current_values_and_write_out_bakes_them(tmp_path):
    model = _mlp()
    archive = ExportArchive()
    archive.track(model)
    serve = archive.add_endpoint("serve", model.call, [SPEC])
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(serve(x), _numpy_forward(model, x)[1], atol=1e-5)
    model.get_layer("out").bias.assign(np.array([10.0, -10.0], "float32"))
    np.testing.assert_allclose(serve(x), _numpy_forward(model, x)[1], atol=1e-5)  # new value
    archive.write_out(tmp_path / "a", format="jax", verbose=False, platforms=("cpu",))
    np.testing.assert_allclose(
        _load(tmp_path / "a/serve.jax").call(x), _numpy_forward(model, x)[1], atol=1e-5
    )


def test_endpoint_state_updates_are_discarded():
    """A training-mode BatchNorm endpoint normalizes with batch statistics but never
    moves the moving statistics (endpoints are pure)."""
    model = callax.Sequential([callax.Input((3,)), callax.layers.BatchNormalization()])
    archive = ExportArchive()
    archive.track(model)
    train = archive.add_endpoint("train", lambda x: model(x, training=True), [SPEC])
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    expected = (x - x.mean(0)) / np.sqrt(x.var(0) + model.layers[0].epsilon)
    np.testing.assert_allclose(train(x), expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_array_equal(np.asarray(model.layers[0].moving_mean.value), np.zeros(3))


def test_track_and_add_endpoint_infers_a_layers_signature(tmp_path):
    layer = callax.layers.Dense(2)
    layer(np.ones((4, 3), "float32"))
    archive = ExportArchive("stablehlo")
    archive.track_and_add_endpoint("dense", layer)
    archive.write_out(tmp_path / "d", verbose=False, platforms=("cpu",))
    x = np.ones((6, 3), "float32")
    kernel, bias = (np.asarray(w.value) for w in layer.weights)
    np.testing.assert_allclose(_load(tmp_path / "d/dense.jax").call(x), x @ kernel + bias, 1e-5)


def test_multi_input_model_endpoint():
    model = CASES["subclassed"][0]()
    spec = callax.layers.InputSpec(shape=(None, 16), dtype="float32")
    archive = ExportArchive()
    archive.track(model)
    serve = archive.add_endpoint("serve", model.call, [spec, spec])
    a, b = CASES["subclassed"][1](5)
    np.testing.assert_allclose(serve(a, b), model(a, b), atol=1e-6)


@pytest.mark.slow
def test_onnx_directory(tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="ONNX artifacts are checked with onnxruntime")
    pytest.importorskip("jax2onnx", reason="ONNX export needs the optional jax2onnx")
    model = _mlp()
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.call, [SPEC])
    archive.add_endpoint("features", model.get_layer("hidden"), [SPEC])
    archive.write_out(tmp_path / "o", format="onnx", verbose=False)
    x = np.random.default_rng(0).normal(size=(3, 3)).astype("float32")
    hidden, out = _numpy_forward(model, x)
    for name, expected in (("serve", out), ("features", hidden)):
        session = ort.InferenceSession(str(tmp_path / "o" / f"{name}.onnx"))
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        np.testing.assert_allclose(got, expected, atol=1e-5)


# ------------------------------------------------------------------- errors
def test_archive_errors():
    model = _mlp()
    archive = ExportArchive()
    with pytest.raises(TypeError, match="track: expected a callax Layer"):
        archive.track("model")
    with pytest.raises(ValueError, match="to be built"):
        archive.track(callax.layers.Dense(2))
    archive.track(model)
    with pytest.raises(ValueError, match="input_signature is required"):
        archive.add_endpoint("serve", lambda x: model(x))
    with pytest.raises(ValueError, match="Python identifier"):
        archive.add_endpoint("not valid", model.call, [SPEC])
    with pytest.raises(ValueError, match="taken"):
        archive.add_endpoint("variables", model.call, [SPEC])
    archive.add_endpoint("serve", model.call, [SPEC])
    with pytest.raises(ValueError, match="already exists"):
        archive.add_endpoint("serve", model.call, [SPEC])
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        archive.add_endpoint("other", model.call, [SPEC], jit_compile=True)
    with pytest.raises(TypeError, match="jax2tf_kwargs must be a dict"):
        archive.add_endpoint("other", model.call, [SPEC], jax2tf_kwargs=["x"])
    with pytest.raises(TypeError, match="every item must be a callax Variable"):
        archive.add_variable_collection("extra", [np.zeros(2)])
    with pytest.raises(ValueError, match="taken"):
        archive.add_variable_collection("serve", model.weights)
    with pytest.raises(ValueError, match=r"Supported formats: 'tf_saved_model', 'jax', 'onnx'"):
        ExportArchive(format="neptune_model")


def test_write_out_errors(tmp_path):
    with pytest.raises(ValueError, match="no endpoints"):
        ExportArchive().write_out(tmp_path / "x", format="jax")
    archive = ExportArchive()
    model = _mlp()
    archive.track(model)
    archive.add_endpoint("serve", model.call, [SPEC])
    with pytest.raises(TypeError, match=r"accepts \['platforms'\]"):
        archive.write_out(tmp_path / "x", format="jax", opset_version=17)
    with pytest.raises(ValueError, match="options= applies to format='tf_saved_model'"):
        archive.write_out(tmp_path / "x", format="jax", options=object())
    (tmp_path / "file").write_text("keep")
    with pytest.raises(FileExistsError, match="writes a directory"):
        archive.write_out(tmp_path / "file", format="jax", platforms=("cpu",))
    assert (tmp_path / "file").read_text() == "keep"


def test_failed_write_keeps_the_old_directory(tmp_path, monkeypatch):
    model = _mlp()
    archive = ExportArchive(format="jax")
    archive.track(model)
    archive.add_endpoint("serve", model.call, [SPEC])
    archive.write_out(tmp_path / "art", verbose=False, platforms=("cpu",))
    before = (tmp_path / "art" / "serve.jax").read_bytes()
    model.get_layer("out").bias.assign(np.ones(2, "float32"))

    import callax.export.archive as archive_module

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(archive_module, "_write_npz", crash)
    with pytest.raises(OSError, match="disk full"):
        archive.write_out(tmp_path / "art", verbose=False, platforms=("cpu",))
    assert (tmp_path / "art" / "serve.jax").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]  # no temp left behind
    monkeypatch.undo()
    archive.write_out(tmp_path / "art", verbose=False, platforms=("cpu",))  # replaces it
    assert (tmp_path / "art" / "serve.jax").read_bytes() != before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["art"]
