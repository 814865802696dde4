"""The layer catalog (tests/layers/layer_catalog.py) lists every public layer class,
so the generic tests reach each one; the few left out say why."""

import inspect

from layer_catalog import CASES, build, class_names

import callax

# Public layer classes the catalog cannot hold as an ordinary case, and why.
EXCLUDED = {
    "Layer": "the abstract base class (no computation of its own)",
    "Wrapper": "an abstract base (a subclass defines call); its configs are tested through "
    "Bidirectional, TimeDistributed and SpectralNormalization",
    "InputLayer": "a graph entry point, never called on data (tests/models covers it)",
    "JaxLayer": "wraps user-written JAX init/call functions (tests/layers/test_jax_layer.py)",
    "FlaxLayer": "wraps a user's Flax module (tests/layers/test_jax_layer.py)",
}


def _public_layer_classes() -> dict[type, list[str]]:
    """Each public layer class of ``callax.layers`` with its public names (aliases)."""
    classes: dict[type, list[str]] = {}
    for name in callax.layers.__all__:
        obj = getattr(callax.layers, name)
        if inspect.isclass(obj) and issubclass(obj, callax.layers.Layer):
            classes.setdefault(obj, []).append(name)
    return classes


def test_every_public_layer_class_has_a_catalog_entry():
    listed = {n for case in CASES for n in class_names(case)}
    missing = [
        names
        for names in _public_layer_classes().values()
        if not (set(names) & listed) and not (set(names) & set(EXCLUDED))
    ]
    assert not missing, f"add these layers to tests/layers/layer_catalog.py: {missing}"


def test_exclusions_name_public_layers_that_the_catalog_does_not_list():
    public = {n for names in _public_layer_classes().values() for n in names}
    listed = {n for case in CASES for n in class_names(case)}
    assert set(EXCLUDED) <= public
    assert not set(EXCLUDED) & listed


def test_catalog_cases_build_from_the_same_module():
    case = next(c for c in CASES if c[0] == "Bidirectional")
    layer = build(callax.layers, case)
    assert isinstance(layer.forward_layer, callax.layers.LSTM)
