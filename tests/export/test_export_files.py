"""``export.files.atomic_directory`` removes only the temporary folders it can
tell are abandoned (their writer ran on this host and is gone): a folder of an
export still running, one from another host, or one it did not name survives."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from callax.export.files import OLD_MARK, atomic_directory
from callax.utils.atomic_files import TMP_MARK, _host


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has it (until the pid wraps around)


def _folder(directory, name):
    path = directory / name
    path.mkdir()
    (path / "half.bin").write_bytes(b"half an export")
    return path


def test_only_folders_of_dead_writers_are_removed(tmp_path):
    host = _host()
    dead_tmp = _folder(tmp_path, f".art{TMP_MARK}{_dead_pid()}@{host}.x1")
    dead_old = _folder(tmp_path, f".art{OLD_MARK}{_dead_pid()}@{host}.x2")
    running = _folder(tmp_path, f".art{TMP_MARK}{os.getppid()}@{host}.x3")
    elsewhere = _folder(tmp_path, f".art{TMP_MARK}{_dead_pid()}@another-host.x4")
    unnamed = _folder(tmp_path, f".art{TMP_MARK}someone-elses")
    other_target = _folder(tmp_path, f".other{TMP_MARK}{_dead_pid()}@{host}.x5")
    with atomic_directory(tmp_path / "art") as d:
        assert os.path.basename(d).startswith(f".art{TMP_MARK}{os.getpid()}@{host}.")
        open(os.path.join(d, "a.txt"), "w").close()
    assert sorted(os.listdir(tmp_path / "art")) == ["a.txt"]
    assert not dead_tmp.exists() and not dead_old.exists()
    assert running.exists() and elsewhere.exists() and unnamed.exists()
    assert other_target.exists()


def test_replacing_keeps_no_leftovers_and_a_failure_keeps_the_old_artifact(tmp_path):
    target = tmp_path / "art"
    with atomic_directory(target) as d:
        open(os.path.join(d, "v1.txt"), "w").close()
    with atomic_directory(target) as d:
        open(os.path.join(d, "v2.txt"), "w").close()
    assert sorted(os.listdir(tmp_path)) == ["art"]
    assert os.listdir(target) == ["v2.txt"]
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_directory(target) as d:
            open(os.path.join(d, "v3.txt"), "w").close()
            raise RuntimeError("boom")
    assert sorted(os.listdir(tmp_path)) == ["art"]
    assert os.listdir(target) == ["v2.txt"]
