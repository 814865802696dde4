"""format="onnx" (jax2onnx): reloaded with onnxruntime and compared with
``model.predict`` on two batch sizes. The first jax2onnx conversion in a
process loads its plugins (seconds), hence the slow marks."""

import builtins

import numpy as np
import pytest
from export_models import BATCHES, CASES

import callax

ort = pytest.importorskip("onnxruntime", reason="ONNX export is tested with onnxruntime")
pytest.importorskip("jax2onnx", reason="ONNX export needs the optional jax2onnx (callax[onnx])")


def _feed(session, inputs):
    names = [i.name for i in session.get_inputs()]
    if isinstance(inputs, dict):
        return {k: inputs[k] for k in names}
    inputs = inputs if isinstance(inputs, list) else [inputs]
    return dict(zip(names, inputs))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_onnx_matches_predict_on_two_batch_sizes(tmp_path, name):
    build, make_inputs = CASES[name]
    model = build()
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx", verbose=False)
    session = ort.InferenceSession(str(path))
    if name == "subclassed":
        expected_names = ["inputs1", "inputs2"]  # the call's argument names
    elif name == "cnn":
        expected_names = [model.inputs[0].name]  # the Input's name
    else:
        expected_names = ["a", "b"]  # the dict's keys
    assert sorted(i.name for i in session.get_inputs()) == sorted(expected_names)
    assert all(i.shape[0] == "batch" for i in session.get_inputs())
    for n in BATCHES:
        inputs = make_inputs(n)
        (got,) = session.run(None, _feed(session, inputs))
        np.testing.assert_allclose(got, model.predict(inputs, verbose=0), rtol=1e-5, atol=1e-5)


@pytest.mark.slow
def test_onnx_pooling_layouts_run_in_onnxruntime(tmp_path):
    """callax pools over every axis at once (window (1, 2, 2, 1)); the export rewrites
    those pools into the 1-3-D pools onnxruntime runs. Checked against numpy."""
    x = np.random.default_rng(0).normal(size=(2, 4, 6, 3)).astype("float32")
    cases = {
        "max_nhwc": (callax.layers.MaxPooling2D(), x.reshape(2, 2, 2, 3, 2, 3).max(axis=(2, 4))),
        "avg_nhwc": (
            callax.layers.AveragePooling2D(),
            x.reshape(2, 2, 2, 3, 2, 3).mean(axis=(2, 4)),
        ),
        "max_nchw": (
            callax.layers.MaxPooling2D(data_format="channels_first"),
            # (N, C=4, H=6, W=3): H 6 -> 3, W 3 -> 1 (valid padding drops the last column)
            x[:, :, :, :2].reshape(2, 4, 3, 2, 1, 2).max(axis=(3, 5)),
        ),
    }
    for name, (layer, expected) in cases.items():
        model = callax.Sequential([callax.Input(x.shape[1:]), layer])
        path = tmp_path / f"{name}.onnx"
        model.export(path, format="onnx", verbose=False)
        session = ort.InferenceSession(str(path))
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6, err_msg=name)


def _layer_zoo():
    L = callax.layers
    text = callax.Input((5,), dtype="int32")
    seq = L.LSTM(4, return_sequences=True)(L.Embedding(10, 6)(text))
    attended = L.MultiHeadAttention(2, 3)(seq, seq)
    text_model = callax.Model(text, L.GlobalAveragePooling1D()(L.LayerNormalization()(attended)))
    image = callax.Sequential(
        [
            callax.Input((5, 5, 2)),
            L.Conv2DTranspose(3, 3, strides=2),  # kernel (h, w, out, in): a layout moved
            L.DepthwiseConv2D(3),
            L.UpSampling2D(),
            L.Conv2D(2, 3, padding="same", activation="gelu"),
        ]
    )
    signal = callax.Sequential(
        [callax.Input((9, 3)), L.SeparableConv1D(4, 3), L.Conv1DTranspose(2, 3, strides=2)]
    )
    rng = np.random.default_rng(0)
    return {
        "text": (text_model, rng.integers(0, 10, size=(3, 5)).astype("int32")),
        "image": (image, rng.normal(size=(3, 5, 5, 2)).astype("float32")),
        "signal": (signal, rng.normal(size=(3, 9, 3)).astype("float32")),
    }


@pytest.mark.slow
def test_more_layers_in_onnxruntime(tmp_path):
    """Embedding (jax2onnx's jnp.take patch refuses callax's fill_value: the export
    replays the traced primitives instead), LSTM, attention, transposed convolutions
    (kernel layouts moved for jax2onnx), depthwise/separable convolutions."""
    for name, (model, x) in _layer_zoo().items():
        path = tmp_path / f"{name}.onnx"
        model.export(path, format="onnx", verbose=False)
        session = ort.InferenceSession(str(path))
        (got,) = session.run(None, {session.get_inputs()[0].name: x})
        np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_opset_version_and_output_names(tmp_path):
    onnx = pytest.importorskip("onnx", reason="reads the exported graph")
    a = callax.Input((2,), name="a")
    model = callax.Model(a, {"double": a * 2.0, "neg": -a})
    model.export(tmp_path / "m.onnx", format="onnx", verbose=False, opset_version=18)
    graph = onnx.load(str(tmp_path / "m.onnx"))
    assert [o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")] == [18]
    session = ort.InferenceSession(str(tmp_path / "m.onnx"))
    x = np.array([[1.0, -2.0]], "float32")
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, {"a": x})))
    np.testing.assert_allclose(outputs["double"], 2 * x)
    np.testing.assert_allclose(outputs["neg"], -x)
    with pytest.raises(TypeError, match="opset_version must be an int"):
        model.export(tmp_path / "m2.onnx", format="onnx", verbose=False, opset_version="18")


def test_missing_jax2onnx_names_the_extra(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_jax2onnx(name, *args, **kwargs):
        if name == "jax2onnx" or name.startswith("jax2onnx."):
            raise ImportError("No module named 'jax2onnx'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_jax2onnx)
    model = CASES["subclassed"][0]()
    with pytest.raises(ImportError, match=r"pip install callax\[onnx\]"):
        model.export(tmp_path / "m.onnx", format="onnx", verbose=False)
    assert not (tmp_path / "m.onnx").exists()
