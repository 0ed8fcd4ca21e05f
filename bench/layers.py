"""A cProfile grouped by layer: where the CPU of a benchmark goes (self time of each function, by the
package its code lives in), for the benchmarks' ``--profile`` options."""
from __future__ import annotations

import pstats
import re
from typing import Any

# (layer, pattern on "filename:function"), first match wins
LAYERS: list[tuple[str, str]] = [
    ("SQLAlchemy ORM", r"sqlalchemy/orm/"),
    ("SQLAlchemy Core (execution, compile cache, types)", r"sqlalchemy/"),
    ("psycopg (driver, protocol)", r"psycopg|<method '\w+' of 'psycopg"),
    ("sqlite3 (driver + the library)", r"sqlite3|<method '\w+' of 'sqlite3"),
    ("transitions Machine", r"/transitions/"),
    ("pydantic", r"pydantic"),
    ("FastAPI / Starlette / uvicorn", r"fastapi/|starlette/|uvicorn/|anyio/|h11/|httptools|uvloop"),
    ("hashing and canonical JSON (audit chain)", r"_hashlib|hashlib|json/|<built-in method _json|audit\.py"),
    ("the engine's glue (workflow/engine.py, services.py)", r"workflow/(engine|services)\.py"),
    ("guards, effects, payloads", r"workflow/(guards|effects|payloads|context)\.py"),
    ("sweep and notifications", r"workflow/(sweep|notify|jobs)\.py"),
    ("other workflow/, rules/, store/", r"/(workflow|rules|store)/"),
    ("api/", r"/api/"),
    ("thread and lock waits", r"<method 'acquire' of '_thread|threading\.py"),
    ("the rest (standard library, builtins)", r""),
]


def _key(func: tuple[str, int, str]) -> str:
    filename, _line, name = func
    return f"{filename}:{name}"


def by_layer(prof: Any, layers: list[tuple[str, str]] | None = None) -> tuple[dict[str, float], float]:
    """Self seconds per layer and in total; ``prof`` a profile or a :class:`pstats.Stats` (several merged),
    ``layers`` another grouping than :data:`LAYERS` (same form)."""
    stats = prof if isinstance(prof, pstats.Stats) else pstats.Stats(prof)
    layers = LAYERS if layers is None else layers
    compiled = [(layer, re.compile(pattern)) for layer, pattern in layers]
    out: dict[str, float] = {layer: 0.0 for layer, _ in layers}
    total = 0.0
    for func, (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        key = _key(func)
        layer = next(layer for layer, rx in compiled if rx.search(key))
        out[layer] += tt
        total += tt
    return out, total


def print_layers(prof: Any, title: str, top: int = 0) -> None:
    layers, total = by_layer(prof)
    print(f"  profile by layer ({title}): self time, {total:.2f} s in all")
    for layer, seconds in sorted(layers.items(), key=lambda kv: -kv[1]):
        if seconds > 0:
            print(f"    {100 * seconds / total:5.1f} %  {seconds:7.2f} s  {layer}")
    if top:
        pstats.Stats(prof).sort_stats("tottime").print_stats(top)
        # the project's own functions by cumulative time: which steps the layers above are spent in
        pstats.Stats(prof).sort_stats("cumulative").print_stats(r"/(workflow|store|api)/", top)
