"""fundflow's engine beside a peer, SpiffWorkflow: CPU per step, in one run (issue 14, item 2).

    .venv/bin/python bench/peers.py [--seconds 2] [--rounds 5] [--spiff-steps 10] [--no-save]
    .venv/bin/python bench/peers.py --profile [--top 30]   # also the engine's top functions

Three loops run in this one process, one after the other, ``--rounds`` times (interleaved, so that the
machine's load drifts over all of them alike); each one's CPU is taken with ``time.process_time()``
around every single step, and each window runs on to the end of a whole cycle (every project back in
draft, every Spiff instance through its whole life):

* **Spiff**: SpiffWorkflow 3.x, in memory, no serialisation. The BPMN process below (parsed once):
  the user task ``draft`` (its completion is ``submit_preliminary``), the user task
  ``preliminary_review`` (``return_for_revision``), then an exclusive gateway whose condition
  ``reason != ""`` leads back to ``draft`` — the engine's toggle between draft and preliminary_review,
  with the returning reason checked as the engine's guard ``reason_given`` checks it. One step is: find
  the ready user task, set its data (actor; reason), ``task.run()``, ``workflow.do_engine_steps()``. It
  works on four workflow instances in turn, as the engine works on four projects. A SpiffWorkflow
  instance keeps every task it ever ran, and its step gets slower as that history grows (it walks the
  task tree), so each instance is replaced by a fresh one after ``--spiff-steps`` steps (default 10: five
  returns for revision), outside the timed steps; the run ends with Spiff's cost per step at other
  instance lengths.
* **engine**: ``workflow.services.fire_event`` on SQLite (a file in a temporary directory, 1 client, in
  this process), alternating ``submit_preliminary`` and ``return_for_revision`` over 4 projects: the
  fixture and client of ``bench/engine.py`` (``build``, ``EngineClient``). Its CPU includes the SQLite
  library's, which runs inside the client.
* **same-shape**: the same audited transaction written by hand on ``sqlite3`` (``bench/engine.py``'s
  ``ShapeClient``): the floor of the SQL alone.

Target (issue 14): engine CPU per transition ≤ 0.5 × Spiff's CPU per task step (the median of the
rounds' ratios), recorded in ``var/bench/peers.json`` for ``bench/summary.py``. When it is missed, the
engine's firing is profiled by layer (``bench/engine.py --profile``) so that what remains shows.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# run as a script, bench/ itself is sys.path[0]: keep its modules (e.g. bench/http.py) from
# shadowing the standard library's
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import engine as eb  # noqa: E402 - after the path fix above

TARGET_RATIO = 0.5
KINDS = ("spiff", "engine", "shape")
LABELS = {"spiff": "Spiff", "engine": "engine", "shape": "same-shape"}

# The engine's toggle as BPMN: draft → preliminary_review → (returned with a reason) → draft.
BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  id="peers" targetNamespace="https://fundflow.invalid/bench/peers">
  <bpmn:process id="project" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:sequenceFlow id="to_draft" sourceRef="start" targetRef="draft"/>
    <bpmn:userTask id="draft" name="submit_preliminary"/>
    <bpmn:sequenceFlow id="submitted" sourceRef="draft" targetRef="preliminary_review"/>
    <bpmn:userTask id="preliminary_review" name="return_for_revision"/>
    <bpmn:sequenceFlow id="reviewed" sourceRef="preliminary_review" targetRef="returned"/>
    <bpmn:exclusiveGateway id="returned" default="accepted"/>
    <bpmn:sequenceFlow id="back_to_draft" sourceRef="returned" targetRef="draft">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">reason != ""</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="accepted" sourceRef="returned" targetRef="end"/>
    <bpmn:endEvent id="end"/>
  </bpmn:process>
</bpmn:definitions>
"""


