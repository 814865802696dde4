"""Runs a snippet in a fresh Python with callax installed as ``keras``.

The tests' own process imports the real Keras as an oracle, and
``install_as_keras`` refuses to run once it is imported, so every check that
needs callax under the name ``keras`` runs in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run_as_keras(code: str, timeout: float = 60, cwd: str | None = None, install: bool = True):
    """Runs ``code`` after ``callax.install_as_keras()``; returns the completed process
    and fails with its output when it exits non-zero."""
    prelude = "import callax\ncallax.install_as_keras()\n" if install else ""
    env = dict(os.environ)
    env.pop("KERAS_BACKEND", None)  # nothing in the child may need the real Keras
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("JAX_PLATFORMS", "cpu")
    proc = subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=env,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc
