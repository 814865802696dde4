"""DataParallel fit: one process with 4 devices vs 2 processes x 2 devices
(``jax.distributed`` on 127.0.0.1), fake CPU devices, same global batches.

What it shows on CPU is the cost of going multi-process (Gloo all-reduces over
loopback, per-process batch assembly), not GPU scaling. Prints the median
seconds per epoch after the first (compiling) epoch, per configuration, the
overhead per step against one process, and the communication volume of one
train step as XLA compiled it: the bytes of every all-reduce / all-gather /
reduce-scatter / collective-permute / all-to-all in the optimized HLO of the
jitted step (dumped with ``--xla_dump_to``; per device, result shapes), which
divided by an interconnect's bandwidth bounds the communication time per step on
real hosts (docs/scaling.md).

Run: python benchmarks/distributed_fit.py [--quick]
"""

from __future__ import annotations

import json
import os
import re
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


COLLECTIVES = ("all-reduce", "all-gather", "reduce-scatter", "collective-permute", "all-to-all")
# "%x = (f32[2,3]{1,0}, f32[]) all-reduce(...": the result shape(s), then the op.
_OP = re.compile(r"=\s*(\(?[^=]*?\)?)\s+(" + "|".join(COLLECTIVES) + r")(-start)?\(")
_SHAPE = re.compile(r"\b([a-z]+[0-9]*)\[([0-9,]*)\]")
_BYTES = {"pred": 1, "s8": 1, "u8": 1, "f16": 2, "bf16": 2, "s16": 2, "u16": 2, "f32": 4,
          "s32": 4, "u32": 4, "f64": 8, "s64": 8, "u64": 8, "c64": 8, "c128": 16}  # fmt: skip


def collective_bytes(hlo_text: str) -> dict[str, int]:
    """Bytes per device of each kind of collective in an optimized HLO module
    (the sizes of their results; an async ``*-start`` counts its last shape)."""
    totals = dict.fromkeys(COLLECTIVES, 0)
    for shapes, op, start in _OP.findall(hlo_text):
        sizes = [_BYTES.get(dtype, 4) * _prod(dims) for dtype, dims in _SHAPE.findall(shapes)]
        if sizes:
            totals[op] += sizes[-1] if start else sum(sizes)
    return totals


def _prod(dims: str) -> int:
    n = 1
    for d in filter(None, dims.split(",")):
        n *= int(d)
    return n


def step_bytes(dump_dir: str) -> dict[str, int]:
    """The collectives of the train step's compiled module in ``dump_dir`` (the
    jitted step is ``constrained`` in callax.distribution.hooks.jit_step)."""
    names = [n for n in os.listdir(dump_dir)
             if "jit_constrained" in n and n.endswith("after_optimizations.txt")]  # fmt: skip
    if not names:
        raise RuntimeError(f"no compiled train step in {dump_dir}: {os.listdir(dump_dir)[:10]}")
    with open(os.path.join(dump_dir, sorted(names)[0])) as f:
        return collective_bytes(f.read())


def run(nprocs: int, epochs: int, samples: int, script: str, dump_dir: str) -> list[float]:
    port = _port()
    flags = (f"--xla_force_host_platform_device_count={4 // nprocs} --xla_dump_to={dump_dir} "
             "--xla_dump_hlo_as_text --xla_dump_hlo_module_re=.*constrained.*")  # fmt: skip
    env = dict(os.environ, JAX_PLATFORMS="cpu", XLA_FLAGS=flags)
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
        print(
            "| configuration | s/epoch (median after the first) | steps/epoch "
            "| ms/step overhead vs 1 process | collective bytes/step/device (XLA) |"
        )
        print("| --- | --- | --- | --- | --- |")  # fmt: skip
        steps = samples // 128
        base = None
        for nprocs in (1, 2):
            dump_dir = os.path.join(tmp, f"hlo-{nprocs}")
            epoch = statistics.median(run(nprocs, epochs, samples, script, dump_dir)[1:])
            base = epoch if base is None else base
            comm = step_bytes(dump_dir)
            kinds = ", ".join(f"{k} {v / 1e6:.3f} MB" for k, v in comm.items() if v) or "none"
            label = "1 process x 4 devices" if nprocs == 1 else "2 processes x 2 devices"
            overhead = (epoch - base) / steps * 1e3
            print(f"| {label} | {epoch:.3f} | {steps} | {overhead:+.2f} "
                  f"| {sum(comm.values()) / 1e6:.3f} MB ({kinds}) |")  # fmt: skip


if __name__ == "__main__":
    main()
