"""The ``fundflow`` command: database, demo, service, calendar, workflow, audit, ledger, sweep."""
from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import click

if TYPE_CHECKING:
    from typing import Any

    from store.db import Database
    from workflow.roster import Progress


def _db() -> Database:
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


class _IsoDate(click.ParamType):  # type: ignore[type-arg]
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
    from workflow.calendar import import_schedule

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


# ------------------------------------------------------------------------------------------ org
# (organisation and roster commands: workflow.org, workflow.roster, workflow.accounts)


@main.group("org")
def org_group() -> None:
    """组织与名单:大社区、社区的新设、更名、调整、撤销,名单导入,账号密码。"""


def _org_actor(database, username: str | None):  # type: ignore[no-untyped-def]
    """``--actor USERNAME``: act as that city administrator (checked like the API); else the operator."""
    from workflow.engine import Actor
    from workflow.org import CLI

    if not username:
        return CLI
    from sqlalchemy import select

    from store.models import Person

    with database.uow(write=False) as uow:
        pid = uow.session.execute(select(Person.id).where(Person.username == username)).scalar_one_or_none()
    if pid is None:
        click.echo(f"用户 {username} 不存在", err=True)
        sys.exit(2)
    return Actor(int(pid), username)


def _org_refused(exc) -> None:  # type: ignore[no-untyped-def]
    v = exc.verdict
    click.echo(f"未执行: {v.message}({v.article},{v.code})", err=True)
    sys.exit(1)


def _org_run(action, actor_name: str | None):  # type: ignore[no-untyped-def]
    """Run ``action(session, actor)`` in one unit of work; a refusal exits 1 naming its article."""
    from store.bootstrap import prepare
    from workflow.services import ServiceError

    database = _db()
    prepare(database)
    actor = _org_actor(database, actor_name)
    try:
        with database.uow() as uow:
            result = action(uow.session, actor)
            uow.commit()
    except ServiceError as exc:
        _org_refused(exc)
    return result


_ACTOR_OPTION = click.option("--actor", "actor_name", default=None, metavar="USERNAME",
                             help="以该市管理员(city_admin)的身份操作并记入审计;缺省为服务器上的操作员(cli)")


@org_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def org_list(as_json: bool) -> None:
    """列出全部组织(市 → 大社区 → 社区),含已撤销的。"""
    from rules.org import level_label
    from store.bootstrap import prepare
    from workflow.org import tree

    database = _db()
    prepare(database)
    with database.uow(write=False) as uow:
        nodes = tree(uow.session)
    if as_json:
        click.echo(json.dumps([{**n.as_dict(), "closed_on": n.closed_on.isoformat() if n.closed_on else None}
                               for n in nodes], ensure_ascii=False, indent=2))
        return
    if not nodes:
        click.echo("尚无组织。先用 fundflow org create --level city 建立市,再导入名单。")
    indent = {"city": "", "area": "  ", "community": "    "}
    for n in nodes:
        closed = f"  (已于 {n.closed_on.isoformat()} 撤销)" if n.closed_on else ""
        click.echo(f"{indent.get(n.level, '')}{n.code}  {n.name}  [{level_label(n.level)}]{closed}")


@org_group.command("create")
@click.option("--level", type=click.Choice(["city", "area", "community"]), required=True,
              help="city(市,仅限本命令)、area(大社区)或 community(社区)")
@click.option("--code", required=True, help="组织代码,全系统唯一,如 S06")
@click.option("--name", required=True, help="名称,如 向阳社区")
@click.option("--parent", "parent_code", default=None, help="上级组织代码(大社区填市,社区填大社区)")
@_ACTOR_OPTION
def org_create(level: str, code: str, name: str, parent_code: str | None, actor_name: str | None) -> None:
    """新设市、大社区或社区。新设的市同时发布细则默认值的第 1 版政策。"""
    from workflow import org

    def act(s, actor):  # type: ignore[no-untyped-def]
        parent_id = org.by_code(s, parent_code).id if parent_code else None
        made = org.create(s, actor, level, code, name, parent_id)
        return made.code, made.name

    made_code, made_name = _org_run(act, actor_name)
    click.echo(f"已新设{ {'city': '市', 'area': '大社区', 'community': '社区'}[level] } {made_code} {made_name}")


