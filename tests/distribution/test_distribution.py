"""callax.distribution on 4 fake CPU devices (tests/conftest.py sets XLA_FLAGS).

Semantics of DeviceMesh / TensorLayout / LayoutMap, the global distribution, and
training under DataParallel and ModelParallel compared with a single-device run
of the same model, weights and data (all-reduced gradients give the same numbers).
"""

import jax
import numpy as np
import pytest

import callax as keras
from callax import distribution as D

pytestmark = pytest.mark.skipif(
    jax.device_count() < 4, reason="needs 4 devices (XLA_FLAGS in tests/conftest.py)"
)


@pytest.fixture(autouse=True)
def _no_distribution():
    D.set_distribution(None)
    yield
    D.set_distribution(None)


def _replicated(array) -> bool:
    s = array.sharding
    return len(s.device_set) == 4 and s.is_fully_replicated


# ------------------------------------------------------------------ devices
def test_list_devices_and_count():
    assert D.list_devices() == [f"cpu:{i}" for i in range(4)]
    assert D.list_devices("CPU") == D.list_devices("cpu")
    assert D.get_device_count() == 4 == D.get_device_count("cpu")
    with pytest.raises(TypeError, match="device_type must be a string.*received 3"):
        D.list_devices(3)


# --------------------------------------------------------------- DeviceMesh
def test_device_mesh_wraps_jax_mesh():
    mesh = D.DeviceMesh((2, 2), ["batch", "model"])
    assert mesh.shape == (2, 2) and mesh.axis_names == ["batch", "model"]
    assert mesh.devices.shape == (2, 2) and mesh.devices[1, 0] == "cpu:2"
    jm = mesh.backend_mesh
    assert isinstance(jm, jax.sharding.Mesh)
    assert dict(jm.shape) == {"batch": 2, "model": 2}
    assert [d.id for d in jm.devices.flat] == [0, 1, 2, 3]
    # Devices may be given as jax devices, in any order.
    devs = jax.devices()[::-1]
    mesh = D.DeviceMesh((4,), ["data"], devices=devs)
    assert [d.id for d in mesh.backend_mesh.devices.flat] == [3, 2, 1, 0]


@pytest.mark.parametrize(
    "shape, names, devices, match",
    [
        ((2, 2), ["batch"], None, "same length.*shape=\\(2, 2\\) and axis_names=\\['batch'\\]"),
        ((3,), ["batch"], None, "needs 3 devices; received 4"),
        ((), [], None, "cannot be empty"),
        ((2, 2), ["a", "a"], None, "unique"),
        ((1,), ["batch"], ["tpu:0"], "unknown device 'tpu:0'|no 'tpu' devices"),
    ],
)
def test_device_mesh_errors(shape, names, devices, match):
    with pytest.raises(ValueError, match=match):
        D.DeviceMesh(shape, names, devices)


# ------------------------------------------------------------- TensorLayout
def test_tensor_layout():
    mesh = D.DeviceMesh((2, 2), ["batch", "model"])
    layout = D.TensorLayout([None, "model"])
    assert layout.axes == (None, "model") and layout.device_mesh is None
    with pytest.raises(ValueError, match="has no device mesh.*device_mesh=None"):
        _ = layout.backend_layout
    layout.device_mesh = mesh
    sharding = layout.backend_layout
    assert isinstance(sharding, jax.sharding.NamedSharding)
    assert sharding.spec == jax.sharding.PartitionSpec(None, "model")
    assert sharding.mesh == mesh.backend_mesh
    with pytest.raises(ValueError, match="already set"):
        layout.device_mesh = mesh
    with pytest.raises(ValueError, match="must be in the mesh's.*received \\['modle'\\]"):
        D.TensorLayout((None, "modle"), mesh)
    with pytest.raises(ValueError, match="only one dimension"):
        D.TensorLayout(("model", "model"), mesh)
    with pytest.raises(ValueError, match="tuple or list.*received 'model'"):
        D.TensorLayout("model", mesh)


