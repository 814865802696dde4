"""Durability: saves are atomic. A process killed (SIGKILL) at random moments
while saving leaves the target either the previous valid file or the new one."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import callax
from callax import saving
from callax.utils.atomic_files import TMP_MARK, atomic_write


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(target) as f:
        f.write(b"half of the new")
        raise RuntimeError("disk full")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_stale_temp_files_are_cleaned_by_next_save(tmp_path):
    # Stale: untouched for longer than a save can take (owners: test_stale_temp_files.py).
    stale = tmp_path / f".f.bin{TMP_MARK}abc"
    stale.write_bytes(b"left by a killed save")
    long_ago = time.time() - 2 * 3600
    os.utime(stale, (long_ago, long_ago))
    with pytest.warns(UserWarning, match="interrupted save"), atomic_write(tmp_path / "f.bin") as f:
        f.write(b"new")
    assert sorted(os.listdir(tmp_path)) == ["f.bin"]


class Wide(callax.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.a = callax.layers.Dense(512)
        self.b = callax.layers.Dense(512)

    def call(self, x):
        return self.b(self.a(x))


CHILD = textwrap.dedent(
    """
    import sys
    import numpy as np
    import callax

    class Wide(callax.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.a = callax.layers.Dense(512)
            self.b = callax.layers.Dense(512)

        def call(self, x):
            return self.b(self.a(x))

    model = Wide()
    model(np.ones((1, 256), "float32"))
    directory = sys.argv[1]
    step = 0
    while True:
        step += 1
        model.set_weights([np.full(w.shape, step, w.dtype) for w in model.get_weights()])
        model.save(directory + "/model.keras")
        model.save_weights(directory + "/model.weights.h5")
        if step == 1:
            print("ready", flush=True)
    """
)


def _check(directory):
    """Both files load and hold one consistent step's weights."""
    model = saving.load_model(os.path.join(directory, "model.keras"), custom_objects={"Wide": Wide})
    steps = {float(np.unique(w)[0]) for w in model.get_weights() if np.unique(w).size == 1}
    assert len(steps) == 1 and all(np.unique(w).size == 1 for w in model.get_weights())
    model.load_weights(os.path.join(directory, "model.weights.h5"))
    steps = {float(np.unique(w)[0]) for w in model.get_weights()}
    assert len(steps) == 1
    leftovers = [n for n in os.listdir(directory) if TMP_MARK not in n]
    assert sorted(leftovers) == ["model.keras", "model.weights.h5"]


@pytest.mark.slow
def test_kill_during_save_leaves_old_or_new_file(tmp_path):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    rng = random.Random(0)
    rounds, parallel = 3, 4
    kills = mid_save = 0
    for r in range(rounds):
        procs = []
        for i in range(parallel):
            directory = tmp_path / f"run{r}_{i}"
            directory.mkdir()
            proc = subprocess.Popen(
                [sys.executable, str(script), str(directory)],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                env={**os.environ, "JAX_PLATFORMS": "cpu"},
            )  # fmt: skip
            procs.append((proc, directory))
        for proc, _ in procs:
            assert proc.stdout.readline().strip() == "ready"
        for proc, _ in procs:
            time.sleep(rng.uniform(0.0, 0.25))  # lands inside a save most of the time
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            kills += 1
        for _, directory in procs:
            mid_save += any(TMP_MARK in n for n in os.listdir(directory))
            _check(directory)
    assert kills == rounds * parallel
    assert mid_save >= 1  # some kills did land inside a save (a temp file was left)
