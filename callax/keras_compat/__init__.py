"""Run tools that ``import keras`` (KerasHub, KerasTuner, MLflow) on callax.

``callax.install_as_keras()`` makes every later ``import keras`` in the process
give callax: ``import keras``, ``import keras.layers``, ``from keras import ops``,
``from keras.src.saving import serialization_lib`` (only the ``keras.src`` paths in
``callax/keras_compat/src_paths.py``). Call it first, before anything imports Keras;
from a shell, ``python -m callax.keras_compat script.py [args]`` does it for a script
(``python -m callax.keras_compat -m package.module [args]`` for a module).

Versions: installed as ``keras``, ``keras.__version__`` and ``keras.version()`` are
``keras_compatible_version()``, e.g. ``"3.15.1+callax.0.2.0"``: the Keras 3 release
whose API callax follows, with callax's own version as the PEP 440 local part. Tools
that test ``version().startswith("3.")`` (KerasTuner), ``Version(v).major >= 3``
(MLflow) or ``Version(v) >= Version("3.8.0")`` (KerasHub) accept it as Keras 3, and
it still says callax. ``callax.__version__`` / ``callax.version()`` stay callax's own
version (``"0.2.0"``): only the ``keras`` name reports the Keras-compatible one.

Example (in a fresh process; the test suite runs this in a subprocess):

    import callax
    callax.install_as_keras()
    import keras
    assert keras.Model is callax.Model
    print(keras.version())   # 3.15.1+callax.0.2.0

>>> from callax.keras_compat import keras_compatible_version
>>> keras_compatible_version().startswith("3.")
True
"""

from __future__ import annotations

import sys
import types

from callax.keras_compat.importer import ForwardingModule, KerasFinder
from callax.package_version import KERAS_API_VERSION, __version__

_finder: KerasFinder | None = None


def keras_compatible_version() -> str:
    """The version callax reports under the name ``keras``:
    ``"<Keras API version>+callax.<callax version>"`` (a valid PEP 440 version).

    >>> from packaging.version import Version
    >>> Version(keras_compatible_version()).major
    3
    """
    return f"{KERAS_API_VERSION}+callax.{__version__}"


def _make_keras_module() -> types.ModuleType:
    version = keras_compatible_version()

    def keras_version() -> str:
        """The Keras-compatible version of callax installed as keras."""
        return version

    return ForwardingModule(
        "keras", "callax", overrides={"__version__": version, "version": keras_version}
    )


def is_installed() -> bool:
    """Whether ``install_as_keras()`` is in effect in this process.

    >>> is_installed() in (True, False)
    True
    """
    return _finder is not None and _finder in sys.meta_path


def install_as_keras() -> types.ModuleType:
    """Makes ``import keras`` (and ``keras.*``) give callax in this process; returns
    the ``keras`` module. Calling it again does nothing more.

    Raises ``RuntimeError`` if the real Keras is already imported: its classes are
    then in use and cannot be swapped. Call it first thing, or start the program
    with ``python -m callax.keras_compat script.py``. ``uninstall()`` undoes it.

    Example (a fresh interpreter, since this one may hold the real Keras):

    >>> import subprocess, sys
    >>> code = "import callax; callax.install_as_keras(); import keras; print(keras.Model is callax.Model)"
    >>> subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip()
    'True'
    """
    global _finder
    if is_installed():
        import keras  # the forwarding module, through the installed finder

        return keras
    loaded = sorted(n for n in sys.modules if n == "keras" or n.startswith("keras."))
    if loaded:
        origin = getattr(sys.modules.get(loaded[0]), "__file__", None)
        raise RuntimeError(
            "callax.install_as_keras(): the real Keras is already imported in this process "
            f"({loaded[0]!r} from {origin!r}{f' and {len(loaded) - 1} more' if len(loaded) > 1 else ''}). "
            "Call install_as_keras() before anything imports keras (also indirectly, e.g. "
            "through tensorflow or keras_hub), or run the program with "
            "`python -m callax.keras_compat script.py`."
        )
    _finder = KerasFinder(_make_keras_module)
    sys.meta_path.insert(0, _finder)
    import keras

    return keras


def uninstall() -> None:
    """Undoes ``install_as_keras()``: removes the import hook and the ``keras``
    names it put in ``sys.modules``. Modules that already hold ``keras`` keep it."""
    global _finder
    if _finder is None:
        return
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name in _finder.loader.loaded:
        sys.modules.pop(name, None)
    _finder = None


__all__ = ["install_as_keras", "uninstall", "is_installed", "keras_compatible_version"]
