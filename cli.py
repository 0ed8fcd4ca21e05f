"""The ``fundflow`` command: database, demo, service, calendar, workflow, audit, ledger, sweep."""
from __future__ import annotations

import datetime as dt
import json
import sys

import click


def _db():  # type: ignore[no-untyped-def]
    from store.db import Database

    return Database()


@click.group()
def main() -> None:
    """社区党组织服务群众专项经费管理系统 fundflow。"""


# ------------------------------------------------------------------------------------------ db


@main.group()
def db() -> None:
    """数据库迁移。"""


@db.command("upgrade")
def db_upgrade() -> None:
    """创建或升级数据库结构(DATABASE_URL,默认 ./var/fundflow.db),并载入节假日历。"""
    from store.bootstrap import prepare

    database = _db()
    prepare(database)
    click.echo(f"数据库已升级: {database.url}")


# ------------------------------------------------------------------------------------ workflow


@main.group()
def workflow() -> None:
    """流程定义。"""


@workflow.command("show")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def workflow_show(as_json: bool) -> None:
    """打印项目流程与经费年度流程的定义。"""
    from workflow.describe import describe, mermaid_markdown

    if as_json:
        click.echo(json.dumps(describe(), ensure_ascii=False, indent=2))
    else:
        click.echo(mermaid_markdown(), nl=False)


# ------------------------------------------------------------------------------------ calendar
# (calendar commands are defined below this line)


class _IsoDate(click.ParamType):
    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value).strip())
        except ValueError:
            self.fail(f"日期 “{value}” 无效,应为 YYYY-MM-DD", param, ctx)


@main.group("calendar")
def calendar_group() -> None:
    """法定工作日历(节假日与调休)。"""


@calendar_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", default="", help="来源说明(默认: 文件名)")
@click.option("--actor", default="city_admin", show_default=True, help="审计记录中的操作人")
def calendar_import(file: str, source: str, actor: str) -> None:
    """导入一年的官方节假日安排,并重新计算该年的临时期限。"""
    from pathlib import Path

    from rules.calendar import ScheduleError
    from store.bootstrap import prepare
    from store.calendar import import_schedule

    try:
        text = Path(file).read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        click.echo(f"导入失败: {file} 不是 UTF-8 编码的文本文件", err=True)
        sys.exit(1)
    database = _db()
    prepare(database)
    try:
        with database.uow() as uow:
            result = import_schedule(uow.session, text, source or f"文件 {Path(file).name}", actor_label=actor)
            uow.commit()
    except ScheduleError as exc:
        click.echo(f"导入失败: {file}\n{exc}", err=True)
        sys.exit(1)
    verb = "替换" if result.replaced else "载入"
    click.echo(f"已{verb} {result.year} 年节假日安排: 放假 {result.holidays} 天,调休上班 {result.makeups} 天;"
               f"重新计算期限 {result.recomputed} 个")


@calendar_group.command("workday-after")
@click.argument("date", type=_IsoDate())
@click.argument("n", type=click.IntRange(min=1))
def calendar_workday_after(date: dt.date, n: int) -> None:
    """打印 DATE 之后第 N 个工作日(期限在该日 24:00 届满;DATE 当天不计)。"""
    from store.bootstrap import prepare
    from store.calendar import load_calendar

    database = _db()
    prepare(database)
    with database.uow(write=False) as uow:
        result = load_calendar(uow.session).workday_after(date, n)
    suffix = " (临时,未载入该年官方安排)" if result.provisional else ""
    click.echo(f"{result.date.isoformat()}{suffix}")


# --------------------------------------------------------------------------------------- policy


@main.group()
def policy() -> None:
    """政策版本(细则中各地自定的"xx"数值)。"""


@policy.command("show")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def policy_show(as_json: bool) -> None:
    """列出全部政策版本及其生效日期。"""
    from sqlalchemy import select

    from store.bootstrap import prepare
    from store.models import Organisation, PolicyVersion

    database = _db()
    prepare(database)
    with database.uow(write=False) as uow:
        rows = uow.session.execute(select(PolicyVersion, Organisation.code)
                                   .join(Organisation, Organisation.id == PolicyVersion.city_id)
                                   .order_by(PolicyVersion.city_id, PolicyVersion.version)).all()
    out = [{"city": code, "version": pv.version, "effective_from": pv.effective_from.isoformat(), "note": pv.note,
            "data": pv.data} for pv, code in rows]
    if as_json:
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not out:
        click.echo("尚无政策版本")
    for row in out:
        click.echo(f"{row['city']} 第 {row['version']} 版,{row['effective_from']} 起生效: {row['note']}")


