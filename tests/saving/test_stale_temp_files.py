"""Temp files left by a killed save are cleaned up by the next save or load of the
same target, but only when they are stale (owner process gone, or untouched for
an hour); a folder that refuses new files still lets a writable file be
overwritten (in place, verified), or says why not."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pytest

import callax
from callax.utils import atomic_files as atomic
from callax.utils.atomic_files import TMP_MARK, atomic_write


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has it (until the pid wraps around)


def _temp(directory, base, owner, age_s=0.0):
    path = directory / f".{base}{TMP_MARK}{owner}.abcd1234"
    path.write_bytes(b"half a model")
    if age_s:
        t = time.time() - age_s
        os.utime(path, (t, t))
    return path


def test_stale_temps_of_dead_processes_removed_with_a_warning(tmp_path):
    host = atomic._host()
    dead = _temp(tmp_path, "m.bin", f"{_dead_pid()}@{host}")
    alive = _temp(tmp_path, "m.bin", f"{os.getppid()}@{host}")  # a running process
    elsewhere = _temp(tmp_path, "m.bin", f"{_dead_pid()}@another-host")  # cannot be told
    old = _temp(tmp_path, "m.bin", f"{os.getppid()}@{host}x", age_s=2 * 3600)
    other_target = _temp(tmp_path, "n.bin", f"{_dead_pid()}@{host}")
    with pytest.warns(UserWarning, match=r"removed 2 temporary file\(s\).*interrupted save"):
        with atomic_write(tmp_path / "m.bin") as f:
            f.write(b"new")
    assert (tmp_path / "m.bin").read_bytes() == b"new"
    assert not dead.exists() and not old.exists()
    assert alive.exists() and elsewhere.exists() and other_target.exists()


def test_a_new_temp_file_names_its_owner(tmp_path, monkeypatch):
    seen = []
    real = atomic.tempfile.mkstemp

    def spy(*args, **kwargs):
        fd, path = real(*args, **kwargs)
        seen.append(os.path.basename(path))
        return fd, path

    monkeypatch.setattr(atomic.tempfile, "mkstemp", spy)
    with atomic_write(tmp_path / "m.bin") as f:
        f.write(b"x")
    assert seen[0].startswith(f".m.bin{TMP_MARK}{os.getpid()}@{atomic._host()}.")
    assert os.listdir(tmp_path) == ["m.bin"]


class _Net(callax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d = callax.layers.Dense(2)

    def call(self, x):
        return self.d(x)


def test_model_save_and_load_clean_stale_temps(tmp_path):
    model = _Net()
    x = np.ones((1, 3), "float32")
    model(x)
    target = tmp_path / "net.keras"
    model.save(target)
    stale = _temp(tmp_path, "net.keras", f"{_dead_pid()}@{atomic._host()}")
    with pytest.warns(UserWarning, match="net.keras"):
        loaded = callax.saving.load_model(target, custom_objects={"_Net": _Net})
    assert not stale.exists()
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)))
    stale = _temp(tmp_path, "net.keras", f"{_dead_pid()}@{atomic._host()}")
    with pytest.warns(UserWarning, match="removed 1"):
        model.save(target)
    assert sorted(os.listdir(tmp_path)) == ["net.keras"]


# --------------------------------------------------------- read-only folder
def _refuse_new_files(monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)


def test_read_only_folder_overwrites_a_writable_file_in_place(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    target.write_bytes(b"an older and longer content")
    _refuse_new_files(monkeypatch)
    with pytest.warns(UserWarning, match=r"does not allow creating files.*in place"):
        with atomic_write(target) as f:
            f.write(b"new")
    assert target.read_bytes() == b"new"  # truncated to the new length
    assert os.listdir(tmp_path) == ["f.bin"]


def test_read_only_folder_error_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    _refuse_new_files(monkeypatch)
    with pytest.raises(RuntimeError, match="disk full"), atomic_write(target) as f:
        f.write(b"half")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"


def test_read_only_folder_without_target_names_the_folder(tmp_path, monkeypatch):
    _refuse_new_files(monkeypatch)
    with pytest.raises(PermissionError, match=r"folder .* does not allow creating files"):
        with atomic_write(tmp_path / "new.bin") as f:
            f.write(b"x")


def test_read_only_folder_model_save_round_trip(tmp_path, monkeypatch):
    model = _Net()
    x = np.arange(3, dtype="float32").reshape(1, 3)
    model(x)
    target = tmp_path / "net.keras"
    model.save(target)
    model.d.kernel.assign(np.full((3, 2), 0.5, "float32"))
    _refuse_new_files(monkeypatch)
    with pytest.warns(UserWarning, match="in place"):
        model.save(target)
    loaded = callax.saving.load_model(target, custom_objects={"_Net": _Net})
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)))


def test_real_read_only_folder(tmp_path):
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: chmod does not stop root from creating files")
    folder = tmp_path / "ro"
    folder.mkdir()
    target = folder / "f.bin"
    target.write_bytes(b"old")
    folder.chmod(0o555)
    try:
        with pytest.warns(UserWarning, match="in place"), atomic_write(target) as f:
            f.write(b"new")
        assert target.read_bytes() == b"new"
    finally:
        folder.chmod(0o755)
