"""Policy versions: effective dates, pinning, and the CLI."""
from __future__ import annotations

import datetime as dt
import json

from click.testing import CliRunner
from sqlalchemy import select

import cli
from rules.policy import Policy
from store.models import FundYear, PolicyVersion, Project
from workflow import clock
from workflow.services import open_fund_year, publish_policy


def test_project_keeps_the_policy_it_was_proposed_under(db, city, driver):
    pid = driver.propose()
    with db.uow() as uow:
        publish_policy(uow.session, city.city_id, Policy(publicity_workdays=7), dt.date(2026, 1, 1), "公示期延长")
        uow.commit()
    with db.uow(write=False) as uow:
        project = uow.session.get(Project, pid)
        first = uow.session.execute(select(PolicyVersion).where(PolicyVersion.version == 1)).scalar_one()
        assert project.policy_version_id == first.id
    # the old project still gets a 3-working-day notice
    driver.drive(pid, "publicity")
    with db.uow(write=False) as uow:
        from store.models import Deadline
        dl = uow.session.execute(select(Deadline).where(Deadline.entity_id == pid)).scalars().one()
    assert dl.workdays == 3


def test_new_fund_year_takes_the_version_in_force(db, city):
    with db.uow() as uow:
        publish_policy(uow.session, city.city_id, Policy(allocation_fen=30_000_000), dt.date(2027, 1, 1), "2027 起增拨")
        uow.commit()
    with clock.frozen(dt.datetime(2027, 1, 2, 9)), db.uow() as uow:
        fy = open_fund_year(uow.session, city.communities[0].id, 2027)
        uow.commit()
        assert fy.allocation_fen == 30_000_000
    with db.uow(write=False) as uow:
        old = uow.session.execute(select(FundYear).where(FundYear.year == 2026)).scalars().first()
        assert old.allocation_fen == 20_000_000


def test_policy_cli_publish_and_show(db, city, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db.url)
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"publicity_workdays": 5, "small_group_cap": "3/20"}), encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(cli.main, ["policy", "publish", str(f), "--city", "C01", "--effective-from", "2027-01-01"])
    assert r.exit_code == 0, r.output
    assert "第 2 版" in r.output
    r = runner.invoke(cli.main, ["policy", "show", "--json"])
    rows = json.loads(r.output)
    assert [row["version"] for row in rows] == [1, 2]
    assert rows[1]["data"]["small_group_cap"] == "3/20"


def test_policy_cli_rejects_unknown_keys(db, city, tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db.url)
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"publicity_days": 5}), encoding="utf-8")
    r = CliRunner().invoke(cli.main, ["policy", "publish", str(f), "--city", "C01", "--effective-from", "2027-01-01"])
    assert r.exit_code == 2
    assert "未知的政策参数" in r.output
    with db.uow(write=False) as uow:
        assert len(uow.session.execute(select(PolicyVersion)).scalars().all()) == 1
