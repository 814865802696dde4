"""What the call recorder costs: eager `model(x)` latency with it off and on.

The call protocol tells listeners about every layer call only when one is
registered (`if _listeners:`). This measures, interleaved in one process, the
seed's example 3 (4 layer calls per model call, batch 32):

  recorder off     no listener registered: the normal path
  no-op listener   a listener whose methods do nothing (the price of the hook)
  Recorder on      callax.inspect's Recorder recording every call (what trace pays)

and, separately, the off-path check itself (`if _listeners:` on an empty list,
twice per layer call) as a fraction of one `model(x)`.

Run: python benchmarks/recorder_overhead.py
"""

from __future__ import annotations

import os
import sys
import timeit

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "examples", "seed"))
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from example3_multi_input import MultiInputModel  # noqa: E402
from harness import compare, format_table  # noqa: E402

from callax.core import call_context  # noqa: E402
from callax.inspect.recorder import Recorder  # noqa: E402


class NoOp:
    def on_call_start(self, frame, args, kwargs):
        pass

    def on_call_end(self, frame, outputs, error, built_here=False):
        pass


def main() -> None:
    model = MultiInputModel()
    rng = np.random.default_rng(0)
    a = rng.normal(size=(32, 16)).astype("float32")
    b = rng.normal(size=(32, 16)).astype("float32")
    model(a, b)

    def off():
        model(a, b).block_until_ready()

    def with_listener(listener_factory):
        def run():
            listener = listener_factory()
            call_context.add_listener(listener)
            try:
                model(a, b).block_until_ready()
            finally:
                call_context.remove_listener(listener)

        return run

    # Registering/removing costs the same in both listener contenders; "off"
    # registers nothing. Interleaved rounds: a noisy neighbour slows all alike.
    medians = compare(
        {
            "recorder off": off,
            "no-op listener": with_listener(NoOp),
            "Recorder on": with_listener(Recorder),
        },
        rounds=7,
    )
    print(format_table("Recorder: MultiInputModel eager model(a, b), batch 32", medians))

    # The off path's whole cost: two truthiness checks of an empty list per layer call.
    listeners: list = []
    n = 1_000_000
    check = timeit.timeit("if listeners: pass", globals={"listeners": listeners}, number=n) / n
    layer_calls = 4 + 1  # dense1 twice, concat, dense2, and the model itself
    per_call = 2 * layer_calls * check
    print(
        f"off-path check: {check * 1e9:.1f} ns each, {per_call * 1e9:.0f} ns per model call "
        f"= {per_call / medians['recorder off'] * 100:.3f}% of model(a, b)"
    )
    print(f"ratio no-op/off: {medians['no-op listener'] / medians['recorder off']:.3f}")
    print(f"ratio Recorder/off: {medians['Recorder on'] / medians['recorder off']:.3f}")


if __name__ == "__main__":
    main()
