"""The import hook that makes ``import keras`` give callax.

A ``MetaPathFinder`` placed first on ``sys.meta_path`` answers for ``keras`` and
every ``keras.*`` name, before the real Keras package is looked at:

- ``keras`` is a forwarding module: every attribute is callax's, except
  ``__version__``/``version()``, which say Keras 3 (``keras_compatible_version()``).
- ``keras.X.Y`` is the module ``callax.X.Y`` itself (``keras.layers is callax.layers``).
- ``keras.src.*`` exists only for the paths in ``src_paths.SRC_PATHS``.
- Names that would not import get no spec, so ``importlib.util.find_spec`` says None.

The loader imports the callax module and puts it in ``sys.modules`` under the
Keras name, so callax's modules keep their own ``__name__`` and ``__spec__``.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
from typing import Any

from callax.keras_compat import src_paths

_SRC = "keras.src"


class ForwardingModule(types.ModuleType):
    """A module under a Keras name that forwards attribute reads to a callax
    module (``target``), and imports its ``keras.src`` children on first access."""

    def __init__(self, name: str, target: str | None, overrides: dict | None = None):
        super().__init__(name)
        self.__path__: list[str] = []  # a package: `import keras.x` looks below it
        self.__package__ = name
        self._callax_target = target
        if target is not None:
            self.__doc__ = f"{name}: callax's {target} (installed by callax.install_as_keras)."
        self.__dict__.update(overrides or {})

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__") and attr not in ("__all__", "__file__"):
            raise AttributeError(attr)
        name = self.__name__
        child = f"{name}.{attr}"
        if child in src_paths.SRC_PATHS or (name == "keras" and attr == "src"):
            return importlib.import_module(child)
        target = self.__dict__.get("_callax_target")
        if target is not None:
            module = importlib.import_module(target)
            if attr == "__all__" and not hasattr(module, "__all__"):
                return [n for n in dir(module) if not n.startswith("_")]
            try:
                return getattr(module, attr)
            except AttributeError:
                if name == "keras":  # `keras.applications` etc.: a callax submodule
                    try:
                        return importlib.import_module(child)
                    except ModuleNotFoundError:
                        pass
        if attr == "__all__":
            return src_paths.children(name)
        raise AttributeError(
            f"module {name!r} (callax installed as keras) has no attribute {attr!r}"
            + (f": callax's {target} does not define it." if target else ".")
        )

    def __dir__(self) -> list[str]:
        names = set(self.__dict__) | set(src_paths.children(self.__name__))
        target = self.__dict__.get("_callax_target")
        if target is not None:
            names |= set(dir(importlib.import_module(target)))
        return sorted(names)


def _callax_module(keras_name: str) -> types.ModuleType:
    """``callax.<rest>`` for ``keras.<rest>``: an importable submodule, or a module
    that callax exposes as an attribute (``callax.config``)."""
    target = "callax" + keras_name[len("keras") :]
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as e:
        if e.name != target:
            raise
        parent, _, leaf = target.rpartition(".")
        value = getattr(importlib.import_module(parent), leaf, None)
        if isinstance(value, types.ModuleType):
            return value
        raise ModuleNotFoundError(
            f"No module named {keras_name!r}: callax (installed as keras) has no {target}.",
            name=keras_name,
        ) from None


def _src_module(keras_name: str) -> types.ModuleType:
    entry = src_paths.SRC_PATHS[keras_name]  # the finder answers only for listed paths
    if entry.target is not None and not src_paths.children(keras_name):
        return importlib.import_module(entry.target)
    return ForwardingModule(keras_name, entry.target)


class _Loader(importlib.abc.Loader):
    def __init__(self, make_top: Any):
        self._make_top = make_top
        self.loaded: set[str] = set()

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # a placeholder; exec_module swaps in the real module

    def exec_module(self, module: types.ModuleType) -> None:
        name = module.__name__
        if name == "keras":
            resolved = self._make_top()
        elif name == _SRC or name.startswith(_SRC + "."):
            resolved = _src_module(name)
        else:
            resolved = _callax_module(name)
        if isinstance(resolved, ForwardingModule):  # find_spec("keras...") needs a spec
            resolved.__spec__, resolved.__loader__ = module.__spec__, self
        # The import system returns whatever sys.modules holds once this returns.
        sys.modules[name] = resolved
        self.loaded.add(name)


class KerasFinder(importlib.abc.MetaPathFinder):
    """Finds ``keras`` and ``keras.*`` in callax (see the module docstring)."""

    def __init__(self, make_top: Any):
        self.loader = _Loader(make_top)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname != "keras" and not fullname.startswith("keras."):
            return None
        # Only names that will import get a spec, so `importlib.util.find_spec` probes
        # (tools checking for optional Keras parts) answer None, as for a missing module.
        if fullname.startswith(_SRC + ".") and fullname not in src_paths.SRC_PATHS:
            return None
        if fullname != "keras" and fullname != _SRC and not _callax_exists(fullname):
            return None
        return importlib.machinery.ModuleSpec(fullname, self.loader, is_package=True)


def _callax_exists(keras_name: str) -> bool:
    if keras_name.startswith(_SRC + "."):
        return True  # listed in the table (checked by the caller)
    target = "callax" + keras_name[len("keras") :]
    try:
        if importlib.util.find_spec(target) is not None:
            return True
    except (ImportError, ValueError):
        pass
    parent, _, leaf = target.rpartition(".")
    try:
        return isinstance(getattr(importlib.import_module(parent), leaf, None), types.ModuleType)
    except ImportError:
        return False
