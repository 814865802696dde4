"""The communication volume benchmarks/distributed_fit.py reads from XLA's
optimized HLO (``collective_bytes``), checked on steps whose collectives are
known: a data-parallel gradient (one all-reduce of the weight's bytes) and a
sharded array made whole (one all-gather of the full array's bytes)."""

import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec

pytestmark = pytest.mark.skipif(
    jax.device_count() < 4, reason="needs 4 devices (XLA_FLAGS in tests/conftest.py)"
)

_PATH = os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks", "distributed_fit.py")
_spec = importlib.util.spec_from_file_location("distributed_fit", _PATH)
distributed_fit = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(distributed_fit)

MESH = jax.sharding.Mesh(np.array(jax.devices()[:4]), ("batch",))
SPLIT, WHOLE = NamedSharding(MESH, PartitionSpec("batch")), NamedSharding(MESH, PartitionSpec())


def _hlo(fn, *args, out=WHOLE):
    return jax.jit(fn, out_shardings=out).lower(*args).compile().as_text()


def test_data_parallel_gradient_is_one_all_reduce_of_the_weights():
    w = jax.device_put(jnp.ones((8, 16), jnp.float32), WHOLE)
    x = jax.device_put(jnp.ones((32, 8), jnp.float32), SPLIT)
    text = _hlo(jax.grad(lambda w, x: jnp.sum((x @ w) ** 2)), w, x)
    got = distributed_fit.collective_bytes(text)
    assert got["all-reduce"] == 8 * 16 * 4, (got, text)
    assert sum(got.values()) == got["all-reduce"]


def test_making_a_split_array_whole_is_one_all_gather_of_it():
    x = jax.device_put(jnp.ones((32, 8), jnp.float32), SPLIT)
    got = distributed_fit.collective_bytes(_hlo(lambda x: x * 2, x))
    assert got["all-gather"] == 32 * 8 * 4 and got["all-reduce"] == 0, got


def test_tuple_results_and_async_starts_are_counted():
    text = """
  %a = (f32[4,2]{1,0}, s32[3]{0}) all-reduce(f32[4,2]{1,0} %p, s32[3]{0} %q), to_apply=%add
  %b = (f32[2]{0}, f32[8]{0}) all-gather-start(f32[2]{0} %r), dimensions={0}
  %c = f16[5]{0} collective-permute(f16[5]{0} %s), source_target_pairs={{0,1}}
  %d = f32[9]{0} add(f32[9]{0} %t, f32[9]{0} %u)
"""
    got = distributed_fit.collective_bytes(text)
    assert got == {"all-reduce": 32 + 12, "all-gather": 32, "reduce-scatter": 0,
                   "collective-permute": 10, "all-to-all": 0}  # fmt: skip
