"""Regular inspections (定期检查) and their findings (第十九条): plan, carry out, read the pack (JSON and PDF),
record findings, rectify, verify or send back.

Access: the area's working committee (党工委书记、委员) acts and reads; finance reads; the inspected community
reads its own findings and submits their rectification; anyone else is refused, citing 第十九条.
"""
# no ``from __future__ import annotations``: the event routes are built from models made at run time
import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from api import inspections
from api.deps import DB, CurrentViewer, expected_version, read_in_thread
from api.routes import Router, problems
from api.routes.events import article, event_body_model, label, roles_text, split, user_triggers
from api.schemas import OutcomeOut
from workflow.fields import Date, Id, Length, LineText

router = Router(tags=["inspections"])
InspectionId = Annotated[int, Path(ge=1, le=2**53, description="检查 id")]
FindingId = Annotated[int, Path(ge=1, le=2**53, description="检查发现 id")]
Community = Annotated[int, Path(ge=1, le=2**53, description="社区 id")]
IfMatch = Annotated[int | None, Depends(expected_version)]
PDF = "application/pdf"


# ----------------------------------------------------------------------------------------- schemas


class InspectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "community_id": 3, "period_from": "2026-01-01", "period_to": "2026-06-30", "title": "上半年定期检查"}]})
    community_id: Id
    period_from: Date
    period_to: Date
    title: Annotated[LineText, Length(200)] = ""


class FindingOut(BaseModel):
    id: int
    inspection_id: int
    community_id: int
    project_id: int | None
    project_code: str | None
    state: Literal["rectifying", "submitted", "closed"]
    state_label: str
    version: int
    article: str = Field(description="所引用的《细则》条款")
    description: str
    requirement: str = Field(description="整改要求")
    workdays: int = Field(description="整改期限(工作日)")
    due_at: dt.datetime | None = Field(description="当前整改期限届满时刻(上海时间)")
    recorded_by: str
    rectification: str
    submitted_by: str
    verified_by: str
    rejections: int
    created_at: dt.datetime


class InspectionOut(BaseModel):
    id: int
    area_id: int
    community_id: int
    community_name: str
    title: str
    period_from: dt.date
    period_to: dt.date
    state: Literal["planned", "in_progress", "completed", "cancelled"]
    state_label: str
    version: int
    planned_by: str
    summary: str
    findings: int = Field(description="检查发现数")
    created_at: dt.datetime
    links: dict[str, str]


class InspectionDetail(InspectionOut):
    finding_list: list[FindingOut]


class InspectionList(BaseModel):
    items: list[InspectionOut]


class FindingList(BaseModel):
    items: list[FindingOut]


class InspectionEventResult(InspectionOut):
    outcome: OutcomeOut


class FindingEventResult(FindingOut):
    outcome: OutcomeOut


class TrailOut(BaseModel):
    at: dt.datetime
    event: str
    actor: str
    role: str
    moved: str
    reason: str


class PackProjectOut(BaseModel):
    project_id: int
    code: str
    title: str
    state: str
    amount: str
    paid: str
    trail: list[TrailOut]


class PackLedgerOut(BaseModel):
    at: dt.datetime
    kind: str
    amount: str
    project_code: str
    memo: str


class PackDeadlineOut(BaseModel):
    what: str
    kind: str
    due_at: dt.datetime
    provisional: bool


class PackFlagOut(BaseModel):
    code: str
    title: str
    article: str
    evidence: str


class PackFindingOut(BaseModel):
    finding_id: int
    article: str
    description: str
    requirement: str
    state: str
    project_code: str
    due_at: dt.datetime | None


class PlannerOut(BaseModel):
    name: str
    role: str


class PackOut(BaseModel):
    inspection_id: int
    community: str
    issuer: str
    title: str
    period_from: dt.date
    period_to: dt.date
    state: str
    planned_by: PlannerOut
    projects: list[PackProjectOut] = Field(description="期间内有经办记录的项目及其期间内的审计事件")
    ledger: list[PackLedgerOut] = Field(description="期间内的明细账分录")
    deadlines: list[PackDeadlineOut] = Field(description="尚未办结的期限")
    flags: list[PackFlagOut] = Field(description="风险提示及其依据")
    findings: list[PackFindingOut]
    issued_at: dt.datetime


# ------------------------------------------------------------------------------------------ routes


@router.post("/inspections", response_model=InspectionDetail, status_code=201,
             responses=problems(401, 403, 404, 409, 413, 415, 422))
def plan_inspection(body: InspectionIn, viewer: CurrentViewer, db: DB, response: Response) -> dict[str, Any]:
    """社区党工委计划对一个社区某一期间的经费使用情况进行定期检查(第十九条)。仅限该社区所属大社区的党工委书记、委员。"""
    detail = inspections.plan(db, viewer, body.community_id, body.period_from, body.period_to, body.title)
    response.headers["Location"] = detail["links"]["self"]
    response.headers["ETag"] = f'"{detail["version"]}"'
    return detail


