"""``bench/http.py --profile``: where the server's CPU per request goes, by layer, without the network.

The real ASGI application (``api.app.create_app``) on the benchmark's PostgreSQL database is called in this
process, one request at a time, with a hand-made ASGI scope, ``receive`` and ``send`` (no HTTP client, no
socket, no uvicorn): for ``GET /api/v1/projects/{id}`` and for ``record_followup`` with the full answer and with
``Prefer: return=minimal``, the requests rotating over the projects as in the load run. For each:

* **CPU per request, unprofiled**: this process's CPU (every thread: the event loop's and the thread pool's)
  across the app's calls, plus the PostgreSQL backends' (``/proc``); building the scope and collecting the
  answer cost a few microseconds of it;
* **Python calls per request** (under the profiler, each resumption of a coroutine counted as a call): unlike
  CPU time, it does not depend on what else the machine runs, so it shows a change in the code's work even on a
  loaded machine;
* **the profile by layer**: cProfile on the thread's own CPU clock (``time.thread_time``) in the event loop's
  thread and, through a wrapper around ``anyio.to_thread.run_sync``, in each thread-pool thread that runs part
  of a request; self time per function, grouped by ``bench.layers.by_layer`` with :data:`HTTP_LAYERS`.

uvicorn's own share (HTTP parsing with httptools, the socket, uvloop's I/O) is not in this profile: it is the
difference between the load run's *app* column and the unprofiled figure here.
"""
from __future__ import annotations

import asyncio
import cProfile
import functools
import os
import pstats
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# (layer, pattern on "filename:function"), first match wins; see bench.layers.by_layer
HTTP_LAYERS: list[tuple[str, str]] = [
    ("ASGI plumbing (event loop, anyio, thread hand-offs)",
     r"uvicorn/|httptools|uvloop|anyio/|asyncio/|concurrent/futures|threading\.py|<method 'acquire' of '_thread"
     r"|selectors\.py|<method 'poll' of 'select|contextvars|<method 'run' of '_contextvars"),
    ("Starlette / FastAPI (routing, dependencies, responses)", r"fastapi/|starlette/"),
    ("pydantic (validation, serialisation)", r"pydantic"),
    ("json encoding", r"json/|_json"),
    ("SQLAlchemy ORM", r"sqlalchemy/orm/"),
    ("SQLAlchemy Core (execution, compile cache, types)", r"sqlalchemy/"),
    ("psycopg (driver, protocol)", r"psycopg|<method '\w+' of 'psycopg"),
    ("hashing", r"_hashlib|hashlib|hmac\.py"),
    ("workflow/ engine (and rules/, store/, transitions)", r"/(workflow|rules|store)/|/transitions/"),
    ("our api/ code", r"/api/"),
    ("the rest (standard library, builtins)", r""),
]


# steps of a request, by the cumulative CPU of the function that does each (in whichever thread it ran)
STEPS: list[tuple[str, str, str]] = [
    ("the engine's transition (workflow.services.fire_event)", "workflow/services.py", "fire_event"),
    ("authentication (api.deps.optional_viewer: token, posts)", "api/deps.py", "optional_viewer"),
    ("the project read (api.queries.project_detail)", "api/queries.py", "project_detail"),
]


def by_step(stats: pstats.Stats) -> tuple[dict[str, float], float]:
    """Cumulative seconds of each of :data:`STEPS` and the profile's total (self time of every function)."""
    out = {name: 0.0 for name, _, _ in STEPS}
    total = 0.0
    for (filename, _line, func), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tt
        for name, tail, wanted in STEPS:
            if func == wanted and filename.endswith(tail):
                out[name] += ct
    return out, total


