"""``fundflow inspect``: an area's red flags as a Chinese table or as JSON; unknown codes exit 2."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from click.testing import CliRunner

from cli import main
from workflow.demo import Driver


@pytest.fixture
def run(db: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("DATABASE_URL", db.url)
    runner = CliRunner()

    def invoke(*args: str, code: int = 0) -> Any:
        r = runner.invoke(main, list(args))
        assert r.exit_code == code, (args, r.output, r.exception)
        return r
    return invoke


def test_inspect_prints_the_flags_as_a_table_and_as_json(run: Any, driver: Driver) -> None:
    assert "未发现疑点" in run("inspect", "--area", "A01", "--year", "2026").output
    pid = driver.propose(1, amount="8000.00", title="社区宣传栏更换")
    driver.drive(pid, "joint_meeting")
    meeting = driver.meeting(community=1)
    meeting["held_on"] = (driver.now - dt.timedelta(days=10)).date().isoformat()
    driver.fire(pid, "record_meeting", driver.a("secretary", 1), meeting)

    table = run("inspect", "--area", "A01", "--year", "2026").output
    assert "城东大社区(A01) 2026 年度:疑点 1 个" in table
    assert "S02 和平社区" in table and "记录日期远早于录入时间" in table and "第十条、第十九条" in table
    assert "相隔 10 天" in table and "audit_event" in table

    data = json.loads(run("inspect", "--area", "A01", "--year", "2026", "--json").output)
    (flag,) = data["flags"]
    assert (data["area"], data["year"], flag["code"], flag["community_code"]) == \
        ("A01", 2026, "flag.backdated_record", "S02")
    assert str(pid) in [e["ref"] for e in flag["evidence"] if e["kind"] == "project"]
    assert json.loads(run("inspect", "--area", "A01", "--year", "2026", "--community", "S01", "--json").output)[
        "flags"] == []


def test_inspect_refuses_unknown_codes(run: Any, city: Any) -> None:
    assert "没有代码为 A09 的大社区" in run("inspect", "--area", "A09", "--year", "2026", code=2).output
    assert "没有代码为 S77 的社区" in run("inspect", "--area", "A01", "--year", "2026", "--community", "S77",
                                     code=2).output