@org_group.command("rename")
@click.argument("code")
@click.argument("name")
@_ACTOR_OPTION
def org_rename(code: str, name: str, actor_name: str | None) -> None:
    """将组织 CODE 更名为 NAME。"""
    from workflow import org

    def act(s, actor):  # type: ignore[no-untyped-def]
        return org.rename(s, actor, org.by_code(s, code).id, name).name

    click.echo(f"{code} 已更名为 {_org_run(act, actor_name)}")


@org_group.command("move")
@click.argument("code")
@click.argument("area_code")
@click.option("--reason", default="", help="调整原因(记入审计)")
@_ACTOR_OPTION
def org_move(code: str, area_code: str, reason: str, actor_name: str | None) -> None:
    """将社区 CODE 调整到同一市内的大社区 AREA_CODE(自此由新大社区行使职权)。"""
    from workflow import org

    def act(s, actor):  # type: ignore[no-untyped-def]
        return org.move(s, actor, org.by_code(s, code).id, org.by_code(s, area_code).id, reason=reason).code

    _org_run(act, actor_name)
    click.echo(f"社区 {code} 已调整到大社区 {area_code}")


@org_group.command("close")
@click.argument("code")
@click.option("--reason", required=True, help="撤销原因")
@_ACTOR_OPTION
def org_close(code: str, reason: str, actor_name: str | None) -> None:
    """撤销大社区或社区 CODE(自今日起;记录保留,岗位任期今日结束)。"""
    from workflow import org

    def act(s, actor):  # type: ignore[no-untyped-def]
        return org.close(s, actor, org.by_code(s, code).id, reason)

    closed = _org_run(act, actor_name)
    frozen = "".join(f";冻结 {y['year']} 年度(拨付 {y['allocation']} 元,上年结余 {y['carry_in']} 元)"
                     for y in closed.frozen_years)
    click.echo(f"{code} 已于 {closed.org.closed_on.isoformat()} 撤销,结束岗位任期 {closed.ended_posts} 个{frozen}")


class _Bar:
    """A click progress bar on a terminal (stderr), nothing elsewhere: piped output stays clean."""

    def __init__(self, stream) -> None:  # type: ignore[no-untyped-def]
        self.stream = stream
        self.bar: Any = None

    def start(self, label: str, total: int) -> None:
        from workflow.roster import STEP

        self.finish()
        if self.stream.isatty() and total >= 2 * STEP:
            self.bar = click.progressbar(length=total, label=label, file=self.stream, show_pos=True)
            self.bar.__enter__()

    def advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.update(self.bar.length - self.bar.pos)
            self.bar.__exit__(None, None, None)
            self.bar = None


@org_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dry-run", is_flag=True, help="只检查并报告将要做的变更,不写入")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果(或错误列表)")
@_ACTOR_OPTION
def org_import(file: str, dry_run: bool, as_json: bool, actor_name: str | None) -> None:
    """导入名单(.xlsx 或 UTF-8 .csv):大社区、社区及人员的岗位和任期(格式见 README)。

    先检查整个文件;有任何错误时逐行列出(行号、列)且不导入任何数据。再次导入同一名单是安全的。"""
    from pathlib import Path

    from store.bootstrap import prepare
    from workflow.roster import RosterError, import_roster
    from workflow.services import ServiceError

    data = Path(file).read_bytes()
    database = _db()
    prepare(database)
    actor = _org_actor(database, actor_name)
    bar = _Bar(sys.stderr)
    try:
        with database.uow() as uow:
            result = import_roster(uow.session, actor, data, Path(file).name, dry_run=dry_run,
                                   progress=cast("Progress", bar))
            if not dry_run:
                uow.commit()
        if not dry_run:
            database.refresh_statistics()  # thousands of rows may have come in
    except RosterError as exc:
        bar.finish()
        if as_json:
            click.echo(json.dumps({"ok": False, "errors": [e.as_dict() for e in exc.errors]}, ensure_ascii=False))
        else:
            click.echo(f"导入失败: {file} 有 {len(exc.errors)} 处错误(第 {'、'.join(map(str, exc.rows))} 行),"
                       "未导入任何数据(第二条)", err=True)
            for e in exc.errors:
                click.echo(f"  {e}", err=True)
        sys.exit(1)
    except ServiceError as exc:
        bar.finish()
        _org_refused(exc)
    if as_json:
        click.echo(json.dumps({"ok": True, **result.as_dict()}, ensure_ascii=False))
        return
    head = "检查通过(未写入)" if dry_run else "已导入"
    click.echo(f"{head} {file}: {result.rows} 行;新设大社区 {result.areas_created} 个、社区 {result.communities_created} 个,"
               f"更名 {result.orgs_renamed} 个;新建人员 {result.people_created} 人、更新 {result.people_updated} 人;"
               f"新任岗位 {result.posts_created} 个、调整任期 {result.posts_updated} 个;"
               f"未变 {result.orgs_unchanged + result.people_unchanged + result.posts_unchanged} 项")
    if result.without_password:
        click.echo(f"{result.without_password} 人尚未设置密码,暂不能登录:用 fundflow org activation USERNAME "
                   "签发一次性激活码,或 fundflow org set-password USERNAME 设置。")


