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
        click.echo(mermaid_markdown())


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


# --------------------------------------------------------------------------------------- serve
# (serve command is defined below this line)


if __name__ == "__main__":
    main()
