"""The package itself: its version source, typing marker, star-import surface."""

import importlib.metadata
import os

import callax
from callax.package_version import __version__


def test_one_version_source():
    assert callax.__version__ == __version__ == callax.version()
    assert importlib.metadata.version("callax") == __version__  # pyproject reads the same file


def test_typed_package():
    assert os.path.exists(os.path.join(os.path.dirname(callax.__file__), "py.typed"))


def test_star_import_does_not_shadow_the_standard_library():
    namespace: dict = {}
    exec("from callax import *", namespace)
    assert "inspect" not in namespace and "Model" in namespace and "layers" in namespace
    assert callax.inspect.__name__ == "callax.inspect"  # still reachable by name
