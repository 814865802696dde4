"""DataParallel fit: one process with 4 devices vs 2 processes x 2 devices
(``jax.distributed`` on 127.0.0.1), fake CPU devices, same global batches.

What it shows on CPU is the cost of going multi-process (Gloo all-reduces over
loopback, per-process batch assembly), not GPU scaling. Prints the median
seconds per epoch after the first (compiling) epoch, per configuration.

Run: python benchmarks/distributed_fit.py [--quick]
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile

WORKER = r"""
import json, sys, time
import numpy as np
import callax as keras
cfg = json.loads(sys.argv[1])
if cfg["nprocs"] > 1:
    keras.distribution.initialize(f"127.0.0.1:{cfg['port']}", cfg["nprocs"], cfg["pid"])
keras.utils.set_random_seed(0)
keras.distribution.set_distribution(keras.distribution.DataParallel())
rng = np.random.default_rng(0)
x = rng.normal(size=(cfg["samples"], 784)).astype("float32")
y = rng.integers(0, 10, size=(cfg["samples"],)).astype("int32")
model = keras.Sequential([keras.layers.Input((784,)), keras.layers.Dense(256, activation="relu"),
                          keras.layers.Dense(10, activation="softmax")])
model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

class Timer(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        self.t = time.perf_counter()
    def on_epoch_end(self, epoch, logs=None):
        times.append(time.perf_counter() - self.t)

times = []
model.fit(x, y, batch_size=128, epochs=cfg["epochs"], verbose=0, callbacks=[Timer()])
if cfg["pid"] == 0:
    print("TIMES", json.dumps(times), flush=True)
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(nprocs: int, epochs: int, samples: int, script: str) -> list[float]:
    port = _port()
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_force_host_platform_device_count={4 // nprocs}")  # fmt: skip
    procs = []
    try:
        for pid in range(nprocs):
            cfg = dict(nprocs=nprocs, pid=pid, port=port, epochs=epochs, samples=samples)
            procs.append(subprocess.Popen([sys.executable, script, json.dumps(cfg)], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          text=True))  # fmt: skip
        out = procs[0].communicate(timeout=600)[0]
        for p in procs[1:]:
            p.wait(timeout=60)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    line = next((ln for ln in out.splitlines() if ln.startswith("TIMES")), None)
    if line is None:
        raise RuntimeError(f"{nprocs} process(es): no timings; output:\n{out[-2000:]}")
    return json.loads(line[len("TIMES") :])


def main() -> None:
    quick = "--quick" in sys.argv
    epochs, samples = (3, 4096) if quick else (6, 16384)
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, "worker.py")
        with open(script, "w") as f:
            f.write(WORKER)
        print("| configuration | s/epoch (median after the first) | steps/epoch |")
        print("| --- | --- | --- |")
        for nprocs in (1, 2):
            times = run(nprocs, epochs, samples, script)
            label = "1 process x 4 devices" if nprocs == 1 else "2 processes x 2 devices"
            print(f"| {label} | {statistics.median(times[1:]):.3f} | {samples // 128} |")


if __name__ == "__main__":
    main()
