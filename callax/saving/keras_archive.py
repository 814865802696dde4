"""The ``.keras`` archive: a zip holding ``metadata.json``, ``config.json`` and
``model.weights.h5``, as Keras 3 writes it.

Reading treats the archive as hostile: it must be a zip with exactly those
members (``metadata.json`` optional), no absolute or ``..`` paths, no links or
encrypted entries, within size limits (declared sizes and actual bytes both
checked, so a zip bomb stops at the limit). Every failure is a
:class:`KerasArchiveError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from callax.package_version import __version__

CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
EXPECTED = (METADATA, CONFIG, WEIGHTS)
# The Keras version whose file layout callax writes (Keras reads it as its own).
FORMAT_KERAS_VERSION = "3.15.1"

MAX_JSON_BYTES = 64 * 2**20
MAX_METADATA_BYTES = 2**20
DEFAULT_MAX_WEIGHTS_BYTES = 64 * 2**30
MAX_RATIO = 200  # uncompressed / compressed: h5 weights barely compress


class KerasArchiveError(ValueError):
    """A ``.keras`` file that is not a valid, safe archive."""


def write_archive(fileobj: IO[bytes], config: dict, weights_writer: Any) -> None:
    """Writes the archive to ``fileobj``; ``weights_writer(f)`` writes the h5."""
    metadata = {
        "keras_version": FORMAT_KERAS_VERSION,
        "callax_version": __version__,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
    }
    weights = io.BytesIO()
    weights_writer(weights)
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(METADATA, json.dumps(metadata))
        zf.writestr(CONFIG, json.dumps(config))
        zf.writestr(WEIGHTS, weights.getvalue())


def _check_member(info: zipfile.ZipInfo, name: str) -> None:
    member = info.filename
    if (
        member.startswith(("/", "\\"))
        or (len(member) > 1 and member[1] == ":")
        or ".." in member.replace("\\", "/").split("/")
        or "\x00" in member
    ):
        raise KerasArchiveError(
            f"Refusing to read {name!r}: archive member {member!r} has an unsafe path "
            "(absolute, or escaping the archive with '..')."
        )
    mode = (info.external_attr >> 16) & 0xFFFF
    if stat.S_ISLNK(mode):
        raise KerasArchiveError(
            f"Refusing to read {name!r}: archive member {member!r} is a symbolic link."
        )
    if info.flag_bits & 0x1:
        raise KerasArchiveError(f"Refusing to read {name!r}: member {member!r} is encrypted.")
    if member not in EXPECTED:
        raise KerasArchiveError(
            f"Refusing to read {name!r}: unexpected archive member {member!r}. A .keras "
            f"file holds only {list(EXPECTED)}."
        )


class ArchiveReader:
    """Opens and validates a ``.keras`` archive; use as a context manager."""

    def __init__(self, path: Any, max_weights_bytes: int = DEFAULT_MAX_WEIGHTS_BYTES):
        self.name = os.fspath(path) if isinstance(path, (str, os.PathLike)) else repr(path)
        self.max_weights_bytes = max_weights_bytes
        try:
            self.zip = zipfile.ZipFile(path, "r")
        except FileNotFoundError:
            raise FileNotFoundError(f"No such file: {self.name!r}.") from None
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
            raise KerasArchiveError(
                f"Could not read {self.name!r} as a .keras file: it is not a zip archive "
                f"(truncated, corrupted, or another format). Details: {e}"
            ) from None
        try:
            self._validate()
        except BaseException:
            self.zip.close()
            raise

    def _validate(self) -> None:
        seen = set()
        for info in self.zip.infolist():
            _check_member(info, self.name)
            if info.filename in seen:
                raise KerasArchiveError(
                    f"Refusing to read {self.name!r}: member {info.filename!r} appears twice."
                )
            seen.add(info.filename)
            limit = self._limit(info.filename)
            if info.file_size > limit:
                raise KerasArchiveError(
                    f"Refusing to read {self.name!r}: member {info.filename!r} declares "
                    f"{info.file_size} bytes, over the limit of {limit}."
                )
            if (
                info.compress_size
                and info.file_size > 2**20
                and info.file_size / info.compress_size > MAX_RATIO
            ):
                raise KerasArchiveError(
                    f"Refusing to read {self.name!r}: member {info.filename!r} expands "
                    f"{info.file_size / info.compress_size:.0f}x (a zip bomb?)."
                )
        for required in (CONFIG, WEIGHTS):
            if required not in seen:
                raise KerasArchiveError(
                    f"Could not read {self.name!r}: the archive has no {required!r} "
                    f"(members: {sorted(seen)}). Is it a .keras model file?"
                )

    def _limit(self, member: str) -> int:
        if member == WEIGHTS:
            return self.max_weights_bytes
        return MAX_METADATA_BYTES if member == METADATA else MAX_JSON_BYTES

    def _copy(self, member: str, out: IO[bytes]) -> None:
        limit = self._limit(member)
        total = 0
        try:
            with self.zip.open(member) as src:
                while True:
                    chunk = src.read(2**20)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        raise KerasArchiveError(
                            f"Refusing to read {self.name!r}: member {member!r} holds more "
                            f"than the {limit} bytes allowed."
                        )
                    out.write(chunk)
        except KerasArchiveError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
            raise KerasArchiveError(
                f"Could not read {member!r} from {self.name!r}: the archive is damaged "
                f"(truncated or corrupted). Details: {e}"
            ) from None

    def read_json(self, member: str) -> dict:
        buf = io.BytesIO()
        self._copy(member, buf)
        try:
            data = json.loads(buf.getvalue().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise KerasArchiveError(
                f"Could not read {member!r} from {self.name!r}: not valid JSON ({e})."
            ) from None
        if not isinstance(data, dict):
            raise KerasArchiveError(
                f"Could not read {member!r} from {self.name!r}: expected a JSON object; "
                f"received {type(data).__name__}."
            )
        return data

    def has(self, member: str) -> bool:
        return member in self.zip.namelist()

    @contextlib.contextmanager
    def weights_file(self) -> Iterator[str]:
        """The weights extracted to a private temporary file, removed afterwards."""
        tmpdir = tempfile.mkdtemp(prefix="callax-load-")
        try:
            path = os.path.join(tmpdir, WEIGHTS)
            with open(path, "wb") as out:
                self._copy(WEIGHTS, out)
            yield path
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
