"""Administration (city administrators): people and posts with their terms, policy versions, the holiday
calendar import, the audit-chain check. Each form posts to the same use case as its JSON route."""
from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import auth, services
from api.auth import Viewer
from api.errors import ApiError
from api.pages import database, read, reads
from api.pages.events import submit_model
from api.pages.forms import FormContext, bind, describe, flatten
from api.pages.options import options
from api.pages.render import render
from api.pages.session import CSRF_FIELD, page_viewer
from api.schemas import PostEndIn, PostIn, UserIn
from workflow import clock

router = APIRouter(include_in_schema=False)
PersonId = Annotated[int, Path(ge=1, le=2**53)]
CALENDAR_EXAMPLE = "year 2027\n2027-01-01 holiday 元旦\n2027-02-06..2027-02-13 holiday 春节\n2027-02-14 makeup 春节调休\n"


def _admin_only(viewer: Viewer) -> None:
    auth.require_admin(viewer)


def _people_context(session: Session, viewer: Viewer, failed: str = "", values: Any = None,
                    errors: dict[str, str] | None = None, offset: int = 0) -> dict[str, Any]:
    data = reads.people(session, viewer, offset)
    ctx = FormContext(session=session, viewer=viewer, record={}, extra={"organisations": data["organisations"]})
    errors = errors or {}
    today = flatten({"valid_from": clock.today().isoformat()})
    return {"data": data,
            "user_fields": bind(describe(UserIn), values if failed == "user" else None,
                                errors if failed == "user" else {}, ctx, fresh=failed != "user"),
            "post_fields": bind(describe(PostIn), values if failed == "post" else today,
                                errors if failed == "post" else {}, ctx, fresh=failed != "post"),
            "end_fields": bind(describe(PostEndIn), flatten({"valid_to": clock.today().isoformat()}), {}, ctx),
            "person_options": person_options(data["choices"],
                                             (values or {}).get("person_id", [""])[-1] if failed == "post" else "")}


def person_options(people: list[tuple[int, str, str]], chosen: str) -> Markup:
    """The ``<option>``s of every person (id, name, username) for the appointment form."""
    return options(((i, f"{name}({username})") for i, name, username in people), chosen)


