"""The layers of ARCHITECTURE.md, read from the source with ``ast`` (every import, at module level or inside a
function): rules is pure, store knows nothing of the workflow or the API, the engine's registries do not
import the engine, and no new import circle appears."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rules", "store", "workflow", "api", "documents")

# Circles that go through imports inside functions, known today; the list may shrink, never grow.
# engine → effects (registration) → services / sweep → engine: effects call services.carry_over and
# sweep.nudge_year_close. The API's routers and its app import each other through the app's install step.
KNOWN_CIRCLES = [
    # grew with issue 13 (function-level imports only): the sweep escalates findings (workflow.inspections), the
    # pack reads the red flags (workflow.redflags) and prints through workflow.papers
    {"workflow.effects", "workflow.engine", "workflow.inspections", "workflow.jobs", "workflow.papers",
     "workflow.redflags", "workflow.services", "workflow.sweep"},
]


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


def test_the_engines_registries_do_not_import_the_engine() -> None:
    registries = ("workflow.guards", "workflow.effects", "workflow.payloads", "workflow.context")
    bad = [f"{m} imports {n}" for m in registries for n in imports(m) if n == "workflow.engine"
           or n.startswith("workflow.engine.")]
    assert bad == []


def test_no_import_circle_at_module_level() -> None:
    assert _circles(top_level_only=True) == []


def test_no_new_import_circle_through_function_level_imports() -> None:
    new = [sorted(c) for c in _circles(top_level_only=False)
           if not c <= {"api"} | {m for m in modules() if m.startswith("api.")}
           and not any(c <= known for known in KNOWN_CIRCLES)]
    assert new == []