# ---------------------------------------------------------------- LayoutMap
def test_layout_map_regex_lookup():
    mesh = D.DeviceMesh((2, 2), ["batch", "model"])
    lm = D.LayoutMap(mesh)
    lm[".*dense.*kernel"] = (None, "model")
    lm["dense.*bias"] = D.TensorLayout(["model"])
    lm["conv/kernel"] = ("batch", None)
    assert lm.device_mesh is mesh and len(lm) == 3
    assert list(lm) == [".*dense.*kernel", "dense.*bias", "conv/kernel"]
    # re.fullmatch, as Keras 3: the key must match the whole path.
    assert lm["model/dense_1/kernel"].axes == (None, "model")
    assert lm["adam/dense_kernel_momentum"] is None
    assert lm["model/dense/bias"] is None
    assert lm["dense/bias"].axes == ("model",)
    assert lm["dense/bias"].device_mesh is mesh
    assert lm["embedding/embeddings"] is None
    # An exact key wins over regex matches.
    lm["dense/kernel"] = ("model", None)
    assert lm["dense/kernel"].axes == ("model", None)
    # Two regex keys matching one path is ambiguous.
    lm["dense_.*"] = (None, None)
    with pytest.raises(ValueError, match="'dense_1/kernel' matches several keys"):
        lm["dense_1/kernel"]
    del lm["dense_.*"]
    assert lm["dense_1/kernel"].axes == (None, "model")


def test_layout_map_errors():
    mesh = D.DeviceMesh((4,), ["model"])
    lm = D.LayoutMap(mesh)
    lm["kernel"] = (None, "model")
    with pytest.raises(ValueError, match="'kernel' is already set"):
        lm["kernel"] = ("model", None)
    with pytest.raises(ValueError, match="TensorLayout or a tuple.*received 'model'"):
        lm["bias"] = "model"
    with pytest.raises(ValueError, match="must be in the mesh's"):
        lm["bias"] = ("batch",)
    other = D.DeviceMesh((4,), ["model"])
    with pytest.raises(ValueError, match="device mesh must be the map's"):
        lm["bias"] = D.TensorLayout(("model",), other)
    with pytest.raises(ValueError, match="must be a DeviceMesh"):
        D.LayoutMap("mesh")


# ------------------------------------------------------------ distributions
def test_global_distribution_and_scope():
    assert D.distribution() is None
    dp = D.DataParallel()
    mp = D.ModelParallel(layout_map=D.LayoutMap(D.DeviceMesh((2, 2), ["batch", "model"])))
    D.set_distribution(dp)
    assert D.distribution() is dp
    with mp.scope():
        assert D.distribution() is mp
    assert D.distribution() is dp
    with pytest.raises(RuntimeError):
        with mp.scope():
            raise RuntimeError
    assert D.distribution() is dp
    with pytest.raises(ValueError, match="expected a Distribution.*received 'dp'"):
        D.set_distribution("dp")
    assert keras.distribution.DataParallel is D.DataParallel


def test_data_parallel_meshes_and_layouts():
    dp = D.DataParallel()
    assert dp.device_mesh.shape == (4,) and dp.device_mesh.axis_names == ["batch"]
    assert dp.batch_dim_name == "batch" and dp.num_batch_shards == 4
    assert D.DataParallel(devices=D.list_devices()[:2]).device_mesh.shape == (2,)
    mesh = D.DeviceMesh((2, 2), ["data", "other"])
    dp = D.DataParallel(device_mesh=mesh)
    assert dp.batch_dim_name == "data" and dp.num_batch_shards == 2
    assert dp.get_data_layout((8, 3, 5)).axes == ("data", None, None)
    v = keras.Variable(np.zeros((3, 5)), name="w")
    assert dp.get_variable_layout(v).axes == (None, None)
    with pytest.raises(ValueError, match="must be a DeviceMesh"):
        D.DataParallel(device_mesh=(4,))


