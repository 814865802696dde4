"""See inside a call: the call recorder and its views.

- :func:`trace` runs one call and returns its :class:`CallTrace` (a tree of
  layer calls with shapes, ``training`` values, weights built and shared, FLOPs);
- :func:`summary` prints Keras's summary table for any model, subclassed ones
  included (``model.summary()`` calls it);
- :func:`plot_model` draws layers as nodes and tensors as edges (SVG with no
  system dependency; PNG/PDF through Graphviz's ``dot`` when installed);
- :func:`explain` writes a short report for people learning the call protocol.
"""

from callax.inspect.explain import Explanation, explain
from callax.inspect.plot import Graph, plot_model
from callax.inspect.recorder import CallRecord, Recorder, TensorInfo
from callax.inspect.summary import summary
from callax.inspect.trace import CallTrace, TraceDiff, trace

__all__ = [
    "CallRecord", "CallTrace", "Explanation", "Graph", "Recorder", "TensorInfo", "TraceDiff",
    "explain", "plot_model", "summary", "trace",
]  # fmt: skip
