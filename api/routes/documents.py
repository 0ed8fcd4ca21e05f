"""Documents: the PDFs fundflow prints, the finance spreadsheets, the archive of a community-year,
and the verification of a paper copy's code.

Access follows the data: public documents (notices, the annual disclosure) to anyone; the others to
the posts that may read the project or fund year (``api.auth.require_read``); an area's summary to
the area's posts and the city's administrators. Printing a document records its verification code.
"""
from __future__ import annotations

import io
from typing import Annotated, Any, Literal, get_args
from urllib.parse import quote

from fastapi import APIRouter, Path
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import auth, queries
from api.deps import DB, CurrentViewer, read_in_thread
from api.errors import ApiError, Forbidden, NotAuthenticated, NotFound
from api.reads import reading
from api.routes import Router, problems
from api.schemas import DocumentList, VerifyOut
from documents import KINDS, FontMissing, excel
from store.db import Database
from workflow import archive, papers
from workflow.engine import org_chain

router = Router(tags=["documents"])
short_router = APIRouter(tags=["documents"])

DocumentKind = Literal["application_form", "notice", "minutes", "board_record", "acceptance_record",
                       "change_filing", "payment_voucher", "annual_report", "annual_disclosure", "inspection_pack"]
assert set(get_args(DocumentKind)) == set(KINDS)  # kept in step with the documents package
ObjectId = Annotated[int, Path(ge=1, le=2**53, description="文件所依据的记录 id")]
Community = Annotated[int, Path(ge=1, le=2**53, description="社区 id")]
Year = Annotated[int, Path(ge=2000, le=2100, description="年度")]
Code = Annotated[str, Path(min_length=1, max_length=40, description="核验码,如 K7QF-2M9C-XR4D")]
PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ZIP = "application/zip"


class DocumentsUnavailable(ApiError):
    status, code = 503, "documents.font_missing"


def _binary(media: str, what: str) -> dict[int | str, dict[str, Any]]:
    return {200: {"description": what, "content": {media: {"schema": {"type": "string", "format": "binary"}}}}}


def content_disposition(filename: str, fallback: str, inline: bool = False) -> str:
    """RFC 6266 with the Chinese name in ``filename*`` (RFC 5987) and an ASCII name for old clients."""
    return (f"{'inline' if inline else 'attachment'}; filename=\"{fallback}\"; "
            f"filename*=UTF-8''{quote(filename, safe='')}")


def _file(content: bytes, media: str, filename: str, fallback: str, *, inline: bool, public: bool,
          code: str = "") -> Response:
    headers = {"Content-Disposition": content_disposition(filename, fallback, inline),
               "Cache-Control": "public, max-age=60" if public else "private, no-store"}
    if code:
        headers["X-Document-Code"] = code
    return Response(content, media_type=media, headers=headers)


def _check(viewer: auth.Viewer | None) -> Any:
    def check(session: Session, owner: papers.Owner) -> None:
        if owner.public:
            return
        if viewer is None:
            raise NotAuthenticated()
        if owner.entity_type == "inspection":  # the working committee's and finance's (第十九条)
            from api.inspections import require_inspection_reader

            require_inspection_reader(session, viewer, owner.community_id)
            return
        auth.require_read(session, viewer, owner.community_id)

    return check


def _print(db: Database, kind: str, object_id: int, viewer: auth.Viewer | None) -> papers.Printed:
    try:
        with reading(db) as session:
            owner = papers.owner(session, kind, object_id)
            _check(viewer)(session, owner)
            printed = papers.render(session, kind, object_id)
        with db.uow() as uow:
            papers.register(uow.session, kind, object_id, printed.doc, printed.owner, printed.sha256)
            uow.commit()
    except papers.Unavailable as exc:
        raise NotFound(str(exc), code="document.not_found") from exc
    except FontMissing as exc:
        raise DocumentsUnavailable(str(exc)) from exc
    return printed


