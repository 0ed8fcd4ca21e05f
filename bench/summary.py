"""One table of every target of every benchmark: MET / NOT MET, with the machine and load it ran under.

    .venv/bin/python bench/summary.py [--dir var/bench]

Each benchmark records its targets with :class:`Results` (``var/bench/<name>.json``, rewritten by every
run of that benchmark); this script reads them all and prints the table. ``make bench`` runs it last.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ itself is sys.path[0]: keep its modules (e.g. bench/http.py) from
# shadowing the standard library's
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
RESULTS_DIR = ROOT / "var" / "bench"


def load_now() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


@dataclass
class Target:
    target: str
    """What is asked, e.g. 'one sweep process fires 10,000 due deadlines in < 20 s (PostgreSQL)'."""
    measured: str
    """The figure, with its unit, e.g. '14.2 s'."""
    met: bool | None
    """None: measured, but the target does not apply to this run (e.g. the machine was not quiet)."""
    load: float
    """1-minute load average when the figure was taken."""
    note: str = ""


@dataclass
class Results:
    """The targets one benchmark run measured; ``save()`` writes them for ``bench/summary.py``."""

    bench: str
    targets: list[Target] = field(default_factory=list)

    def add(self, target: str, measured: str, met: bool | None, *, load: float | None = None,
            note: str = "") -> None:
        self.targets.append(Target(target, measured, met, load_now() if load is None else load, note))

    def save(self, directory: Path = RESULTS_DIR) -> Path:
        from bench.machine_info import cpu_model, memory_gib

        directory.mkdir(parents=True, exist_ok=True)
        mem = memory_gib()
        doc = {"bench": self.bench, "at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
               "machine": f"{os.cpu_count()} CPU {cpu_model() or '?'}, "
                          f"{f'{mem:.0f} GiB, ' if mem else ''}Python {platform.python_version()}",
               "targets": [asdict(t) for t in self.targets]}
        path = directory / f"{self.bench}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return path


def _verdict(met: bool | None) -> str:
    return {True: "MET", False: "NOT MET", None: "n/a"}[met]


def table(docs: list[dict[str, Any]]) -> str:
    rows = [("benchmark", "target", "measured", "verdict", "load", "run at")]
    machines = sorted({d["machine"] for d in docs})
    for d in docs:
        for t in d["targets"]:
            measured = t["measured"] + (f" ({t['note']})" if t.get("note") else "")
            rows.append((d["bench"], t["target"], measured, _verdict(t["met"]), f"{t['load']:.2f}", d["at"]))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    counts = [t["met"] for d in docs for t in d["targets"]]
    lines.append("")
    lines.append(f"{counts.count(True)} met, {counts.count(False)} not met, {counts.count(None)} not applicable; "
                 f"load average now {load_now():.2f}")
    lines.append("machine: " + "; ".join(machines))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", type=Path, default=RESULTS_DIR)
    args = ap.parse_args()
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(args.dir.glob("*.json"))]
    if not docs:
        print(f"no benchmark results in {args.dir} (run make bench)")
        return 1
    print(table(docs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
