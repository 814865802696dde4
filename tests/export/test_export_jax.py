"""format="jax": a serialized jax.export.Exported that runs with JAX alone.

Each artifact is reloaded in a fresh Python process that imports only jax and
numpy (proving no callax or model code is needed) and compared with
``model.predict`` on two batch sizes."""

import json
import os
import subprocess
import sys

import jax
import numpy as np
import pytest
from export_models import BATCHES, CASES, as_call_args

import callax

_RELOAD = """
import sys, json
import numpy as np, jax
cases, out = json.loads(sys.argv[1]), sys.argv[2]
results = {}
for name, (path, n_args) in cases.items():
    exported = jax.export.deserialize(open(path, "rb").read())
    data = np.load(path + ".inputs.npz", allow_pickle=False)
    for batch in sys.argv[3:]:
        if n_args == 0:  # one dict argument
            keys = [k for k in data.files if k.startswith(batch + "/")]
            args = ({k.split("/", 1)[1]: data[k] for k in keys},)
        else:
            args = tuple(data[f"{batch}/{i}"] for i in range(n_args))
        results[f"{name}/{batch}"] = np.asarray(exported.call(*args))
assert "callax" not in sys.modules, "the reload must not import callax"
np.savez(out, **results)
"""


def _save_inputs(path, name, make_inputs):
    arrays = {}
    for n in BATCHES:
        inputs = make_inputs(n)
        if isinstance(inputs, dict):
            arrays.update({f"{n}/{k}": v for k, v in inputs.items()})
        else:
            inputs = inputs if isinstance(inputs, list) else [inputs]
            arrays.update({f"{n}/{i}": v for i, v in enumerate(inputs)})
    np.savez(path + ".inputs.npz", **arrays)


@pytest.mark.slow  # a fresh Python process importing JAX
def test_artifacts_reload_without_callax(tmp_path):
    models, cases = {}, {}
    for name, (build, make_inputs) in CASES.items():
        model = models[name] = build()
        path = str(tmp_path / f"{name}.jax")
        model.export(path, format="jax", verbose=False, platforms=("cpu",))
        _save_inputs(path, name, make_inputs)
        cases[name] = (path, {"subclassed": 2, "cnn": 1, "functional_dict": 0}[name])
    out = str(tmp_path / "outputs.npz")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["JAX_PLATFORMS"] = "cpu"
    subprocess.run(
        [sys.executable, "-c", _RELOAD, json.dumps(cases), out, *map(str, BATCHES)],
        check=True,
        env=env,
        cwd=str(tmp_path),
        capture_output=True,
    )
    results = np.load(out)
    for name, (_build, make_inputs) in CASES.items():
        for n in BATCHES:
            expected = models[name].predict(make_inputs(n), verbose=0)
            got = results[f"{name}/{n}"]
            assert got.shape == (n, expected.shape[1])
            np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", list(CASES))
def test_in_process_reload_matches_predict(tmp_path, name):
    build, make_inputs = CASES[name]
    model = build()
    path = tmp_path / "model.jax"
    model.export(path, format="stablehlo", verbose=False, platforms=("cpu",))
    exported = jax.export.deserialize(path.read_bytes())
    assert str(exported.in_avals[0].shape[0]) == "batch"
    for n in BATCHES:
        inputs = make_inputs(n)
        got = exported.call(*as_call_args(name, inputs))
        np.testing.assert_allclose(got, model.predict(inputs, verbose=0), rtol=1e-5, atol=1e-5)


def test_default_platforms_cover_cpu_cuda_tpu(tmp_path):
    model = CASES["cnn"][0]()
    model.export(tmp_path / "m.jax", format="jax", verbose=False)
    exported = jax.export.deserialize((tmp_path / "m.jax").read_bytes())
    assert set(exported.platforms) == {"cpu", "cuda", "tpu"}


def test_inference_mode_and_weights_baked_in(tmp_path):
    """Dropout is off, BatchNorm uses its moving statistics (numpy formula), and later
    weight changes do not reach an artifact already written."""
    model = callax.Sequential(
        [callax.Input((4,)), callax.layers.Dropout(0.9), callax.layers.BatchNormalization()]
    )
    bn = model.layers[1]
    mean, var = np.array([1.0, -2.0, 0.5, 3.0], "float32"), np.array([4.0, 1.0, 0.25, 9.0], "f4")
    bn.moving_mean.assign(mean)
    bn.moving_variance.assign(var)
    model.export(tmp_path / "m.jax", format="jax", verbose=False, platforms=("cpu",))
    bn.moving_mean.assign(np.zeros(4, "float32"))
    exported = jax.export.deserialize((tmp_path / "m.jax").read_bytes())
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    expected = (x - mean) / np.sqrt(var + bn.epsilon)
    np.testing.assert_allclose(exported.call(x), expected, rtol=1e-5, atol=1e-5)


def test_explicit_input_signature_fixed_batch(tmp_path):
    model = CASES["subclassed"][0]()
    spec = callax.layers.InputSpec(shape=(2, 16), dtype="float32")
    model.export(tmp_path / "m.jax", format="jax", verbose=False, input_signature=[spec, spec],
                 platforms=("cpu",))  # fmt: skip
    exported = jax.export.deserialize((tmp_path / "m.jax").read_bytes())
    assert [a.shape for a in exported.in_avals] == [(2, 16), (2, 16)]
    with pytest.raises(ValueError):
        exported.call(*[np.ones((3, 16), "float32")] * 2)


def test_signature_from_shape_dtype_structs_and_arrays(tmp_path):
    model = CASES["functional_dict"][0]()
    # Arrays get a dynamic batch; a symbolic "batch" is the same symbol (concatenation
    # needs equal batches); "m" is a second symbol.
    b = jax.export.symbolic_shape("batch, 5")
    sig = [{"a": np.zeros((9, 3), "float32"), "b": jax.ShapeDtypeStruct(b, "float32")}]
    model.export(tmp_path / "m.jax", format="jax", verbose=False, input_signature=sig,
                 platforms=("cpu",))  # fmt: skip
    exported = jax.export.deserialize((tmp_path / "m.jax").read_bytes())
    shapes = {str(a.shape) for a in exported.in_avals}
    assert shapes == {"(batch, 3)", "(batch, 5)"}
    x = CASES["functional_dict"][1](4)
    np.testing.assert_allclose(exported.call(x), model.predict(x, verbose=0), atol=1e-5)


def test_other_dynamic_dims_get_their_own_symbols(tmp_path):
    layer = callax.layers.GlobalAveragePooling1D()
    spec = callax.layers.InputSpec(shape=(None, None, 3), dtype="float32")
    layer.build((None, None, 3))
    callax.export.export_model(layer, tmp_path / "m.jax", format="jax", verbose=False,
                               input_signature=[spec], platforms=("cpu",))  # fmt: skip
    exported = jax.export.deserialize((tmp_path / "m.jax").read_bytes())
    assert str(exported.in_avals[0].shape) == "(batch, d1, 3)"
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_allclose(exported.call(x), x.mean(axis=1), rtol=1e-6)


def test_verbose_prints_endpoint(tmp_path, capsys):
    model = CASES["subclassed"][0]()
    model.export(tmp_path / "m.jax", format="jax", platforms=("cpu",))
    out = capsys.readouterr().out
    assert "Saved artifact (jax)" in out
    assert "serve(inputs1: float32[?, 16], inputs2: float32[?, 16])" in out
