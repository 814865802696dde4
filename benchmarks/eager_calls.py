"""Eager and compiled `model(x)` latency for the seed's three models, batch 32.

Contenders, timed interleaved in one process:
  callax eager    model(x): the user's call runs as Python every time
  ..., numpy x    the same call given NumPy arrays (converted by the call)
  callax.jit      callax.jit(model)(x)
  keras3 eager    the same model written for Keras 3 (JAX backend)
  jax op-by-op    a hand-written function of jax.numpy ops, not jitted
  jax.jit         the same function under jax.jit
  pytorch eager   the same model as torch.nn modules (same weights), under
                  torch.no_grad(), one intra-op thread; skipped if torch does
                  not import

Run: python benchmarks/eager_calls.py
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples", "seed"))
sys.path.insert(0, os.path.dirname(__file__))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from harness import compare, format_table  # noqa: E402

import callax  # noqa: E402


def keras_models():
    import keras

    class SimpleSequentialModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = keras.layers.Dense(64, activation="relu")
            self.dense2 = keras.layers.Dense(10, activation="softmax")

        def call(self, inputs):
            return self.dense2(self.dense1(inputs))

    class ConditionalModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = keras.layers.Dense(32, activation="relu")
            self.dense2 = keras.layers.Dense(10, activation="softmax")
            self.dropout = keras.layers.Dropout(0.5)

        def call(self, inputs, training=False):
            x = self.dense1(inputs)
            if training:
                x = self.dropout(x)
            return self.dense2(x)

    class MultiInputModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense1 = keras.layers.Dense(16, activation="relu")
            self.dense2 = keras.layers.Dense(10, activation="softmax")
            self.concat = keras.layers.Concatenate()

        def call(self, inputs1, inputs2):
            x1 = self.dense1(inputs1)
            x2 = self.dense1(inputs2)
            return self.dense2(self.concat([x1, x2]))

    return SimpleSequentialModel, ConditionalModel, MultiInputModel


def _ready(x):
    return jax.block_until_ready(x)


def torch_models(weights1, weights2, weights3):
    """The seed's three models as ``torch.nn`` modules holding callax's weights
    (so all contenders compute the same numbers), or None without torch."""
    try:
        import torch
        from torch import nn
    except ImportError:
        return None
    # One intra-op thread: these tensors are too small to split, and on a shared
    # 2-core machine torch's spinning OpenMP workers made calls 100-1000x slower
    # (measured: 1-100 ms per call at load 14 with the default threads).
    torch.set_num_threads(1)

    def linear(kernel, bias):
        layer = nn.Linear(*np.asarray(kernel).shape)
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(np.array(kernel).T))
            layer.bias.copy_(torch.from_numpy(np.array(bias)))
        return layer

    class Sequential1(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense1, self.dense2 = linear(*weights1[:2]), linear(*weights1[2:])

        def forward(self, x):
            return torch.softmax(self.dense2(torch.relu(self.dense1(x))), -1)

    class Conditional2(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense1, self.dense2 = linear(*weights2[:2]), linear(*weights2[2:])
            self.dropout = nn.Dropout(0.5)

        def forward(self, x, training=False):
            x = torch.relu(self.dense1(x))
            if training:
                x = self.dropout(x)
            return torch.softmax(self.dense2(x), -1)

    class MultiInput3(nn.Module):
        def __init__(self):
            super().__init__()
            self.dense1, self.dense2 = linear(*weights3[:2]), linear(*weights3[2:])

        def forward(self, a, b):
            x1 = torch.relu(self.dense1(a))
            x2 = torch.relu(self.dense1(b))
            return torch.softmax(self.dense2(torch.cat([x1, x2], -1)), -1)

    m2 = Conditional2()
    m2.train()  # nn.Dropout drops only in train mode; `training` picks the branch

    def no_grad(fn):
        def run(*args, **kwargs):
            with torch.no_grad():
                return fn(*args, **kwargs)

        return run

    return (no_grad(Sequential1()), no_grad(m2), no_grad(MultiInput3()),
            lambda a: torch.from_numpy(np.array(a)))  # fmt: skip


def workloads():
    from example1_sequential import SimpleSequentialModel
    from example2_conditional import ConditionalModel
    from example3_multi_input import MultiInputModel

    k1, k2, k3 = keras_models()
    torch_contenders = {}
    rng = np.random.default_rng(0)
    x32 = jnp.asarray(rng.normal(size=(32, 32)), jnp.float32)
    a16 = jnp.asarray(rng.normal(size=(32, 16)), jnp.float32)
    b16 = jnp.asarray(rng.normal(size=(32, 16)), jnp.float32)
    # The same data as NumPy arrays: the call converts them (issue 13 item 1)
    x32n, a16n, b16n = (np.asarray(v) for v in (x32, a16, b16))
    out = {}

    # Example 1
    m = SimpleSequentialModel()
    m(x32)
    km = k1()
    km(x32)
    w = [v.value for v in m.weights]

    def f1(x):
        h = jnp.maximum(x @ w[0] + w[1], 0)
        return jax.nn.softmax(h @ w[2] + w[3])

    fm, jf1 = callax.jit(m), jax.jit(f1)
    out["example 1 (Dense 32→64 relu → Dense 10 softmax)"] = {
        "callax eager": lambda: _ready(m(x32)),
        "callax eager, numpy x": lambda: _ready(m(x32n)),
        "keras3 eager, numpy x": lambda: _ready(km(x32n)),
        "callax.jit": lambda: _ready(fm(x32)),
        "keras3 eager": lambda: _ready(km(x32)),
        "jax op-by-op": lambda: _ready(f1(x32)),
        "jax.jit": lambda: _ready(jf1(x32)),
    }

    # Example 2, training False and True
    m2 = ConditionalModel()
    m2(x32)
    km2 = k2()
    km2(x32)
    w2 = [v.value for v in m2.weights]
    key = [jax.random.key(0)]

    def f2(x, training, k=None):
        h = jnp.maximum(x @ w2[0] + w2[1], 0)
        if training:
            keep = jax.random.bernoulli(k, 0.5, h.shape)
            h = jnp.where(keep, h / 0.5, 0)
        return jax.nn.softmax(h @ w2[2] + w2[3])

    def f2_train_eager():  # op by op: split the key, then run the ops
        key[0], sub = jax.random.split(key[0])
        return _ready(f2(x32, True, sub))

    jf2 = jax.jit(f2, static_argnums=1)

    # The best hand-written jitted form threads the key through the compiled
    # function (as callax.jit threads the seed generator's state): one dispatch
    # per call, no eager split.
    @jax.jit
    def f2_train_step(x, k):
        k, sub = jax.random.split(k)
        return f2(x, True, sub), k

    jkey = [jax.random.key(0)]

    def f2_train_jit():
        out, jkey[0] = f2_train_step(x32, jkey[0])
        return _ready(out)

    fm2 = callax.jit(m2)
    out["example 2, training=False"] = {
        "callax eager": lambda: _ready(m2(x32, training=False)),
        "callax eager, numpy x": lambda: _ready(m2(x32n, training=False)),
        "keras3 eager, numpy x": lambda: _ready(km2(x32n, training=False)),
        "callax.jit": lambda: _ready(fm2(x32, training=False)),
        "keras3 eager": lambda: _ready(km2(x32, training=False)),
        "jax op-by-op": lambda: _ready(f2(x32, False)),
        "jax.jit": lambda: _ready(jf2(x32, False)),
    }
    out["example 2, training=True (dropout)"] = {
        "callax eager": lambda: _ready(m2(x32, training=True)),
        "callax.jit": lambda: _ready(fm2(x32, training=True)),
        "keras3 eager": lambda: _ready(km2(x32, training=True)),
        "jax op-by-op": f2_train_eager,
        "jax.jit": f2_train_jit,
    }

    # Example 3
    m3 = MultiInputModel()
    m3(a16, b16)
    km3 = k3()
    km3(a16, b16)
    w3 = [v.value for v in m3.weights]

    def f3(a, b):
        x1 = jnp.maximum(a @ w3[0] + w3[1], 0)
        x2 = jnp.maximum(b @ w3[0] + w3[1], 0)
        return jax.nn.softmax(jnp.concatenate([x1, x2], -1) @ w3[2] + w3[3])

    fm3, jf3 = callax.jit(m3), jax.jit(f3)
    torch_side = torch_models(w, w2, w3)
    if torch_side is not None:
        t1, t2, t3, to_torch = torch_side
        tx32, ta16, tb16 = to_torch(x32), to_torch(a16), to_torch(b16)
        torch_contenders = {
            "example 1": lambda: t1(tx32),
            "example 2 False": lambda: t2(tx32, training=False),
            "example 2 True": lambda: t2(tx32, training=True),
            "example 3": lambda: t3(ta16, tb16),
        }
    out["example 3 (two inputs, shared Dense)"] = {
        "callax eager": lambda: _ready(m3(a16, b16)),
        "callax eager, numpy x": lambda: _ready(m3(a16n, b16n)),
        "keras3 eager, numpy x": lambda: _ready(km3(a16n, b16n)),
        "callax.jit": lambda: _ready(fm3(a16, b16)),
        "keras3 eager": lambda: _ready(km3(a16, b16)),
        "jax op-by-op": lambda: _ready(f3(a16, b16)),
        "jax.jit": lambda: _ready(jf3(a16, b16)),
    }
    titles = list(out)
    # (not `key`: the closures of example 2 above read that name)
    for title, which in zip(
        titles, ("example 1", "example 2 False", "example 2 True", "example 3")
    ):
        if which in torch_contenders:
            out[title]["pytorch eager"] = torch_contenders[which]
    return out


def main(rounds: int = 5) -> str:
    report = []
    for title, contenders in workloads().items():
        medians = compare(contenders, rounds=rounds)
        table = format_table(f"Eager call: {title}", medians)
        base = medians
        table += (
            f"\ncallax eager / keras3 eager = {base['callax eager'] / base['keras3 eager']:.3f}"
            f"  (target <= 0.10);  callax eager / jax op-by-op = "
            f"{base['callax eager'] / base['jax op-by-op']:.2f}  (target <= 0.50);  "
            f"callax.jit / jax.jit = {base['callax.jit'] / base['jax.jit']:.2f}  (target <= 2);  "
            f"callax.jit / keras3 eager = {base['callax.jit'] / base['keras3 eager']:.3f}"
            "  (target <= 0.05)\n"
        )
        if "pytorch eager" in base:
            table += (
                f"callax eager / pytorch eager = {base['callax eager'] / base['pytorch eager']:.2f}"
                f"  (target <= 1);  jax.jit / pytorch eager = "
                f"{base['jax.jit'] / base['pytorch eager']:.2f}\n"
            )
        if "callax eager, numpy x" in base:
            table += (
                f"numpy input: callax eager numpy / jax input = "
                f"{base['callax eager, numpy x'] / base['callax eager']:.2f};  "
                f"callax eager numpy / keras3 eager numpy = "
                f"{base['callax eager, numpy x'] / base['keras3 eager, numpy x']:.3f}\n"
            )
        print(table, flush=True)
        report.append(table)
    return "\n".join(report)


if __name__ == "__main__":
    main()