@org_group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="从标准输入读取密码(一行),用于脚本")
def org_set_password(username: str, password_stdin: bool) -> None:
    """为账号设置密码(输入两次,不回显);其现有登录会话随即失效。"""
    from argon2 import PasswordHasher

    from workflow import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("新密码", hide_input=True, confirmation_prompt="再输入一次")
    hashed = PasswordHasher().hash(password)

    def act(s, actor):  # type: ignore[no-untyped-def]
        accounts.set_password(s, actor, accounts.find_person(s, username), password, hashed)

    _org_run(act, None)
    click.echo(f"已为 {username} 设置密码")


@org_group.command("activation")
@click.argument("username")
@click.option("--hours", type=click.IntRange(1, 24 * 30), default=72, show_default=True, help="有效小时数")
@_ACTOR_OPTION
def org_activation(username: str, hours: int, actor_name: str | None) -> None:
    """签发一次性激活码:本人以此码在 POST /api/v1/auth/activate 设置密码(只显示这一次)。"""
    from workflow import accounts, clock

    def act(s, actor):  # type: ignore[no-untyped-def]
        return accounts.issue_activation(s, actor, accounts.find_person(s, username), hours)

    issued = _org_run(act, actor_name)
    until = issued.expires_at.astimezone(clock.SHANGHAI).strftime("%Y-%m-%d %H:%M")
    click.echo(f"{issued.username} 的激活码: {issued.code}(北京时间 {until} 前有效,仅可使用一次)")


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
@click.option("--published", "published", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="另一份已公布的签名根(公示栏或 /api/v1/public/audit/roots 保存的 JSON,或见证日志),可多次给出")
@click.option("--full", is_flag=True, help="逐个重算每个签名根的全部链头默克尔根(默认只重算最近一个)")
def audit_verify(published: tuple[str, ...], full: bool) -> None:
    """校验审计链:每条哈希链、每日签名根(签名、默克尔根、是否被删除)、链与业务表(审批、付款、签核、签字、状态)。

    发现问题时逐条列出并以非零状态退出。签名用本机配置的公钥校验(签名密钥文件,或
    FUNDFLOW_AUDIT_PUBLIC_KEYS),从不信任数据库中的公钥。
    """
    from pathlib import Path

    from workflow.anchors import verify_all

    database = _db()
    with database.uow(write=False) as uow:
        result = verify_all(uow.session, published=[Path(p) for p in published], full=full)
    if result.ok:
        unanchored = result.checked - result.anchored_events
        click.echo(f"审计链完整: {result.chains} 条链,{result.checked} 个事件;签名根 {result.roots} 个,"
                   f"已锚定 {result.anchored_events} 个事件,最近签名之后 {unanchored} 个事件尚待签名")
        return
    for problem in result.problems:
        click.echo(f"审计链断裂: {problem}", err=True)
    click.echo(f"共发现 {len(result.problems)} 处问题", err=True)
    sys.exit(1)


@audit.command("sign")
def audit_sign() -> None:
    """立即签署一个审计签名根(全部审计链的链头;调度器每日 23:50 自动签署)。"""
    from store.bootstrap import prepare
    from workflow.anchors import KeyError_, sign_root

    database = _db()
    prepare(database)
    try:
        signed = sign_root(database)
    except KeyError_ as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"已签署签名根 #{signed.seq}({signed.day}):{signed.chains} 条链,{signed.events} 个事件,"
               f"本次变化 {signed.delta_count} 条;默克尔根 {signed.state_root};密钥 {signed.key_id}")


