"""Projects: propose, list, read (with deadlines and the events the caller may fire), fire events, history."""
# no ``from __future__ import annotations``: the event routes are built from models made at run time
from typing import Annotated, Any, Literal, get_args

from fastapi import Body, Depends, Header, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from api import queries, services
from api.deps import DB, Cache, CurrentViewer, expected_version, read_in_thread
from api.routes import EVENTS_PER_ROUTER, Router, problems
from api.routes.events import article, event_body_model, label, roles_text, split, user_triggers
from api.schemas import (
    History,
    ProjectCreated,
    ProjectDetail,
    ProjectEventMinimal,
    ProjectEventResult,
    ProjectIn,
    ProjectList,
)
from workflow.definitions.project import LABELS, State

router = Router(prefix="/projects", tags=["projects"])
ProjectId = Annotated[int, Path(ge=1, le=2**53, description="项目 id")]
StateName = Literal["draft", "preliminary_review", "joint_meeting", "shelved", "publicity", "ready_to_submit",
                    "pending_approval", "in_progress", "change_review", "acceptance", "settlement",
                    "completion_publicity", "closed", "rejected", "withdrawn", "terminated"]
assert set(get_args(StateName)) == {s.value for s in State}  # kept in step with the definition
IfMatch = Annotated[int | None, Depends(expected_version)]
Prefer = Annotated[str | None, Header(
    description="RFC 7240:``return=minimal`` 只返回操作结果、新状态与版本(ETag);``return=representation``"
                "(默认)返回操作结果与完整项目")]


def return_preference(prefer: str | None) -> str | None:
    """The ``return`` preference of a ``Prefer`` header (RFC 7240), or None when it states none."""
    for pref in (prefer or "").split(","):
        name, _, value = pref.split(";", 1)[0].partition("=")
        if name.strip().lower() == "return" and value.strip().strip('"').lower() in ("minimal", "representation"):
            return value.strip().strip('"').lower()
    return None


def _etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'


@router.post("", response_model=ProjectCreated, status_code=201, responses=problems(401, 403, 404, 409, 413, 415, 422))
def create_project(body: ProjectIn, viewer: CurrentViewer, db: DB, response: Response) -> dict[str, Any]:
    """提议一个项目(第九条,一事一议),状态为「拟提议」。提醒(如受益群体较小项目占比)见 ``warnings``。"""
    detail = services.create_project(db, viewer, body)
    _etag(response, detail["version"])
    response.headers["Location"] = detail["links"]["self"]
    return detail


@router.get("", response_model=ProjectList, responses=problems(401, 403, 404, 422))
async def list_projects(viewer: CurrentViewer, db: DB,
                        community: Annotated[int | None, Query(ge=1, le=2**53, description="社区 id")] = None,
                        state: Annotated[StateName | None, Query(description="状态")] = None,
                        year: Annotated[int | None, Query(ge=2000, le=2100, description="经费年度")] = None,
                        limit: Annotated[int, Query(ge=1, le=200)] = 50,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> dict[str, Any]:
    """项目列表(可按社区、状态、年度筛选;只列出调用者有权查看的社区)。"""
    return await read_in_thread(db, queries.list_projects, viewer, community, state, year, limit, offset)


@router.get("/{project_id}", response_model=ProjectDetail, responses=problems(401, 403, 404, 422))
async def get_project(project_id: ProjectId, viewer: CurrentViewer, db: DB, cache: Cache,
                      response: Response) -> dict[str, Any]:
    """项目详情:状态、版本(亦为 ETag)、期限(届满时刻与剩余工作日)、调用者当前可执行的操作、金额与链接。"""
    detail = await read_in_thread(db, queries.project_detail, viewer, project_id, cache)
    _etag(response, detail["version"])
    return detail


@router.get("/{project_id}/history", response_model=History, responses=problems(401, 403, 404, 422))
async def project_history(project_id: ProjectId, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """项目的全部审计事件(哈希链),本社区、所属大社区的岗位及市管理员可查看。"""
    return await read_in_thread(db, queries.history, viewer, "project", project_id)


def _add_event_route(router: Router, trigger: str) -> None:
    model = event_body_model("project", trigger)

    async def fire(project_id: ProjectId, viewer: CurrentViewer, db: DB, cache: Cache, response: Response,
                   version: IfMatch, body: Annotated[model | None, Body()] = None,  # type: ignore[valid-type]
                   prefer: Prefer = None) -> dict[str, Any]:
        payload, reason, as_role = split(body)
        wanted = return_preference(prefer)
        # async with one trip to the thread pool for the work (see api.deps.read_in_thread)
        outcome, detail = await run_in_threadpool(
            services.fire_project_event, db, viewer, project_id, trigger, payload, reason=reason, as_role=as_role,
            expected_version=version, cache=cache, representation=wanted != "minimal")
        if wanted is not None:
            response.headers["Preference-Applied"] = f"return={wanted}"
            response.headers["Vary"] = "Prefer"
        if detail is None:
            detail = {"id": project_id, "state": outcome.to_state, "state_label": LABELS.get(outcome.to_state,
                      outcome.to_state), "version": outcome.version,
                      "links": {"self": f"{queries.API}/projects/{project_id}"}}
        detail["outcome"] = queries.outcome_out(outcome, trigger)
        _etag(response, detail["version"])
        return detail

    router.add_api_route(
        f"/{{project_id}}/events/{trigger}", fire, methods=["POST"],
        response_model=ProjectEventResult | ProjectEventMinimal,
        name=f"project_event_{trigger}", operation_id=f"project_event_{trigger}",
        summary=f"{label('project', trigger)}({trigger})",
        description=(f"触发项目操作「{label('project', trigger)}」({article('project', trigger)})。"
                     f"{roles_text('project', trigger)}。\n\n"
                     "成功返回 200 和项目(请求头 ``Prefer: return=minimal`` 时只返回操作结果、新状态与版本);"
                     "规则不允许返回 409(含规则代码与条款);岗位不符返回 403;"
                     "``If-Match`` 与当前版本不符返回 412;请求体不正确返回 422。"),
        responses=problems(401, 403, 404, 409, 412, 413, 415, 422))


# the event routes, in order, in routers of a few each after ``router``: a request tries a router's routes only when
# its path's last segment is one of theirs (api.routes.Router), so an event is found among ~6 routes, not ~30
event_routers: list[Router] = []
for _i, _trigger in enumerate(user_triggers("project")):
    if _i % EVENTS_PER_ROUTER == 0:
        event_routers.append(Router(prefix="/projects", tags=["projects"]))
    _add_event_route(event_routers[-1], _trigger)
routers = [router, *event_routers]
