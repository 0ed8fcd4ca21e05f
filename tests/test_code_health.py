"""The habits of ARCHITECTURE.md that a machine can check: ruff clean everywhere, mypy strict on the
packages that hold the rules and the state machines."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def test_ruff_is_clean():
    r = subprocess.run([str(BIN / "ruff"), "check", "."], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_strict_on_rules_and_workflow():
    r = subprocess.run([str(BIN / "mypy"), "rules", "workflow"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_no_benchmark_shadows_a_standard_module():
    """`make bench` runs each bench/*.py as a script, with bench/ first on sys.path: a benchmark named like a
    standard module (bench/inspect.py did) breaks every other benchmark that imports it, e.g. via dataclasses.
    bench/http.py is the one known exception: nothing imports ``http`` before each script drops bench/ from
    sys.path (the first thing they do), and every figure of issues 5 and 14 is filed under its name."""
    clashing = sorted(p.name for p in (ROOT / "bench").glob("*.py")
                      if p.stem in sys.stdlib_module_names and p.stem != "http")
    assert not clashing, f"rename these benchmarks, they shadow standard modules: {clashing}"
