"""See inside a call: the call recorder and its views.

- :func:`trace` runs one call and returns its :class:`CallTrace` (a tree of
  layer calls with shapes, ``training`` values, weights built and shared, FLOPs);
- :func:`summary` prints Keras's summary table for any model, subclassed ones
  included (``model.summary()`` calls it);
- :func:`plot_model` draws layers as nodes and tensors as edges (SVG with no
  system dependency; PNG/PDF through Graphviz's ``dot`` when installed);
- :func:`explain` writes a short report for people learning the call protocol;
- :func:`profile` measures the time (eager, per call site) and XLA's costs of a
  call, slowest site first;
- :func:`show` writes one self-contained HTML page to browse a call (tree,
  activation statistics, graph, profile); ``trace.to_html(path)`` does it for a trace.
"""

from callax.inspect.explain import Explanation, explain
from callax.inspect.html_page import CallPage, show
from callax.inspect.plot import Graph, plot_model
from callax.inspect.profile import Profile, SiteCost, profile
from callax.inspect.recorder import CallRecord, Recorder, TensorInfo
from callax.inspect.summary import summary
from callax.inspect.trace import CallTrace, TraceDiff, trace

__all__ = [
    "CallPage", "CallRecord", "CallTrace", "Explanation", "Graph", "Profile", "Recorder",
    "SiteCost", "TensorInfo", "TraceDiff", "explain", "plot_model", "profile", "show", "summary",
    "trace",
]  # fmt: skip
