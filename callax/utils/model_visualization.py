"""``model_to_dot``: a model's graph as a ``pydot.Dot`` (``keras.utils.model_to_dot``).

The graph is the one ``plot_model`` draws (any model, subclassed included);
``pydot`` is needed only for the returned object (``pip install pydot``), and
Graphviz only to render it (``dot.create(prog="dot", format="svg")``).

Example:
    >>> import callax
    >>> model = callax.Sequential([callax.Input((3,)), callax.layers.Dense(2)])
    >>> dot = callax.utils.model_to_dot(model)  # doctest: +SKIP
    >>> type(dot).__name__  # doctest: +SKIP
    'Dot'
"""

from __future__ import annotations

from typing import Any

from callax.inspect.plot import build_graph, to_dot
from callax.inspect.summary import build_inputs
from callax.inspect.trace import trace


def model_to_dot(
    model: Any,
    show_shapes: bool = False,
    show_dtype: bool = False,
    show_layer_names: bool = True,
    rankdir: str = "TB",
    expand_nested: bool = False,
    dpi: int = 200,
    subgraph: bool = False,
    show_layer_activations: bool = False,
    show_trainable: bool = False,
    **kwargs: Any,
) -> Any:
    """The model's graph as a ``pydot.Dot`` (arguments as ``plot_model``;
    ``subgraph`` is accepted for compatibility)."""
    try:
        import pydot
    except ImportError as e:
        raise ImportError(
            "model_to_dot returns a pydot.Dot and needs pydot: `pip install pydot`. "
            "plot_model(model, 'model.svg') needs nothing."
        ) from e
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise ValueError(
            f"model_to_dot: rankdir must be 'TB', 'LR', 'BT' or 'RL'; received {rankdir!r}."
        )
    kwargs.pop("splines", None)
    t = trace(model, *build_inputs(model), flops=False, **kwargs)
    graph = build_graph(
        t, show_shapes, show_dtype, show_layer_names, expand_nested,
        show_layer_activations, show_trainable, rankdir,
    )  # fmt: skip
    (dot,) = pydot.graph_from_dot_data(to_dot(graph, dpi))
    return dot
