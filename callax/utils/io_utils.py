"""Where user-facing messages go: stdout, or the ``callax`` logger when
interactive logging is off (``keras.utils.disable_interactive_logging``).

Example:
    >>> from callax.utils import io_utils
    >>> io_utils.print_msg("hello")
    hello
"""

from __future__ import annotations

import logging
import sys

from callax.core.config_flags import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)

logger = logging.getLogger("callax")


def print_msg(message: str, line_break: bool = True) -> None:
    """Prints ``message`` to stdout, or logs it at INFO level on the ``callax``
    logger when interactive logging is disabled."""
    if is_interactive_logging_enabled():
        sys.stdout.write(message + ("\n" if line_break else ""))
        sys.stdout.flush()
    else:
        text = message.replace("\r", "").strip()
        if text:
            logger.info(text)


__all__ = [
    "print_msg", "enable_interactive_logging", "disable_interactive_logging",
    "is_interactive_logging_enabled",
]  # fmt: skip
