"""One process of a multi-process test (test_multiprocess.py starts two, or one
with four devices for the single-process reference).

Usage: python mp_worker.py '<json config>'; the config names the scenario, the
output file, and how to join the job (``init``: "args", "env" or "none")."""

from __future__ import annotations

import json
import os
import sys
import time

import jax
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mp_models as M  # noqa: E402

import callax as keras  # noqa: E402

cfg: dict = {}
NPROCS = PID = 0
results: dict[str, np.ndarray] = {}


def record(prefix, model, history=None):
    for i, w in enumerate(model.get_weights()):
        results[f"{prefix}/w{i}"] = w
    for key, values in (history.history if history else {}).items():
        results[f"{prefix}/history/{key}"] = np.asarray(values)


def local_rows(x):
    """The rows of a global batch this process feeds (all of them with one process)."""
    n = len(x) // NPROCS
    return x[PID * n : (PID + 1) * n]


def dataparallel():
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    # 1. the seed's kind of model, on arrays (each process passes the same arrays).
    keras.utils.set_random_seed(1)
    x, y = M.data()
    model = M.mlp(keras)
    history = model.fit(x, y, batch_size=M.GLOBAL_BATCH, epochs=3, shuffle=True,
                        verbose=cfg.get("verbose", 0))  # fmt: skip
    record("mlp", model, history)
    results["mlp/evaluate"] = np.asarray(model.evaluate(x, y, batch_size=M.GLOBAL_BATCH, verbose=0))
    results["mlp/predict"] = model.predict(x[:48], batch_size=M.GLOBAL_BATCH, verbose=0)
    # 2. a CNN with BatchNormalization and Dropout.
    keras.utils.set_random_seed(2)
    xi, yi = M.data(shape=(6, 6, 2), seed=3)
    model = M.cnn(keras)
    history = model.fit(xi, yi, batch_size=M.GLOBAL_BATCH, epochs=2, shuffle=True, verbose=0)
    record("cnn", model, history)
    # 3. a generator: each process yields its own local part of each global batch.
    keras.utils.set_random_seed(3)
    model = M.mlp(keras)

    def batches():
        for i in range(0, len(x), M.GLOBAL_BATCH):
            yield local_rows(x[i : i + M.GLOBAL_BATCH]), local_rows(y[i : i + M.GLOBAL_BATCH])

    history = model.fit(batches(), epochs=1, verbose=0)
    record("gen", model, history)
    results["gen/predict"] = model.predict(x, batch_size=M.GLOBAL_BATCH, verbose=0)
    # evaluate/predict on local batches: global metrics; predictions of every process.
    results["gen/evaluate"] = np.asarray(model.evaluate(batches(), verbose=0))
    results["gen/predict_local"] = model.predict((b for b, _ in batches()), verbose=0)

    # 4. a PyDataset: each process's dataset serves its local part of each batch.
    class Local(keras.utils.PyDataset):
        def __len__(self):
            return len(x) // M.GLOBAL_BATCH

        def __getitem__(self, i):
            rows = slice(i * M.GLOBAL_BATCH, (i + 1) * M.GLOBAL_BATCH)
            return local_rows(x[rows]), local_rows(y[rows])

    keras.utils.set_random_seed(5)
    model = M.mlp(keras)
    history = model.fit(Local(), epochs=2, verbose=0)
    record("pyds", model, history)


