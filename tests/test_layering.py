"""The package's layering (the house rules in ``callax/core/README.md``), read
from the source with ``ast``: every ``import`` a module makes, at file level or
inside a function (``if TYPE_CHECKING:`` blocks excepted), is an edge.

- ``callax.core`` imports nothing outside itself (``callax.tree`` and
  ``callax.package_version`` excepted);
- no module imports a floor above its own, except the pairs in ``KNOWN_UPWARD``
  (today's remaining violations; the list only shrinks: an entry that is no
  longer a violation fails too, so whoever removes one deletes it here);
- no import cycle passes through ``callax.core``;
- the largest import cycle has at most ``MAX_CYCLE`` modules.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent / "callax"

# The floors, bottom to top: a module may import its own floor or floors below.
# A module's floor is that of the longest key that is the module or a package
# holding it; MODULE_FLOORS (exact module names) wins over FLOORS.
FLOORS = {
    "callax.tree": 0, "callax.package_version": 0,
    "callax.core": 1,
    "callax.ops": 2, "callax.random": 2, "callax.backend": 2, "callax.distribution": 2,
    "callax.dtype_policies": 2, "callax.utils": 2,
    "callax.activations": 3, "callax.initializers": 3, "callax.regularizers": 3,
    "callax.constraints": 3,
    "callax.layers": 4, "callax.losses": 4, "callax.metrics": 4, "callax.optimizers": 4,
    "callax.mixed_precision": 4,
    "callax.callbacks": 5, "callax.training": 5, "callax.inspect": 5, "callax.debug": 5,
    "callax.saving": 6, "callax.export": 6,
    "callax.models": 7,
    "callax.applications": 8, "callax.wrappers": 8, "callax.scopes": 8,
    "callax.keras_compat": 8, "callax.datasets": 8, "callax.preprocessing": 8,
}  # fmt: skip
# The package itself (it imports everything) and the few utils modules that
# re-export high-level things (plot_model, legacy serialization, ...).
MODULE_FLOORS = {
    "callax": 8,
    "callax.utils": 8,
    "callax.utils.legacy": 8,
    "callax.utils.model_utils": 8,
    "callax.utils.model_visualization": 8,
}
CORE_MAY_IMPORT = ("callax.tree", "callax.package_version")

# (importer, imported) pairs that still reach up a floor. Only ever remove entries.
KNOWN_UPWARD: set[tuple[str, str]] = {
    ("callax.callbacks.backup_and_restore", "callax.saving.weights_file"),
}

# The largest import cycle (strongly connected component), in modules, measured
# when this was last updated (goal: at most 20). Only ever lower it.
MAX_CYCLE = 0


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, pathlib.Path]:
    return {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _in_type_checking(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imports(name: str, path: pathlib.Path, modules: dict) -> list[tuple[str, int, str]]:
    """``(imported module, line, source)`` for every callax import in one module."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from pkg import sub` imports the submodule; `from pkg import name`, pkg.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source
                for alias in node.names
            ]
        else:
            continue
        if _in_type_checking(node, parents):
            continue
        for target in targets:
            if target.split(".")[0] != "callax":
                continue
            while target not in modules and "." in target:  # `import callax.ops.nn` etc.
                target = target.rpartition(".")[0]
            if target != name:
                found.append((target, node.lineno, ast.unparse(node)))
    return found


def _graph() -> tuple[dict, dict]:
    modules = _modules()
    edges = {name: _imports(name, path, modules) for name, path in modules.items()}
    return modules, edges


def _in_core(module: str) -> bool:
    return module == "callax.core" or module.startswith("callax.core.")


def floor(module: str) -> int:
    """The floor of a module name (``KeyError`` for a module no rule covers)."""
    if module in MODULE_FLOORS:
        return MODULE_FLOORS[module]
    key = module
    while key:
        if key in FLOORS:
            return FLOORS[key]
        key = key.rpartition(".")[0]
    raise KeyError(module)


def _cycles(edges: dict) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    graph = {m: sorted({t for t, _, _ in e}) for m, e in edges.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return components


def _upward(edges: dict) -> dict[tuple[str, str], str]:
    found = {}
    for importer, imports in edges.items():
        for target, line, source in imports:
            if floor(target) > floor(importer):
                found.setdefault((importer, target), f"{importer}:{line}: {source}")
    return found


def test_every_module_has_a_floor():
    unmapped = []
    for name in _modules():
        try:
            floor(name)
        except KeyError:
            unmapped.append(name)
    assert not unmapped, f"modules no floor rule covers (add them to FLOORS): {unmapped}"


def test_core_imports_nothing_above_itself():
    _, edges = _graph()
    bad = [
        f"{importer}:{line}: {source}"
        for importer, imports in edges.items()
        if _in_core(importer)
        for target, line, source in imports
        if not _in_core(target)
        and target not in CORE_MAY_IMPORT
        and (importer, target) not in KNOWN_UPWARD  # pending; the list only shrinks
    ]
    assert not bad, "callax.core imports modules above it:\n" + "\n".join(bad)


def test_no_import_reaches_up_a_floor():
    _, edges = _graph()
    upward = _upward(edges)
    new = sorted(where for pair, where in upward.items() if pair not in KNOWN_UPWARD)
    assert not new, (
        "imports that reach a higher floor (move the code down, duck-type, or add a "
        "registration hook in the lower module; see callax/core/README.md):\n" + "\n".join(new)
    )
    gone = sorted(KNOWN_UPWARD - set(upward))
    assert not gone, (
        f"KNOWN_UPWARD lists pairs that no longer reach up: delete them from "
        f"tests/test_layering.py: {gone}"
    )


def test_no_import_cycle_passes_through_core():
    _, edges = _graph()
    # core's own pending upward imports (in KNOWN_UPWARD) are left out: each is a
    # cycle through core by itself, and test_no_import_reaches_up_a_floor tracks them.
    edges = {
        m: [e for e in imports if (m, e[0]) not in KNOWN_UPWARD or not _in_core(m)]
        for m, imports in edges.items()
    }
    through_core = [
        sorted(m for m in component if _in_core(m))
        for component in _cycles(edges)
        if any(_in_core(m) for m in component)
    ]
    assert not through_core, f"import cycles through callax.core (its modules): {through_core}"


def test_largest_import_cycle_is_bounded():
    _, edges = _graph()
    largest = max((len(c) for c in _cycles(edges)), default=0)
    assert largest <= MAX_CYCLE, (
        f"the largest import cycle has {largest} modules; at most {MAX_CYCLE} allowed "
        "(run `python tests/test_layering.py` to list it)"
    )


if __name__ == "__main__":  # a report: upward pairs and the largest cycle
    _, found = _graph()
    for pair in sorted(_upward(found)):
        print(f"    {pair!r},")
    components = sorted(_cycles(found), key=len)
    print("largest cycles:", [len(c) for c in components[::-1][:5]])
    if components:
        print("\n".join(components[-1]))