@audit.command("keygen")
@click.option("--file", "path", default=None, help="私钥文件(默认 FUNDFLOW_AUDIT_KEY_FILE 或 keys/audit-signing.key)")
@click.option("--if-missing", is_flag=True, help="文件已存在时什么也不做")
def audit_keygen(path: str | None, if_missing: bool) -> None:
    """生成审计签名密钥(Ed25519,PEM,权限 0600);密钥不进数据库,请另行备份。"""
    from pathlib import Path

    from workflow.anchors import Settings, generate_key_file, load_signing_key

    settings = Settings.from_env()
    target = Path(path) if path else settings.key_file
    if target.exists():
        if if_missing:
            key = load_signing_key(Settings(key_file=target))
            click.echo(f"审计签名密钥已存在: {target}(密钥 {key.key_id})")
            return
        click.echo(f"{target} 已存在,不覆盖(更换密钥须先备份并移走旧文件,旧公钥加入 FUNDFLOW_AUDIT_PUBLIC_KEYS)",
                   err=True)
        sys.exit(1)
    key = generate_key_file(target)
    click.echo(f"已生成审计签名密钥: {target}(密钥 {key.key_id},公钥 {key.public_hex})")


@audit.command("public-key")
def audit_public_key() -> None:
    """打印签名公钥(十六进制),供公示与第三方核验。"""
    from workflow.anchors import KeyError_, load_signing_key

    try:
        key = load_signing_key()
    except KeyError_ as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    click.echo(f"{key.public_hex}  (密钥 {key.key_id})")


@audit.command("roots")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出(与公开接口相同)")
@click.option("--limit", type=click.IntRange(1, 100_000), default=30, show_default=True)
def audit_roots(as_json: bool, limit: int) -> None:
    """列出最近的审计签名根。"""
    from workflow.anchors import roots

    database = _db()
    with database.uow(write=False) as uow:
        items = roots(uow.session, limit=limit)
    if as_json:
        click.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("尚无签名根(fundflow audit sign 立即签署)")
    for r in items:
        click.echo(f"#{r['seq']:<5} {r['day']}  {r['chains']} 条链 {r['events']} 个事件  {r['state_root']}  密钥 {r['key_id']}")


# ------------------------------------------------------------------------------- documents, archive
# (issue 10: printed documents and the archive of a community-year)


def _font_or_exit() -> None:
    from documents import FontMissing, ensure_fonts

    try:
        ensure_fonts()
    except FontMissing as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@main.group("archive", invoke_without_command=True)
@click.option("--community", "community_code", default=None, help="社区代码,如 S01")
@click.option("--year", type=int, default=None, help="经费年度,如 2026")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="输出的 zip 文件")
@click.pass_context
def archive_cmd(ctx: click.Context, community_code: str | None, year: int | None, out_path: str | None) -> None:
    """社区经费年度档案(第十七条):fundflow archive --community CODE --year YEAR --out FILE.zip

    档案含全部文件(PDF)与原始记录、明细账(xlsx)、每个项目和经费年度的审计事件、各审计链的末端哈希,
    以及清单 manifest.json(文件、sha256、所证明的事项、所依据的审计事件)。核验:fundflow archive verify FILE.zip
    """
    if ctx.invoked_subcommand is not None:
        return
    if not (community_code and year and out_path):
        click.echo("用法: fundflow archive --community CODE --year YEAR --out FILE.zip"
                   "(或 fundflow archive verify FILE.zip)", err=True)
        sys.exit(2)
    from pathlib import Path

    from workflow.archive import ArchiveError, build_archive

    _font_or_exit()
    database = _db()
    target = Path(out_path)
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as out, click.progressbar(length=0, label="正在生成档案", file=sys.stderr) as bar:
            def progress(tasks):  # type: ignore[no-untyped-def]
                bar.length = len(tasks)
                for task in tasks:
                    yield task
                    bar.update(1)

            built = build_archive(database, community_code, year, out, progress=progress)
    except ArchiveError as exc:
        partial.unlink(missing_ok=True)
        click.echo(f"无法生成档案: {exc}", err=True)
        sys.exit(2)
    except BaseException:
        partial.unlink(missing_ok=True)  # never leave half an archive behind
        raise
    partial.replace(target)
    click.echo(f"档案已写入 {target}: {built.path_count} 个文件(含清单),其中 {built.codes} 份带核验码的文件;"
               f"清单 sha256 {built.manifest_sha256}")