def foreign():
    """Foreign sources, each process loading only its share: one global tf.data
    dataset that fit shards (Keras's distribute_dataset), and a torch DataLoader
    over each process's DistributedSampler part (local batches). The one-process
    reference trains on the same global batches given as arrays (no tf, no torch)."""
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    x, y = M.data()
    fit = dict(epochs=2, verbose=0)
    if NPROCS == 1:
        for prefix, seed in (("tfdata", 8), ("torch", 9)):
            keras.utils.set_random_seed(seed)
            model = M.mlp(keras)
            history = model.fit(x, y, batch_size=M.GLOBAL_BATCH, shuffle=False, **fit)
            record(prefix, model, history)
            results[f"{prefix}/evaluate"] = np.asarray(
                model.evaluate(x, y, batch_size=M.GLOBAL_BATCH, verbose=0)
            )
            if prefix == "tfdata":
                results["tfdata/predict"] = model.predict(x, batch_size=M.GLOBAL_BATCH, verbose=0)
        return
    import tensorflow as tf
    import torch

    from callax.training.data_adapters import get_data_adapter

    # 1. tf.data: the same dataset of global batches on every process.
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(M.GLOBAL_BATCH)
    keras.utils.set_random_seed(8)
    model = M.mlp(keras)
    record("tfdata", model, model.fit(dataset, **fit))
    results["tfdata/evaluate"] = np.asarray(model.evaluate(dataset, verbose=0))
    # 2. a torch DataLoader over this process's share of the samples.
    torch.set_num_threads(1)
    samples = torch.utils.data.TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    sampler = torch.utils.data.DistributedSampler(samples, NPROCS, PID, shuffle=False)
    loader = torch.utils.data.DataLoader(samples, M.GLOBAL_BATCH // NPROCS, sampler=sampler)
    keras.utils.set_random_seed(9)
    tmodel = M.mlp(keras)
    record("torch", tmodel, tmodel.fit(loader, **fit))
    results["torch/evaluate"] = np.asarray(tmodel.evaluate(loader, verbose=0))
    # predict on the tf.data model (global batches of inputs): all rows, in order.
    inputs = tf.data.Dataset.from_tensor_slices(x).batch(M.GLOBAL_BATCH)
    results["tfdata/predict"] = model.predict(inputs, verbose=0)
    # The rows each process loads (its part of each global batch), as fit reads them.
    for name, source in (("tfdata", dataset), ("torch", loader)):
        batches = get_data_adapter(source).get_epoch_iterator()
        results[f"rows/{name}"] = np.concatenate([b[0] for b in batches])


def orbax():
    """OrbaxCheckpoint of a ModelParallel block whose kernels span the processes:
    each process writes its shards; restored into a fresh model on the same mesh
    (then trained one more epoch, as the original) and on a DataParallel mesh."""
    from callax.callbacks import OrbaxCheckpoint
    from callax.core.placement import to_host

    keras.distribution.set_distribution(M.block_layout(keras, jax.devices()))
    x, y = M.data(shape=(4, 8), seed=5)
    fit = dict(x=x, y=y, batch_size=M.GLOBAL_BATCH, shuffle=False, verbose=0)
    keras.utils.set_random_seed(4)
    model = M.block(keras)
    model.fit(epochs=2, callbacks=[OrbaxCheckpoint(cfg["ckpt_dir"])], **fit)
    record("trained", model)
    results["trained/optimizer"] = np.concatenate(
        [a.ravel() for a in to_host([v.value for v in model.optimizer.variables])]
    )
    results["spans"] = np.asarray(
        [not v.value.is_fully_addressable for v in model.weights if "mlp_in/kernel" in v.path]
    )
    keras.utils.set_random_seed(11)  # other initial weights: the restore must replace them
    fresh = M.block(keras)
    results["restored/step"] = np.asarray(OrbaxCheckpoint.restore(fresh, cfg["ckpt_dir"]))
    record("restored", fresh)
    results["restored/optimizer"] = np.concatenate(
        [a.ravel() for a in to_host([v.value for v in fresh.optimizer.variables])]
    )
    # Both go on for a third epoch: the restored one resumes there by itself.
    record("resumed", fresh, fresh.fit(epochs=3, **fit))
    record("continued", model, model.fit(epochs=3, initial_epoch=2, **fit))
    # Onto another mesh: every weight replicated (DataParallel over the 4 devices).
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    other = M.block(keras)
    OrbaxCheckpoint.restore(other, cfg["ckpt_dir"], resume=False)
    record("on_dp", other)


def extras():
    """steps_per_execution=2 and a ModelCheckpoint, DataParallel on arrays."""
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    keras.utils.set_random_seed(6)
    x, y = M.data()
    model = M.mlp(keras)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy",
                  steps_per_execution=2)  # fmt: skip
    callbacks = []
    if cfg.get("save_dir"):
        path = os.path.join(cfg["save_dir"], "ckpt-{epoch}.keras")
        callbacks.append(keras.callbacks.ModelCheckpoint(path))
    history = model.fit(x, y, batch_size=M.GLOBAL_BATCH, epochs=2, callbacks=callbacks, verbose=0)
    record("spe", model, history)