def _optional_viewer() -> Any:
    from fastapi import Depends

    from api.deps import optional_viewer

    return Depends(optional_viewer)


@router.get("/documents/{kind}/{object_id}", response_class=Response, responses={
    **_binary(PDF, "PDF 文件(A4,内嵌中文字体,带核验码与二维码)"), **problems(401, 403, 404, 422, 503)})
async def document(kind: DocumentKind, object_id: ObjectId, db: DB,
                   viewer: Annotated[auth.Viewer | None, _optional_viewer()] = None) -> Response:
    """下载一份文件(PDF):申请审批表(项目 id)、公示(公示 id)、联席会议记录与班子会议记录(会议 id)、
    综合验收记录、变更备案表、付款审批单(付款事项 id)、年度报告与年度公示(经费年度 id)。

    公示与年度公示公开;其余文件仅对可查看该项目或经费年度的岗位开放。响应头 ``X-Document-Code`` 为核验码。"""
    printed = await run_in_threadpool(_print, db, kind, object_id, viewer)
    return _file(printed.content, PDF, printed.filename, f"{kind}-{object_id}.pdf", inline=True,
                 public=printed.owner.public, code=printed.code)


def _project_documents(session: Session, viewer: auth.Viewer, pid: int) -> dict[str, Any]:
    queries.load_project(session, viewer, pid)
    return {"items": papers.project_documents(session, pid), "links": {"project": f"{papers.API}/projects/{pid}"}}


