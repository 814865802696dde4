"""format="tf_saved_model" (Keras's default; jax2tf): reloaded with
tf.saved_model.load and compared with model.predict on two batch sizes.
Importing TensorFlow takes seconds, hence the slow marks."""

import numpy as np
import pytest
from export_models import BATCHES, CASES, as_call_args

import callax
from callax.export import ExportArchive

tf = pytest.importorskip("tensorflow", reason="the SavedModel format needs TensorFlow")
pytest.importorskip("jax.experimental.jax2tf", reason="the SavedModel format needs jax2tf")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_saved_model_matches_predict(tmp_path, name):
    build, make_inputs = CASES[name]
    model = build()
    model.export(tmp_path / "saved", verbose=False)  # the default format, as in Keras
    reloaded = tf.saved_model.load(str(tmp_path / "saved"))
    assert len(reloaded.variables) == len(model.trainable_variables) + len(
        model.non_trainable_variables
    )
    for n in BATCHES:
        inputs = make_inputs(n)
        got = reloaded.serve(*as_call_args(name, inputs)).numpy()
        np.testing.assert_allclose(got, model.predict(inputs, verbose=0), rtol=1e-5, atol=1e-5)
    if name == "subclassed":  # plain tensor inputs: a TF-Serving signature too
        a, b = make_inputs(2)
        out = reloaded.signatures["serving_default"](inputs1=a, inputs2=b)
        np.testing.assert_allclose(
            out["output_0"].numpy(), model.predict([a, b], verbose=0), atol=1e-5
        )


@pytest.mark.slow
def test_archive_variable_collections_and_two_endpoints(tmp_path):
    model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2, name="out")])
    spec = callax.layers.InputSpec(shape=(None, 3), dtype="float32")
    archive = ExportArchive()
    archive.track(model)
    archive.add_endpoint("serve", model.call, [spec])
    archive.add_endpoint("doubled", lambda x: 2.0 * model(x), [spec])
    archive.add_variable_collection("kernels", [model.layers[0].kernel])
    archive.write_out(tmp_path / "sm", verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "sm"))
    kernel, bias = (np.asarray(w.value) for w in model.weights)
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(reloaded.serve(x).numpy(), x @ kernel + bias, atol=1e-5)
    np.testing.assert_allclose(reloaded.doubled(x).numpy(), 2 * (x @ kernel + bias), atol=1e-5)
    np.testing.assert_array_equal(reloaded.kernels[0].numpy(), kernel)
    assert sorted(reloaded.signatures) == ["doubled", "serve", "serving_default"]


@pytest.mark.slow
def test_keras_jax_backend_options(tmp_path):
    """Keras's JAX-backend kwargs: jax2tf_kwargs reach jax2tf.convert (here: a
    polymorphic shape of our own naming), is_static is accepted."""
    model = CASES["subclassed"][0]()
    model.export(tmp_path / "sm", verbose=False, is_static=True,
                 jax2tf_kwargs={"polymorphic_shapes": ["(n, 16)", "(n, 16)"]})  # fmt: skip
    reloaded = tf.saved_model.load(str(tmp_path / "sm"))
    a, b = CASES["subclassed"][1](6)
    np.testing.assert_allclose(reloaded.serve(a, b).numpy(), model(a, b), atol=1e-5)
