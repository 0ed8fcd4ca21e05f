"""Time to draw documents: one notice, one application form, and the annual report of a community with
500 projects (plain data from ``documents.samples``, no database), plus the archive of a demo year.

Run: ``.venv/bin/python bench/documents.py [--runs 9]``. Prints the median (and min–max) of several runs
with the 1-minute load average beside each figure; asserts nothing. Targets (issue 10): < 100 ms,
< 200 ms, < 2 s.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ itself is sys.path[0]: keep its modules (this file, bench/http.py) from shadowing
# the project's documents package and the standard library
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import documents  # noqa: E402
from documents import samples  # noqa: E402
from documents.excel import ledger  # noqa: E402


def load() -> str:
    return f"{os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else "?"


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, float, float, str]:
    """Median, min and max wall time and the median CPU time of this process, in milliseconds, over ``runs``
    calls (after one warm-up), and the load average before. On a shared machine the CPU time is the steadier."""
    fn()
    before = load()
    times, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(times), min(times), max(times), statistics.median(cpu), before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    from bench.machine_info import cpu_model, memory_gib

    gib = memory_gib()
    print(f"date     {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC")
    print(f"machine  {os.cpu_count()} CPUs, {cpu_model() or '?'}, {f'{gib:.0f} GiB' if gib else '?'} RAM, "
          f"{platform.system()} {platform.release()}")
    import reportlab

    print(f"python   {platform.python_version()}, ReportLab {reportlab.Version}")
    t0 = time.perf_counter()
    documents.ensure_fonts()
    print(f"font     registered once per process in {(time.perf_counter() - t0) * 1000:.0f} ms (not counted below)")

    def url(code: str) -> str:
        return "http://127.0.0.1:8000/v/" + code

    notice, form, report = samples.notice(), samples.application_form(), samples.annual(500)
    pages = {}
    for name, doc in (("notice", notice), ("form", form), ("report", report)):
        import io

        import pdfplumber

        with pdfplumber.open(io.BytesIO(documents.pdf(doc, url)[0])) as pdf:
            pages[name] = len(pdf.pages)
    cases = [
        ("one notice (公示)", lambda: documents.pdf(notice, url), 100, pages["notice"]),
        ("one application form (申请审批表)", lambda: documents.pdf(form, url), 200, pages["form"]),
        ("annual report, 500 projects", lambda: documents.pdf(report, url), 2000, pages["report"]),
        ("ledger workbook (xlsx, 4 entries)", lambda: ledger(samples.ledger()), None, 0),
    ]
    from bench.summary import Results

    results = Results("documents")
    print(f"\n{'document':<34} {'median':>9} {'min–max':>17} {'CPU':>9} {'target':>9} {'pages':>5}  load")
    for name, fn, target, n_pages in cases:
        median, low, high, cpu, before = timed(fn, args.runs)
        if target is not None:
            results.add(f"{name} < {target:,} ms", f"{median:.1f} ms median ({cpu:.1f} ms CPU)", median < target,
                        load=float(before) if before != "?" else float("nan"))
        goal = f"< {target} ms" if target else ""
        verdict = "" if target is None else ("met" if median < target else "NOT met")
        print(f"{name:<34} {median:7.1f} ms {low:7.1f}–{high:7.1f} ms {cpu:6.1f} ms {goal:>9} {n_pages or '':>5}  "
              f"{before}  {verdict}")
    print(f"\n{args.runs} runs each after one warm-up; median wall time (min–max), median CPU time of this "
          f"process; load = 1-minute load average before the runs ({os.cpu_count()} CPUs shared with other work).")
    results.save()


if __name__ == "__main__":
    main()
