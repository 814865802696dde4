"""Subprocess runners for the KerasHub tests.

A process holds one ``keras``: the real Keras 3 (the oracle) or callax installed as
``keras``. Each side therefore runs in its own fresh Python, with the same model
code (``MODELS_SNIPPET``, which only says ``import keras`` / ``keras_hub``), and
exchanges weights files and outputs through a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Tiny randomly initialised backbones (no downloads), built the same way on both sides.
MODELS_SNIPPET = '''
import sys
import warnings

# Not needed here, and importing them costs seconds: KerasHub runs without them.
sys.modules["tensorflow"] = None
sys.modules["tensorflow_text"] = None
warnings.simplefilter("ignore")
import numpy as np
import keras
import keras_hub

NAMES = ["bert", "gpt2", "gemma"]


def build(name):
    if name == "bert":
        return keras_hub.models.BertBackbone(
            vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
            intermediate_dim=32, max_sequence_length=8)
    if name == "gpt2":
        return keras_hub.models.GPT2Backbone(
            vocabulary_size=100, num_layers=2, num_heads=2, hidden_dim=16,
            intermediate_dim=32, max_sequence_length=8)
    return keras_hub.models.GemmaBackbone(
        vocabulary_size=100, num_layers=2, num_query_heads=2, num_key_value_heads=1,
        hidden_dim=16, intermediate_dim=32, head_dim=8)


def inputs(name, batch=2):
    rng = np.random.default_rng(7)
    x = {"token_ids": rng.integers(1, 100, (batch, 8)).astype("int32"),
         "padding_mask": np.ones((batch, 8), "int32")}
    x["padding_mask"][1, 5:] = 0  # a padded row
    x["token_ids"][1, 5:] = 0
    if name == "bert":
        x["segment_ids"] = np.array([[0] * 4 + [1] * 4] * batch, "int32")
    return x


def outputs(model, x):
    y = model(x)
    if isinstance(y, dict):
        return {k: np.asarray(v, dtype="float32") for k, v in sorted(y.items())}
    return {"output": np.asarray(y, dtype="float32")}


def lm_logits(backbone, x):
    """GPT-2's language-model head: the token embedding used in reverse."""
    lm = keras_hub.models.GPT2CausalLM(backbone=backbone, preprocessor=None)
    return np.asarray(lm(x), dtype="float32")
'''


def _run(prelude: str, code: str, env_update: dict, timeout: float) -> dict:
    env = dict(os.environ)
    env.update(env_update)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("JAX_PLATFORMS", "cpu")
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    script = prelude + MODELS_SNIPPET + textwrap.dedent(code)
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}"
        )
    # The script's last stdout line is its JSON result.
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_keras(code: str, timeout: float = 240) -> dict:
    """Runs ``code`` (after ``MODELS_SNIPPET``) with the real Keras 3, JAX backend."""
    return _run("", code, {"KERAS_BACKEND": "jax"}, timeout)


def run_callax(code: str, timeout: float = 240) -> dict:
    """Runs ``code`` (after ``MODELS_SNIPPET``) with callax installed as ``keras``."""
    prelude = "import callax\ncallax.install_as_keras()\n"
    env = {"KERAS_BACKEND": ""}
    return _run(prelude, code, env, timeout)
