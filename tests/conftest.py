import os
import sys

# Several fake CPU devices so sharding code can be tested on any machine.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras is a test-only oracle

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples", "seed"))


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with fresh default layer names (dense, dense_1, ...)."""
    from callax.core.layer import reset_names

    reset_names()
    yield