def test_model_parallel_arguments():
    mesh = D.DeviceMesh((2, 2), ["batch", "model"])
    lm = D.LayoutMap(mesh)
    lm["dense.*kernel"] = (None, "model")
    mp = D.ModelParallel(layout_map=lm, batch_dim_name="batch")
    assert mp.device_mesh is mesh and mp.layout_map is lm and mp.num_batch_shards == 2
    assert D.ModelParallel(layout_map=lm).batch_dim_name == "batch"
    assert D.ModelParallel(device_mesh=mesh).layout_map.device_mesh is mesh  # Keras 3.0 form
    with pytest.raises(ValueError, match="pass a layout_map.*layout_map=None"):
        D.ModelParallel()
    with pytest.raises(ValueError, match="axis of the mesh.*received 'data'"):
        D.ModelParallel(layout_map=lm, batch_dim_name="data")
    with pytest.raises(TypeError):
        D.ModelParallel(lm)
    v = keras.Variable(np.zeros((3,)), name="kernel")
    v.path = "dense/kernel"
    with pytest.raises(ValueError, match="'dense/kernel' must have one axis per dimension"):
        mp.get_variable_layout(v)


def test_distribute_tensor_eager_and_traced():
    mesh = D.DeviceMesh((2, 2), ["batch", "model"])
    layout = D.TensorLayout(("batch", "model"), mesh)
    x = np.arange(16.0).reshape(4, 4)
    y = D.distribute_tensor(x, layout)
    assert y.sharding.spec == jax.sharding.PartitionSpec("batch", "model")
    assert len(y.addressable_shards) == 4 and y.addressable_shards[0].data.shape == (2, 2)
    np.testing.assert_array_equal(np.asarray(y), x)
    z = jax.jit(lambda a: D.distribute_tensor(a * 2, layout))(x)
    assert z.sharding.is_equivalent_to(layout.backend_layout, 2)
    np.testing.assert_array_equal(np.asarray(z), x * 2)
    with pytest.raises(ValueError, match="TensorLayout or a jax Sharding"):
        D.distribute_tensor(x, ("batch", None))


# ----------------------------------------------------------------- training
def _make_model():
    return keras.Sequential(
        [
            keras.layers.Input((8,)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.25, seed=3),
            keras.layers.Dense(4),
        ]
    )


def _data(n=64):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 8)).astype("float32"), rng.normal(size=(n, 4)).astype("float32")


def _fit(model, weights, **kw):
    x, y = _data()
    model.set_weights(weights)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"], **kw)
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0,
                        validation_data=(x[:32], y[:32]))  # fmt: skip
    return history.history


@pytest.fixture(scope="module")
def reference():
    """A single-device fit: initial weights, history, final weights, predictions."""
    model = _make_model()
    weights = model.get_weights()
    history = _fit(model, weights)
    return weights, history, model.get_weights(), model.predict(_data()[0], verbose=0)


