"""Every benchmark workload in one run: eager/compiled calls, startup, fit,
predict, CNN, transformer block (forward + fit), memory, recorder overhead.
Prints the tables (markdown), then a short summary (the ratio lines), and
writes both to ``benchmarks/latest.md``.

Run: python benchmarks/run_all.py [--quick]
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def versions() -> str:
    import jax
    import keras
    import optax

    import callax

    return (
        f"python {platform.python_version()}, jax {jax.__version__}, optax {optax.__version__}, "
        f"keras {keras.__version__} (JAX backend), callax {callax.__version__}; "
        f"{os.cpu_count()} CPUs, {platform.machine()}, device {jax.devices()[0].device_kind}"
    )


def main(argv: list[str]) -> None:
    import eager_calls
    import startup
    import training
    import transformer

    quick = "--quick" in argv
    started = time.time()
    sections = [f"Machine: {versions()}\n", f"Load average at start: {os.getloadavg()}\n"]
    sections.append(eager_calls.main(rounds=3 if quick else 5))
    sections.append(startup.main(rounds=2 if quick else 3))
    sections.append(training.main(["--quick"] if quick else []))
    sections.append(transformer.main(["--quick"] if quick else []))
    rss = subprocess.run(
        [sys.executable, os.path.join(HERE, "training.py"), "--rss"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    print(rss)
    sections.append(rss)
    recorder = subprocess.run(
        [sys.executable, os.path.join(HERE, "recorder_overhead.py")],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    print(recorder)
    sections.append("## Recorder overhead\n\n" + recorder)
    keys = ("target", "numpy input:", "callax / ")
    targets, title = [], ""
    for text in sections:
        for line in text.splitlines():
            if line.startswith("## "):
                title = line[3:].strip()
            elif any(k in line for k in keys):
                targets.append(f"- **{title}**: {line.strip()}")
    summary = "## Summary: the ratio lines of every table\n\n" + "\n".join(targets)
    print(summary)
    sections.append(summary)
    sections.append(f"\n(total {time.time() - started:.0f} s)\n")
    with open(os.path.join(HERE, "latest.md"), "w") as f:
        f.write("\n".join(sections))


if __name__ == "__main__":
    main(sys.argv[1:])