@policy.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--city", "city_code", required=True, help="市的组织代码,如 C01")
@click.option("--effective-from", "effective", required=True, help="生效日期 YYYY-MM-DD")
@click.option("--note", default="", help="说明")
def policy_publish(file: str, city_code: str, effective: str, note: str) -> None:
    """发布新的政策版本(JSON 文件,键同 `fundflow policy show --json` 的 data;缺省键取细则默认值)。

    已提议的项目继续适用其提议时的政策版本。"""
    from pathlib import Path

    from sqlalchemy import select

    from rules.policy import Policy
    from store.bootstrap import prepare
    from store.models import Organisation
    from workflow.services import publish_policy

    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
        new_policy = Policy.from_dict(data)
        day = dt.date.fromisoformat(effective)
    except (ValueError, TypeError) as exc:
        click.echo(f"政策文件或日期不正确: {exc}", err=True)
        sys.exit(2)
    database = _db()
    prepare(database)
    with database.uow() as uow:
        city_id = uow.session.execute(select(Organisation.id).where(Organisation.code == city_code,
                                                                    Organisation.level == "city")).scalar_one_or_none()
        if city_id is None:
            click.echo(f"没有代码为 {city_code} 的市", err=True)
            sys.exit(2)
        row = publish_policy(uow.session, city_id, new_policy, day, note or file)
        uow.commit()
    click.echo(f"已发布 {city_code} 第 {row.version} 版政策,{day.isoformat()} 起生效")


# --------------------------------------------------------------------------------------- ledger


@main.group()
def ledger() -> None:
    """党组织服务群众专项经费科目账。"""


@ledger.command("reconcile")
@click.option("--year", type=int, default=None, help="只核对该年度")
def ledger_reconcile(year: int | None) -> None:
    """由分录与项目状态重新计算每个经费年度;有差异时逐条列出并以非零状态退出。"""
    from workflow.ledger import reconcile

    database = _db()
    with database.uow(write=False) as uow:
        checked, diffs = reconcile(uow.session, year)
    for d in diffs:
        click.echo(f"差异: {d}", err=True)
    if diffs:
        click.echo(f"核对 {checked} 个经费年度,发现 {len(diffs)} 处差异", err=True)
        sys.exit(1)
    click.echo(f"核对 {checked} 个经费年度,账实相符")


# ---------------------------------------------------------------------------------------- rules


@main.command("rules")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def rules_cmd(as_json: bool) -> None:
    """列出全部规则:代码、条款、检查内容、提示信息。"""
    from rules.catalog import RULES

    rows = [{"code": r.code, "article": r.article, "checks": r.checks, "message": r.message} for r in RULES]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r['code']:<40} {r['article']:<14} {r['checks']}")


# ---------------------------------------------------------------------------------------- sweep


def _parse_now(now_text: str | None) -> dt.datetime | None:
    """``--now``: an ISO date-time; without a zone it is Beijing time. Exits 2 on a bad value."""
    if not now_text:
        return None
    from workflow import clock

    try:
        now = dt.datetime.fromisoformat(now_text)
    except ValueError:
        click.echo(f"时间格式不正确: {now_text}(例如 2026-10-12T09:00)", err=True)
        sys.exit(2)
    return now if now.tzinfo is not None else now.replace(tzinfo=clock.SHANGHAI)


@main.command("sweep")
@click.option("--now", "now_text", default=None, help="以该时刻(ISO 8601,无时区按北京时间)执行一次扫描")
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="积压较多时(PostgreSQL)并行扫描的进程数,默认为本机 CPU 数")
def sweep_cmd(now_text: str | None, processes: int | None) -> None:
    """执行一次期限扫描:到期的公示期、审批期限等逐一触发(已触发的不会重复)。"""
    from store.bootstrap import prepare
    from workflow import clock
    from workflow.sweep import sweep_backlog

    now = _parse_now(now_text)
    database = _db()
    prepare(database)
    if now is not None:
        with clock.frozen(now):
            result = sweep_backlog(database, now, processes=processes)
    else:
        result = sweep_backlog(database, processes=processes)
    click.echo(f"扫描完成: 触发 {result.fired} 个期限事件,逾期提醒 {result.escalated} 个,"
               f"条件未满足待重试 {result.refused} 个")


