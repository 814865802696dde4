"""The persistent compilation cache callax turns on at import: where it goes, its cap."""

import os
import subprocess
import sys
import time

from callax.core.jax_setup import prune_cache

SNIPPET = (
    "import callax, jax, threading;"
    "[t.join() for t in threading.enumerate() if t.name == 'callax-cache-prune'];"
    "print(jax.config.jax_compilation_cache_dir, jax.config.jax_compilation_cache_max_size)"
)


def _run(**env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("CALLAX_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", SNIPPET], env=full, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_cache_folder_is_movable_and_pruned_at_import(tmp_path):
    folder = tmp_path / "xla"
    folder.mkdir()
    now = time.time()
    for i in range(10):  # 10 x 1000 bytes, oldest first
        (folder / f"old{i}").write_bytes(b"x" * 1000)
        os.utime(folder / f"old{i}", (now - 1000 + i, now - 1000 + i))
    out = _run(CALLAX_CACHE_DIR=str(folder), CALLAX_CACHE_MAX_BYTES="5000")
    assert out.returncode == 0, out.stderr
    directory, jax_cap = out.stdout.split()
    assert directory == str(folder)
    assert jax_cap == "-1"  # JAX's own locking eviction stays off (see jax_setup)
    left = sorted(os.listdir(folder))
    assert sum((folder / f).stat().st_size for f in left) <= 3750
    assert "old9" in left and "old0" not in left  # least recently used went first


def test_prune_keeps_a_folder_under_its_cap(tmp_path):
    (tmp_path / "a").write_bytes(b"x" * 10)
    assert prune_cache(str(tmp_path), 100) == 0 and os.listdir(tmp_path) == ["a"]
    assert prune_cache(str(tmp_path / "missing"), 1) == 0  # never raises


def test_cache_can_be_turned_off_and_bad_caps_are_named(tmp_path):
    out = _run(CALLAX_COMPILATION_CACHE="0")
    assert out.returncode == 0 and out.stdout.split()[0] == "None"
    out = _run(CALLAX_CACHE_DIR=str(tmp_path / "x"), CALLAX_CACHE_MAX_BYTES="lots")
    assert out.returncode != 0
    assert "CALLAX_CACHE_MAX_BYTES must be an integer" in out.stderr and "'lots'" in out.stderr
