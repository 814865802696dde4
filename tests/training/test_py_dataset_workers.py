"""PyDataset workers: one pool per fit, reused by every epoch and closed at the end."""

import os
import subprocess
import sys
import textwrap
import time

import pytest
from data_sources_cases import BATCH, Batches, X, Y, assert_same_weights, fresh

from callax.utils import py_dataset


@pytest.fixture
def pools(monkeypatch):
    """Every executor a PyDataset makes, in order."""
    made = []
    original = py_dataset._make_executor

    def counting(dataset):
        made.append(original(dataset))
        return made[-1]

    monkeypatch.setattr(py_dataset, "_make_executor", counting)
    return made


def _closed(executor) -> bool:
    try:
        executor.submit(int).cancel()
    except RuntimeError:  # "cannot schedule new futures after shutdown"
        return True
    return False


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_one_pool_serves_every_epoch_and_is_closed_when_fit_returns(pools, processes):
    model = fresh()
    data = Batches(workers=2, use_multiprocessing=processes)
    model.fit(data, epochs=3, verbose=0)
    assert len(pools) == 1
    assert _closed(pools[0])
    reference = fresh()
    reference.fit(X, Y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
    model_sorted = fresh()
    model_sorted.fit(Batches(workers=2, use_multiprocessing=processes), epochs=3, shuffle=False,
                     verbose=0)  # fmt: skip
    assert_same_weights(model_sorted, reference)
    # fit + validation: one pool each; evaluate and predict: one each, closed too
    del pools[:]
    model.fit(data, epochs=2, validation_data=Batches(workers=2, use_multiprocessing=processes),
              verbose=0)  # fmt: skip
    model.evaluate(data, verbose=0)
    model.predict(data, verbose=0)
    assert len(pools) == 4 and all(_closed(p) for p in pools)


def test_three_epochs_with_worker_processes_take_well_under_a_few_seconds():
    model = fresh()
    model.fit(Batches(), epochs=1, verbose=0)  # compile the steps first
    # The session's first pool waits once for the fork server to import callax;
    # every later fit starts its workers in milliseconds.
    model.fit(Batches(workers=2, use_multiprocessing=True), epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(Batches(workers=2, use_multiprocessing=True), epochs=3, verbose=0)
    assert time.perf_counter() - start < 3.0  # ~0.1 s idle; was ~6 s per epoch (a pool each)


def test_unguarded_script_fails_fast_with_the_main_guard_advice(tmp_path):
    """Workers import the script again; a top-level fit there must not hang or
    train again: the parent raises an error that names the fix."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            import numpy as np
            import callax as keras

            class Batches(keras.utils.PyDataset):
                def __len__(self):
                    return 2
                def __getitem__(self, i):
                    return np.ones((4, 3), "float32"), np.ones((4, 1), "float32")

            model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
            model.compile("sgd", "mse")
            model.fit(Batches(workers=2, use_multiprocessing=True), verbose=0)  # no main guard
            """
        )
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env=env, cwd=tmp_path)  # fmt: skip
    assert done.returncode != 0
    assert 'if __name__ == "__main__":' in done.stderr, done.stderr[-3000:]
    assert "worker process" in done.stderr
