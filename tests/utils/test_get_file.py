"""get_file: cache layout, hash checks, extraction and atomic downloads, with
``file://`` origins (urllib reads them without network) and Keras as the oracle
for the paths it returns."""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

from callax.utils import file_utils, get_file


def _tar(path, files):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _zip(path, files):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)


@pytest.fixture
def origin_dir(tmp_path):
    d = tmp_path / "server"
    d.mkdir()
    (d / "data.txt").write_bytes(b"payload")
    _tar(d / "bundle.tar.gz", {"top/a.txt": b"A", "top/sub/b.txt": b"B"})
    _zip(d / "bundle.zip", {"z/c.txt": b"C"})
    return d


def test_downloads_into_keras_home_and_reuses_the_cache(origin_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    url = (origin_dir / "data.txt").as_uri()
    path = get_file(origin=url)
    assert path == str(tmp_path / "home" / "datasets" / "data.txt")
    assert open(path, "rb").read() == b"payload"
    (origin_dir / "data.txt").unlink()  # the cache is used from now on
    assert get_file(origin=url) == path
    assert not [f for f in os.listdir(os.path.dirname(path)) if f.startswith(".download")]


def test_hash_checks_md5_sha256_and_corruption(origin_dir, tmp_path):
    url = (origin_dir / "data.txt").as_uri()
    sha = hashlib.sha256(b"payload").hexdigest()
    md5 = hashlib.md5(b"payload").hexdigest()
    assert get_file("d1.txt", url, file_hash=sha, cache_dir=tmp_path / "c")
    assert get_file("d2.txt", url, md5_hash=md5, cache_dir=tmp_path / "c")
    assert get_file("d3.txt", url, file_hash=md5, hash_algorithm="md5", cache_dir=tmp_path / "c")
    with pytest.raises(ValueError, match="hash does not match"):
        get_file("d4.txt", url, file_hash="0" * 64, cache_dir=tmp_path / "c")
    assert not [f for f in os.listdir(tmp_path / "c" / "datasets") if f.startswith(".download")]
    # A stale cached file is replaced when its hash is wrong.
    stale = tmp_path / "c" / "datasets" / "d5.txt"
    stale.write_bytes(b"old")
    assert open(get_file("d5.txt", url, file_hash=sha, cache_dir=tmp_path / "c"), "rb").read() == (
        b"payload"
    )


def test_failed_download_leaves_nothing_behind(tmp_path):
    with pytest.raises(Exception, match="URL fetch failure"):
        get_file("x.bin", (tmp_path / "missing.bin").as_uri(), cache_dir=tmp_path / "c")
    assert os.listdir(tmp_path / "c" / "datasets") == []


@pytest.mark.parametrize("fname, archive", [
    (None, "bundle.tar.gz"), ("named", "bundle.tar.gz"), ("named.tar.gz", "bundle.tar.gz"),
    ("zipped", "bundle.zip"),
])  # fmt: skip
def test_extraction_paths_match_keras(origin_dir, tmp_path, fname, archive):
    keras = pytest.importorskip("keras")
    url = (origin_dir / archive).as_uri()
    os.makedirs(tmp_path / "keras")  # else Keras falls back to /tmp/.keras
    ours = get_file(fname, url, extract=True, cache_dir=tmp_path / "ours")
    theirs = keras.utils.get_file(fname, url, extract=True, cache_dir=str(tmp_path / "keras"))
    assert os.path.relpath(ours, tmp_path / "ours") == os.path.relpath(theirs, tmp_path / "keras")
    listing = lambda root: sorted(  # noqa: E731
        os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs
    )
    assert listing(ours) == listing(theirs)


def test_untar_and_unsafe_members_are_skipped(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    _tar(evil, {"../escape.txt": b"x", "ok/inside.txt": b"y"})
    out = get_file("evil", evil.as_uri(), untar=True, cache_dir=tmp_path / "c")
    assert os.path.exists(os.path.join(out, "ok", "inside.txt"))
    assert not os.path.exists(tmp_path / "c" / "datasets" / "escape.txt")


def test_bad_arguments():
    with pytest.raises(ValueError, match="origin"):
        get_file("a.txt")
    with pytest.raises(ValueError, match="fname must be a file name"):
        get_file(os.path.join("a", "b.txt"), "https://example.com/b.txt")
    with pytest.raises(ValueError, match="hash_algorithm"):
        file_utils.resolve_hasher("crc")