class SpiffClient:
    """One task step of SpiffWorkflow per call, over ``instances`` workflows in turn, each replaced by a
    fresh one after ``steps`` steps (in ``renew``, which the benchmark does not time)."""

    def __init__(self, instances: int = 4, steps: int = 10) -> None:
        from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
        from SpiffWorkflow.util.task import TaskState

        parser = BpmnParser()
        parser.add_bpmn_str(BPMN.encode())
        self.spec = parser.get_spec("project")
        self.ready = TaskState.READY
        self.steps = steps
        self.flows = [self._fresh() for _ in range(instances)]
        self.done = [0] * instances
        self.i = 0

    def _fresh(self) -> Any:
        from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

        wf = BpmnWorkflow(self.spec)
        wf.do_engine_steps()
        return wf

    def renew(self) -> None:
        k = self.i % len(self.flows)
        if self.done[k] >= self.steps:
            self.flows[k], self.done[k] = self._fresh(), 0

    def __call__(self) -> None:
        k = self.i % len(self.flows)
        self.i += 1
        wf = self.flows[k]
        task = wf.get_next_task(state=self.ready, manual=True)
        if task is None:
            raise RuntimeError(f"SpiffWorkflow instance {k} has no ready user task")
        if task.task_spec.bpmn_id == "draft":
            task.data.update(actor="社区书记", reason="")
        else:
            task.data.update(actor="工作委员会成员", reason=eb.REASON)
        task.run()
        wf.do_engine_steps()
        self.done[k] += 1


def window(op: Any, seconds: float, cycle: int = 1) -> tuple[int, float]:
    """Steps of ``op`` for ``seconds`` of wall time, then on to the end of a whole ``cycle`` of steps:
    (count, CPU seconds inside the steps), each step timed with ``time.process_time()``; ``op.renew()``,
    where there is one, runs between them untimed."""
    renew = getattr(op, "renew", None)
    end = time.perf_counter() + seconds
    count, cpu = 0, 0.0
    while time.perf_counter() < end or count % cycle:
        if renew is not None:
            renew()
        t0 = time.process_time()
        op()
        cpu += time.process_time() - t0
        count += 1
    return count, cpu


