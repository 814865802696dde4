"""Crash-safe writes of export artifacts that are directories.

A directory artifact (a SavedModel, an archive of several endpoints) is written
into a temporary directory beside the target, then renamed into place; an old
artifact at the target is first renamed aside and removed only after the new
one is in place. A crash never leaves a half-written artifact at the target
(at worst the old one under a ``.<name>.callax-old-*`` name and a stray temp).

Temporary folders carry their writer's ``<pid>@<host>``. A later export of the
same target removes only those whose writer ran on this host and no longer runs:
a folder of an export still running (here or on another host sharing the
disk), or one this module did not name, is left alone.

Example:
    >>> import os, tempfile
    >>> from callax.export.files import atomic_directory
    >>> with tempfile.TemporaryDirectory() as d:
    ...     target = os.path.join(d, "artifact")
    ...     with atomic_directory(target) as tmp:
    ...         _ = open(os.path.join(tmp, "a.txt"), "w").write("hi")
    ...     sorted(os.listdir(target))
    ['a.txt']
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import tempfile
from collections.abc import Iterator

from callax.utils.atomic_files import TMP_MARK, _fsync_dir, dead_owner, owner_tag

OLD_MARK = ".callax-old-"


def _remove_stale(directory: str, base: str) -> list[str]:
    """Removes the folders that killed exports of ``base`` left in ``directory``
    (their writer process is gone); returns their paths."""
    removed = []
    for mark in (TMP_MARK, OLD_MARK):
        prefix = f".{base}{mark}"
        for path in glob.glob(os.path.join(glob.escape(directory), glob.escape(prefix) + "*")):
            if os.path.isdir(path) and not os.path.islink(path):
                if dead_owner(os.path.basename(path), prefix) is not None:
                    shutil.rmtree(path, ignore_errors=True)
                    removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[str]:
    """Yields a temporary directory; on a clean exit it becomes ``path``.

    Raises:
        FileExistsError: if ``path`` exists and is a file, not a directory.
    """
    path = os.path.abspath(os.fspath(path))
    parent, base = os.path.dirname(path), os.path.basename(path)
    if os.path.isfile(path):
        raise FileExistsError(
            f"export: filepath {path!r} is an existing file; this format writes a "
            "directory. Choose another path or remove the file."
        )
    os.makedirs(parent, exist_ok=True)
    _remove_stale(parent, base)
    owner = owner_tag()
    tmp = tempfile.mkdtemp(prefix=f".{base}{TMP_MARK}{owner}.", dir=parent)
    try:
        yield tmp
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=f".{base}{OLD_MARK}{owner}.", dir=parent)
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
