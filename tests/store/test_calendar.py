"""store.calendar on SQLite and PostgreSQL: seeding, import, recomputing deadlines, the CLI."""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from rules.calendar import ScheduleError
from store import calendar as store_calendar
from store.bootstrap import prepare
from store.calendar import ensure_seeded, load_calendar
from store.db import Database
from store.models import (
    AuditEvent,
    CalendarDay,
    CalendarYear,
    Deadline,
    FundYear,
    Notice,
    Organisation,
    Person,
    PolicyVersion,
    Project,
)
from workflow import audit, clock
from workflow.calendar import compute_due, import_schedule, recompute_provisional_deadlines

D = dt.date.fromisoformat
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "calendar-2027.example.txt"
PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
SEEDED_DAYS = (dt.date(2027, 1, 1) - dt.date(2004, 1, 1)).days  # 8401


def _pg(url: Any, **changes: str) -> str:
    return str(url.set(**changes).render_as_string(hide_password=False))


@pytest.fixture(scope="module")
def _caldb_pg_url() -> Iterator[str]:
    """A PostgreSQL database of this process's own on the TEST_DATABASE_URL server (so a schema reset
    never disturbs another test run); falls back to TEST_DATABASE_URL itself if it cannot create one."""
    import psycopg

    base = make_url(PG_URL)
    admin = _pg(base, drivername="postgresql")
    name = f"fundflow_caltest_{os.getpid()}"
    try:
        psycopg.connect(admin, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {exc}")
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error:
        yield admin
        return
    yield _pg(base, drivername="postgresql", database=name)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _reset_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


@pytest.fixture(params=["sqlite", "postgresql"])
def caldb(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated (not yet seeded) database of each backend, empty for every test."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'calendar.db'}"
    else:
        url = request.getfixturevalue("_caldb_pg_url")
        _reset_postgres(url)
    database = Database(url)
    database.upgrade()
    store_calendar.invalidate_cache()
    try:
        yield database
    finally:
        store_calendar.invalidate_cache()
        database.dispose()


def _world(session: Session) -> tuple[FundYear, Project]:
    """Minimal rows: a city, a community, a policy, a 2027 fund year and one project."""
    now = clock.now()
    city = Organisation(code="C01", name="示例市", level="city")
    session.add(city)
    session.flush()
    community = Organisation(code="S01", name="示例社区", level="community", parent_id=city.id)
    person = Person(username="sec", display_name="书记")
    session.add_all([community, person])
    session.flush()
    policy = PolicyVersion(city_id=city.id, version=1, effective_from=D("2027-01-01"), data={}, created_at=now)
    session.add(policy)
    session.flush()
    fy = FundYear(community_id=community.id, year=2027, state="open", version=0, audit_head="",
                  policy_version_id=policy.id)
    session.add(fy)
    session.flush()
    project = Project(code="S01-2027-001", community_id=community.id, fund_year_id=fy.id,
                      policy_version_id=policy.id, state="publicity", version=0, audit_head="",
                      proposer_id=person.id, title="楼道照明", category="convenience", amount_fen=100000,
                      beneficiaries_count=30, created_at=now)
    session.add(project)
    session.flush()
    return fy, project


def _deadline(session: Session, etype: str, eid: int, kind: str, start: dt.date, n: int,
              status: str = "open") -> Deadline:
    due, provisional = compute_due(load_calendar(session), start, n)
    d = Deadline(entity_type=etype, entity_id=eid, kind=kind, event="", start_date=start, workdays=n,
                 due_at=due, provisional=provisional, status=status, created_at=clock.now())
    session.add(d)
    session.flush()
    return d


# -------------------------------------------------------------------------------------- seeding


def test_seeding(caldb: Database) -> None:
    with caldb.uow() as uow:
        assert ensure_seeded(uow.session) == 23
        uow.commit()
    with caldb.uow() as uow:
        s = uow.session
        assert ensure_seeded(s) == 0  # only when empty
        assert s.scalar(select(func.count()).select_from(CalendarDay)) == SEEDED_DAYS
        years = s.execute(select(CalendarYear)).scalars().all()
        assert sorted(y.year for y in years) == list(range(2004, 2027))
        assert {y.source for y in years} == {"chinesecalendar 1.11.0"}
        kinds = dict(s.execute(select(CalendarDay.kind, func.count()).group_by(CalendarDay.kind)).all())
        assert set(kinds) == {"workday", "weekend", "holiday", "makeup"}
        assert sum(kinds.values()) == SEEDED_DAYS

        def row(day: str) -> tuple[bool, str, str]:
            r = s.get(CalendarDay, D(day))
            assert r is not None
            return r.is_workday, r.kind, r.name

        assert row("2025-10-11") == (True, "makeup", "国庆节调休")
        assert row("2025-10-01") == (False, "holiday", "国庆节")
        assert row("2025-10-04") == (False, "holiday", "国庆节")  # Saturday inside the break
        assert row("2025-10-06") == (False, "holiday", "中秋节")
        assert row("2026-02-17") == (False, "holiday", "春节")
        assert row("2025-10-12") == (False, "weekend", "")
        assert row("2025-10-13") == (True, "workday", "")
        assert row("2025-01-01")[2] == "元旦"
        names = set(s.execute(select(CalendarDay.name).where(CalendarDay.kind == "holiday")).scalars())
        assert {"元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"} <= names


def test_prepare_and_load_calendar_known_answers(caldb: Database) -> None:
    prepare(caldb)
    prepare(caldb)  # idempotent
    with caldb.uow(write=False) as uow:
        cal = load_calendar(uow.session)
        assert load_calendar(uow.session) is cal  # cached
        assert cal.workday_after(D("2025-09-30"), 3).date == D("2025-10-11")
        assert cal.workday_after(D("2026-02-12"), 5).date == D("2026-02-26")
        due, provisional = compute_due(cal, D("2025-09-30"), 3)
        assert due == dt.datetime(2025, 10, 11, 16, 0, tzinfo=dt.UTC) and provisional is False
        assert compute_due(cal, D("2026-12-30"), 3)[1] is True


# ------------------------------------------------------------------------------------ importing


def test_import_recomputes_provisional_deadlines(caldb: Database) -> None:
    prepare(caldb)
    with caldb.uow() as uow:
        s = uow.session
        fy, project = _world(s)
        # Publicity 5 working days from 2027-09-28: weekday rule → 10-05; officially 10-11.
        publicity = _deadline(s, "project", project.id, "publicity", D("2027-09-28"), 5)
        assert publicity.provisional and publicity.due_at == clock.end_of_local_day(D("2027-10-05"))
        s.add(Notice(community_id=project.community_id, project_id=project.id, kind="publicity", title="公示",
                     body="…", starts_at=clock.now(), ends_at=publicity.due_at, provisional=True))
        # Fund year: 3 working days from 2027-02-04 → weekday rule 02-09; officially 02-15.
        fy_deadline = _deadline(s, "fund_year", fy.id, "disclosure", D("2027-02-04"), 3)
        # Still reaching into 2028: stays provisional and unchanged → no event.
        late = _deadline(s, "fund_year", fy.id, "late", D("2027-12-28"), 5)
        # Not provisional (2026) and a fired provisional one: both untouched.
        done = _deadline(s, "project", project.id, "approval_due", D("2026-03-02"), 10)
        fired = _deadline(s, "project", project.id, "old", D("2027-09-28"), 5, status="fired")
        ids = (publicity.id, fy_deadline.id, late.id, done.id, fired.id)
        done_due, fired_due, late_due = done.due_at, fired.due_at, late.due_at
        uow.commit()

    with caldb.uow() as uow:
        result = import_schedule(uow.session, EXAMPLE.read_text("utf-8"), "示例文件", actor_label="city_admin")
        uow.commit()
    assert (result.year, result.holidays, result.makeups, result.recomputed) == (2027, 28, 6, 2)
    assert result.replaced is False

    with caldb.uow(write=False) as uow:
        s = uow.session
        got = {d.id: d for d in s.execute(select(Deadline).where(Deadline.id.in_(ids))).scalars()}
        p, f, lt, dn, fd = (got[i] for i in ids)
        assert p.due_at == clock.end_of_local_day(D("2027-10-11")) and p.provisional is False
        assert f.due_at == clock.end_of_local_day(D("2027-02-15")) and f.provisional is False
        assert lt.due_at == late_due and lt.provisional is True
        assert dn.due_at == done_due and fd.due_at == fired_due and fd.provisional is True
        notice = s.execute(select(Notice)).scalar_one()
        assert notice.ends_at == p.due_at and notice.provisional is False

        events = s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars().all()
        by_entity = [(e.entity_type, e.event) for e in events]
        assert by_entity.count(("project", "deadline_recomputed")) == 1
        assert by_entity.count(("fund_year", "deadline_recomputed")) == 1
        assert by_entity.count(("calendar", "calendar_imported")) == 1
        ev = next(e for e in events if e.entity_type == "project")
        assert ev.entity_id == project.id and ev.actor_label == "system"
        assert ev.from_state == ev.to_state == "publicity"
        assert ev.payload == {"deadline_id": publicity.id, "kind": "publicity",
                              "old_due_at": "2027-10-05T16:00:00+00:00",
                              "new_due_at": "2027-10-11T16:00:00+00:00", "provisional": False}
        cal_ev = next(e for e in events if e.entity_type == "calendar")
        assert cal_ev.entity_id == 2027 and cal_ev.actor_label == "city_admin"
        assert cal_ev.payload["source"] == "示例文件" and len(cal_ev.payload["holidays"]) == 28
        owner = s.get(Project, project.id)
        assert owner is not None and owner.version == 1
        assert audit.verify(s).ok, audit.verify(s).broken

        cal = load_calendar(s)
        assert cal.is_loaded(2027) and not cal.is_workday(D("2027-02-08")) and cal.is_workday(D("2027-02-14"))
        assert s.scalar(select(func.count()).select_from(CalendarDay)
                        .where(CalendarDay.day.between(D("2027-01-01"), D("2027-12-31")))) == 365

    # Nothing left to do: a second pass changes nothing.
    with caldb.uow() as uow:
        assert recompute_provisional_deadlines(uow.session, clock.now()) == 0
        uow.commit()


def test_reimport_corrects_loaded_year(caldb: Database) -> None:
    prepare(caldb)
    text = EXAMPLE.read_text("utf-8")
    with caldb.uow() as uow:
        import_schedule(uow.session, text, "v1")
        fy, _project = _world(uow.session)
        d = _deadline(uow.session, "fund_year", fy.id, "disclosure", D("2027-06-07"), 3)
        assert d.due_at == clock.end_of_local_day(D("2027-06-11")) and not d.provisional  # 06-09 off
        uow.commit()
    with caldb.uow() as uow:
        corrected = text.replace("2027-06-09 holiday 端午节", "2027-06-10 holiday 端午节")
        result = import_schedule(uow.session, corrected, "v2")
        uow.commit()
    # 06-08, 06-09 (now a working day), 06-11: same end, nothing to recompute.
    assert result.replaced and result.recomputed == 0
    with caldb.uow(write=False) as uow:
        assert uow.session.get(Deadline, d.id).due_at == clock.end_of_local_day(D("2027-06-11"))  # type: ignore[union-attr]
        assert uow.session.get(CalendarYear, 2027).source == "v2"  # type: ignore[union-attr]
        assert load_calendar(uow.session).is_workday(D("2027-06-09"))
        assert audit.verify(uow.session).ok
    with caldb.uow() as uow:
        result = import_schedule(uow.session, text.replace("2027-06-09 holiday 端午节", "2027-06-09..2027-06-11 holiday 端午节"), "v3")
        uow.commit()
    assert result.recomputed == 1
    with caldb.uow(write=False) as uow:
        assert uow.session.get(Deadline, d.id).due_at == clock.end_of_local_day(D("2027-06-15"))  # type: ignore[union-attr]
        calendar_events = uow.session.scalar(select(func.count()).select_from(AuditEvent)
                                             .where(AuditEvent.entity_type == "calendar"))
        assert calendar_events == 3


def test_import_bad_file_writes_nothing(caldb: Database) -> None:
    prepare(caldb)
    with caldb.uow() as uow, pytest.raises(ScheduleError, match="第 2 行"):
        import_schedule(uow.session, "year 2027\n2027-02-15 makeup 调休\n", "bad")
    with caldb.uow(write=False) as uow:
        assert uow.session.get(CalendarYear, 2027) is None
        assert uow.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_cache_sees_another_process_import(caldb: Database) -> None:
    prepare(caldb)
    with caldb.uow(write=False) as uow:
        before = load_calendar(uow.session)
    stale = dict(store_calendar._cache)
    assert before in stale.values() and not before.is_loaded(2027)
    other = Database(caldb.url)  # another "process": its own engine; the module cache is not told
    try:
        with other.uow() as uow:
            import_schedule(uow.session, EXAMPLE.read_text("utf-8"), "其他进程")
            uow.commit()
    finally:
        other.dispose()
    store_calendar._cache.clear()  # this process was never told (import_schedule ran "elsewhere")
    store_calendar._cache.update(stale)
    with caldb.uow(write=False) as uow:
        after = load_calendar(uow.session)
    assert after is not before and after.is_loaded(2027)


# ------------------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli_env(caldb: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("DATABASE_URL", caldb.url)
    return caldb


def test_cli_workday_after(cli_env: Database) -> None:
    from cli import main

    runner = CliRunner()
    r = runner.invoke(main, ["calendar", "workday-after", "2025-09-30", "3"])
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "2025-10-11"
    r = runner.invoke(main, ["calendar", "workday-after", "2026-02-12", "5"])
    assert r.exit_code == 0 and r.output.strip() == "2026-02-26"
    r = runner.invoke(main, ["calendar", "workday-after", "2027-03-05", "1"])
    assert r.exit_code == 0 and r.output.strip() == "2027-03-08 (临时,未载入该年官方安排)"
    r = runner.invoke(main, ["calendar", "workday-after", "2025-13-01", "1"])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
    r = runner.invoke(main, ["calendar", "workday-after", "2025-09-30", "0"])
    assert r.exit_code == 2


def test_cli_import(cli_env: Database, tmp_path: Path) -> None:
    from cli import main

    runner = CliRunner()
    r = runner.invoke(main, ["calendar", "import", str(EXAMPLE)])
    assert r.exit_code == 0, r.output
    assert "2027" in r.output and "放假 28 天" in r.output and "调休上班 6 天" in r.output
    assert "重新计算期限 0 个" in r.output
    r = runner.invoke(main, ["calendar", "workday-after", "2027-09-30", "2"])
    assert r.exit_code == 0 and r.output.strip() == "2027-10-09"  # 10-08 Fri, 10-09 Sat makeup

    bad = tmp_path / "bad.txt"
    bad.write_text("year 2028\n2028-01-01 holiday 元旦\n2028-01-03 makeup 调休\n", encoding="utf-8")
    r = runner.invoke(main, ["calendar", "import", str(bad)])
    assert r.exit_code == 1
    assert "导入失败" in r.output and "第 3 行" in r.output
    gbk = tmp_path / "gbk.txt"
    gbk.write_bytes("year 2028\n2028-01-01 holiday 元旦\n".encode("gbk"))
    r = runner.invoke(main, ["calendar", "import", str(gbk)])
    assert r.exit_code == 1 and "UTF-8" in r.output
    with cli_env.uow(write=False) as uow:
        assert uow.session.get(CalendarYear, 2028) is None
        assert audit.verify(uow.session).ok
