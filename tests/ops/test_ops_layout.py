"""The ops namespace as documented in ``callax/ops/__init__.py``: one module per
Keras ops namespace, each declaring its ops in ``__all__``, all re-exported."""

from __future__ import annotations

import jax.numpy as jnp
import pytest

from callax import ops
from callax.ops import core, linalg, math, nn, numpy

NAMESPACES = {"core": core, "math": math, "linalg": linalg, "nn": nn, "numpy": numpy}


@pytest.mark.parametrize("name", sorted(NAMESPACES))
def test_every_declared_op_is_reexported(name):
    module = NAMESPACES[name]
    assert len(module.__all__) == len(set(module.__all__)), f"ops.{name}: a name twice"
    for op_name in module.__all__:
        assert getattr(ops, op_name) is getattr(module, op_name), f"ops.{op_name} ({name})"
        assert op_name in ops.__all__


def test_jax_numpy_ops_are_wrapped_by_name():
    # Compared by name and module, not by identity with today's ``jnp.<name>``: an
    # exporter imported earlier in the process (jax2onnx) may have replaced
    # ``jnp.cumsum`` and others with its own functions since callax wrapped them.
    for name in numpy.SAME_AS_JAX_NUMPY:
        if hasattr(jnp, name):
            wrapped = getattr(numpy, name)
            inner = wrapped.__wrapped__
            assert wrapped.__name__ == name and inner.__name__ == name, name
            assert inner.__module__.startswith("jax"), (name, inner.__module__)
    assert "nanmean" in numpy.SAME_AS_JAX_NUMPY and "fliplr" in numpy.SAME_AS_JAX_NUMPY


def test_namespaces_do_not_repeat_each_other():
    """An op has one home (``qr`` is Keras's both in math and in linalg: the same object)."""
    seen = {}
    for module in NAMESPACES.values():
        for op_name in module.__all__:
            if op_name in seen:
                assert getattr(module, op_name) is getattr(seen[op_name], op_name), op_name
            seen[op_name] = module
    assert linalg.qr is math.qr
