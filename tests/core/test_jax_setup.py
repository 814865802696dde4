"""The persistent compilation cache callax turns on at import: where it goes, its cap."""

import os
import subprocess
import sys

SNIPPET = "import callax, jax; print(jax.config.jax_compilation_cache_dir, jax.config.jax_compilation_cache_max_size)"


def _run(tmp_path, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("CALLAX_")}
    full.update(env)
    return subprocess.run([sys.executable, "-c", SNIPPET], env=full, capture_output=True,
                          text=True, timeout=120)  # fmt: skip


def test_cache_is_capped_and_movable(tmp_path):
    out = _run(tmp_path, CALLAX_CACHE_DIR=str(tmp_path / "xla"))
    assert out.returncode == 0, out.stderr
    directory, cap = out.stdout.split()
    assert directory == str(tmp_path / "xla") and os.path.isdir(directory)
    assert int(cap) == 1 << 30  # 1 GiB by default: JAX evicts least recently used entries

    out = _run(tmp_path, CALLAX_CACHE_DIR=str(tmp_path / "xla"), CALLAX_CACHE_MAX_BYTES="-1")
    assert out.stdout.split()[1] == "-1"


def test_cache_can_be_turned_off_and_bad_caps_are_named(tmp_path):
    out = _run(tmp_path, CALLAX_COMPILATION_CACHE="0")
    assert out.returncode == 0 and out.stdout.split()[0] == "None"
    out = _run(tmp_path, CALLAX_CACHE_DIR=str(tmp_path / "x"), CALLAX_CACHE_MAX_BYTES="lots")
    assert out.returncode != 0
    assert "CALLAX_CACHE_MAX_BYTES must be an integer" in out.stderr and "'lots'" in out.stderr