def modelparallel():
    keras.distribution.set_distribution(M.block_layout(keras, jax.devices()))
    keras.utils.set_random_seed(4)
    x, y = M.data(shape=(4, 8), seed=5)
    model = M.block(keras)
    results["block/kernel_spec"] = np.asarray(
        [str(v.value.sharding.spec) for v in model.weights if "mlp_in/kernel" in v.path]
    )
    history = model.fit(x, y, batch_size=M.GLOBAL_BATCH, epochs=2, shuffle=True, verbose=0)
    record("block", model, history)
    # Memory: every state array split over "model" (kernels and their Adam slots)
    # holds 1/2 of its bytes on each local device; the rest is replicated.
    split = [v for v in model.variables + model.optimizer.variables
             if "model" in str(v.value.sharding.spec)]  # fmt: skip
    total = sum(v.value.nbytes for v in split)
    per_device = {}
    for v in split:
        for shard in v.value.addressable_shards:
            per_device[shard.device.id] = per_device.get(shard.device.id, 0) + shard.data.nbytes
    results["mem/split_count"] = np.asarray(len(split))
    results["mem/device_fraction"] = np.asarray(sorted(b / total for b in per_device.values()))
    results["block/evaluate"] = np.asarray(model.evaluate(x, y, batch_size=8, verbose=0))
    results["block/predict"] = model.predict(x, batch_size=8, verbose=0)
    # *_on_batch: every process passes the same whole batch.
    results["block/train_on_batch"] = np.asarray(model.train_on_batch(x[:16], y[:16]))
    results["block/predict_on_batch"] = model.predict_on_batch(x[:8])
    record("final", model)  # the weights saved below
    # A sub-layer's weights and a single kernel, sharded over both processes: read
    # with Layer.get_weights / Variable.numpy / np.asarray (each a collective).
    mha, mlp_in = model.get_layer("mha"), model.get_layer("mlp_in")
    results["spans/mlp_in_kernel"] = np.asarray(not mlp_in.kernel.value.is_fully_addressable)
    for i, w in enumerate(mha.get_weights()):
        results[f"sub/mha{i}"] = w
    results["sub/mlp_in_kernel"] = mlp_in.kernel.numpy()
    results["sub/mlp_in_kernel_asarray"] = np.asarray(mlp_in.kernel)
    if cfg.get("save_dir"):
        model.save_weights(os.path.join(cfg["save_dir"], "block.weights.h5"))
        model.save(os.path.join(cfg["save_dir"], "block.keras"))
        # After the save returns, the file is there for every process.
        results["block/saved_seen"] = np.asarray(
            os.path.exists(os.path.join(cfg["save_dir"], "block.keras"))
        )


