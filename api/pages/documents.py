"""Documents on the pages (issue 10): what the project, fund-year and overview pages link to, the archived
records themselves (Art. 17), and the residents' page ``/gongshi/verify`` that checks a paper's verification
code (the short address ``/v/{code}`` printed on every document leads to its answer).

The printed documents are served by the JSON routes (``api.routes.documents``, same access rules); this module
only says where they are, reads the archive's records, and shows the verification answer as a page.
"""
from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api import auth
from api.auth import Viewer
from api.errors import NotFound
from api.pages import database, read, reads
from api.pages.render import render
from api.pages.session import page_viewer
from api.routes.documents import content_disposition
from store.models import Document, DocumentLink, FundYear, Organisation, Project
from workflow import anchors, papers
from workflow.engine import ROLE_LEVEL

router = APIRouter(include_in_schema=False)
EntityType = Literal["project", "fund_year"]
Sha = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


# ------------------------------------------------------------------------------------ where they are


def record_url(entity_type: str, entity_id: int, sha256: str) -> str:
    """Where an archived record (minutes text, evidence, notices as posted …) of a project or year is read."""
    return f"/records/{entity_type}/{entity_id}/{sha256}"


reads.DOCUMENT_URL = record_url  # the project and fund-year pages link every archived record to it


def project_papers(session: Session, project_id: int) -> list[dict[str, Any]]:
    """Every printable document of a project (application form, minutes, notices, filings, records, vouchers)."""
    return papers.project_documents(session, project_id)


def year_papers(session: Session, fund_year_id: int, community: int, year: int) -> list[dict[str, Any]]:
    """The annual report and disclosure, the year's notices, then the ledger (xlsx) and the archive (zip)."""
    base = f"{papers.API}/fund-years/{community}/{year}"
    return [*papers.fund_year_documents(session, fund_year_id),
            {"kind": "ledger", "kind_label": "明细账", "title": f"{year} 年度“党组织服务群众专项经费”科目明细账",
             "public": False, "url": f"{base}/ledger.xlsx", "format": "Excel"},
            {"kind": "archive", "kind_label": "年度档案",
             "title": f"{year} 年度档案:全部文件、记录与审计事件(第十七条,可用 fundflow archive verify 核验)",
             "public": False, "url": f"{base}/archive.zip", "format": "zip"}]


def area_summaries(session: Session, viewer: Viewer, year: int) -> list[dict[str, Any]]:
    """The areas whose annual summary (xlsx) the viewer may download, with its address: those the viewer holds
    an area post in, and every area of the cities the viewer holds a city post in (``auth.can_read`` of each
    area's chain, in one statement rather than one chain per area: a city has a hundred)."""
    def held(level: str) -> list[int]:
        return sorted({p.organisation_id for p in viewer.posts if ROLE_LEVEL.get(p.role) == level})

    rows = session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.level == "area", or_(Organisation.id.in_(held("area")), Organisation.parent_id.in_(held("city"))))
        .order_by(Organisation.code)).all()
    return [{"id": i, "name": n, "url": f"{papers.API}/areas/{i}/years/{year}/summary.xlsx"} for i, n in rows]


# ---------------------------------------------------------------------------------- archived records


def _record(session: Session, viewer: Viewer, entity_type: str, entity_id: int, sha: str) -> tuple[bytes, str, str]:
    model = Project if entity_type == "project" else FundYear
    community = session.execute(select(model.community_id).where(model.id == entity_id)).scalar_one_or_none()
    if community is None:
        raise NotFound("记录不存在", code="document.not_found")
    auth.require_read(session, viewer, community)
    row = session.execute(select(Document.content, Document.content_type, Document.filename)
                          .join(DocumentLink, DocumentLink.document_sha256 == Document.sha256)
                          .where(DocumentLink.entity_type == entity_type, DocumentLink.entity_id == entity_id,
                                 Document.sha256 == sha).limit(1)).first()
    if row is None:
        raise NotFound("该记录没有这份存档材料", code="document.not_found")
    return bytes(row[0]), str(row[1]), str(row[2])


@router.get("/records/{entity_type}/{entity_id}/{sha}")
async def archived_record(request: Request, entity_type: EntityType, entity_id: Annotated[int, Path(ge=1, le=2**53)],
                          sha: Sha) -> Response:
    """An archived record as stored (content-addressed; its sha256 is its name), to the posts that may read it."""
    viewer = await page_viewer(request)
    content, media, filename = await read(request, _record, viewer, entity_type, entity_id, sha)
    inline = media.startswith(("text/", "application/pdf", "image/"))
    if media.startswith("text/") and "charset" not in media:
        media += "; charset=utf-8"
    return Response(content, media_type=media, headers={
        "Content-Disposition": content_disposition(filename, f"record-{sha[:12]}", inline),
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox"})


# ------------------------------------------------------------------------------- checking a paper copy


def _page_links(answer: dict[str, Any]) -> dict[str, str]:
    """The verification answer's links as pages a resident can open (the API's JSON left out)."""
    links = answer.get("links", {})
    out = {}
    if "document" in links:
        out["document"] = links["document"]
    if "notice" in links:
        out["notice"] = "/gongshi/notice/" + links["notice"].rsplit("/", 1)[-1]
    record = answer.get("record", {})
    if answer.get("public") and record.get("project_code"):
        out["project"] = f"/gongshi/project/{quote(record['project_code'], safe='')}"
    if answer.get("superseded_by"):
        out["current"] = f"/gongshi/verify?code={quote(answer['superseded_by'], safe='')}"
    return out


@router.get("/gongshi/verify")
async def verify_page(request: Request, code: Annotated[str, Query(max_length=64)] = "") -> Response:
    """核验纸质文件: the form, and with ``?code=`` the answer (genuine and current, outdated, or unknown)."""
    typed = code.strip()
    answer: dict[str, Any] | None = None
    error = ""
    status = 200
    if typed:
        answer = await run_in_threadpool(papers.verify, database(request), typed)
        if answer is None:
            status = 404
            error = (f"核验码 {typed[:40]} 不存在:该文件不是本系统出具的,或核验码抄写有误。"
                     "请核对纸面上的核验码(12 位字母和数字,如 K7QF-2M9C-XR4D)后重试。")
    links = _page_links(answer) if answer else {}
    return render(request, "gongshi_verify.html", {"code": typed, "answer": answer, "error": error, "links": links},
                  title="核验纸质文件", status=status)


# ------------------------------------------------------------------------------------- the board


async def board_root(request: Request) -> dict[str, Any] | None:
    """The newest signed audit root, for the board's short explanation (None before the first is signed)."""
    return await read(request, anchors.latest_root)
