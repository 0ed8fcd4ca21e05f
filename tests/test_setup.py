"""The newcomer's path: README quick start, `.ci/run`, and the `fundflow demo` / `fundflow serve` commands.

These run the installed ``fundflow`` console script in subprocesses, each on its own temporary
SQLite database; they are not database-parametrised.
"""
from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FUNDFLOW = Path(sys.executable).parent / "fundflow"
ROLES = {"community_secretary", "community_staff", "supervisor", "working_member", "working_secretary",
         "construction_director", "finance_officer", "city_admin"}


def _quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start[^\n]*\n(.*?)(?=^## |\Z)", readme, re.S | re.M)
    assert section, "README.md has no '## Quick start' section"
    block = re.search(r"^```[^\n]*\n(.*?)^```", section.group(1), re.S | re.M)
    assert block, "the Quick start section has no code block"
    return [line.strip() for line in block.group(1).splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_readme_quick_start_is_exactly_make_run_and_make_test() -> None:
    assert _quick_start_commands() == ["make run", "make test"]


def test_ci_run_calls_make_test_and_is_executable() -> None:
    script = ROOT / ".ci" / "run"
    text = script.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert re.search(r"^\s*(exec\s+)?make test\s*$", text, re.M), ".ci/run must run `make test`"
    staged = subprocess.run(["git", "ls-files", "-s", ".ci/run"], cwd=ROOT, capture_output=True, text=True)
    if staged.returncode == 0 and staged.stdout.strip():
        assert staged.stdout.split()[0] == "100755", f".ci/run is not executable in git: {staged.stdout.strip()}"
    else:  # not tracked yet (or no git): the working tree's mode is what will be recorded
        assert os.access(script, os.X_OK), ".ci/run is not executable"


# --------------------------------------------------------------------------------- subprocesses


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'fundflow.db'}"
    return env


def _fundflow(*args: str, env: dict[str, str], cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    assert FUNDFLOW.exists(), f"{FUNDFLOW} is missing: install the project (`make install`)"
    result = subprocess.run([str(FUNDFLOW), *args], env=env, cwd=cwd, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"fundflow {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.mark.slow
def test_demo_loads_once_and_lists_every_role(tmp_path: Path) -> None:
    env = _env(tmp_path)
    first = _fundflow("demo", "--if-empty", "--json", env=env, cwd=tmp_path)
    loaded = json.loads(first.stdout)
    assert loaded["loaded"] is True
    assert loaded["communities"] == 5
    assert loaded["projects"] >= 15

    accounts = json.loads(_fundflow("demo", "--accounts", "--json", env=env, cwd=tmp_path).stdout)
    assert isinstance(accounts, list) and accounts
    for account in accounts:
        assert {"username", "password", "role", "organisation"} <= set(account), account
        assert all(isinstance(account[k], str) and account[k] for k in ("username", "password", "role",
                                                                         "organisation"))
    assert {a["role"] for a in accounts} >= ROLES

    again = json.loads(_fundflow("demo", "--if-empty", "--json", env=env, cwd=tmp_path).stdout)
    assert again["loaded"] is False
    assert again["projects"] == loaded["projects"]
    assert again["states"] == loaded["states"]
    assert len(json.loads(_fundflow("demo", "--accounts", "--json", env=env, cwd=tmp_path).stdout)) == len(accounts)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_serve_answers_healthz(tmp_path: Path) -> None:
    assert FUNDFLOW.exists(), f"{FUNDFLOW} is missing: install the project (`make install`)"
    port = _free_port()
    log = (tmp_path / "serve.log").open("w+")
    proc = subprocess.Popen([str(FUNDFLOW), "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=_env(tmp_path), cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        status, body, last_error = None, None, ""
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    status, body = response.status, json.loads(response.read())
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
                last_error = str(exc)
                time.sleep(0.2)
        log.flush()
        log.seek(0)
        output = log.read()
        assert status == 200, f"/healthz did not answer within 30 s ({last_error}); exit={proc.poll()}\n{output}"
        assert body is not None
        assert body["status"] == "ok"
        assert body["database"] == "sqlite"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)", body["time"]), body
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