def backup():
    """DataParallel fit (``model="block"``: ModelParallel) with BackupAndRestore; process ``victim`` dies (os._exit)
    at step ``die_at = [epoch, step]``, and the survivor exits as soon as its next
    collective fails. Records how many backup files this process wrote."""
    from callax.callbacks import backup_and_restore

    if cfg.get("model") == "block":  # ModelParallel: kernels split across the processes
        keras.distribution.set_distribution(M.block_layout(keras, jax.devices()))
        keras.utils.set_random_seed(7)
        x, y = M.data(shape=(4, 8), seed=5)
        model = M.block(keras)
        results["spans"] = np.asarray(
            [not v.value.is_fully_addressable for v in model.weights if "mlp_in/kernel" in v.path]
        )
    else:
        keras.distribution.set_distribution(keras.distribution.DataParallel())
        keras.utils.set_random_seed(7)
        x, y = M.data()
        model = M.mlp(keras)
    writes = []
    real_write = backup_and_restore.atomic_write

    def counting_write(path, *args, **kwargs):
        writes.append(path)
        return real_write(path, *args, **kwargs)

    backup_and_restore.atomic_write = counting_write

    class Die(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            if PID == cfg.get("victim", 1) and [self.epoch, batch] == cfg.get("die_at"):
                os._exit(3)  # killed mid-epoch, without a word to the others

    callbacks = [keras.callbacks.BackupAndRestore(cfg["backup_dir"]), Die()]
    try:
        history = model.fit(x, y, batch_size=M.GLOBAL_BATCH, epochs=3, shuffle=True,
                            callbacks=callbacks, verbose=0)  # fmt: skip
    except Exception as e:  # noqa: BLE001 - the survivor of a dead peer
        # Exit now: JAX's shutdown barrier would wait heartbeat_timeout for the dead peer.
        print(f"worker {PID}: {type(e).__name__}: {e}"[:300], flush=True)
        os._exit(4)
    record("backup", model, history)
    results["count/epochs_run"] = np.asarray(len(history.history["loss"]))
    results["count/writes"] = np.asarray(len(writes))


def mismatch():
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    model = M.mlp(keras)
    x, y = M.data()
    n = 8 if PID == 0 else 4  # process 1 feeds a smaller local batch
    try:
        model.fit(iter([(x[:n], y[:n])]), epochs=1, verbose=0)
    except ValueError as e:
        results["error"] = np.asarray(str(e))


def die():
    """Process ``victim`` dies after one fit; the survivor keeps training and
    writes down when and how it learnt of it (the .json file)."""
    keras.distribution.set_distribution(keras.distribution.DataParallel())
    model = M.mlp(keras)
    x, y = M.data()
    model.fit(x, y, batch_size=M.GLOBAL_BATCH, epochs=1, verbose=0)
    if PID == cfg.get("victim", 1):
        time.sleep(cfg.get("hang", 0))  # hangs: alive (heartbeats go on), no collectives
        os._exit(3)  # dies without a word to the coordinator
    started = time.time()
    report = {"started": started}
    try:
        while time.time() - started < cfg.get("wait", 60):
            model.fit(x, y, batch_size=M.GLOBAL_BATCH, epochs=1, verbose=0)  # collectives
            time.sleep(0.1)
    except Exception as e:  # noqa: BLE001 - what the survivor sees is the point
        report.update(error=f"{type(e).__name__}: {e}"[:500], after=time.time() - started)
    with open(cfg["out"] + ".json", "w") as f:
        json.dump(report, f)


def main():
    global NPROCS, PID
    cfg.update(json.loads(sys.argv[1]))
    # A process of a loaded, memory-starved machine can stall for minutes: JAX's
    # default 100 s without a heartbeat would abort a healthy job (seen here).
    # Tests of dead peers pass a short one.
    jax_kwargs = {"heartbeat_timeout_seconds": 300, **cfg.get("jax_kwargs", {})}
    if cfg["init"] == "args":
        keras.distribution.initialize(
            f"127.0.0.1:{cfg['port']}", cfg["nprocs"], cfg["pid"], **jax_kwargs
        )
    elif cfg["init"] == "env":
        keras.distribution.initialize(**jax_kwargs)  # KERAS_DISTRIBUTION_* from the environment
    NPROCS, PID = jax.process_count(), jax.process_index()
    assert (NPROCS, jax.device_count()) == (cfg["nprocs"], 4), (NPROCS, jax.device_count())
    scenarios = {"dataparallel": dataparallel, "modelparallel": modelparallel,
                 "mismatch": mismatch, "extras": extras, "die": die,
                 "backup": backup, "foreign": foreign, "orbax": orbax}  # fmt: skip
    scenarios[cfg["scenario"]]()
    tmp = cfg["out"] + f".tmp{os.getpid()}.npz"
    np.savez(tmp, **results)
    os.replace(tmp, cfg["out"])
    print(f"worker {PID} done", flush=True)


if __name__ == "__main__":  # (pytest imports this file when collecting doctests)
    main()
