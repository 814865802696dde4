"""Training across processes with ``jax.distributed`` (2 processes x 2 fake CPU
devices on 127.0.0.1), compared with one process holding 4 devices that trains on
the same global batches. Each process is a ``subprocess.Popen`` of mp_worker.py;
results come back as .npz files. See docs/scaling.md."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "mp_worker.py")
TIMEOUT = 420  # seconds for a whole job (usually 20-80 s; a loaded, shared 2-core machine is slow)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(devices: int, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERAS_DISTRIBUTION_")}
    env.update(XLA_FLAGS=f"--xla_force_host_platform_device_count={devices}",
               JAX_PLATFORMS="cpu", PYTHONUNBUFFERED="1", TF_CPP_MIN_LOG_LEVEL="2",
               CUDA_VISIBLE_DEVICES="")  # fmt: skip
    env.update(extra or {})
    return env


def _start(tmp_path, scenario, nprocs, init="args", extra_env=None, name=None, **cfg):
    port = _free_port()
    job = {"procs": [], "outs": [], "logs": []}
    for pid in range(nprocs):
        stem = tmp_path / f"{name or scenario}-{nprocs}-{pid}"
        out = f"{stem}.npz"
        conf = dict(cfg, scenario=scenario, out=out, port=port, nprocs=nprocs, pid=pid,
                    init=init if nprocs > 1 else "none")  # fmt: skip
        env = _env(4 // nprocs, {
            "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
            "KERAS_DISTRIBUTION_NUM_PROCESSES": str(nprocs),
            "KERAS_DISTRIBUTION_PROCESS_ID": str(pid),
        } if init == "env" else {})  # fmt: skip
        env.update(extra_env or {})
        log = open(f"{stem}.log", "w+")
        job["logs"].append(log)
        job["outs"].append(out)
        job["procs"].append(subprocess.Popen([sys.executable, WORKER, json.dumps(conf)], env=env,
                                             stdout=log, stderr=subprocess.STDOUT))  # fmt: skip
    return job


def _kill(jobs):
    for job in jobs:
        for p in job["procs"]:
            if p.poll() is None:
                p.kill()
                p.wait()


def _collect(job):
    texts = []
    for log in job["logs"]:
        log.seek(0)
        texts.append(log.read())
        log.close()
    codes = [p.returncode for p in job["procs"]]
    results = [dict(np.load(o)) if os.path.exists(o) else None for o in job["outs"]]
    return results, codes, texts


def launch_all(tmp_path, specs, timeout=TIMEOUT):
    """Runs the jobs ``specs`` (``(scenario, nprocs, config)``) at the same time;
    returns ``(results per process, return codes, outputs)`` for each. Every
    process still running at ``timeout`` seconds is killed."""
    jobs = []
    try:
        for scenario, nprocs, cfg in specs:
            jobs.append(_start(tmp_path, scenario, nprocs, **cfg))
        deadline = time.time() + timeout
        for job in jobs:
            for p in job["procs"]:
                try:
                    p.wait(timeout=max(1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    pass
    finally:
        _kill(jobs)
    return [_collect(job) for job in jobs]


def launch(tmp_path, scenario: str, nprocs: int, timeout=TIMEOUT, **cfg):
    """Runs one job; returns (results per process, return codes, outputs)."""
    return launch_all(tmp_path, [(scenario, nprocs, cfg)], timeout)[0]


def run_ok(tmp_path, *specs):
    """Runs the jobs together; each process must exit 0. Returns their results."""
    done = launch_all(tmp_path, specs)
    for (scenario, nprocs, _), (_, codes, texts) in zip(specs, done):
        for pid, (code, text) in enumerate(zip(codes, texts)):
            assert code == 0, (
                f"{scenario}: process {pid} of {nprocs} exited with {code}:\n{text[-4000:]}"
            )
    return [results for results, _, _ in done]


def assert_bit_identical(a: dict, b: dict, what: str):
    assert sorted(a) == sorted(b), f"{what}: different result keys"
    for key in a:
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), (
            f"{what}: {key} differs between the processes"
        )


def assert_close(got: dict, ref: dict, prefixes, rtol=1e-5, atol=1e-5):
    keys = [k for k in ref if k.split("/")[0] in prefixes]
    assert keys and all(k in got for k in keys), sorted(set(keys) - set(got))
    for key in keys:
        if ref[key].dtype.kind in "USO":
            assert np.array_equal(got[key], ref[key]), key
            continue
        np.testing.assert_allclose(got[key], ref[key], rtol=rtol, atol=atol,
                                   err_msg=f"{key}: two processes vs one")  # fmt: skip


def test_data_parallel_two_processes_match_one(tmp_path):
    """DataParallel over 2 processes (joined from KERAS_DISTRIBUTION_* variables):
    an MLP and a BatchNorm+Dropout CNN on arrays, an MLP on per-process generator
    batches; weights bit-identical across processes and equal to one process."""
    (ref,), (r0, r1) = run_ok(
        tmp_path, ("dataparallel", 1, {}), ("dataparallel", 2, {"init": "env", "verbose": 2})
    )
    assert_bit_identical(r0, r1, "DataParallel")
    assert_close(r0, ref, ("mlp", "cnn", "gen", "pyds"))
    assert r0["mlp/predict"].shape == (48, 4) and r0["gen/predict_local"].shape == (64, 4)
    assert len(r0["mlp/history/loss"]) == 3
    # verbose=2 prints one line per epoch, on process 0 only.
    logs = [(tmp_path / f"dataparallel-2-{pid}.log").read_text() for pid in (0, 1)]
    assert logs[0].count("Epoch 3/3") == 1 and "Epoch" not in logs[1], logs


def test_model_parallel_across_processes_weights_and_saving(tmp_path):
    """A MultiHeadAttention+MLP block whose kernels are split over a ``model`` axis
    spanning the processes: fit/evaluate/predict equal one process, get_weights
    (of the model and of a sub-layer) and ``Variable.numpy`` / ``np.asarray`` of a
    split kernel gather, save_weights/save are written once by process 0."""
    save_dir = tmp_path / "saved"
    save_dir.mkdir()
    (ref,), (r0, r1) = run_ok(
        tmp_path, ("modelparallel", 1, {}), ("modelparallel", 2, {"save_dir": str(save_dir)})
    )
    assert_bit_identical(r0, r1, "ModelParallel")
    # FSDP-style memory: the 6 split kernels and their 12 Adam slots hold half of their
    # bytes on each of a process's 2 devices (model axis of size 2).
    assert int(r0["mem/split_count"]) == 18
    np.testing.assert_array_equal(r0["mem/device_fraction"], [0.5, 0.5])
    np.testing.assert_array_equal(r1["mem/device_fraction"], [0.5, 0.5])
    assert str(r0["block/kernel_spec"][0]) == str(ref["block/kernel_spec"][0])
    assert "model" in str(r0["block/kernel_spec"][0])
    assert_close(r0, ref, ("block", "final", "sub"))
    # Sub-layer weights spanning the processes are gathered, not an error.
    assert bool(r0["spans/mlp_in_kernel"]) and not bool(ref["spans/mlp_in_kernel"])
    np.testing.assert_array_equal(r0["sub/mlp_in_kernel"], r0["sub/mlp_in_kernel_asarray"])
    assert r0["sub/mlp_in_kernel"].shape == (8, 16)
    assert bool(r1["block/saved_seen"])
    assert sorted(os.listdir(save_dir)) == ["block.keras", "block.weights.h5"]  # no temp files

    import mp_models

    import callax as keras

    weights = [r0[f"final/w{i}"] for i in range(len([k for k in r0 if k.startswith("final/")]))]
    loaded = keras.saving.load_model(str(save_dir / "block.keras"))
    for got, want in zip(loaded.get_weights(), weights):
        np.testing.assert_array_equal(got, want)
    fresh = mp_models.block(keras)
    with warnings.catch_warnings():  # its optimizer is not built: its state is not loaded
        warnings.simplefilter("ignore")
        fresh.load_weights(str(save_dir / "block.weights.h5"))
    for got, want in zip(fresh.get_weights(), weights):
        np.testing.assert_array_equal(got, want)


def test_batch_shapes_that_differ_between_processes_name_both(tmp_path):
    """Process 0 feeds 8 samples, process 1 feeds 4: both raise a ValueError
    before any step (instead of a hang or an XLA error), and exit cleanly."""
    ((r0, r1),) = run_ok(tmp_path, ("mismatch", 2, {}))
    for pid, r in enumerate((r0, r1)):
        message = str(r["error"])
        assert "different shapes" in message and f"Process {pid} fed" in message, message
    assert "[(8, 8), (8,)]" in str(r0["error"]) and "[(4, 8), (4,)]" in str(r1["error"])


def test_a_dead_peer_is_a_python_error_with_recoverability(tmp_path):
    """Process 1 dies (os._exit) mid-job. With JAX_ENABLE_RECOVERABILITY=true the
    survivor (process 0, the coordinator) gets a JaxRuntimeError from its next
    collective within seconds and exits normally (default: SIGABRT at exit)."""
    results, codes, texts = launch(
        tmp_path, "die", 2, victim=1, wait=30, jax_kwargs={"heartbeat_timeout_seconds": 10},
        extra_env={"JAX_ENABLE_RECOVERABILITY": "true"},
    )  # fmt: skip
    assert codes == [0, 3], (codes, texts[0][-3000:])
    with open(tmp_path / "die-2-0.npz.json") as f:
        report = json.load(f)
    assert report["error"].startswith("JaxRuntimeError"), report
    assert report["after"] < 20, report


def test_steps_per_execution_and_model_checkpoint_across_processes(tmp_path):
    """steps_per_execution=2 (stacked global batches) matches one process; a
    ModelCheckpoint writes each epoch's file once (process 0)."""
    save_dir = tmp_path / "saved"
    save_dir.mkdir()
    (ref,), (r0, r1) = run_ok(
        tmp_path, ("extras", 1, {}), ("extras", 2, {"save_dir": str(save_dir)})
    )
    assert_bit_identical(r0, r1, "steps_per_execution=2")
    assert_close(r0, ref, ("spe",))
    assert sorted(os.listdir(save_dir)) == ["ckpt-1.keras", "ckpt-2.keras"]