# ------------------------------------------------------------------------------------ scheduler


@main.command("scheduler")
@click.option("--leader", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="auto: PostgreSQL 上以咨询锁选出唯一主调度器(其余待命),SQLite 上直接运行;always: 不选举;never: 不运行")
@click.option("--once", is_flag=True, help="只执行一轮(建立年度/跟进/需求征集期限,再扫描到期期限)后退出")
@click.option("--now", "now_text", default=None, help="与 --once 同用:以该时刻(ISO 8601,无时区按北京时间)执行")
@click.option("--sweep-seconds", type=float, default=None, help="扫描间隔秒数(默认 FUNDFLOW_SWEEP_SECONDS 或 30)")
@click.option("--election-seconds", type=float, default=None,
              help="待命进程重试选举的间隔秒数(默认 FUNDFLOW_ELECTION_SECONDS 或 15)")
def scheduler_cmd(leader: str, once: bool, now_text: str | None, sweep_seconds: float | None,
                  election_seconds: float | None) -> None:
    """期限调度器(独立进程):到期的公示期、审批期限、跟进检查、年度报告与结转等逐一触发并发出提醒。

    一直运行,收到 SIGTERM / Ctrl-C 时完成当前事务后退出。生产环境二选一:本命令单独运行一个
    (可多开作热备,只有一个生效),或由 `fundflow serve` 的工作进程之一担任(见 docs/scheduler.md)。
    """
    import logging

    from store.bootstrap import prepare
    from workflow import clock

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if now_text and not once:
        click.echo("--now 只能与 --once 同用", err=True)
        sys.exit(2)
    now = _parse_now(now_text)
    database = _db()
    prepare(database)
    if once:
        from workflow.jobs import run_once

        if now is not None:
            with clock.frozen(now):
                result = run_once(database, now)
        else:
            result = run_once(database)
        s = result.sweep
        click.echo(f"调度一轮完成: 新建期限 {result.created} 个;触发 {s.fired} 个,逾期提醒 {s.escalated} 个,"
                   f"到期提醒 {s.notified} 个,无需处理 {s.moot} 个,条件未满足待重试 {s.refused} 个,"
                   f"临时期限提示 {s.flagged} 个")
        return
    import scheduler

    click.echo(f"调度器启动(leader={leader},数据库 {'PostgreSQL' if database.is_postgres else 'SQLite'}),"
               "SIGTERM 或 Ctrl-C 停止", err=True)
    scheduler.run_forever(database, leader, sweep_seconds=sweep_seconds, election_seconds=election_seconds)
    click.echo("调度器已停止", err=True)


# ---------------------------------------------------------------------------------------- audit


@main.group()
def audit() -> None:
    """审计链。"""


@audit.command("verify")
def audit_verify() -> None:
    """逐条校验审计哈希链;发现断链时以非零状态退出并指出第一处断点。"""
    from workflow.audit import verify

    database = _db()
    with database.uow(write=False) as uow:
        result = verify(uow.session)
    if result.ok:
        click.echo(f"审计链完整: {result.chains} 条链,{result.checked} 个事件")
        return
    click.echo(f"审计链断裂: {result.broken}", err=True)
    sys.exit(1)


# ---------------------------------------------------------------------------------------- demo
# (demo command is defined below this line)

_ROLE_ZH = {
    "community_secretary": "社区党委书记", "community_staff": "社区党委委员/社区工作者",
    "supervisor": "社区议事监督委员会成员", "working_member": "社区党工委委员",
    "working_secretary": "社区党工委书记", "construction_director": "社区建设管理委员会主任",
    "finance_officer": "党工委财务管理人员", "city_admin": "市委组织部/财政",
}


def _demo_summary(database):  # type: ignore[no-untyped-def]
    """(communities, projects by state) as they are in the database now."""
    from sqlalchemy import func, select

    from store.models import Organisation, Project

    with database.uow(write=False) as uow:
        s = uow.session
        communities = s.scalar(select(func.count()).select_from(Organisation)
                               .where(Organisation.level == "community")) or 0
        by_state = dict(s.execute(select(Project.state, func.count()).group_by(Project.state)).tuples().all())
    return communities, by_state


