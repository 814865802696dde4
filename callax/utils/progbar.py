"""``Progbar``: Keras's progress bar (bar, step counter, ETA, time per step, metrics).

In a terminal (``verbose=1``) one line redraws in place::

    12/47 ━━━━━━━━━━━━━━━━━━━━ 1s 14ms/step - accuracy: 0.8125 - loss: 0.5217

and finishes with the total time. When output is not a terminal (a log file,
CI), the same information is printed as plain lines, without ``\\r`` or colours,
at most every ``plain_interval`` seconds and at the end. ``verbose=2`` prints
one line at the end only; ``verbose=0`` prints nothing.

Values may be device arrays: they are read (a host sync) only when a line is
drawn, at most every ``interval`` seconds, so a training loop is not stalled
to update the display.

We use ``rich`` only to decide whether stdout is an interactive terminal
(it knows about Jupyter and ``FORCE_COLOR``/``TTY_COMPATIBLE``); its ``Progress``
widget redraws from a background thread in its own layout, which neither
matches Keras's line nor degrades to readable log lines.

Example:
    >>> from callax.utils import Progbar
    >>> bar = Progbar(3, verbose=2)
    >>> for i in range(3):
    ...     bar.update(i + 1, [("loss", 1.0 / (i + 1))])  # doctest: +ELLIPSIS
    3/3 - 0s - ...step - loss: 0.6111
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np

from callax.core.config_flags import is_interactive_logging_enabled
from callax.utils.io_utils import print_msg

_BAR = "━"


def _is_terminal(stream: Any) -> bool:
    try:
        from rich.console import Console

        return bool(Console(file=stream).is_terminal)
    except Exception:  # any failure: fall back to the stream's own answer
        return bool(getattr(stream, "isatty", lambda: False)())


def format_time(seconds: float) -> str:
    """``45s``, ``2:05`` or ``1:02:05``."""
    seconds = max(0.0, seconds)
    if seconds >= 3600:
        s = int(seconds)
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if seconds >= 60:
        s = int(seconds)
        return f"{s // 60}:{s % 60:02d}"
    return f"{int(seconds)}s"


def format_per_unit(seconds: float, unit: str) -> str:
    """``14ms/step``, ``2s/step`` or ``85us/step``."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_value(value: Any) -> str:
    try:
        v = float(np.asarray(value))
    except (TypeError, ValueError):
        return f"{value}"
    return f"{v:.4f}" if abs(v) > 1e-3 or v == 0 else f"{v:.4e}"


class Progbar:
    """A progress bar with Keras's layout.

    Args:
        target: total number of steps (``None`` if unknown: no bar, no ETA).
        width: bar width in characters.
        verbose: 0 silent, 1 live bar, 2 one line at the end.
        interval: least seconds between redraws in a terminal.
        stateful_metrics: names shown as given; others are averaged over the
            steps so far (as Keras's ``Progbar``).
        unit_name: what a step is called (``step``, ``sample``).
        stream: where to write (default ``sys.stdout`` at each write).
        plain_interval: least seconds between plain lines when not a terminal.
    """

    def __init__(
        self,
        target: int | None,
        width: int = 20,
        verbose: int = 1,
        interval: float = 0.05,
        stateful_metrics: Any = None,
        unit_name: str = "step",
        stream: Any = None,
        plain_interval: float = 10.0,
    ):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._stream = stream
        self.plain_interval = plain_interval
        self._dynamic = _is_terminal(self.stream)
        self._values: dict[str, Any] = {}  # name -> [sum, count] or latest value
        self._order: list[str] = []
        self._start = time.time()
        self._last_draw = 0.0
        self._last_plain = self._start
        self._seen = 0
        self._first_step_time: float | None = None
        self._drawn_width = 0

    @property
    def stream(self) -> Any:
        return self._stream or sys.stdout

    def add(self, n: int, values: Any = None) -> None:
        """Advances by ``n`` steps."""
        self.update(self._seen + n, values)

    def update(self, current: int, values: Any = None, finalize: bool | None = None) -> None:
        """Moves to step ``current`` with ``values`` (list of ``(name, value)`` or dict)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        items = values.items() if isinstance(values, dict) else (values or [])
        steps = max(current - self._seen, 1)
        for name, value in items:
            if name not in self._order:
                self._order.append(name)
            if name in self.stateful_metrics:
                self._values[name] = value
            else:
                total, count = self._values.get(name, (0.0, 0))
                self._values[name] = (total + float(np.asarray(value)) * steps, count + steps)
        now = time.time()
        if self._first_step_time is None and current > 0:
            self._first_step_time = now
        self._seen = current
        if self.verbose == 0:
            return
        if self.verbose == 2:
            if finalize:
                self._write(self._summary_line(now) + "\n")
            return
        if self._dynamic:
            if not finalize and now - self._last_draw < self.interval:
                return
            line = self._bar_line(current, now, finalize, color=True)
            pad = max(0, self._drawn_width - len(line))
            self._drawn_width = len(line)
            self._write("\r" + line + " " * pad + ("\n" if finalize else ""))
            self._last_draw = now
        elif finalize or now - self._last_plain >= self.plain_interval:
            self._write(self._bar_line(current, now, finalize, color=False) + "\n")
            self._last_plain = now

    # ------------------------------------------------------------ rendering
    def _time_per_step(self, current: int, now: float) -> float:
        if current <= 0:
            return 0.0
        # Steps after the first exclude its compile time from the estimate.
        if current > 1 and self._first_step_time is not None:
            return (now - self._first_step_time) / max(current - 1, 1)
        return (now - self._start) / current

    def _metrics(self) -> str:
        parts = []
        for name in self._order:
            value = self._values[name]
            if name not in self.stateful_metrics:
                total, count = value
                value = total / max(count, 1)
            parts.append(f" - {name}: {format_value(value)}")
        return "".join(parts)

    def _bar_line(self, current: int, now: float, finalize: bool, color: bool) -> str:
        per_step = self._time_per_step(current, now)
        if self.target is not None:
            digits = len(str(self.target))
            filled = int(self.width * min(current, self.target) / max(self.target, 1))
            done, todo = _BAR * filled, _BAR * (self.width - filled)
            if color:
                bar = f"\x1b[1m{done}\x1b[0m\x1b[37m{todo}\x1b[0m"
            else:
                bar = done + todo
            head = f"{current:>{digits}}/{self.target} {bar}"
        else:
            head = f"{current}"
        if finalize or self.target is None:
            clock = format_time(now - self._start)
        else:
            clock = format_time(per_step * (self.target - current))
        if color:
            clock = f"\x1b[1m{clock}\x1b[0m"
        return f"{head} {clock} {format_per_unit(per_step, self.unit_name)}{self._metrics()}"

    def _summary_line(self, now: float) -> str:
        count = f"{self._seen}/{self.target}" if self.target is not None else f"{self._seen}"
        per_step = self._time_per_step(self._seen, now)
        return (
            f"{count} - {format_time(now - self._start)} - "
            f"{format_per_unit(per_step, self.unit_name)}{self._metrics()}"
        )

    def _write(self, text: str) -> None:
        if self._stream is None and not is_interactive_logging_enabled():
            print_msg(text)  # to the ``callax`` logger (keras.config.disable_interactive_logging)
            return
        stream = self.stream
        stream.write(text)
        stream.flush()