def _assert_same_training(model, reference, history):
    _, ref_history, ref_weights, ref_pred = reference
    for key in ref_history:
        np.testing.assert_allclose(history[key], ref_history[key], rtol=1e-5, atol=1e-6)
    for got, want in zip(model.get_weights(), ref_weights):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    pred = model.predict(_data()[0], batch_size=16, verbose=0)
    assert pred.shape == (64, 4)  # the full batch comes back, not one device's slice
    np.testing.assert_allclose(pred, ref_pred, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("steps_per_execution", [1, 2])
def test_data_parallel_fit_matches_single_device(reference, steps_per_execution):
    D.set_distribution(D.DataParallel())
    model = _make_model()
    assert all(_replicated(v.value) for v in model.weights)
    history = _fit(model, reference[0], steps_per_execution=steps_per_execution)
    _assert_same_training(model, reference, history)
    # Every variable (model, optimizer, metrics) is still replicated on the 4 devices,
    # and the copies agree: the gradients were all-reduced.
    state = model.variables + model.optimizer.variables + model.metrics_variables
    for v in state:
        assert _replicated(v.value), v.path
        shards = [np.asarray(s.data) for s in v.value.addressable_shards]
        for shard in shards[1:]:
            np.testing.assert_array_equal(shard, shards[0])


def test_data_parallel_steps_compile_once_and_batches_are_split():
    D.set_distribution(D.DataParallel())
    x, y = _data()
    model = _make_model()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    # Traced once: the state's layout does not change between steps or fits.
    assert model._trainer.steps.trace_counts["train"] == 1
    from callax.training.epoch_iterator import _to_device

    placed = _to_device((x[:16], y[:16]))
    assert placed[0].sharding == D.distribution().get_data_layout((16, 8)).backend_layout
    assert [s.data.shape for s in placed[0].addressable_shards] == [(4, 8)] * 4


def test_data_parallel_run_eagerly_sees_sharded_batches():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, inputs):
            if not isinstance(inputs, jax.core.Tracer):  # skip the symbolic build
                seen.append(inputs.sharding)
            return inputs

    with D.DataParallel().scope():
        model = keras.Sequential([keras.layers.Input((8,)), Probe(), keras.layers.Dense(4)])
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
        x, y = _data(32)
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert len(seen) == 2
    assert all(s.spec[0] == "batch" and len(s.device_set) == 4 for s in seen)
    assert _replicated(model.layers[-1].kernel.value)


def test_model_parallel_shards_kernels_and_matches_single_device(reference):
    mesh = D.DeviceMesh((2, 2), ["batch", "model"])
    layout_map = D.LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    with D.ModelParallel(layout_map=layout_map, batch_dim_name="batch").scope():
        model = _make_model()
        first, second = model.layers[0], model.layers[3]
        spec = jax.sharding.PartitionSpec(None, "model")
        assert first.kernel.value.sharding.spec == spec
        assert first.kernel.value.addressable_shards[0].data.shape == (8, 8)
        assert second.kernel.value.sharding.spec == spec
        assert _replicated(first.bias.value)
        layouts = {v.path: v.value.sharding for v in model.weights}
        history = _fit(model, reference[0])
        _assert_same_training(model, reference, history)
        for v in model.weights:  # set_weights and fit kept every layout
            assert v.value.sharding.is_equivalent_to(layouts[v.path], v.ndim), v.path
        # Optimizer slots of the kernels are laid out like the kernels (as in Keras).
        slots = [v for v in model.optimizer.variables if "kernel" in v.path]
        assert slots and all(v.value.sharding.spec == spec for v in slots)


def test_batch_size_must_divide_by_batch_devices():
    D.set_distribution(D.DataParallel())
    model = _make_model()
    model.compile(optimizer="sgd", loss="mse")
    x, y = _data(12)
    with pytest.raises(ValueError, match="divisible by the number of devices on the 'batch' "
                       "mesh axis \\(4\\).*Received a batch of 6 samples"):  # fmt: skip
        model.fit(x, y, batch_size=6, epochs=1, verbose=0)
    # A batch that divides works, including train_on_batch.
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(model.train_on_batch(x[:8], y[:8]))


def test_bad_variable_layout_names_the_variable():
    mesh = D.DeviceMesh((4,), ["model"])
    layout_map = D.LayoutMap(mesh)
    layout_map[".*dense.*kernel"] = (None, "model")
    with D.ModelParallel(layout_map=layout_map).scope():
        with pytest.raises(ValueError, match="'dense/kernel' of shape \\(8, 6\\) cannot be laid"):
            keras.layers.Dense(6).build((None, 8))


