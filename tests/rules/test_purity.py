"""rules/ is pure: it imports only the standard library and rules itself (no database, web or templates)."""
from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"
FORBIDDEN = {"sqlalchemy", "fastapi", "starlette", "jinja2", "store", "workflow", "api"}


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                out.add("rules")
            elif node.module:
                out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize("path", sorted(RULES_DIR.glob("*.py")), ids=lambda p: p.name)
def test_rules_import_only_stdlib_and_rules(path: Path) -> None:
    imported = _imports(path)
    assert not imported & FORBIDDEN, f"{path.name} imports {sorted(imported & FORBIDDEN)}"
    foreign = {m for m in imported if m != "rules" and m not in sys.stdlib_module_names}
    assert not foreign, f"{path.name} imports non-stdlib modules {sorted(foreign)}"