def test_backup_and_restore_resumes_after_a_process_is_killed(tmp_path):
    """BackupAndRestore over 2 processes: process 1 is killed mid-epoch 2 (the
    survivor's next collective fails, it exits); both restart and resume from the
    backup of epoch 1, ending equal to an uninterrupted 2-process run. Process 0
    alone writes the backup (atomically: no temp files left)."""
    import h5py

    backup_dir, ref_dir = tmp_path / "backup", tmp_path / "ref"
    fast = {"jax_kwargs": {"heartbeat_timeout_seconds": 10}}  # the job that loses a process
    (_, killed_codes, texts), (ref, ref_codes, ref_texts) = launch_all(tmp_path, [
        ("backup", 2, dict(fast, backup_dir=str(backup_dir), die_at=[1, 1], name="killed")),
        ("backup", 2, dict(backup_dir=str(ref_dir), name="uninterrupted")),
    ])  # fmt: skip
    assert ref_codes == [0, 0], ref_texts
    assert killed_codes[1] == 3 and killed_codes[0] != 0, (killed_codes, texts[0][-3000:])
    assert sorted(os.listdir(backup_dir)) == ["latest.weights.h5"]  # one file, no temp files
    with h5py.File(backup_dir / "latest.weights.h5", "r") as f:
        assert json.loads(f.attrs["callax_backup"])["epoch"] == 0  # the last finished epoch

    ((r0, r1),) = run_ok(tmp_path, ("backup", 2, dict(backup_dir=str(backup_dir),
                                                      name="resumed")))  # fmt: skip
    weights = [{k: v for k, v in r.items() if k.startswith("backup/")} for r in (r0, r1)]
    assert_bit_identical(*weights, "resumed BackupAndRestore")
    assert int(r0["count/epochs_run"]) == 2  # resumed at epoch 2 of 3, not from scratch
    final = {k: v for k, v in ref[0].items() if k.startswith("backup/w")}
    assert_close(r0, final, ("backup",), rtol=1e-6, atol=1e-6)
    for key in ("loss", "accuracy"):  # the resumed History holds epochs 2 and 3
        np.testing.assert_allclose(r0[f"backup/history/{key}"], ref[0][f"backup/history/{key}"][1:],
                                   rtol=1e-6, atol=1e-6)  # fmt: skip
    # Process 0 wrote each backup (epochs 2 and 3; 1, 2 and 3 uninterrupted), process 1 none.
    assert [int(r["count/writes"]) for r in (r0, r1)] == [2, 0]
    assert [int(r["count/writes"]) for r in ref] == [3, 0]
    assert os.listdir(backup_dir) == [] and os.listdir(ref_dir) == []  # deleted at the end