def header(fx: eb.Fixture) -> list[str]:
    from importlib.metadata import version

    from bench.machine_info import cpu_model, memory_gib

    gib = memory_gib()
    return [f"date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S} UTC",
            f"machine   {os.cpu_count()} CPUs, {cpu_model() or '?'}, {f'{gib:.0f} GiB' if gib else '?'} RAM, "
            f"{platform.system()} {platform.release()}",
            f"python    {platform.python_version()}, SpiffWorkflow {version('SpiffWorkflow')}, "
            f"SQLAlchemy {version('SQLAlchemy')}, SQLite library {sqlite3.sqlite_version} "
            f"({', '.join(f'{k}={v}' for k, v in fx.server.items() if k != 'sqlite_version')})",
            f"load      1-min load average {eb.LOAD_AT_START:.2f} before the run; fixed pure-Python loop "
            f"{eb.speed_probe():.0f} ms CPU (a yardstick of this VM's speed now)",
            f"events    {eb.EVENTS}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    ap.add_argument("--seconds", type=float, default=2.0, help="window per loop and round (default 2)")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="untimed warm-up of each loop (default 1)")
    ap.add_argument("--projects", type=int, default=4, help="projects (and Spiff instances) in turn (default 4)")
    ap.add_argument("--spiff-steps", type=int, default=10,
                    help="task steps of one SpiffWorkflow instance before a fresh one replaces it (default 10)")
    ap.add_argument("--no-save", dest="save", action="store_false",
                    help="do not record the target in var/bench/peers.json (bench/summary.py)")
    ap.add_argument("--profile", action="store_true",
                    help="profile the engine by layer even if the target is met, with its top functions")
    ap.add_argument("--no-profile", action="store_true", help="no profile even if the target is missed")
    ap.add_argument("--top", type=int, default=30, help="top functions printed with --profile (default 30)")
    args = ap.parse_args(argv)
    t_start = time.time()
    with tempfile.TemporaryDirectory(prefix="fundflow-peers-") as d:
        tmp = Path(d)
        t = time.time()
        fx = eb.build("sqlite", eb.fresh_database("sqlite", tmp), 1, args.projects)
        print(f"SQLite database built in {time.time() - t:.1f}s ({args.projects} draft projects)", flush=True)
        ops: dict[str, Any] = {"spiff": SpiffClient(args.projects, args.spiff_steps),
                               "engine": eb.EngineClient(fx.url, fx.clients[0]),
                               "shape": eb.ShapeClient(fx.url, fx.clients[0])}
        try:
            print()
            print("fundflow engine beside SpiffWorkflow (CPU per step, this process)")
            for line in header(fx):
                print(line)
            print(f"Spiff     BPMN draft → preliminary_review → gateway (reason != \"\") → draft, in memory; "
                  f"{args.projects} instances in turn, each fresh after {args.spiff_steps} steps")
            print(f"window    {args.warmup:g}s untimed warm-up of each, then {args.rounds} rounds × "
                  f"{args.seconds:g}s of each (Spiff, engine, same-shape in turn)")
            print()
            # whole cycles: every project back to draft, every Spiff instance through its whole life
            cycles = {"spiff": args.projects * args.spiff_steps, "engine": 2 * args.projects,
                      "shape": 2 * args.projects}
            for kind, op in ops.items():
                window(op, args.warmup, cycles[kind])
            per_round: list[dict[str, tuple[float, float, int]]] = []
            for r in range(args.rounds):
                cells: dict[str, tuple[float, float, int]] = {}
                for kind in KINDS:
                    n, cpu = window(ops[kind], args.seconds, cycles[kind])
                    cells[kind] = (1e6 * cpu / max(n, 1), os.getloadavg()[0], n)
                per_round.append(cells)
                print(f"round {r + 1}: " + "  ".join(f"{LABELS[k]} {us:6.0f} µs (load {load:.2f})"
                                                      for k, (us, load, _n) in cells.items())
                      + f"   engine ÷ Spiff {cells['engine'][0] / cells['spiff'][0]:.2f}"
                      f"   same-shape ÷ Spiff {cells['shape'][0] / cells['spiff'][0]:.2f}", flush=True)
        finally:
            ops["engine"].close()
            ops["shape"].close()
        events = eb.verify_audit(fx.url)
        med = {k: statistics.median(c[k][0] for c in per_round) for k in KINDS}
        load = {k: statistics.median(c[k][1] for c in per_round) for k in KINDS}
        steps = {k: sum(c[k][2] for c in per_round) for k in KINDS}
        ratio = statistics.median(c["engine"][0] / c["spiff"][0] for c in per_round)
        floor = statistics.median(c["shape"][0] / c["spiff"][0] for c in per_round)
        print()
        print("medians   " + "  ".join(f"{LABELS[k]} {med[k]:.0f} µs CPU per step ({steps[k]:,} steps, load "
                                       f"{load[k]:.2f})" for k in KINDS))
        print(f"ratios    engine ÷ Spiff {ratio:.2f}; same-shape ÷ Spiff {floor:.2f}; engine ÷ same-shape "
              f"{med['engine'] / med['shape']:.1f} (the first two: medians of the rounds' ratios)")
        print(f"audit     chain verified after the run ({events} events)")
        met = ratio <= TARGET_RATIO
        target = f"SQLite: engine CPU per transition ≤ {TARGET_RATIO} × SpiffWorkflow's per task step (in memory)"
        measured = (f"{ratio:.2f} (engine {med['engine']:.0f} µs, Spiff {med['spiff']:.0f} µs, "
                    f"same SQL by hand {floor:.2f})")
        print(f"target    {target}: {measured} {'MET' if met else 'NOT MET'} (load {load['engine']:.2f})")

        print()
        print(f"Spiff's step against the length of its instance ({args.seconds:g}s each; the rounds above "
              f"used {args.spiff_steps}):")
        for n in sorted({2, args.spiff_steps, 50, 200}):
            k, cpu = window(SpiffClient(args.projects, n), args.seconds, args.projects * n)
            print(f"  instances of {n:3d} steps: {1e6 * cpu / max(k, 1):6.0f} µs CPU per step (load "
                  f"{os.getloadavg()[0]:.2f})", flush=True)

        if args.save:
            from bench.summary import Results

            results = Results("peers")
            results.add(target, measured, met, load=load["engine"])
            results.save()
        if args.profile or (not met and not args.no_profile):
            print()
            print("Where the engine's CPU goes (bench/engine.py --profile --profile-clock cpu, SQLite):")
            prof_dir = tmp / "profile"
            prof_dir.mkdir()
            eb.profile("sqlite", argparse.Namespace(warmup=args.warmup, seconds=args.seconds,
                                                    projects=args.projects, profile_clock="cpu",
                                                    top=args.top if args.profile else 0), prof_dir)
    print(f"\n(total run {time.time() - t_start:.0f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
