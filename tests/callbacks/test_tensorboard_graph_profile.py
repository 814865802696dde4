"""TensorBoard(write_graph=True): the model config Keras 3 writes on JAX, read back
by TensorBoard's own reader and graph plugin; TensorBoard(profile_batch=...): a
JAX profiler trace of exactly those batches where TensorBoard's profile plugin
looks for it."""

import glob
import json
import os

import numpy as np
import pytest

import callax
from callax.callbacks import TensorBoard


def _fit(log_dir, model=None, **kwargs):
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = x[:, :1] * 2.0
    if model is None:
        model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(4, name="hidden"),
                                   callax.layers.Dense(1, name="head")])  # fmt: skip
    model.compile("sgd", "mse")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[TensorBoard(log_dir, **kwargs)])
    return model


def _accumulator(path):
    pytest.importorskip("tensorboard", reason="read back with TensorBoard's own reader")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path))
    acc.Reload()
    return acc


def test_write_graph_writes_the_keras_model_config(tmp_path):
    model = _fit(tmp_path)  # write_graph=True is the default, as in Keras
    acc = _accumulator(tmp_path / "train")
    assert "keras" in acc.Tags()["tensors"]
    assert acc.PluginTagToContent("graph_keras_model") == {"keras": b"1"}
    (event,) = acc.Tensors("keras")
    assert event.step == 0
    tensor = event.tensor_proto
    from tensorboard.compat.proto import summary_pb2, types_pb2

    assert tensor.dtype == types_pb2.DT_STRING
    assert [d.size for d in tensor.tensor_shape.dim] == [1]
    assert json.loads(tensor.string_val[0]) == json.loads(model.to_json())
    # The metadata Keras writes (checked against Keras 3.15's event file).
    meta = acc.SummaryMetadata("keras")
    assert meta.data_class == summary_pb2.DATA_CLASS_BLOB_SEQUENCE
    # TensorBoard's Graphs tab turns the config into a graph of the layers.
    from tensorboard.plugins.graph import keras_util

    graph = keras_util.keras_model_to_graph_def(json.loads(tensor.string_val[0]))
    names = [node.name for node in graph.node]
    assert any(n.endswith("hidden") for n in names) and any(n.endswith("head") for n in names)


def test_write_graph_false_and_subclassed_models_write_no_graph(tmp_path):
    _fit(tmp_path / "off", write_graph=False)
    assert "keras" not in _accumulator(tmp_path / "off" / "train").Tags()["tensors"]

    class Net(callax.Model):
        def __init__(self):
            super().__init__()
            self.dense = callax.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    _fit(tmp_path / "sub", model=Net())  # as Keras: no layer graph to draw
    acc = _accumulator(tmp_path / "sub" / "train")
    assert "keras" not in acc.Tags()["tensors"]
    assert "epoch_loss" in acc.Tags()["scalars"] + acc.Tags()["tensors"]


def test_profile_batch_traces_exactly_those_batches(tmp_path):
    _fit(tmp_path, profile_batch=(2, 3))  # 4 batches per epoch, 8 in all
    traces = glob.glob(str(tmp_path / "train" / "plugins" / "profile" / "*" / "*.xplane.pb"))
    assert len(traces) == 1 and os.path.getsize(traces[0]) > 0
    data = open(traces[0], "rb").read()
    assert b"Profiled batch 2" in data and b"Profiled batch 3" in data
    assert b"Profiled batch 1" not in data and b"Profiled batch 4" not in data
    # TensorBoard's profile plugin finds sessions as <run>/plugins/profile/<session>.
    session = os.path.dirname(traces[0])
    assert os.path.relpath(session, tmp_path).split(os.sep)[:3] == ["train", "plugins", "profile"]


def test_profile_batch_int_string_and_zero(tmp_path):
    _fit(tmp_path / "one", profile_batch="5")
    (trace,) = glob.glob(
        str(tmp_path / "one" / "train" / "plugins" / "profile" / "*" / "*.xplane.pb")
    )
    data = open(trace, "rb").read()
    assert b"Profiled batch 5" in data and b"Profiled batch 6" not in data
    _fit(tmp_path / "never", profile_batch=0)
    assert not os.path.exists(tmp_path / "never" / "train" / "plugins")


@pytest.mark.parametrize("bad", [-1, (3, 2), (0, 2), "a,b", (1, 2, 3), 1.5, True])
def test_profile_batch_rejects_bad_values(tmp_path, bad):
    with pytest.raises(ValueError, match=r"profile_batch must be a non-negative int.*received"):
        TensorBoard(tmp_path, profile_batch=bad)


def test_profile_batch_warns_when_another_trace_runs(tmp_path):
    import jax

    jax.profiler.start_trace(str(tmp_path / "outer"))
    try:
        with pytest.warns(UserWarning, match="could not start JAX's profiler"):
            _fit(tmp_path / "inner", profile_batch=1)
    finally:
        jax.profiler.stop_trace()
    assert not os.path.exists(tmp_path / "inner" / "train" / "plugins")