def test_foreign_sources_each_process_loads_its_share(tmp_path):
    """A tf.data dataset of global batches, the same on both processes, is sharded
    by fit (Keras's auto_shard_dataset): each process loads its half of every
    batch. A torch DataLoader over a DistributedSampler yields each process's local
    batches. Weights bit-identical on both processes and equal to one process
    training on the same global batches (as arrays); evaluate and predict global."""
    ((ref,), (r0, r1)) = run_ok(tmp_path, ("foreign", 1, {}), ("foreign", 2, {}))
    assert_bit_identical(*({k: v for k, v in r.items() if not k.startswith("rows/")}
                           for r in (r0, r1)), "foreign sources")  # fmt: skip
    # torch: the same samples per global batch, in another order (float sums differ).
    assert_close(r0, ref, ("tfdata", "torch"))
    import mp_models

    x, _ = mp_models.data()
    half = mp_models.GLOBAL_BATCH // 2
    for pid, r in enumerate((r0, r1)):  # process p: rows [16k + 8p, 16k + 8p + 8) of batch k
        mine = np.concatenate([x[i + pid * half : i + (pid + 1) * half]
                               for i in range(0, len(x), mp_models.GLOBAL_BATCH)])  # fmt: skip
        np.testing.assert_array_equal(r["rows/tfdata"], mine)
        np.testing.assert_array_equal(r["rows/torch"], x[pid::2])  # DistributedSampler's share
    assert r0["tfdata/predict"].shape == (64, 4)  # all rows, in input order (vs ref above)


