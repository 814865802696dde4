"""Crash-safe writes of export artifacts that are directories.

A directory artifact (a SavedModel, an archive of several endpoints) is written
into a temporary directory beside the target, then renamed into place; an old
artifact at the target is first renamed aside and removed only after the new
one is in place. A crash never leaves a half-written artifact at the target
(at worst the old one under a ``.<name>.callax-old-*`` name and a stray temp).

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

from callax.saving.atomic import TMP_MARK, _fsync_dir

OLD_MARK = ".callax-old-"


def _remove_stale(directory: str, base: str) -> None:
    for mark in (TMP_MARK, OLD_MARK):
        pattern = os.path.join(glob.escape(directory), f".{glob.escape(base)}{mark}*")
        for path in glob.glob(pattern):
            shutil.rmtree(path, ignore_errors=True)


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
    tmp = tempfile.mkdtemp(prefix=f".{base}{TMP_MARK}", dir=parent)
    try:
        yield tmp
        old = None
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=f".{base}{OLD_MARK}", dir=parent)
            os.rmdir(old)
            os.replace(path, old)
        os.replace(tmp, path)
        _fsync_dir(parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