def _print_accounts(database, as_json: bool) -> None:  # type: ignore[no-untyped-def]
    from workflow.demo import demo_accounts

    accounts = demo_accounts(database)
    if as_json:
        keys = ("username", "password", "role", "organisation", "name")
        click.echo(json.dumps([{k: a[k] for k in keys if k in a} for a in accounts], ensure_ascii=False, indent=2))
        return
    if not accounts:
        click.echo("数据库中没有账号。先运行 `fundflow demo` 载入演示城市。")
        return
    headers = ("用户名 username", "密码 password", "角色 role", "组织 organisation", "姓名 name")
    rows = [(a["username"], a["password"], f"{a['role']} {_ROLE_ZH.get(a['role'], '')}".strip(),
             a["organisation"], a.get("name", "")) for a in accounts]

    def width(text: str) -> int:  # CJK characters take two columns in a terminal
        import unicodedata

        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max(width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        click.echo("  ".join(str(v) + " " * (widths[i] - width(str(v))) for i, v in enumerate(r)).rstrip())


@main.command("demo")
@click.option("--if-empty", is_flag=True, help="只在数据库中还没有任何组织时载入演示数据")
@click.option("--accounts", is_flag=True, help="列出全部账号(用户名、密码、角色、组织),不载入数据")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出(账号列表或载入结果)")
def demo(if_empty: bool, accounts: bool, as_json: bool) -> None:
    """载入演示城市:1 个城市、1 个大社区、5 个社区、约 20 个处于各个状态的项目(全部由真实事件驱动)。

    演示城市只能载入空数据库(DATABASE_URL,默认 ./var/fundflow.db;需要时自动创建并迁移)。
    --accounts 列出账号;--json 以 JSON 输出账号或载入结果。
    """
    from sqlalchemy import func, select
    from sqlalchemy.engine import make_url

    from store.bootstrap import prepare
    from store.models import Organisation
    from workflow.definitions.project import LABELS

    database = _db()
    prepare(database)
    if accounts:
        _print_accounts(database, as_json)
        return
    with database.uow(write=False) as uow:
        organisations = uow.session.scalar(select(func.count()).select_from(Organisation)) or 0
    loaded = False
    if organisations and not if_empty:
        click.echo("数据库中已有组织数据,演示城市只能载入空数据库。"
                   "请使用 --if-empty,或以 DATABASE_URL 指定另一个数据库。", err=True)
        sys.exit(1)
    if not organisations:
        from workflow.demo import build_demo

        click.echo("正在载入演示城市(按真实流程逐个触发事件,约需数秒)……", err=as_json)
        build_demo(database)
        loaded = True
    communities, by_state = _demo_summary(database)
    url = make_url(database.url).render_as_string(hide_password=True)
    if as_json:
        click.echo(json.dumps({"loaded": loaded, "database": url, "communities": communities,
                               "projects": sum(by_state.values()), "states": by_state}, ensure_ascii=False))
        return
    if not loaded:
        click.echo(f"数据库已有数据({communities} 个社区,{sum(by_state.values())} 个项目),未重复载入演示城市。")
        return
    order = [k for k in LABELS if k in by_state] + sorted(k for k in by_state if k not in LABELS)
    states = ",".join(f"{LABELS.get(k, k)} {by_state[k]}" for k in order)
    click.echo(f"演示城市已载入: {communities} 个社区,{sum(by_state.values())} 个项目,"
               f"分布于 {len(by_state)} 个状态({states})。")
    click.echo(f"数据库: {url}")
    click.echo("账号列表: fundflow demo --accounts")


# --------------------------------------------------------------------------------------- serve
# (serve command is defined below this line)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="监听端口")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1),
              help="工作进程数(多进程请使用 PostgreSQL)")
def serve(host: str, port: int, workers: int) -> None:
    """迁移数据库后启动 Web 服务(http://HOST:PORT,健康检查 /healthz)。"""
    import uvicorn

    from store.bootstrap import prepare

    database = _db()
    prepare(database)
    database.dispose()
    click.echo(f"正在启动 fundflow 服务: http://{host}:{port}/  (健康检查 /healthz,Ctrl-C 停止)")
    uvicorn.run("api.app:app", host=host, port=port, workers=workers)


if __name__ == "__main__":
    main()
