"""Crash-safe file writes: the target is always the old file or the new one.

Every save writes to a temporary file in the target's directory, flushes and
fsyncs it, then renames it over the target (``os.replace``, atomic on POSIX and
Windows) and fsyncs the directory so the rename itself survives a power cut. A
process killed at any moment leaves the previous file intact (and at worst a
stray ``.<name>.callax-tmp-<pid>@<host>.*`` file). The next save or load of that
target removes such files once their owner is gone (its process no longer runs
on this host) or they have not been touched for an hour, with a warning that
says which; a save still running elsewhere keeps its file.

A folder where no file can be created (read-only) but whose target file is
writable: the new contents are built in memory, then written over the target in
place, flushed, fsynced and read back to verify. That is not crash-safe (a kill
during that final write leaves a partial file), so it warns.

Example:
    >>> import os, tempfile
    >>> from callax.utils.atomic_files import atomic_write
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = os.path.join(d, "notes.txt")
    ...     with atomic_write(target) as f:
    ...         _ = f.write(b"hello")
    ...     open(target, "rb").read()
    b'hello'
"""

from __future__ import annotations

import contextlib
import errno
import glob
import io
import os
import re
import socket
import tempfile
import time
import warnings
from collections.abc import Iterator
from typing import IO

TMP_MARK = ".callax-tmp-"
# A temp file untouched this long is stale whoever owns it (a save rewrites its
# temp file continuously, so its modification time stays fresh while it runs).
STALE_AFTER_S = 3600.0


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", socket.gethostname())[:40] or "host"


def owner_tag() -> str:
    """``<pid>@<host>``, put in every temp name so that a later save can tell
    whether the writer still runs (see :func:`dead_owner`)."""
    return f"{os.getpid()}@{_host()}"


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


def _pid_running(pid: int) -> bool | None:
    """Whether process ``pid`` runs on this host; ``None`` when it cannot be told."""
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    except OSError:
        return None
    return True


def _stale_reason(name: str, prefix: str, path: str) -> str | None:
    """Why the temp file ``name`` may be removed, or ``None`` to keep it."""
    try:
        age = time.time() - os.path.getmtime(path)
    except OSError:
        return None  # gone already
    if age > STALE_AFTER_S:
        return f"untouched for {age / 3600:.1f} h"
    pid = dead_owner(name, prefix)
    if pid is not None:
        return f"its process {pid} no longer runs"
    return None  # maybe a save in progress (or of unknown owner): keep it for now


def dead_owner(name: str, prefix: str) -> int | None:
    """The process id in a temp name ``<prefix><pid>@<host>.<random>`` when that
    process ran on this host and no longer runs; ``None`` when it may still run,
    is this process, or the name carries no owner (someone else's file).

    >>> dead_owner(f".m.keras{TMP_MARK}{os.getpid()}@{_host()}.abc", f".m.keras{TMP_MARK}")
    >>> dead_owner(".m.keras-not-ours", f".m.keras{TMP_MARK}")
    """
    owner = name[len(prefix) :].rpartition(".")[0]  # "<pid>@<host>" (mkstemp adds ".xxxx")
    pid, _, host = owner.partition("@")
    if pid.isdigit() and host == _host() and int(pid) != os.getpid():
        if _pid_running(int(pid)) is False:
            return int(pid)
    return None


def remove_stale_temps(path: str | os.PathLike) -> list[str]:
    """Removes the temp files earlier saves of ``path`` left behind when they were
    killed (see the module docstring for which); warns naming them. Returns the
    removed paths. Never raises: a file that cannot be removed stays."""
    path = os.path.abspath(os.fspath(path))
    directory, base = os.path.dirname(path), os.path.basename(path)
    prefix = f".{base}{TMP_MARK}"
    removed = []
    for tmp in glob.glob(os.path.join(glob.escape(directory), glob.escape(prefix) + "*")):
        reason = _stale_reason(os.path.basename(tmp), prefix, tmp)
        if reason is None:
            continue
        try:
            os.remove(tmp)
        except OSError:
            continue
        removed.append(f"{os.path.basename(tmp)} ({reason})")
    if removed:
        warnings.warn(
            f"callax: removed {len(removed)} temporary file(s) left in {directory!r} by an "
            f"interrupted save of {base!r}: {', '.join(removed)}. The target itself was "
            "never touched by them.",
            stacklevel=3,
        )
    return removed


@contextlib.contextmanager
def _overwrite_in_place(path: str, directory: str) -> Iterator[IO[bytes]]:
    """The fallback for a folder that refuses new files: build in memory, then
    overwrite the (writable) target in place and read it back."""
    buffer = io.BytesIO()
    yield buffer
    data = buffer.getvalue()
    warnings.warn(
        f"callax: the folder {directory!r} does not allow creating files, so {path!r} is "
        "overwritten in place instead of atomically: a process killed during this write "
        "would leave it incomplete.",
        stacklevel=4,
    )
    with open(path, "r+b") as f:
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())
    with open(path, "rb") as f:
        if f.read() != data:
            raise OSError(
                errno.EIO,
                f"Overwriting {path!r} in place (its folder {directory!r} is read-only): "
                "the file read back differs from what was written.",
            )


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
    remove_stale_temps(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{base}{TMP_MARK}{owner_tag()}.", dir=directory)
    except PermissionError as error:
        if not (os.path.isfile(path) and os.access(path, os.W_OK)):
            target = "the target is not writable" if os.path.exists(path) else "no target exists"
            raise PermissionError(
                error.errno or errno.EACCES,
                f"Cannot save {path!r}: the folder {directory!r} does not allow creating "
                "files (a crash-safe save writes a temporary file next to the target), and "
                f"{target} to overwrite in place. Save to a writable folder. Original "
                f"error: {error.strerror}.",
            ) from error
        with _overwrite_in_place(path, directory) as f:
            yield f
        return
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
