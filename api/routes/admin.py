"""Administration (city administrators): users and posts, policy versions, the calendar, the audit check."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Request
from starlette.concurrency import run_in_threadpool

from api import queries, services
from api.deps import DB, AppSettings, CurrentViewer, read_in_thread
from api.errors import PayloadTooLarge, UnsupportedMediaType
from api.routes import Router, problems
from api.schemas import (
    AuditVerifyOut,
    CalendarImportOut,
    PolicyIn,
    PolicyList,
    PolicyOut,
    PostEndIn,
    PostIn,
    UserIn,
    UserList,
    UserOut,
)
from rules.text import control_character
from workflow.fields import Length, LineText

router = Router(tags=["administration"])
PersonId = Annotated[int, Path(ge=1, le=2**53)]


@router.get("/admin/users", response_model=UserList, responses=problems(401, 403))
async def list_users(viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """本市的用户及其全部岗位(含已结束的)。"""
    return await read_in_thread(db, queries.users, viewer)


@router.post("/admin/users", response_model=UserOut, status_code=201,
             responses=problems(401, 403, 409, 413, 415, 422))
def create_user(body: UserIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """新建用户(密码以 argon2 散列保存)。"""
    return services.create_user(db, viewer, body)


@router.post("/admin/users/{person_id}/posts", response_model=UserOut, status_code=201,
             responses=problems(401, 403, 404, 413, 415, 422))
def add_post(person_id: PersonId, body: PostIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """任命岗位(组织、岗位、任期)。岗位须与组织层级相符。"""
    return services.add_post(db, viewer, person_id, body)


@router.post("/admin/posts/{post_id}/end", response_model=UserOut, responses=problems(401, 403, 404, 409, 413, 415, 422))
def end_post(post_id: Annotated[int, Path(ge=1, le=2**53)], body: PostEndIn, viewer: CurrentViewer,
             db: DB) -> dict[str, Any]:
    """结束岗位任期(``valid_to`` 为最后一天);此后该岗位不能再签字或审批。"""
    return services.end_post(db, viewer, post_id, body.valid_to)


@router.get("/admin/policies", response_model=PolicyList, responses=problems(401, 403))
async def list_policies(viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """政策版本(细则中各地自定的数值)及其生效日期。"""
    return await read_in_thread(db, queries.policies, viewer)


@router.post("/admin/policies", response_model=PolicyOut, status_code=201,
             responses=problems(401, 403, 404, 413, 415, 422))
def publish_policy(body: PolicyIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """发布新的政策版本;已提议的项目继续适用其提议时的版本。"""
    return services.publish(db, viewer, body)


_CALENDAR_BODY = {"requestBody": {"required": True, "content": {"text/plain": {
    "schema": {"type": "string", "maxLength": 65536},
    "example": "year 2027\n2027-01-01 holiday 元旦\n2027-02-06..2027-02-13 holiday 春节\n2027-02-14 makeup 春节调休\n"}}}}


@router.post("/calendar/import", response_model=CalendarImportOut, openapi_extra=_CALENDAR_BODY,
             responses=problems(401, 403, 413, 415, 422))
async def import_calendar(request: Request, viewer: CurrentViewer, db: DB, settings: AppSettings,
                          source: Annotated[LineText, Length(200), Query(description="来源说明")] = "") -> dict[str, Any]:
    """导入一年的官方节假日安排(UTF-8 文本,格式见 ``rules.calendar``),并重新计算受影响的期限。"""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "text/plain":
        raise UnsupportedMediaType("节假日安排须以 text/plain 提交", code="calendar.media_type")
    raw = await request.body()
    if len(raw) > settings.calendar_max_bytes:
        raise PayloadTooLarge(f"节假日安排文件过大(最多 {settings.calendar_max_bytes // 1024} KB)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsupportedMediaType("内容不是 UTF-8 编码的文本", code="calendar.not_text") from exc
    if (problem := control_character(text, multiline=True)) is not None:
        raise UnsupportedMediaType(f"内容含有控制字符,不是文本文件: {problem}", code="calendar.not_text")
    return await run_in_threadpool(services.import_calendar, db, viewer, text, source.strip() or "HTTP 导入")


@router.get("/audit/verify", response_model=AuditVerifyOut, responses=problems(401, 403))
def verify(viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """逐条核验全部审计哈希链;``broken`` 指出第一处被篡改、删除或插入的位置。"""
    return services.verify_audit(db, viewer)
