"""The city's organisations and roster (city administrators): list, create, rename, move, close, import;
one-time activation codes for accounts a roster created. Each action is one transaction and one audit
event on the organisation's chain (``workflow.org``, ``workflow.roster``, ``workflow.accounts``)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, Path, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from api import services
from api.deps import DB, AppSettings, CurrentViewer, client_ip, read_in_thread
from api.errors import PayloadTooLarge, Unprocessable
from api.middleware import UPLOAD_PATHS
from api.routes import Router, problems
from api.schemas import (
    ActivateIn,
    ActivateOut,
    ActivationOut,
    OrgClosedOut,
    OrgCloseIn,
    OrgIn,
    OrgList,
    OrgMoveIn,
    OrgOut,
    OrgRenameIn,
    RosterImportOut,
)

router = Router(tags=["administration"])
OrgId = Annotated[int, Path(ge=1, le=2**53, description="组织 id")]
#: the largest roster file accepted over HTTP
ROSTER_MAX_BYTES = UPLOAD_PATHS["/api/v1/admin/orgs/import"]


@router.get("/admin/orgs", response_model=OrgList, responses=problems(401, 403))
async def list_orgs(viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """本人管理的市及其大社区、社区(含已撤销的,``closed_on`` 为撤销日期)。"""
    return await read_in_thread(db, services.org_tree, viewer)


@router.post("/admin/orgs", response_model=OrgOut, status_code=201, responses=problems(401, 403, 404, 409, 422))
def create_org(body: OrgIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """新设大社区(隶属于市)或社区(隶属于大社区)。代码全系统唯一,名称在同一上级下不重复(第二条)。"""
    return services.create_org(db, viewer, body)


@router.post("/admin/orgs/{org_id}/rename", response_model=OrgOut, responses=problems(401, 403, 404, 409, 422))
def rename_org(org_id: OrgId, body: OrgRenameIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """更名(已撤销的组织不能更名)。"""
    return services.rename_org(db, viewer, org_id, body.name)


@router.post("/admin/orgs/{org_id}/move", response_model=OrgOut, responses=problems(401, 403, 404, 409, 422))
def move_org(org_id: OrgId, body: OrgMoveIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """将社区调整到同一市内的另一个大社区。自调整之时起,由新大社区的党工委、建设管理委员会和财务人员行使
    职权;原大社区已作出的决定继续有效。社区有项目待审批或待变更审批(第十一条)、有发票已由大社区领导签字
    尚未付款(第十三条)、或年度报告至结转之间(第十五条、第十六条)时不能调整。"""
    return services.move_org(db, viewer, org_id, body.area_id, body.reason)


@router.post("/admin/orgs/{org_id}/close", response_model=OrgClosedOut, responses=problems(401, 403, 404, 409, 422))
def close_org(org_id: OrgId, body: OrgCloseIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """撤销大社区或社区(自今日起)。记录全部保留;其岗位任期于今日结束;此后不能再提议项目、开放年度或办理
    任何事项。大社区须先撤销或调出其全部社区;社区须无未办结项目,且有项目的年度均已完成报告、公示和结转
    (尚无项目的执行中年度随之冻结)。"""
    return services.close_org(db, viewer, org_id, body.reason)


@router.post("/admin/orgs/import", response_model=RosterImportOut, responses=problems(401, 403, 413, 422))
async def import_roster(viewer: CurrentViewer, db: DB, file: Annotated[UploadFile, File(description=".xlsx 或 .csv(UTF-8,可带 BOM)名单文件")],
                        dry_run: Annotated[bool, Query(description="只检查不导入")] = False) -> dict[str, Any]:
    """导入名单:大社区、社区(代码、名称、上级)及人员(用户名、姓名、电话、邮箱、岗位、任职组织、任期)。
    格式见 README「Roster import format」。先检查整个文件,有任何错误则逐行列出(``errors``)且不导入任何数据;
    再次导入同一名单不会重复创建。名单中不含密码:新建的账号须以一次性激活码设置密码。"""
    data = await file.read(ROSTER_MAX_BYTES + 1)
    if len(data) > ROSTER_MAX_BYTES:
        raise PayloadTooLarge(f"名单文件过大(最多 {ROSTER_MAX_BYTES // 1024 // 1024} MB)")
    if not data:
        raise Unprocessable("名单文件是空的", code="roster.invalid", article="第二条")
    return await run_in_threadpool(services.import_roster, db, viewer, data, file.filename or "", dry_run)


@router.post("/admin/users/{person_id}/activation", response_model=ActivationOut, status_code=201,
             responses=problems(401, 403, 404))
def issue_activation(person_id: Annotated[int, Path(ge=1, le=2**53)], viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """为账号签发一次性激活码(72 小时内有效,只显示这一次;此前未用的激活码随即失效)。本人以此码设置密码。"""
    return services.issue_activation(db, viewer, person_id)


@router.post("/auth/activate", response_model=ActivateOut, responses=problems(404, 409, 422, 429))
def activate(body: ActivateIn, request: Request, db: DB, settings: AppSettings) -> dict[str, Any]:
    """以管理员给的一次性激活码设置本人密码(10–128 个字符);设置后原有的登录会话全部失效。"""
    return services.activate_account(db, settings, body, client_ip(request))