@router.get("/admin")
async def people_page(request: Request, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> Response:
    viewer = await page_viewer(request)
    _admin_only(viewer)
    context = await read(request, _people_context, viewer, "", None, None, offset)
    done = request.query_params.get("done", "")
    flash = {"user": "已新建用户", "post": "已任命岗位", "end": "已结束岗位任期"}.get(done, "")
    return render(request, "admin_people.html", {**context, "error": None, "failed": "", "flash": flash},
                  viewer=viewer, title="用户与岗位")


async def _submit(request: Request, which: str, model: type[BaseModel], call: Any) -> Response:
    from api.pages.session import form_values

    form = await form_values(request)
    viewer = await page_viewer(request, form)
    _admin_only(viewer)

    async def again(errors: dict[str, str], error: dict[str, str] | None, status: int) -> Response:
        context = await read(request, _people_context, viewer, which, form, errors)
        return render(request, "admin_people.html", {**context, "error": error, "failed": which}, viewer=viewer,
                      title="用户与岗位", status=status)

    return await submit_model(form, model, lambda body: call(viewer, body, form), again,
                              lambda _result: f"/admin?done={which}")


@router.post("/admin/users")
async def create_user(request: Request) -> Response:
    db = database(request)
    return await _submit(request, "user", UserIn, lambda viewer, body, _form: services.create_user(db, viewer, body))


@router.post("/admin/posts")
async def add_post(request: Request) -> Response:
    db = database(request)

    def call(viewer: Viewer, body: PostIn, form: dict[str, list[str]]) -> None:
        raw = (form.get("person_id") or [""])[-1]
        if not raw.isdigit():
            raise ApiError("请选择要任命的人员", code="post.person", status=422)
        services.add_post(db, viewer, int(raw), body)

    return await _submit(request, "post", PostIn, call)


@router.post("/admin/posts/{post_id}/end")
async def end_post(request: Request, post_id: PersonId) -> Response:
    db = database(request)

    def call(viewer: Viewer, body: PostEndIn, _form: dict[str, list[str]]) -> None:
        services.end_post(db, viewer, post_id, body.valid_to)

    return await _submit(request, "end", PostEndIn, call)


# ----------------------------------------------------------------------------------------- policies


@router.get("/admin/policies")
async def policies_page(request: Request) -> Response:
    viewer = await page_viewer(request)
    _admin_only(viewer)
    rows = await read(request, reads.policies, viewer)
    return render(request, "admin_policies.html", {"rows": rows, "labels": POLICY_LABELS}, viewer=viewer,
                  title="政策版本")


POLICY_LABELS = {
    "allocation_fen": "各社区年度经费(分,第五条)", "small_group_cap": "受益群体较小项目上限(第七条第(二)项)",
    "cap_base": "上限的计算基数", "small_group_threshold": "受益群体较小的人数门槛",
    "publicity_workdays": "项目公示工作日(第十条)", "approval_workdays": "审批时限工作日(第十一条)",
    "completion_publicity_workdays": "建成公示工作日(第十五条)", "disclosure_workdays": "年度公示工作日(第十五条)",
    "voucher_notice_workdays": "无发票支出公示工作日(第十三条)", "followup_interval_workdays": "跟进检查间隔工作日(第十二条)",
    "report_due": "年度报告截止(第十六条)", "disclosure_due": "年度公示开始截止(第十五条)",
    "report_reminder_workdays": "年度报告提醒提前工作日", "meeting_pass_ratio": "联席会议通过比例",
    "meeting_reject_ratio": "联席会议否决比例", "meeting_min_resident_reps": "联席会议居民代表最少人数",
    "forbidden_keywords": "第四条禁止用途提示关键词",
    "flag_split_window_days": "疑点:拆分项目的提议间隔天数(第十九条)",
    "flag_split_threshold_fen": "疑点:拆分项目的采购限额(分)",
    "flag_payee_share_community": "疑点:单一收款方占社区年度经费的比例",
    "flag_payee_share_area": "疑点:单一收款方占大社区年度经费的比例",
    "flag_voucher_payee_projects": "疑点:同一个人无发票收款的项目数",
    "flag_price_ratio": "疑点:单价高于大社区中位数的倍数",
    "flag_price_min_samples": "疑点:计算单价中位数的最少明细数",
    "flag_rushed_objection_hours": "疑点:异议提出后即答复办结的小时数",
    "flag_last_day_min_count": "疑点:审批期限最后一天审批的最少次数",
    "flag_last_day_share": "疑点:审批期限最后一天审批的比例",
    "flag_december_share": "疑点:十二月支付占全年支付的比例",
    "flag_december_min_payments": "疑点:十二月支付的最少笔数",
    "flag_backdate_days": "疑点:记录所载日期早于录入的天数",
    "flag_satisfaction_line": "疑点:群众满意度的最低线(%)",
}


# ----------------------------------------------------------------------------------------- calendar


def _calendar_years(session: Session) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from store.models import CalendarYear

    return [{"year": y, "source": s, "loaded_at": la} for y, s, la in session.execute(
        select(CalendarYear.year, CalendarYear.source, CalendarYear.loaded_at).order_by(CalendarYear.year.desc()))]


async def _calendar_page(request: Request, viewer: Viewer, result: dict[str, Any] | None = None,
                         error: dict[str, Any] | None = None, status: int = 200) -> Response:
    years = await read(request, _calendar_years)
    return render(request, "admin_calendar.html", {"years": years, "result": result, "error": error,
                                                   "example": CALENDAR_EXAMPLE}, viewer=viewer,
                  title="节假日安排", status=status)


@router.get("/admin/calendar")
async def calendar_page(request: Request) -> Response:
    viewer = await page_viewer(request)
    _admin_only(viewer)
    return await _calendar_page(request, viewer)


@router.post("/admin/calendar")
async def calendar_import(request: Request) -> Response:
    data = await request.form()
    token = data.get(CSRF_FIELD)
    viewer = await page_viewer(request, {CSRF_FIELD: token if isinstance(token, str) else ""})
    _admin_only(viewer)
    upload = data.get("file")
    source = str(data.get("source") or "").strip()[:200] or "网页导入"
    raw = b""
    if upload is not None and not isinstance(upload, str):
        raw = await upload.read(64 * 1024 + 1)
    if not raw:
        text = str(data.get("text") or "")
        raw = text.encode("utf-8")
    if not raw.strip():
        return await _calendar_page(request, viewer, error={"message": "请选择节假日安排文件,或把内容粘贴在下面的文本框中。"},
                                    status=422)
    if len(raw) > 64 * 1024:
        return await _calendar_page(request, viewer, error={"message": "文件过大(最多 64 KB)。"}, status=413)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return await _calendar_page(request, viewer, error={"message": "文件不是 UTF-8 编码的文本。"}, status=415)
    try:
        result = await run_in_threadpool(services.import_calendar, database(request), viewer, text, source)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return await _calendar_page(request, viewer, error={"message": exc.detail, "lines": exc.errors},
                                    status=exc.status)
    return await _calendar_page(request, viewer, result=result)


# -------------------------------------------------------------------------------------------- audit


@router.get("/admin/audit")
async def audit_page(request: Request) -> Response:
    viewer = await page_viewer(request)
    _admin_only(viewer)
    return render(request, "admin_audit.html", {"result": None}, viewer=viewer, title="审计核验")


@router.post("/admin/audit")
async def audit_check(request: Request) -> Response:
    from api.pages.session import form_values

    form = await form_values(request)
    viewer = await page_viewer(request, form)
    started = dt.datetime.now(dt.UTC)
    result = await run_in_threadpool(services.verify_audit, database(request), viewer)
    result["seconds"] = round((dt.datetime.now(dt.UTC) - started).total_seconds(), 2)
    result["at"] = clock.now()
    return render(request, "admin_audit.html", {"result": result}, viewer=viewer, title="审计核验")
