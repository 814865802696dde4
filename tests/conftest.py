import os
import sys

# Several fake CPU devices so sharding code can be tested on any machine.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
os.environ.setdefault("KERAS_BACKEND", "jax")  # Keras is a test-only oracle

import pytest  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "examples", "seed"))
# Test files are imported by path (--import-mode=importlib), so two folders may both
# hold a test_stateless.py; shared helper modules (e.g. optimizer_cases.py) are
# imported by name from their folder, so each folder is on the path.
for _dir, _subdirs, _files in os.walk(os.path.join(ROOT, "tests")):
    if "__pycache__" not in _dir:
        sys.path.insert(0, _dir)


@pytest.fixture(autouse=True)
def _fresh_names():
    """Each test starts with fresh default layer names (dense, dense_1, ...)."""
    from callax.core.names import reset_names

    reset_names()
    yield