class Asgi:
    """Calls an ASGI app the way a server would, for one request at a time; no network."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, method: str, path: str, headers: dict[str, str], body: bytes = b"") -> tuple[int, bytes]:
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
        if body:
            raw.append((b"content-length", str(len(body)).encode()))
        scope = {"type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
                 "method": method, "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
                 "root_path": "", "headers": raw, "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
                 "state": {}}
        sent = False
        status = 0
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.Event().wait()  # a disconnect never comes
            raise AssertionError("unreachable")

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


class ThreadProfiles:
    """One cProfile per thread (each on its thread's CPU clock) while installed: the event loop's thread and
    every thread-pool thread that runs a function handed over by ``anyio.to_thread.run_sync``."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self._local = threading.local()
        self._lock = threading.Lock()

    def _mine(self) -> cProfile.Profile:
        prof: cProfile.Profile | None = getattr(self._local, "prof", None)
        if prof is None:
            prof = self._local.prof = cProfile.Profile(time.thread_time)
            with self._lock:
                self.profiles.append(prof)
        return prof

    def wrap(self, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def profiled(*args: Any) -> Any:
            prof = self._mine()
            prof.enable()
            try:
                return func(*args)
            finally:
                prof.disable()
        return profiled

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Profile this thread and the thread-pool work of the block."""
        import anyio.to_thread

        real = anyio.to_thread.run_sync

        async def run_sync(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
            return await real(self.wrap(func), *args, **kwargs)

        anyio.to_thread.run_sync = run_sync  # type: ignore[assignment]
        prof = self._mine()
        prof.enable()
        try:
            yield
        finally:
            prof.disable()
            anyio.to_thread.run_sync = real

    def stats(self) -> pstats.Stats:
        out = pstats.Stats(self.profiles[0])
        for prof in self.profiles[1:]:
            out.add(prof)
        return out


def run(url: str, admin_url: str, pids: list[int], followup: str, n: int, top: int) -> None:
    import anyio.to_thread
    import uvloop

    from api import auth
    from api.app import create_app
    from api.settings import Settings
    from bench.http import CpuMeter, engine_cpu
    from bench.layers import by_layer
    from store.db import Database
    from workflow.demo import DEMO_PASSWORD

    db = Database(url)
    token = auth.login(db, Settings.from_env(), "gw_weiyuan1", DEMO_PASSWORD, "bearer", "127.0.0.1").token
    app = create_app(db, scheduler_mode="never")
    call = Asgi(app)
    bearer = {"authorization": f"Bearer {token}"}
    event = "/api/v1/projects/{id}/events/record_followup"
    cases = [
        ("GET /api/v1/projects/{id}", "GET", "/api/v1/projects/{id}", {}, b""),
        ("POST …/events/record_followup", "POST", event, {"content-type": "application/json"}, followup.encode()),
        ("  … Prefer: return=minimal", "POST", event,
         {"content-type": "application/json", "prefer": "return=minimal"}, followup.encode()),
    ]
    meter = CpuMeter(admin_url, [os.getpid()])
    profiles: dict[str, pstats.Stats] = {}
    k = [0]

    async def batch(method: str, path: str, headers: dict[str, str], body: bytes, count: int) -> None:
        for _ in range(count):
            k[0] += 1
            status, answer = await call(method, path.replace("{id}", str(pids[k[0] % len(pids)])),
                                        {**bearer, **headers}, body)
            if status != 200:
                raise RuntimeError(f"{method} {path}: {status} {answer[:300]!r}")

    async def main() -> None:
        to_thread = anyio.to_thread.current_default_thread_limiter()
        to_thread.total_tokens = app.state.settings.threads
        print(f"in-process ASGI calls of the app (no network, no uvicorn), one at a time, {n} requests per row "
              f"after {max(20, n // 10)} of warm-up, rotating over {len(pids)} projects; load average "
              f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'request':<34} {'CPU ms/request: app':>20} {'+ pg':>6} {'= server':>9}  "
              f"{'profiled (thread CPU)':>21} {'Python calls':>12}")
        for name, method, path, headers, body in cases:
            await batch(method, path, headers, body, max(20, n // 10))  # warm-up: caches, pool, compiled SQL
            before = meter.snapshot()
            await batch(method, path, headers, body, n)
            cpu = meter.since(before)
            app_ms, pg_ms = cpu["workers"] * 1000 / n, cpu["postgres"] * 1000 / n
            threads = ThreadProfiles()
            with threads.installed():
                await batch(method, path, headers, body, n)
            profiles[name] = threads.stats()
            _layers, total = by_layer(profiles[name], HTTP_LAYERS)
            calls = profiles[name].total_calls / n  # type: ignore[attr-defined]
            print(f"{name:<34} {app_ms:>20.2f} {pg_ms:>6.2f} {app_ms + pg_ms:>9.2f}  {total * 1000 / n:>18.2f} ms"
                  f" {calls:>12,.0f}  load {os.getloadavg()[0]:.2f}", flush=True)

    try:
        uvloop.run(main())
        engine_client, engine_pg = engine_cpu(url, pids, followup)
        print(f"the engine alone (fire_event record_followup, same database): {engine_client + engine_pg:.2f} ms "
              f"CPU per transition (client {engine_client:.2f} + PostgreSQL {engine_pg:.2f}); load "
              f"{os.getloadavg()[0]:.2f}")
        for name, stats in profiles.items():
            layers, total = by_layer(stats, HTTP_LAYERS)
            print(f"\n{name.strip()}: profile by layer, self CPU of each thread, {total * 1000 / n:.2f} ms per "
                  f"request under the profiler")
            for layer, seconds in sorted(layers.items(), key=lambda kv: -kv[1]):
                if seconds > 0:
                    print(f"  {100 * seconds / total:5.1f} %  {seconds * 1000 / n:6.3f} ms  {layer}")
            steps, _total = by_step(stats)
            print("  by step (cumulative):")
            for step, seconds in steps.items():
                print(f"  {100 * seconds / total:5.1f} %  {seconds * 1000 / n:6.3f} ms  {step}")
            rest = total - sum(steps.values())
            print(f"  {100 * rest / total:5.1f} %  {rest * 1000 / n:6.3f} ms  the rest: HTTP handling (ASGI, middleware, "
                  "routing, dependencies, body, answer), thread hand-offs")
            if top:
                stats.sort_stats("tottime").print_stats(top)
                stats.sort_stats("cumulative").print_stats(r"/(workflow|store|api)/", top)
    finally:
        meter.close()
        db.dispose()
