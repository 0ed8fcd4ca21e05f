"""The layers of ARCHITECTURE.md, read from the source with ``ast`` (every import, at module level or inside a
function): rules is pure, store knows nothing of the workflow or the API, nothing the engine's registries reach
imports the engine, and no import circle appears outside the API.

Inside ``workflow/`` the arrows run one way: the engine imports its plugins (guards, effects, payload models,
the inspection events: ``workflow.engine._load_plugins``), and they import ``workflow.context`` and the modules
below the engine (``fund_years``, ``deadlines``, ``records``, ``errors``, ``papers``, ``redflags`` …), never
the engine or what stands on it (``services``, ``sweep``, ``jobs``, ``inspections``). A function an effect needs
lives below the engine; the module above re-exports it for its callers."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rules", "store", "workflow", "api", "documents")

# The one circle left: the API's routers and its app import each other through the app's install step.
API = "api"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    found = {}
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "migrations" not in path.parts:
                found[_module_name(path)] = path
    return found


@cache
def imports(module: str, top_level_only: bool = False) -> frozenset[str]:
    """Every module name ``module`` imports (``from a import b`` counts ``a`` and ``a.b``)."""
    tree = ast.parse(modules()[module].read_text("utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(names)


def _offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for module in modules():
        if module == package or module.startswith(package + "."):
            for name in sorted(imports(module)):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    bad.append(f"{module} imports {name}")
    return bad


def _circles(top_level_only: bool) -> list[set[str]]:
    """Strongly connected components (more than one module) of the import graph inside the packages."""
    mods = modules()
    graph = {m: {n for n in imports(m, top_level_only) if n in mods and n != m} for m in mods}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_rules_are_pure() -> None:
    assert _offending("rules", ("store", "workflow", "api", "documents", "sqlalchemy", "fastapi", "starlette",
                                "jinja2")) == []


def test_store_knows_nothing_of_the_workflow_or_the_api() -> None:
    assert _offending("store", ("workflow", "api")) == []


def test_the_workflow_knows_nothing_of_the_api() -> None:
    assert _offending("workflow", ("api",)) == []


def _plugins() -> set[str]:
    """The modules the engine imports to fill its registries: the imports inside ``_load_plugins``."""
    tree = ast.parse(modules()["workflow.engine"].read_text("utf-8"))
    load = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == "_load_plugins")
    return {alias.name for n in ast.walk(load) if isinstance(n, ast.Import) for alias in n.names}


def _path(start: str, goal: str) -> list[str]:
    """A shortest chain of imports from ``start`` to ``goal`` inside the packages ([] when there is none)."""
    mods = modules()
    came_from: dict[str, str] = {start: ""}
    todo = [start]
    while todo:
        here = todo.pop(0)
        if here == goal:
            chain = [here]
            while came_from[chain[-1]]:
                chain.append(came_from[chain[-1]])
            return chain[::-1]
        for name in sorted(imports(here)):
            if name in mods and name not in came_from:
                came_from[name] = here
                todo.append(name)
    return []


def test_nothing_the_engines_registries_reach_imports_the_engine() -> None:
    plugins = _plugins()
    assert {"workflow.effects", "workflow.guards", "workflow.payloads", "workflow.inspection_events"} <= plugins
    chains = [" → ".join(c) for m in sorted(plugins | {"workflow.context"}) if (c := _path(m, "workflow.engine"))]
    assert chains == []


def test_no_import_circle_at_module_level() -> None:
    assert _circles(top_level_only=True) == []


def test_no_import_circle_outside_the_api() -> None:
    """Through imports inside functions too: a circle only hides an order of loading that happens to work."""
    api = {m for m in modules() if m == API or m.startswith(API + ".")}
    assert [sorted(c) for c in _circles(top_level_only=False) if not c <= api] == []
