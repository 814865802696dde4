"""``get_file``: download a file once into the Keras cache, check it, extract it.

Same cache layout as Keras 3 (``$KERAS_HOME`` or ``~/.keras``, then
``cache_subdir``), same file names and extraction directories, so a machine
where Keras already downloaded a data set reuses those files without network.
Downloads go to a temporary file renamed into place when complete, so an
interrupted download never leaves a truncated file under the final name.

Example:
    >>> import os, tempfile
    >>> from callax.utils import get_file
    >>> cache = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(cache, "datasets"))
    >>> with open(os.path.join(cache, "datasets", "a.txt"), "w") as f:
    ...     _ = f.write("hi")
    >>> path = get_file("a.txt", origin="https://example.com/a.txt", cache_dir=cache)
    >>> os.path.basename(path)
    'a.txt'
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
from typing import Any

from callax.core import config_flags
from callax.utils.io_utils import print_msg
from callax.utils.progbar import Progbar

_CHUNK = 65535


def resolve_hasher(algorithm: str, file_hash: str | None = None) -> Any:
    """A ``hashlib`` hasher: ``"sha256"``, ``"md5"``, or ``"auto"`` (sha256 for a
    64-character hash, else md5)."""
    if algorithm == "sha256" or (algorithm == "auto" and file_hash and len(file_hash) == 64):
        return hashlib.sha256()
    if algorithm in ("md5", "auto"):
        return hashlib.md5()
    raise ValueError(
        f"get_file: hash_algorithm must be 'auto', 'md5' or 'sha256'; received {algorithm!r}."
    )


def hash_file(fpath: str, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest of the file at ``fpath``."""
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str, file_hash: str, algorithm: str = "auto") -> bool:
    """Whether the file's digest equals ``file_hash``."""
    hasher = resolve_hasher(algorithm, file_hash)
    return hash_file(fpath, hasher) == str(file_hash)


def _within(base: str, target: str) -> bool:
    base, target = os.path.realpath(base), os.path.realpath(target)
    return os.path.commonpath([base, target]) == base


def _safe_tar_members(archive: tarfile.TarFile, path: str) -> list:
    # Refuse members that would land outside ``path`` (``../``, absolute names, links out).
    members = []
    for member in archive.getmembers():
        if not _within(path, os.path.join(path, member.name)):
            continue
        if (member.issym() or member.islnk()) and not _within(
            path, os.path.join(path, os.path.dirname(member.name), member.linkname)
        ):
            continue
        members.append(member)
    return members


def extract_archive(file_path: str, path: str = ".", archive_format: Any = "auto") -> bool:
    """Extracts a tar (plain, gz, bz2, xz) or zip archive into ``path``; returns
    whether the file matched one of ``archive_format`` (``"auto"``: tar, then zip)."""
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    file_path, path = os.fspath(file_path), os.fspath(path)
    for kind in archive_format:
        if kind == "tar":
            if not tarfile.is_tarfile(file_path):
                continue
            opener: Any = tarfile.open
        elif kind == "zip":
            if not zipfile.is_zipfile(file_path):
                continue
            opener = zipfile.ZipFile
        else:
            raise ValueError(
                f"extract_archive: archive_format entries must be 'tar' or 'zip'; received {kind!r}."
            )
        with opener(file_path) as archive:
            try:
                if kind == "tar":
                    archive.extractall(path, members=_safe_tar_members(archive, path))
                else:
                    names = [n for n in archive.namelist() if _within(path, os.path.join(path, n))]
                    archive.extractall(path, members=names)
            except (tarfile.TarError, RuntimeError, KeyboardInterrupt):
                if os.path.isfile(path):
                    os.remove(path)
                elif os.path.isdir(path):
                    shutil.rmtree(path)
                raise
        return True
    return False


