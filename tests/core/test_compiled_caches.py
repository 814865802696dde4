"""Compiled-call caches follow their own model's structure only, and stay bounded.

callax.jit and the per-layer kernels are keyed on the structure stamps of the
layer's own tree (core/layer.py): an unrelated layer or model must not re-trace
them or grow their tables; a change to the model itself must."""

import collections
import gc
import weakref

import jax.numpy as jnp
import numpy as np

import callax
from callax import layers
from callax.core import kernels


class Net(callax.Model):
    def __init__(self):
        super().__init__()
        self.d1 = layers.Dense(8, activation="relu")
        self.d2 = layers.Dense(3)
        self.head = None

    def call(self, x):
        y = self.d2(self.d1(x))
        return y if self.head is None else self.head(y)


def _x(rows=4, cols=5, seed=0):
    return jnp.asarray(np.random.default_rng(seed).normal(size=(rows, cols)), jnp.float32)


def _numpy_net(m, x):
    """Independent reference: the forward pass in NumPy from the weights."""
    h = np.maximum(np.asarray(x) @ m.d1.kernel.numpy() + m.d1.bias.numpy(), 0)
    y = h @ m.d2.kernel.numpy() + m.d2.bias.numpy()
    if m.head is not None:
        y = y @ m.head.kernel.numpy() + m.head.bias.numpy()
    return y


def _kernel_tables(model):
    return {layer.name: len(layer._kernel.entries) for layer in model.layers}


def test_unrelated_layers_and_models_do_not_retrace_or_grow_tables():
    m, x = Net(), _x()
    m(x)
    m(x)
    fast = callax.jit(m)
    fast(x)
    assert fast.cache_info()["traces"] == 1
    tables, shared = _kernel_tables(m), kernels.shared_table_size()
    # Unrelated objects: a layer with a seed generator, a Sequential, a Net.
    layers.Dropout(0.1)
    callax.Sequential([layers.Dense(2), layers.BatchNormalization()])
    Net()
    kernels.reset_kernel_stats()
    np.testing.assert_allclose(fast(x), _numpy_net(m, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m(x), _numpy_net(m, x), rtol=1e-5, atol=1e-6)
    assert fast.cache_info()["traces"] == 1
    assert kernels.kernel_stats() == {"compiles": 0, "shared": 0, "hits": 2}
    assert _kernel_tables(m) == tables
    assert kernels.shared_table_size() == shared


def test_changes_to_the_model_itself_still_retrace():
    m, x = Net(), _x(seed=1)
    m(x)
    fast = callax.jit(m)
    fast(x)
    assert fast.cache_info()["traces"] == 1
    m.head = layers.Dense(2)  # a new sublayer attribute (not built yet)
    m(x)  # eager: builds the head, adding weights to the tree
    y = fast(x)
    assert fast.cache_info()["traces"] == 2
    assert y.shape == (4, 2)
    np.testing.assert_allclose(y, _numpy_net(m, x), rtol=1e-5, atol=1e-6)
    m.head.kernel.assign(np.ones((3, 2), np.float32))  # a value change: no retrace
    np.testing.assert_allclose(fast(x), _numpy_net(m, x), rtol=1e-5, atol=1e-6)
    assert fast.cache_info()["traces"] == 2
    m.head.add_weight(shape=(2,), name="extra")  # a new weight deep in the tree
    fast(x)
    assert fast.cache_info()["traces"] == 3


def test_a_sublayer_list_change_retraces():
    class Stack(callax.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [layers.Dense(4)]

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    m, x = Stack(), _x(seed=2)
    fast = callax.jit(m)
    m(x)
    fast(x)
    extra = layers.Dense(4)
    extra(jnp.ones((1, 4)))  # built before joining the tree
    m.blocks.append(extra)
    y = fast(x)
    assert fast.cache_info()["traces"] == 2
    ref = np.asarray(x) @ m.blocks[0].kernel.numpy() + m.blocks[0].bias.numpy()
    ref = ref @ extra.kernel.numpy() + extra.bias.numpy()
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def _rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def test_creating_and_dropping_300_models_keeps_tables_and_memory_bounded():
    x = _x(2, 5, seed=3)
    refs = []
    rss = []
    for i in range(300):
        m = Net()
        m(x)
        refs.append(weakref.ref(m))
        if i == 49:
            gc.collect()
            rss.append(_rss_mib())
            shared = kernels.shared_table_size()
        del m
    gc.collect()
    rss.append(_rss_mib())
    assert all(r() is None for r in refs)  # each model (and its kernel table) freed
    assert kernels.shared_table_size() == shared  # identical models: nothing new
    assert rss[1] - rss[0] < 40, rss  # MiB for 250 more models: no growth per model


def test_kernel_tables_are_bounded(monkeypatch):
    monkeypatch.setattr(kernels, "MAX_SHARED", 3)
    monkeypatch.setattr(kernels, "MAX_SIGNATURES", 2)
    # A fresh shared table: one filled by earlier tests in this process could serve
    # these calls without an insertion, and only insertions prune it.
    monkeypatch.setattr(kernels, "_shared", collections.OrderedDict())
    dense = layers.Dense(3)
    for rows in (1, 2, 3, 4):  # four signatures: the layer keeps the last two
        x = _x(rows, 2, seed=rows)
        y = dense(x)
        ref = np.asarray(x) @ dense.kernel.numpy() + dense.bias.numpy()
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)
        assert len(dense._kernel.entries) <= 2
        assert kernels.shared_table_size() <= 3
    np.testing.assert_allclose(dense(_x(1, 2, seed=1)), dense(_x(1, 2, seed=1)))  # recompiles


def test_callax_jit_keeps_a_bounded_number_of_signatures(monkeypatch):
    from callax.core import compiled_call

    monkeypatch.setattr(compiled_call, "MAX_ENTRIES", 2)
    dense = layers.Dense(2)
    dense(_x(1, 3))
    fast = callax.jit(dense)
    x = _x(2, 3, seed=4)
    ref = np.asarray(x) @ dense.kernel.numpy() + dense.bias.numpy()
    for kwargs in ({}, {"training": True}, {"training": False}):  # three static keys
        np.testing.assert_allclose(fast(x, **kwargs), ref, rtol=1e-5, atol=1e-6)
    assert fast.cache_info()["entries"] == 2 and fast.cache_info()["traces"] == 3


def test_sequential_pop_and_add_retrace():
    m = callax.Sequential([layers.Dense(4), layers.Dense(2)])
    x = _x(3, 5, seed=6)
    m(x)
    fast = callax.jit(m)
    assert fast(x).shape == (3, 2)
    m.pop()
    first = m.layers[0]
    np.testing.assert_allclose(
        fast(x), np.asarray(x) @ first.kernel.numpy() + first.bias.numpy(), rtol=1e-5, atol=1e-6
    )
    m.add(layers.Dense(7))
    assert fast(x).shape == (3, 7)