@router.get("/projects/{project_id}/documents", response_model=DocumentList, responses=problems(401, 403, 404, 422))
async def project_documents(project_id: ObjectId, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """项目的全部文件:申请审批表、会议记录、公示、变更备案、验收记录、付款审批单。"""
    return await read_in_thread(db, _project_documents, viewer, project_id)


def _year_links(community: int, year: int) -> dict[str, str]:
    base = f"{papers.API}/fund-years/{community}/{year}"
    return {"fund_year": base, "ledger": f"{base}/ledger.xlsx", "archive": f"{base}/archive.zip"}


def _fund_year_documents(session: Session, viewer: auth.Viewer, community: int, year: int) -> dict[str, Any]:
    auth.require_read(session, viewer, community)
    fy = queries.find_fund_year(session, community, year)
    return {"items": papers.fund_year_documents(session, fy.id), "links": _year_links(community, year)}


@router.get("/fund-years/{community}/{year}/documents", response_model=DocumentList,
            responses=problems(401, 403, 404, 422))
async def fund_year_documents(community: Community, year: Year, viewer: CurrentViewer, db: DB) -> dict[str, Any]:
    """经费年度的文件:年度报告、年度公示,以及明细账(xlsx)和年度档案(zip)的下载地址。"""
    return await read_in_thread(db, _fund_year_documents, viewer, community, year)


def _ledger(session: Session, viewer: auth.Viewer, community: int, year: int) -> tuple[bytes, str]:
    auth.require_read(session, viewer, community)
    fy = queries.find_fund_year(session, community, year)
    try:
        book = papers.ledger_book(session, fy.id)
    except papers.Unavailable as exc:
        raise NotFound(str(exc), code="document.not_found") from exc
    return excel.ledger(book), f"{book.community}{year}年度明细账.xlsx"


@router.get("/fund-years/{community}/{year}/ledger.xlsx", response_class=Response,
            responses={**_binary(XLSX, "Excel 明细账"), **problems(401, 403, 404, 422)})
async def ledger(community: Community, year: Year, viewer: CurrentViewer, db: DB) -> Response:
    """经费年度的明细账(Excel):每条分录一行,含所指凭证的文件名与 sha256(第十七条)。"""
    content, name = await read_in_thread(db, _ledger, viewer, community, year)
    return _file(content, XLSX, name, f"ledger-{community}-{year}.xlsx", inline=False, public=False)


def _archive(db: Database, viewer: auth.Viewer, community: int, year: int) -> tuple[bytes, str]:
    with reading(db) as session:
        auth.require_read(session, viewer, community)
        queries.find_fund_year(session, community, year)
        code = queries.org_ref(session, community)["code"]
    out = io.BytesIO()
    try:
        archive.build_archive(db, code, year, out)
    except FontMissing as exc:
        raise DocumentsUnavailable(str(exc)) from exc
    return out.getvalue(), f"{code}-{year}年度档案.zip"


@router.get("/fund-years/{community}/{year}/archive.zip", response_class=Response,
            responses={**_binary(ZIP, "年度档案(zip)"), **problems(401, 403, 404, 422, 503)})
async def year_archive(community: Community, year: Year, viewer: CurrentViewer, db: DB) -> Response:
    """社区经费年度档案(第十七条):全部文件与原始记录、明细账、审计事件、清单(sha256、所证明事项、审计事件)。
    可用 ``fundflow archive verify`` 核验。"""
    content, name = await run_in_threadpool(_archive, db, viewer, community, year)
    return _file(content, ZIP, name, f"archive-{community}-{year}.zip", inline=False, public=False)


def _area_summary(session: Session, viewer: auth.Viewer, area: int, year: int) -> tuple[bytes, str]:
    from sqlalchemy import select

    from store.models import Organisation

    level = session.execute(select(Organisation.level).where(Organisation.id == area)).scalar_one_or_none()
    if level != "area":
        raise NotFound(f"大社区 #{area} 不存在", code="area.not_found")
    if not auth.can_read(viewer, org_chain(session, area)):
        raise Forbidden("您在该大社区及其所属市没有岗位,无权查看其汇总", code="auth.not_in_area")
    try:
        summary = papers.area_summary(session, area, year)
    except papers.Unavailable as exc:
        raise NotFound(str(exc), code="document.not_found") from exc
    return excel.area_summary(summary), f"{summary.area}{year}年度汇总.xlsx"


@router.get("/areas/{area}/years/{year}/summary.xlsx", response_class=Response,
            responses={**_binary(XLSX, "Excel 年度汇总"), **problems(401, 403, 404, 422)})
async def area_summary(area: Annotated[int, Path(ge=1, le=2**53, description="大社区 id")], year: Year,
                       viewer: CurrentViewer, db: DB) -> Response:
    """大社区的年度汇总(Excel):每个社区一行,拨付、结转、承诺、支付、余额、受益群体较小项目占用与上限。"""
    content, name = await read_in_thread(db, _area_summary, viewer, area, year)
    return _file(content, XLSX, name, f"area-{area}-{year}.xlsx", inline=False, public=False)


def _verify(db: Database, code: str) -> dict[str, Any]:
    answer = papers.verify(db, code)
    if answer is None:
        raise NotFound(f"核验码 {code[:40]} 不存在:该文件不是 fundflow 出具的,或核验码抄写有误",
                       code="document.unknown_code")
    return answer


@router.get("/public/verify/{code}", response_model=VerifyOut, tags=["public"], responses=problems(404, 422))
async def verify(code: Code, db: DB) -> dict[str, Any]:
    """核验纸质文件:核验码是否为 fundflow 出具、是否为现行版本(记录更新后旧版失效,并给出现行版本的核验码与
    更新时刻)、属于哪个项目或经费年度,以及供与纸面核对的要点(无需登录)。"""
    return await run_in_threadpool(_verify, db, code)


@short_router.get("/v/{code}", response_class=RedirectResponse, status_code=307, include_in_schema=False)
async def short_verify(code: Code) -> RedirectResponse:
    """The short address printed on paper (and in its QR code): to the residents' verification page and its
    answer (``/gongshi/verify``; the JSON answer is ``/api/v1/public/verify/{code}``)."""
    return RedirectResponse(f"/gongshi/verify?code={quote(code, safe='')}", status_code=307)