# --------------------------------------------------------------- initialize
def test_initialize_arguments(monkeypatch):
    calls = []
    monkeypatch.setattr(jax.distributed, "initialize", lambda **kw: calls.append(kw))
    for name in ("ADDRESSES", "NUM_PROCESSES", "PROCESS_ID"):
        monkeypatch.delenv(f"KERAS_DISTRIBUTION_{'JOB_' if name == 'ADDRESSES' else ''}{name}",
                           raising=False)  # fmt: skip
    D.initialize("10.0.0.1:1234", 2, 0)
    D.initialize("10.0.0.1:1234,10.0.0.2:1234", process_id=1)
    D.initialize()
    assert calls == [
        dict(coordinator_address="10.0.0.1:1234", num_processes=2, process_id=0),
        dict(coordinator_address="10.0.0.1:1234", num_processes=None, process_id=1),
        dict(coordinator_address=None, num_processes=None, process_id=None),
    ]
    with pytest.raises(ValueError, match="lists 2 jobs but num_processes=3"):
        D.initialize("a:1,b:1", num_processes=3, process_id=0)
    calls.clear()
    monkeypatch.setenv("KERAS_DISTRIBUTION_JOB_ADDRESSES", "h0:99,h1:99,h2:99")
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "3")
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "2")
    D.initialize()
    D.initialize(process_id=0)  # arguments win over the environment
    assert calls == [
        dict(coordinator_address="h0:99", num_processes=3, process_id=2),
        dict(coordinator_address="h0:99", num_processes=3, process_id=0),
    ]
    monkeypatch.setenv("KERAS_DISTRIBUTION_PROCESS_ID", "two")
    with pytest.raises(ValueError, match="KERAS_DISTRIBUTION_PROCESS_ID must be an int.*'two'"):
        D.initialize()


def test_fit_keeps_layouts_that_xla_would_change():
    # Only the first kernel is sharded (an exact path). Its Adam slots follow it, as
    # in Keras. BatchNormalization's statistics are replicated but computed from
    # features sharded over "model": left to itself, XLA would return them sharded.
    # The step keeps every state array's layout (and so compiles once).
    layout_map = D.LayoutMap(D.DeviceMesh((2, 2), ["batch", "model"]))
    layout_map[".*/dense/kernel"] = (None, "model")  # "sequential_<n>/dense/kernel", as Keras
    with D.ModelParallel(layout_map=layout_map).scope():
        model = _make_model()
        model.compile(optimizer="adam", loss="mse")
        model.optimizer.build(model.trainable_variables)
        kernel = model.layers[0].kernel
        assert tuple(kernel.value.sharding.spec) == (None, "model")
        slots = [v for v in model.optimizer.variables if "_dense_kernel_" in v.path]
        assert len(slots) == 2
        assert all(tuple(v.value.sharding.spec) == (None, "model") for v in slots)
        state = model.variables + model.optimizer.variables
        before = {id(v): v.value.sharding for v in state}
        x, y = _data()
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        for v in state:
            assert v.value.sharding.is_equivalent_to(before[id(v)], v.ndim), v.path
        assert model._trainer.steps.trace_counts["train"] == 1


# -------------------------------------------------------------- Keras oracle
def test_same_answers_as_keras_distribution():
    kd = pytest.importorskip("keras").distribution
    assert D.list_devices() == kd.list_devices() and D.get_device_count() == kd.get_device_count()
    dp, kdp = D.DataParallel(), kd.DataParallel()
    assert dp.device_mesh.shape == tuple(kdp.device_mesh.shape)
    assert dp.device_mesh.axis_names == list(kdp.device_mesh.axis_names)
    assert dp.batch_dim_name == kdp.batch_dim_name
    assert dp.get_data_layout((16, 8)).axes == tuple(kdp.get_data_layout((16, 8)).axes)
    maps = []
    for lib in (D, kd):
        lm = lib.LayoutMap(lib.DeviceMesh((2, 2), ["batch", "model"]))
        lm[".*dense.*kernel"] = (None, "model")
        lm["dense/bias"] = ("model",)
        lm["embedding"] = ("model", None)
        lm[".*conv.*"] = ("batch", None)
        maps.append(lm)
    paths = ["dense/kernel", "model/dense_3/kernel", "dense/bias", "dense_1/bias",
             "embedding/embeddings", "conv2d/kernel", "other/w"]  # fmt: skip
    for path in paths:
        ours, theirs = maps[0][path], maps[1][path]
        assert (ours is None) == (theirs is None), path
        if ours is not None:
            assert ours.axes == tuple(theirs.axes), path
    for lm in maps:  # a path matching two keys is ambiguous for both
        with pytest.raises(ValueError):
            lm["dense_conv/kernel"]


