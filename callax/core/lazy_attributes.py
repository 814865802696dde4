"""``lazy_attributes``: a package's names imported on first use (PEP 562).

The package ``callax`` and ``callax.utils`` keep ``import`` quick by naming the
modules and attributes that load only when a program first reads them; both
take their module-level ``__getattr__`` and ``__dir__`` from here.

Example:
    >>> namespace = {}
    >>> __getattr__, __dir__ = lazy_attributes(
    ...     "demo", namespace, {"sqrt": ("math", "sqrt"), "json": ("json", None)}
    ... )
    >>> __getattr__("sqrt")(9.0), "sqrt" in namespace, __dir__()
    (3.0, True, ['json', 'sqrt'])
    >>> __getattr__("nope")
    Traceback (most recent call last):
    AttributeError: module 'demo' has no attribute 'nope'
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    module_name: str, namespace: dict[str, Any], names: Mapping[str, tuple[str, str | None]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level ``__getattr__`` and ``__dir__`` of module ``module_name``
    (its globals: ``namespace``), whose ``names`` load on first read.

    Args:
        module_name: the module's name, for the ``AttributeError`` of unknown names.
        namespace: the module's ``globals()``; a loaded value is stored there, so the
            next read finds it without calling ``__getattr__``.
        names: ``{name: (module to import, attribute of it)}``; attribute ``None``:
            the module itself.
    """

    def __getattr__(name: str) -> Any:
        if name not in names:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module, attribute = names[name]
        value = importlib.import_module(module)
        if attribute is not None:
            value = getattr(value, attribute)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(names))

    return __getattr__, __dir__