@archive_cmd.command("verify")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def archive_verify(file: str) -> None:
    """核验档案:逐个文件核对 sha256,逐条重算审计哈希链;不符时以非零状态退出并指出第一处不符。"""
    from workflow.anchors import Settings, trusted_keys
    from workflow.archive import verify_archive

    with open(file, "rb") as f:
        check = verify_archive(f, trusted_keys(Settings.from_env()))
    if check.ok:
        click.echo(f"档案完整: {check.files} 个文件与清单一致,{check.chains} 条审计链、{check.events} 个审计事件可重算")
        root = check.signed_root
        if root:
            click.echo(f"已核验第 {root['seq']} 号每日签名根({root['day']},密钥 {root['key_id']},请与公示的公钥核对):"
                       "档案中的审计链与签名时一致")
        else:
            click.echo("档案未附每日签名根:只能证明档案内部一致,不能证明档案未被整体改写")
        return
    click.echo(f"档案核验失败: {check.first}", err=True)
    if len(check.problems) > 1:
        click.echo(f"(另有 {len(check.problems) - 1} 处不符)", err=True)
    sys.exit(1)


@main.command("document")
@click.argument("kind", type=click.Choice(["application_form", "notice", "minutes", "board_record",
                                          "acceptance_record", "change_filing", "payment_voucher",
                                          "annual_report", "annual_disclosure"]))
@click.argument("object_id", type=click.IntRange(min=1))
@click.option("--out", "out_path", type=click.Path(dir_okay=False, writable=True), default=None,
              help="输出的 PDF 文件(默认按文件名写在当前目录)")
def document_cmd(kind: str, object_id: int, out_path: str | None) -> None:
    """打印一份文件(PDF)并登记其核验码,如 fundflow document application_form 12。"""
    from workflow import papers

    _font_or_exit()
    database = _db()
    try:
        with database.uow(write=False) as uow:
            printed = papers.render(uow.session, kind, object_id)
        with database.uow() as uow:
            papers.register(uow.session, kind, object_id, printed.doc, printed.owner, printed.sha256)
            uow.commit()
    except papers.Unavailable as exc:
        click.echo(f"无法打印: {exc}", err=True)
        sys.exit(2)
    from pathlib import Path

    target = Path(out_path or printed.filename)
    target.write_bytes(printed.content)
    from documents.codes import display

    click.echo(f"已写入 {target}({len(printed.content)} 字节),核验码 {display(printed.code)}")


# ---------------------------------------------------------------------------------------- demo
# (demo command is defined below this line)

_ROLE_ZH = {
    "community_secretary": "社区党委书记", "community_staff": "社区党委委员/社区工作者",
    "supervisor": "社区议事监督委员会成员", "working_member": "社区党工委委员",
    "working_secretary": "社区党工委书记", "construction_director": "社区建设管理委员会主任",
    "finance_officer": "党工委财务管理人员", "city_admin": "市委组织部/财政",
}


def _demo_summary(database: Database) -> Any:
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
    _table(headers, rows)


