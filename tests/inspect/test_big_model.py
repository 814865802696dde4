"""Abstract tracing of a ~1e9-parameter model: seconds, and no large allocation."""

import json
import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SCRIPT = textwrap.dedent(
    """
    import json, resource, time
    import callax

    class Big(callax.Model):
        def __init__(self):
            super().__init__()
            self.blocks = [callax.layers.Dense(16384, activation="relu") for _ in range(4)]
            self.head = callax.layers.Dense(10)

        def call(self, x):
            for block in self.blocks:
                x = block(x)
            return self.head(x)

    model = Big()
    callax.trace(callax.layers.Dense(2), (1, 2))  # warm up imports and tracing
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    t = callax.trace(model, (8, 16384))            # with XLA's FLOP estimate
    summary = []
    model.summary(print_fn=summary.append)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "params": t.trainable_params, "seconds": seconds, "flops": t.flops,
        "peak_growth_mb": (after - before) / 1024, "calls": len(t.calls),
        "summary_total": [l for l in summary[0].splitlines() if "Total params" in l][0],
        "uninitialised": all(v._value is None for v in model.weights),
    }))
    """
)


def test_abstract_trace_of_a_billion_parameter_model():
    env = dict(os.environ, PYTHONPATH=ROOT, JAX_PLATFORMS="cpu")
    env.pop("XLA_FLAGS", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    assert data["params"] == 4 * (16384 * 16384 + 16384) + 16384 * 10 + 10  # 1,073,971,210
    assert data["calls"] == 5
    assert data["summary_total"] == " Total params: 1,073,971,210 (4.00 GB)"
    # 4 GB of float32 weights were never allocated: peak RSS grew by well under that.
    assert data["peak_growth_mb"] < 400, data
    assert data["uninitialised"]
    assert data["seconds"] < 30, data
    # 2*m*k*n per matmul: 8 rows through four 16384x16384 kernels and the head.
    matmuls = 2 * 8 * (4 * 16384 * 16384 + 16384 * 10)
    assert matmuls <= data["flops"] < matmuls * 1.01
