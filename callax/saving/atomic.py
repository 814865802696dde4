"""Crash-safe file writes: the target is always the old file or the new one.

Every save writes to a temporary file in the target's directory, flushes and
fsyncs it, then renames it over the target (``os.replace``, atomic on POSIX and
Windows) and fsyncs the directory so the rename itself survives a power cut. A
process killed at any moment leaves the previous file intact (and at worst a
stray ``.<name>.callax-tmp-*`` file, removed by the next save to that target).

Example:
    >>> import os, tempfile
    >>> from callax.saving.atomic import atomic_write
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = os.path.join(d, "notes.txt")
    ...     with atomic_write(target) as f:
    ...         _ = f.write(b"hello")
    ...     open(target, "rb").read()
    b'hello'
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile
from collections.abc import Iterator
from typing import IO

TMP_MARK = ".callax-tmp-"


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories; the rename is durable there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temps(directory: str, base: str) -> None:
    """Temp files a killed earlier save of this target left behind."""
    for path in glob.glob(os.path.join(glob.escape(directory), f".{glob.escape(base)}{TMP_MARK}*")):
        with contextlib.suppress(OSError):
            os.remove(path)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, overwrite: bool = True) -> Iterator[IO[bytes]]:
    """Yields a binary file; on a clean exit it replaces ``path`` atomically.

    On an exception the temporary file is removed and ``path`` is untouched.

    Raises:
        FileExistsError: if ``path`` exists and ``overwrite`` is False.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} already exists and overwrite=False was given.")
    os.makedirs(directory, exist_ok=True)
    _remove_stale_temps(directory, base)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}{TMP_MARK}", dir=directory)
    try:
        with os.fdopen(fd, "w+b") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise
    _fsync_dir(directory)