def test_orbax_checkpoint_of_weights_sharded_across_processes(tmp_path):
    """OrbaxCheckpoint during a ModelParallel fit whose kernels span the two
    processes: each process writes its own shards (one OCDBT part per process);
    the checkpoint restores (weights and optimizer state) into a fresh model on the
    same mesh, which then trains on equal to the original; onto a DataParallel mesh
    in the same job; and onto one device in this (single) process."""
    pytest.importorskip("orbax.checkpoint")
    ckpt = tmp_path / "ckpt"
    ((r0, r1),) = run_ok(tmp_path, ("orbax", 2, {"ckpt_dir": str(ckpt)}))
    assert_bit_identical(r0, r1, "Orbax")
    assert bool(r0["spans"].all())  # the kernel is split over both processes
    assert sorted(os.listdir(ckpt)) == ["1"]  # max_to_keep=1: the epoch index 1, no temp folder
    parts = sorted(p for p in os.listdir(ckpt / "1" / "state") if p.startswith("ocdbt.process_"))
    assert parts == ["ocdbt.process_0", "ocdbt.process_1"], os.listdir(ckpt / "1" / "state")
    assert int(r0["restored/step"]) == 1
    n = len([k for k in r0 if k.startswith("trained/w")])
    for i in range(n):
        for prefix in ("restored", "on_dp"):
            np.testing.assert_array_equal(r0[f"{prefix}/w{i}"], r0[f"trained/w{i}"])
        np.testing.assert_array_equal(r0[f"resumed/w{i}"], r0[f"continued/w{i}"])
    np.testing.assert_array_equal(r0["restored/optimizer"], r0["trained/optimizer"])
    assert not np.array_equal(r0["continued/w0"], r0["trained/w0"])  # the third epoch trained

    import mp_models

    import callax as keras

    model = mp_models.block(keras)  # this process: one device, no distribution
    keras.callbacks.OrbaxCheckpoint.restore(model, str(ckpt), resume=False)
    for i, got in enumerate(model.get_weights()):
        np.testing.assert_array_equal(got, r0[f"trained/w{i}"])


