"""``ThreadLocalScope``: a ``with`` block that sets one thread-local value and
puts the previous one back on exit.

The engine's block-scoped switches (``isolated_context``, ``abstract_variables``,
``variable_budget``, ``SafeModeScope``) are this one rule over their own
``threading.local``; a subclass names where the value lives and what it sets.
Blocks nest: each exit restores what its own entry found.

Example:
    >>> import threading
    >>> _flags = threading.local()
    >>> class verbose_block(ThreadLocalScope):
    ...     _store, _field, _default = _flags, "verbose", False
    ...     def _entered_value(self):
    ...         return True
    >>> with verbose_block():
    ...     inside = _flags.verbose
    >>> inside, _flags.verbose
    (True, False)
"""

from __future__ import annotations

import threading
from typing import Any


class ThreadLocalScope:
    """Sets ``_store.<_field>`` to :meth:`_entered_value` for the block, then
    restores the value found on entry (``_default`` when the thread had none).

    Class attributes a subclass sets:
        _store: the ``threading.local`` the value lives in.
        _field: the attribute name in ``_store``.
        _default: what a thread that never set it reads (``None``).
    """

    _store: threading.local
    _field: str
    _default: Any = None

    def _entered_value(self) -> Any:
        """The value the block sets (default: the scope itself)."""
        return self

    def __enter__(self) -> ThreadLocalScope:
        self._saved = getattr(self._store, self._field, self._default)
        setattr(self._store, self._field, self._entered_value())
        return self

    def __exit__(self, *exc: Any) -> None:
        setattr(self._store, self._field, self._saved)