@router.get("/inspections", response_model=InspectionList, responses=problems(401, 403, 404, 422))
async def list_inspections(viewer: CurrentViewer, db: DB,
                           community: Annotated[int | None, Query(ge=1, le=2**53, description="社区 id")] = None
                           ) -> dict[str, Any]:
    """调用者所在大社区的定期检查(党工委成员、财务管理人员),可按社区筛选。"""
    return await read_in_thread(db, inspections.list_inspections, viewer, community)


@router.get("/inspections/{inspection_id}", response_model=InspectionDetail, responses=problems(401, 403, 404, 422))
async def get_inspection(inspection_id: InspectionId, viewer: CurrentViewer, db: DB,
                         response: Response) -> dict[str, Any]:
    """一次定期检查及其检查发现。"""
    detail = await read_in_thread(db, inspections.inspection_detail, viewer, inspection_id)
    response.headers["ETag"] = f'"{detail["version"]}"'
    return detail


@router.get("/inspections/{inspection_id}/pack", response_model=PackOut, responses=problems(401, 403, 404, 422))
async def get_pack(inspection_id: InspectionId, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """检查材料:期间内有经办记录的每个项目及其审计记录(经办人、岗位、时间、理由),期间内的明细账分录,
    尚未办结的期限,风险提示,检查发现。"""
    return await read_in_thread(db, inspections.pack, viewer, inspection_id)


@router.get("/inspections/{inspection_id}/pack.pdf", response_class=Response, responses={
    200: {"description": "检查材料 PDF(带核验码)", "content": {PDF: {"schema": {"type": "string", "format": "binary"}}}},
    **problems(401, 403, 404, 422, 503)})
async def get_pack_pdf(inspection_id: InspectionId, viewer: CurrentViewer, db: DB) -> Response:
    """检查材料(PDF)。响应头 ``X-Document-Code`` 为核验码。"""
    from api.routes.documents import DocumentsUnavailable, _file
    from documents import FontMissing

    try:
        printed = await run_in_threadpool(inspections.pack_pdf, db, viewer, inspection_id)
    except FontMissing as exc:
        raise DocumentsUnavailable(str(exc)) from exc
    return _file(printed.content, PDF, printed.filename, f"inspection-{inspection_id}.pdf", inline=True,
                 public=False, code=printed.code)


@router.get("/findings/{finding_id}", response_model=FindingOut, responses=problems(401, 403, 404, 422))
async def get_finding(finding_id: FindingId, viewer: CurrentViewer, db: DB, response: Response) -> dict[str, Any]:
    """一项检查发现及其整改情况(党工委、财务管理人员及被检查社区可查看)。"""
    detail = await read_in_thread(db, inspections.finding_detail, viewer, finding_id)
    response.headers["ETag"] = f'"{detail["version"]}"'
    return detail


@router.get("/communities/{community}/findings", response_model=FindingList, responses=problems(401, 403, 404, 422))
async def community_findings(community: Community, viewer: CurrentViewer, db: DB,
                             state: Annotated[Literal["rectifying", "submitted", "closed"] | None,
                                              Query(description="状态")] = None) -> dict[str, Any]:
    """一个社区的全部检查发现(党工委、财务管理人员及本社区可查看)。"""
    return await read_in_thread(db, inspections.community_findings, viewer, community, state)


def _add_event_route(entity_type: str, trigger: str) -> None:
    model = event_body_model(entity_type, trigger)
    noun, path, result = (("检查", "/inspections/{entity_id}", InspectionEventResult) if entity_type == "inspection"
                          else ("检查发现", "/findings/{entity_id}", FindingEventResult))

    async def fire(entity_id: Annotated[int, Path(ge=1, le=2**53, description=f"{noun} id")], viewer: CurrentViewer,
                   db: DB, response: Response, version: IfMatch,
                   body: Annotated[model | None, Body()] = None) -> dict[str, Any]:  # type: ignore[valid-type]
        payload, reason, as_role = split(body)
        outcome, detail = await run_in_threadpool(
            inspections.fire, db, viewer, entity_type, entity_id, trigger, payload, reason=reason, as_role=as_role,
            expected_version=version)
        detail["outcome"] = {"event": trigger, "from_state": outcome.from_state, "to_state": outcome.to_state,
                             "version": outcome.version, "replayed": outcome.replayed, "data": outcome.data,
                             "verdict": outcome.verdict.as_dict()}
        response.headers["ETag"] = f'"{detail["version"]}"'
        return detail

    router.add_api_route(
        f"{path}/events/{trigger}", fire, methods=["POST"], response_model=result,
        name=f"{entity_type}_event_{trigger}", operation_id=f"{entity_type}_event_{trigger}",
        summary=f"{label(entity_type, trigger)}({trigger})",
        description=(f"{noun}操作「{label(entity_type, trigger)}」({article(entity_type, trigger)})。"
                     f"{roles_text(entity_type, trigger)}。\n\n"
                     "成功返回 200;规则不允许返回 409(含规则代码与条款);岗位不符返回 403;"
                     "``If-Match`` 与当前版本不符返回 412;请求体不正确返回 422。"),
        responses=problems(401, 403, 404, 409, 412, 413, 415, 422))


for _entity in ("inspection", "finding"):
    for _trigger in user_triggers(_entity):
        _add_event_route(_entity, _trigger)
