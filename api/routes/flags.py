"""Red flags of an area's year (疑点, 第十八条、第十九条): the list, and their dismissal with a reason.

Who reads them: the area's working committee (书记、委员), which inspects (第十九条), its finance staff, who
supervise every item (第十八条), and the city's administrators. The communities do not: the flags are where
the inspection will look, not a verdict on them, and the inspected do not read the inspector's list before
the inspection. Who dismisses one: the working committee (``rules.redflags.check_dismisser``).
"""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from api import auth
from api.deps import DB, CurrentViewer, read_in_thread
from api.errors import ApiError, Forbidden, NotFound
from api.routes import Router, problems
from api.schemas import FlagDismissIn, FlagList, FlagOut
from store.db import Database
from store.models import Organisation
from workflow import redflags
from workflow.services import ServiceError

router = Router(tags=["inspection"])
AreaCode = Annotated[str, Path(min_length=1, max_length=32, description="大社区代码,如 A01")]
FlagKey = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z_]+-[0-9a-f]{16}$",
                              description="疑点标识(列表中的 key)")]
#: area posts that read the area's flags (第十八条 finance, 第十九条 the working committee)
READERS = frozenset({"working_secretary", "working_member", "finance_officer"})


def _area(session: Session, code: str) -> tuple[int, int | None]:
    row = session.execute(select(Organisation.id, Organisation.parent_id).where(
        Organisation.code == code, Organisation.level == "area")).one_or_none()
    if row is None:
        raise NotFound(f"大社区 {code} 不存在", code="area.not_found")
    return row[0], row[1]


def _require_reader(viewer: auth.Viewer, area_id: int, city_id: int | None) -> None:
    if any(p.role in READERS and p.organisation_id == area_id for p in viewer.posts):
        return
    if city_id is not None and city_id in viewer.admin_city_ids:
        return
    raise Forbidden("疑点仅供本大社区党工委、财务人员及市管理员查看", code="auth.flags")


def _list(session: Session, viewer: auth.Viewer, code: str, year: int, community: str | None,
          include_dismissed: bool) -> dict[str, Any]:
    area_id, city_id = _area(session, code)
    _require_reader(viewer, area_id, city_id)
    community_id = None
    if community:
        community_id = session.execute(select(Organisation.id).where(
            Organisation.code == community, Organisation.level == "community",
            Organisation.parent_id == area_id)).scalar_one_or_none()
        if community_id is None:
            raise NotFound(f"大社区 {code} 没有代码为 {community} 的社区", code="community.not_found")
    flags = redflags.area_flags(session, area_id, year, community_id, include_dismissed=include_dismissed)
    names = redflags.community_names(session, [f.community_id or 0 for f in flags])
    return {"area": code, "year": year, "community": community, "flags": [redflags.as_dict(f, names) for f in flags]}


@router.get("/areas/{code}/flags", response_model=FlagList, responses=problems(401, 403, 404, 422))
async def list_flags(code: AreaCode, viewer: CurrentViewer, db: DB,
                     year: Annotated[int, Query(ge=2000, le=2100, description="年度")],
                     community: Annotated[str | None, Query(min_length=1, max_length=32,
                                                            description="只看该社区(社区代码)")] = None,
                     include_dismissed: Annotated[bool, Query(description="也列出已排除的疑点")] = False
                     ) -> dict[str, Any]:
    """大社区某年度的疑点(第十八条、第十九条):拆分项目、收款方集中、同一个人多次无发票收款、单价偏高、仓促或滞后的
    环节、一人兼任应分离的岗位、验收偏弱。每个疑点附条款、说明和依据(项目、付款事项、审计事件、存档文件、金额)。
    已排除的疑点默认不列出。本大社区党工委、财务人员及市管理员可查看;社区不能查看。"""
    return await read_in_thread(db, _list, viewer, code, year, community, include_dismissed)


def _dismiss(db: Database, viewer: auth.Viewer, code: str, key: str, body: FlagDismissIn) -> dict[str, Any]:
    with db.uow() as uow:
        area_id, _city = _area(uow.session, code)
        try:
            flag = redflags.dismiss_flag(uow.session, viewer.actor, area_id, body.year, key, body.reason)
        except ServiceError as exc:
            raise ApiError.from_verdict(exc.verdict, exc.status) from exc
        names = redflags.community_names(uow.session, [flag.community_id or 0])
        out = redflags.as_dict(flag, names)
        uow.commit()
    return out


@router.post("/areas/{code}/flags/{key}/dismiss", response_model=FlagOut, responses=problems(401, 403, 404, 409, 422))
def dismiss_flag(code: AreaCode, key: FlagKey, body: FlagDismissIn, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """排除一个疑点(第十九条):仅限本大社区党工委书记或委员,须写明理由;排除记入审计,此后默认不再列出。"""
    return _dismiss(db, viewer, code, key, body)
