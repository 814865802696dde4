"""callax's version, in one place: ``pyproject.toml`` reads it from here.

``KERAS_API_VERSION`` is the Keras 3 release whose public API callax follows and is
tested against (Keras itself is only a test oracle). Tools that import ``keras`` and
check its version see ``callax.keras_compat.keras_compatible_version()``
(``"3.15.1+callax.0.2.0"``) once callax is installed as ``keras``.

>>> from callax.package_version import __version__
>>> __version__.count(".")
2
"""

__version__ = "0.2.0"
KERAS_API_VERSION = "3.15.1"