def _download(origin: str, target: str) -> None:
    """Streams ``origin`` to a temporary file beside ``target``, then renames it."""
    directory = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                response = urllib.request.urlopen(origin)
            except urllib.error.HTTPError as e:
                raise Exception(f"URL fetch failure on {origin}: {e.code} -- {e.msg}") from e
            except urllib.error.URLError as e:
                raise Exception(f"URL fetch failure on {origin}: {e.errno} -- {e.reason}") from e
            with response:
                total = response.headers.get("Content-Length")
                bar = Progbar(int(total) if total else None)
                seen = 0
                for chunk in iter(lambda: response.read(1 << 16), b""):
                    out.write(chunk)
                    seen += len(chunk)
                    bar.update(seen)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a cache file is not
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def get_file(
    fname: str | None = None,
    origin: str | None = None,
    untar: bool = False,
    md5_hash: str | None = None,
    file_hash: str | None = None,
    cache_subdir: str = "datasets",
    hash_algorithm: str = "auto",
    extract: bool = False,
    archive_format: Any = "auto",
    cache_dir: str | None = None,
    force_download: bool = False,
) -> str:
    """Downloads ``origin`` into the cache unless it is already there; returns its path.

    Args:
        fname: local file name (default: the URL's last path component). With
            ``extract``, a name without an extension names the extraction directory.
        origin: the URL.
        untar: deprecated ``extract`` for tar files.
        md5_hash: deprecated ``file_hash`` with ``hash_algorithm="md5"``.
        file_hash: expected sha256 or md5 hex digest; a cached file that does not
            match is downloaded again, a download that does not match is an error.
        cache_subdir: folder under the cache root (an absolute path is used as is).
        hash_algorithm: ``"auto"``, ``"md5"`` or ``"sha256"``.
        extract: extract the archive; the extraction directory is returned.
        archive_format: ``"auto"``, ``"tar"``, ``"zip"`` or ``None``.
        cache_dir: cache root (default ``$KERAS_HOME`` or ``~/.keras``).
        force_download: download even when a cached file exists.

    Returns:
        The path of the file, or of the extraction directory with ``extract``.
    """
    if origin is None:
        raise ValueError('get_file: please specify the "origin" argument (the URL of the file).')
    if cache_dir is None:
        cache_dir = config_flags.keras_home()
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(os.fspath(cache_dir))
    try:  # Keras creates its home at import; we create it on first use
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK) and not os.path.exists(os.path.join(base, cache_subdir)):
        base = os.path.join(tempfile.gettempdir(), ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)

    given = fname
    fname = os.fspath(fname) if fname else ""
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(
                "get_file: cannot take a file name from the origin; pass fname. "
                f"Received origin={origin!r}."
            )
    elif os.sep in fname:
        raise ValueError(
            "get_file: fname must be a file name, not a path (use cache_dir for the "
            f"folder); received fname={fname!r}."
        )
    if extract or untar:
        if given and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[: fname.find('.')]}_extracted")
        else:
            target = os.path.join(datadir, f"{fname}_archive")
            extraction_dir = os.path.join(datadir, fname)
    else:
        target = os.path.join(datadir, fname)
        extraction_dir = ""

    download = force_download or not os.path.exists(target)
    if (
        not download
        and file_hash is not None
        and not validate_file(target, file_hash, hash_algorithm)
    ):
        print_msg(
            f"A local file was found, but it seems to be incomplete or outdated because "
            f"the {hash_algorithm} file hash does not match the original value of "
            f"{file_hash} so we will re-download the data."
        )
        download = True
    if download:
        print_msg(f"Downloading data from {origin}")
        _download(origin, target)
        if file_hash is not None and not validate_file(target, file_hash, hash_algorithm):
            raise ValueError(
                f"get_file: incomplete or corrupted file downloaded from {origin}: its "
                f"{hash_algorithm} hash does not match the expected {file_hash}."
            )
    if extract or untar:
        # Keras re-extracts each time; we skip it when the directory is already filled.
        if download or not (os.path.isdir(extraction_dir) and os.listdir(extraction_dir)):
            fmt = "tar" if untar else archive_format
            if not extract_archive(target, extraction_dir, fmt):
                warnings.warn(f"get_file: could not extract archive {target}.", stacklevel=2)
        return extraction_dir
    return target