def _table(headers: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Aligned columns; CJK characters take two columns in a terminal."""
    import unicodedata

    def width(text: str) -> int:
        return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

    widths = [max(width(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    for r in [headers, *rows]:
        click.echo("  ".join(str(v) + " " * (widths[i] - width(str(v))) for i, v in enumerate(r)).rstrip())


# ------------------------------------------------------------------------------------- inspection


@main.command("inspect")
@click.option("--area", "area_code", required=True, help="大社区代码,如 A01")
@click.option("--year", required=True, type=click.IntRange(2000, 2100), help="年度")
@click.option("--community", "community_code", default=None, help="只看该社区(社区代码,如 S01)")
@click.option("--all", "include_dismissed", is_flag=True, help="也列出已排除的疑点")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def inspect(area_code: str, year: int, community_code: str | None, include_dismissed: bool, as_json: bool) -> None:
    """列出大社区某年度的疑点(第十八条、第十九条):拆分项目、收款方集中、同一个人多次无发票收款、单价偏高、
    仓促或滞后的环节、一人兼任应分离的岗位、验收偏弱。每个疑点附条款、说明和依据(项目、付款、审计事件、存档文件)。"""
    from sqlalchemy import select

    from store.bootstrap import prepare
    from store.models import Organisation
    from workflow.redflags import area_flags, as_dict, community_names

    database = _db()
    prepare(database)
    with database.uow(write=False) as uow:
        s = uow.session
        area = s.execute(select(Organisation.id, Organisation.name).where(
            Organisation.code == area_code, Organisation.level == "area")).one_or_none()
        if area is None:
            click.echo(f"没有代码为 {area_code} 的大社区", err=True)
            sys.exit(2)
        community = None
        if community_code:
            community = s.execute(select(Organisation.id).where(
                Organisation.code == community_code, Organisation.level == "community",
                Organisation.parent_id == area.id)).scalar_one_or_none()
            if community is None:
                click.echo(f"大社区 {area_code} 没有代码为 {community_code} 的社区", err=True)
                sys.exit(2)
        flags = area_flags(s, area.id, year, community, include_dismissed=include_dismissed)
        names = community_names(s, [f.community_id or 0 for f in flags])
    rows = [as_dict(f, names) for f in flags]
    if as_json:
        click.echo(json.dumps({"area": area_code, "year": year, "community": community_code, "flags": rows},
                              ensure_ascii=False, indent=2))
        return
    scope = f"{area.name}({area_code}){f' {community_code}' if community_code else ''} {year} 年度"
    if not rows:
        click.echo(f"{scope}:未发现疑点。")
        return
    click.echo(f"{scope}:疑点 {len(rows)} 个")
    _table(("序号", "社区", "疑点", "条款", "依据", "标识"),
           [(str(i), f"{r['community_code']} {r['community_name']}".strip() or "全大社区",
             r["title"] + ("(已排除)" if r["dismissed"] else ""), r["article"], f"{len(r['evidence'])} 项", r["key"])
            for i, r in enumerate(rows, 1)])
    for i, r in enumerate(rows, 1):
        click.echo(f"\n[{i}] {r['title']}({r['code']},{r['article']})\n    {r['message']}")
        for e in r["evidence"]:
            click.echo(f"    - {e['kind']} {e['ref']}  {e['label']}")
        if r["dismissal"]:
            d = r["dismissal"]
            click.echo(f"    已由{d['by']}于 {d['at']} 排除:{d['reason']}")


@main.command("demo")
@click.option("--if-empty", is_flag=True, help="只在数据库中还没有任何组织时载入演示数据")
@click.option("--accounts", is_flag=True, help="列出全部账号(用户名、密码、角色、组织),不载入数据")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出(账号列表或载入结果)")
@click.option("--scale", default=1, show_default=True, type=click.IntRange(1, 1000),
              help="放大倍数 N:N 个大社区、5N 个社区,人员、需求和项目同比放大(全部由真实事件驱动;×100 约需数分钟)")
def demo(if_empty: bool, accounts: bool, as_json: bool, scale: int) -> None:
    """载入演示城市:1 个城市、1 个大社区、5 个社区、约 20 个处于各个状态的项目(全部由真实事件驱动);
    --scale N 载入 N 倍的城市(N 个大社区、5N 个社区)。

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

        click.echo(f"正在载入演示城市{'(×' + str(scale) + ')' if scale > 1 else ''}(按真实流程逐个触发事件,"
                   f"约需{'数秒' if scale == 1 else f' {max(1, scale * 4 // 60)} 分钟'})……", err=as_json)
        build_demo(database, scale=scale)
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
@click.option("--keep-alive", "keep_alive", default=65, show_default=True, type=click.IntRange(1, 3600),
              help="空闲长连接保持秒数(应长于前置代理的上游空闲时间)")
@click.option("--worker-healthcheck", "healthcheck", default=30, show_default=True, type=click.IntRange(1, 3600),
              help="多进程时,工作进程多少秒无应答才被重启")
def serve(host: str, port: int, workers: int, keep_alive: int, healthcheck: int) -> None:
    """迁移数据库后启动 Web 服务(http://HOST:PORT,健康检查 /healthz)。"""
    import uvicorn

    from store.bootstrap import prepare

    database = _db()
    prepare(database)
    database.dispose()
    from documents import FontMissing, ensure_fonts

    try:
        ensure_fonts()
    except FontMissing as exc:  # the service runs; printing answers 503 with the same message
        click.echo(f"警告: {exc}", err=True)
    click.echo(f"正在启动 fundflow 服务: http://{host}:{port}/  (健康检查 /healthz,Ctrl-C 停止)")
    # uvicorn's own defaults (5 s each) cut requests off: idle connections close while a reverse proxy
    # (nginx keeps upstream connections 60 s) or a client that connected a moment earlier reuses them,
    # and on a busy machine a worker that misses one 5 s health ping is killed with its requests in
    # flight (both seen as "server disconnected without a response" in tests/api/test_races.py).
    uvicorn.run("api.app:app", host=host, port=port, workers=workers, server_header=False,
                timeout_keep_alive=keep_alive, timeout_worker_healthcheck=healthcheck)


if __name__ == "__main__":
    main()