def test_backup_and_restore_model_parallel_process_0_killed(tmp_path):
    """BackupAndRestore of a ModelParallel block whose kernels span the processes
    (gathered for the write): process 0, the writer and JAX's coordinator, dies
    (os._exit) mid-epoch 2; process 1 is aborted soon after. Restarted, both
    resume at epoch 2 from process 0's backup of epoch 1 and end equal to an
    uninterrupted 2-process run."""
    import h5py

    backup_dir, ref_dir = tmp_path / "backup", tmp_path / "ref"
    block = {"model": "block"}
    fast = dict(block, jax_kwargs={"heartbeat_timeout_seconds": 10})  # the job losing process 0
    (_, killed_codes, texts), (ref, ref_codes, ref_texts) = launch_all(tmp_path, [
        ("backup", 2, dict(fast, backup_dir=str(backup_dir), die_at=[1, 1], victim=0,
                           name="killed0")),
        ("backup", 2, dict(block, backup_dir=str(ref_dir), name="uninterrupted_mp")),
    ])  # fmt: skip
    assert ref_codes == [0, 0], ref_texts
    assert killed_codes[0] == 3 and killed_codes[1] != 0, (killed_codes, texts[1][-3000:])
    assert sorted(os.listdir(backup_dir)) == ["latest.weights.h5"]  # one file, no temp files
    with h5py.File(backup_dir / "latest.weights.h5", "r") as f:
        assert json.loads(f.attrs["callax_backup"])["epoch"] == 0  # the last finished epoch

    ((r0, r1),) = run_ok(tmp_path, ("backup", 2, dict(block, backup_dir=str(backup_dir),
                                                      name="resumed_mp")))  # fmt: skip
    weights = [{k: v for k, v in r.items() if k.startswith("backup/")} for r in (r0, r1)]
    assert_bit_identical(*weights, "resumed ModelParallel BackupAndRestore")
    assert bool(r0["spans"].all())  # the kernel is split over both processes
    assert int(r0["count/epochs_run"]) == 2  # resumed at epoch 2 of 3, not from scratch
    final = {k: v for k, v in ref[0].items() if k.startswith("backup/w")}
    assert_close(r0, final, ("backup",), rtol=1e-6, atol=1e-6)
    for key in ("loss", "accuracy"):  # the resumed History holds epochs 2 and 3
        np.testing.assert_allclose(r0[f"backup/history/{key}"], ref[0][f"backup/history/{key}"][1:],
                                   rtol=1e-6, atol=1e-6)  # fmt: skip
    assert [int(r["count/writes"]) for r in (r0, r1)] == [2, 0]  # process 0 writes
    assert os.listdir(backup_dir) == [] and os.listdir(ref_dir) == []  # deleted at the end