def test_model_parallel_lays_out_layer_outputs(reference):
    # As in Keras, "<layer path>/output" keys of the LayoutMap lay out layer outputs.
    layout_map = D.LayoutMap(D.DeviceMesh((2, 2), ["batch", "model"]))
    layout_map[".*dense.*kernel"] = (None, "model")
    layout_map[".*dense.*output"] = ("batch", "model")
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, inputs):
            if not isinstance(inputs, jax.core.Tracer):
                seen.append(inputs.sharding)
            return inputs

    with D.ModelParallel(layout_map=layout_map).scope():
        model = _make_model()
        out = model(_data()[0][:8])
        assert out.sharding.spec == jax.sharding.PartitionSpec("batch", "model")
        probed = keras.Sequential([keras.Input((8,)), keras.layers.Dense(6), Probe()])
        probed(np.ones((4, 8), "float32"))
        assert seen[-1].spec == jax.sharding.PartitionSpec("batch", "model")
        history = _fit(model, reference[0])  # the constraints change no number
        _assert_same_training(model, reference, history)


def test_sharded_initial_values_equal_unsharded_ones():
    def dense():
        layer = keras.layers.Dense(
            8, kernel_initializer=keras.initializers.GlorotUniform(seed=1), dtype="bfloat16"
        )
        layer.build((None, 6))
        return layer

    plain = dense()
    layout_map = D.LayoutMap(D.DeviceMesh((1, 4), ["batch", "model"]))
    layout_map[".*kernel"] = (None, "model")
    with D.ModelParallel(layout_map=layout_map).scope():
        sharded = dense()
    assert sharded.kernel.value.sharding.spec == jax.sharding.PartitionSpec(None, "model")
    assert sharded.kernel.value.addressable_shards[0].data.shape == (6, 2)
    assert sharded.kernel.dtype == plain.kernel.dtype == np.dtype("bfloat16")
    np.testing.assert_array_equal(sharded.kernel.numpy(), plain.kernel.numpy())
    assert _replicated(sharded.bias.value)


def test_synchronized_batchnorm_uses_global_batch_statistics():
    """BatchNormalization(synchronized=True) (which Keras's JAX backend refuses) is
    what a sharded step computes anyway: statistics of the whole global batch."""
    D.set_distribution(D.DataParallel())
    rng = np.random.default_rng(0)
    # Each device's quarter has a different mean: per-device statistics would differ.
    x = (rng.normal(size=(16, 3)) + np.repeat(np.arange(4), 4)[:, None] * 5).astype("float32")
    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.BatchNormalization(synchronized=True)]
    )
    model.compile("sgd", "mse")
    model.fit(x, np.zeros_like(x), batch_size=16, epochs=1, verbose=0, shuffle=False)
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * x.mean(0), rtol=1e-4, atol=1e-6)
    # The global variance includes the spread between the quarters (~39); the mean
    # of per-device variances would be ~1.
    np.testing.assert_allclose(bn.moving_variance.numpy(), 0.99 + 0.01 * x.var(0), rtol=1e-4)
    assert bn.get_config()["synchronized"] is True
