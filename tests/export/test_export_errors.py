"""model.export errors (unbuilt model, unknown formats, bad signatures, missing
TensorFlow) and the atomic single-file write."""

import builtins

import numpy as np
import pytest
from export_models import CASES

import callax
from callax.export.signature import model_signature, normalize_signature


def test_unbuilt_model(tmp_path):
    model = callax.Sequential([callax.layers.Dense(2)])
    with pytest.raises(ValueError, match=r"export\(\) needs layer .* to be built"):
        model.export(tmp_path / "m.jax", format="jax")
    assert not (tmp_path / "m.jax").exists()


@pytest.mark.parametrize("fmt", ["keras", "h5", None, 3])
def test_unknown_format_names_the_supported_ones(tmp_path, fmt):
    model = CASES["subclassed"][0]()
    with pytest.raises(ValueError) as info:
        model.export(tmp_path / "m", format=fmt)
    message = str(info.value)
    assert "Supported formats: 'tf_saved_model', 'jax', 'onnx'" in message
    assert f"Received: format={fmt!r}" in message


def test_keras_only_formats_say_why(tmp_path):
    model = CASES["subclassed"][0]()
    with pytest.raises(ValueError, match="LiteRT export needs the TensorFlow Lite converter"):
        model.export(tmp_path / "m", format="litert")


def test_unknown_keyword_argument(tmp_path):
    model = CASES["subclassed"][0]()
    with pytest.raises(TypeError, match=r"unexpected keyword arguments \['opset_version'\]"):
        model.export(tmp_path / "m.jax", format="jax", opset_version=17)


def test_bad_input_signatures():
    with pytest.raises(TypeError, match="input_signature: each input must be .*received 'x'"):
        normalize_signature(["x"])
    with pytest.raises(ValueError, match="InputSpec needs a `shape`"):
        normalize_signature([callax.layers.InputSpec(ndim=2)])
    with pytest.raises(TypeError, match="a dimension must be an int, None or a symbol name"):
        normalize_signature([callax.layers.InputSpec(shape=(None, 2.5))])
    with pytest.raises(ValueError, match="at least one input spec"):
        normalize_signature([])


def test_inferred_signatures():
    (sub,) = [model_signature(CASES["subclassed"][0]())]
    assert [(s.shape, s.dtype.name) for s in sub] == [((None, 16), "float32")] * 2
    (cnn,) = model_signature(CASES["cnn"][0]())
    assert cnn.shape == (None, 8, 8, 3)
    (fdict,) = model_signature(CASES["functional_dict"][0]())
    assert {k: v.shape for k, v in fdict.items()} == {"a": (None, 3), "b": (None, 5)}
    # A one-argument call given a list of leaves: the list is that argument.
    spec = callax.layers.InputSpec(shape=(None, 2))
    (one,) = normalize_signature([spec, spec], num_args=1)
    assert isinstance(one, list) and len(one) == 2


def test_integer_inputs_keep_their_dtype(tmp_path):
    import jax

    # (A Sequential built by a call on data, without an Input, takes its first layer's
    # float dtype, as its InputLayer does; give Input(dtype=...) or input_signature.)
    model = callax.Sequential(
        [callax.Input((None,), dtype="int32"), callax.layers.Embedding(10, 3)]
    )
    model.export(tmp_path / "e.jax", format="jax", verbose=False, platforms=("cpu",))
    exported = jax.export.deserialize((tmp_path / "e.jax").read_bytes())
    assert exported.in_avals[0].dtype == np.int32
    assert str(exported.in_avals[0].shape) == "(batch, d1)"  # a dynamic length too
    ids = np.array([[0, 9], [4, 4], [1, 2]], "int32")
    table = np.asarray(model.layers[0].embeddings.value)
    np.testing.assert_allclose(exported.call(ids), table[ids], rtol=1e-6)


def test_failed_export_keeps_the_old_file(tmp_path, monkeypatch):
    model = CASES["subclassed"][0]()
    path = tmp_path / "m.jax"
    path.write_bytes(b"old artifact")

    import callax.export.jax_format as jax_format

    def crash(*args, **kwargs):
        raise RuntimeError("lowering failed")

    monkeypatch.setattr(jax_format, "export_endpoint", crash)
    with pytest.raises(RuntimeError, match="lowering failed"):
        model.export(path, format="jax", verbose=False)
    assert path.read_bytes() == b"old artifact"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.jax"]


def test_missing_tensorflow_is_an_import_error(tmp_path, monkeypatch):
    real_import = builtins.__import__

    def no_tensorflow(name, *args, **kwargs):
        if name == "tensorflow" or name.startswith("tensorflow."):
            raise ImportError("No module named 'tensorflow'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorflow)
    model = CASES["subclassed"][0]()
    with pytest.raises(ImportError, match=r"pip install tensorflow.*format='jax'"):
        model.export(tmp_path / "saved", verbose=False)
    assert not (tmp_path / "saved").exists()


class _BatchDependent(callax.Model):
    """Python logic on the batch size: cannot trace with a symbolic batch."""

    def call(self, x):
        return x * 2.0 if x.shape[0] > 2 else x


def test_symbolic_batch_failure_says_how_to_fix(tmp_path):
    import jax

    model = _BatchDependent()
    model(np.ones((4, 3), "float32"))
    with pytest.raises(Exception) as info:
        model.export(tmp_path / "m.jax", format="jax", verbose=False, platforms=("cpu",))
    notes = "\n".join(getattr(info.value, "__notes__", []))
    assert "traced with symbolic dimensions" in notes and "input_signature=" in notes
    fixed = callax.layers.InputSpec(shape=(4, 3), dtype="float32")
    model.export(tmp_path / "m.jax", format="jax", verbose=False, input_signature=[fixed],
                 platforms=("cpu",))  # fmt: skip
    exported = jax.export.deserialize((tmp_path / "m.jax").read_bytes())
    np.testing.assert_allclose(exported.call(np.ones((4, 3), "float32")), 2.0)


def test_onnx_refuses_bfloat16_layers(tmp_path):
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2, dtype="mixed_bfloat16")])
    with pytest.raises(ValueError, match="layer 'dense' computes in bfloat16"):
        model.export(tmp_path / "m.onnx", format="onnx", verbose=False)
    assert not (tmp_path / "m.onnx").exists()
