"""The archive of a community-year (Art. 17): every document and record, the ledger, the audit events
of every project and of the fund year, and a manifest that says for each file its sha256, what it
proves and which audit event it rests on, with the chains' head hashes.

``verify_archive`` needs nothing but the zip (and, to trust the signer, the public keys): it checks every
file against the manifest, recomputes every audit chain, checks the latest signed daily root it carries
(``workflow.anchors``: each archived chain's signed head and its Merkle path to the signed state root, so a
rewrite that recomputes every hash is still caught) and names the first thing that does not match. The same records give the same
zip, byte for byte (fixed order, recorded times only).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import IO, Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from documents import excel
from store.db import Database
from store.models import (
    Acceptance,
    AuditEvent,
    AuditRoot,
    AuditRootLeaf,
    ChangeRequest,
    Document,
    DocumentLink,
    FundYear,
    Meeting,
    Notice,
    Organisation,
    PaymentItem,
    Project,
)
from workflow import audit, clock, papers

FORMAT = "fundflow-archive/1"
MANIFEST = "manifest.json"
README = "说明.txt"
_AT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: the latest signed daily root of the audit chains, with each archived chain's proof (workflow.anchors)
TRUST_ROOTS_KEY = "trust_roots"

PROVES = {
    "application_form": "项目的申请审批表:提议、需求、联席会议、公示、初步同意与两位主要领导的审批(第十条、第十一条)",
    "minutes": "联席会议的出席、表决与结果(第十条)",
    "board_record": "社区党工委班子会议研究了申请(第十一条)",
    "notice": "在社区公示栏公示的内容与公示期(第十条、第十三条、第十五条)",
    "change_filing": "项目变更经社区党工委同意并备案(第十一条)",
    "acceptance_record": "综合验收的验收组、质量与群众满意度(第十二条)",
    "payment_voucher": "付款事项的发票签字顺序或无发票凭证材料,以及支付(第十三条)",
    "annual_report": "向社区党工委的年度报告与考核评议(第十六条)",
    "annual_disclosure": "年度经费使用情况公示(第十五条)",
}
RECORD_PROVES = "系统在该步骤存档的原始记录(内容寻址,sha256 即文件名前缀)"


class ArchiveError(ValueError):
    """The archive cannot be made (an unknown community or year)."""


@dataclass
class Entry:
    path: str
    content: bytes
    proves: str
    audit_event: dict[str, Any] | None = None


@dataclass
class Plan:
    """The steps of one archive, and what they collect on the way."""

    fund_year: FundYear
    community: Organisation
    tasks: list[tuple[str, Callable[[], list[Entry]]]] = field(default_factory=list)
    chains: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    chain_files: list[dict[str, Any]] = field(default_factory=list)
    printed: list[papers.Printed] = field(default_factory=list)


@dataclass
class Built:
    path_count: int
    manifest_sha256: str
    codes: int
    size: int = 0


# ---------------------------------------------------------------------------------------- events


def event_json(ev: AuditEvent) -> dict[str, Any]:
    """Every field the chain's hash covers, as text (``workflow.audit.compute_hash`` recomputes it)."""
    return {"entity_type": ev.entity_type, "entity_id": ev.entity_id, "seq": ev.seq, "actor_id": ev.actor_id,
            "actor_label": ev.actor_label, "post_id": ev.post_id, "role": ev.role, "event": ev.event,
            "from_state": ev.from_state, "to_state": ev.to_state, "payload": audit.normalise_payload(ev.payload),
            "reason": ev.reason, "at": ev.at.astimezone(dt.UTC).strftime(_AT), "prev_hash": ev.prev_hash,
            "hash": ev.hash}


def event_hash(e: dict[str, Any]) -> str:
    at = dt.datetime.strptime(e["at"], _AT).replace(tzinfo=dt.UTC)
    return audit.compute_hash(e["prev_hash"], entity_type=e["entity_type"], entity_id=e["entity_id"], seq=e["seq"],
                              actor_id=e["actor_id"], actor_label=e["actor_label"], post_id=e["post_id"],
                              role=e["role"], event=e["event"], from_state=e["from_state"], to_state=e["to_state"],
                              payload=e["payload"], reason=e["reason"], at=at)


def _ref(ev: dict[str, Any] | None) -> dict[str, Any] | None:
    if ev is None:
        return None
    return {"entity_type": ev["entity_type"], "entity_id": ev["entity_id"], "seq": ev["seq"], "event": ev["event"],
            "hash": ev["hash"]}


def _find(events: list[dict[str, Any]], key: str, value: int, prefer: Iterable[str] = ()) -> dict[str, Any] | None:
    def names(e: dict[str, Any]) -> bool:
        # what the effect produced (top level), or what the event was given (under "payload")
        body = e["payload"] or {}
        return bool(body.get(key) == value or (body.get("payload") or {}).get(key) == value)

    found = [e for e in events if names(e)]
    for wanted in prefer:
        chosen = [e for e in found if e["event"] == wanted]
        if chosen:
            return chosen[-1]
    return found[-1] if found else None


def _submitted(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    return _last(events, "submit") or (events[0] if events else None)


def _last(events: list[dict[str, Any]], *names: str) -> dict[str, Any] | None:
    found = [e for e in events if e["event"] in names]
    return found[-1] if found else (events[-1] if events and not names else None)


# ------------------------------------------------------------------------------------------ build


def _fund_year(session: Session, community_code: str, year: int) -> tuple[FundYear, Organisation]:
    org = session.execute(select(Organisation).where(Organisation.code == community_code,
                                                     Organisation.level == "community")).scalar_one_or_none()
    if org is None:
        raise ArchiveError(f"没有代码为 {community_code} 的社区")
    fy = session.execute(select(FundYear).where(FundYear.community_id == org.id, FundYear.year == year)
                         ).scalar_one_or_none()
    if fy is None:
        raise ArchiveError(f"{org.name}({community_code})没有 {year} 年度的经费年度")
    return fy, org


def plan(session: Session, community_code: str, year: int) -> Plan:
    """What goes into the archive, in a fixed order, each as a step the progress bar counts."""
    fy, org = _fund_year(session, community_code, year)
    result = Plan(fy, org)
    projects = session.execute(select(Project).where(Project.fund_year_id == fy.id).order_by(Project.code)
                               ).scalars().all()
    chains = result.chains
    registered = result.printed
    chain_files = result.chain_files
    codes_by_id = {p.id: p.code for p in projects}
    for ev in session.execute(select(AuditEvent).where(or_(
            (AuditEvent.entity_type == "fund_year") & (AuditEvent.entity_id == fy.id),
            (AuditEvent.entity_type == "project") & AuditEvent.entity_id.in_([p.id for p in projects])))
            .order_by(AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.seq)).scalars():
        chains.setdefault((ev.entity_type, ev.entity_id), []).append(event_json(ev))
    tasks = result.tasks

    def doc(kind: str, object_id: int, folder: str, event: Callable[[], dict[str, Any] | None]) -> None:
        def run() -> list[Entry]:
            printed = papers.render(session, kind, object_id)
            registered.append(printed)
            return [Entry(f"{folder}/{printed.filename}", printed.content, PROVES[kind], _ref(event()))]

        tasks.append((f"{folder} {kind} {object_id}", run))

    for p in projects:
        events = chains.get(("project", p.id), [])
        folder = f"项目/{p.code}"
        doc("application_form", p.id, folder, partial(_submitted, events))
        for mid, kind in session.execute(select(Meeting.id, Meeting.kind).where(
                Meeting.project_id == p.id, Meeting.kind.in_(("joint", "board"))).order_by(Meeting.id)):
            doc("minutes" if kind == "joint" else "board_record", mid, folder, partial(_find, events, "meeting_id", mid))
        for nid in session.execute(select(Notice.id).where(Notice.project_id == p.id).order_by(Notice.id)).scalars():
            doc("notice", nid, folder, partial(_find, events, "notice_id", nid))
        for cid in session.execute(select(ChangeRequest.id).where(ChangeRequest.project_id == p.id)
                                   .order_by(ChangeRequest.id)).scalars():
            doc("change_filing", cid, folder, partial(_find, events, "change_request_id", cid,
                                                      ("approve_change", "reject_change", "request_change")))
        for aid in session.execute(select(Acceptance.id).where(Acceptance.project_id == p.id)
                                   .order_by(Acceptance.id)).scalars():
            doc("acceptance_record", aid, folder, partial(_find, events, "acceptance_id", aid))
        for iid in session.execute(select(PaymentItem.id).where(PaymentItem.project_id == p.id)
                                   .order_by(PaymentItem.id)).scalars():
            doc("payment_voucher", iid, folder, partial(_find, events, "payment_item_id", iid,
                                                        ("pay", "add_payment_item")))
    year_events = chains.get(("fund_year", fy.id), [])
    folder = f"年度/{fy.year}"
    doc("annual_report", fy.id, folder, lambda: _last(year_events, "submit_report") or _last(year_events))
    if fy.state in papers.DISCLOSED:
        doc("annual_disclosure", fy.id, folder, lambda: _last(year_events, "start_disclosure"))
    for nid in session.execute(select(Notice.id).where(Notice.fund_year_id == fy.id).order_by(Notice.id)).scalars():
        doc("notice", nid, folder, partial(_find, year_events, "notice_id", nid))

    def ledger() -> list[Entry]:
        try:
            book = papers.ledger_book(session, fy.id)
        except papers.Unavailable:
            return []
        return [Entry(f"{folder}/{org.name}{fy.year}年度明细账.xlsx", excel.ledger(book),
                      "党组织服务群众专项经费科目的全部分录及其凭证(第十七条)", _ref(_last(year_events)))]

    tasks.append(("ledger", ledger))

    def records() -> list[Entry]:
        links = session.execute(
            select(DocumentLink.entity_type, DocumentLink.entity_id, DocumentLink.role, DocumentLink.created_at,
                   Document.sha256, Document.filename, Document.content)
            .join(Document, Document.sha256 == DocumentLink.document_sha256)
            .where(or_((DocumentLink.entity_type == "fund_year") & (DocumentLink.entity_id == fy.id),
                       (DocumentLink.entity_type == "project") & DocumentLink.entity_id.in_([p.id for p in projects])))
            .order_by(DocumentLink.entity_type, DocumentLink.entity_id, DocumentLink.id)).all()
        codes = {p.id: p.code for p in projects}
        out: list[Entry] = []
        seen: set[str] = set()
        for etype, eid, role, created, sha, filename, content in links:
            where = f"项目/{codes.get(eid, eid)}" if etype == "project" else folder
            path = f"{where}/原始记录/{sha[:12]}-{filename}"
            if path in seen:
                continue
            seen.add(path)
            events = chains.get((etype, eid), [])
            event = next((e for e in events if e["at"] == created.astimezone(dt.UTC).strftime(_AT)), None)
            out.append(Entry(path, bytes(content), f"{RECORD_PROVES}:{role}", _ref(event)))
        return out

    tasks.append(("records", records))

    def audit_files() -> list[Entry]:
        out: list[Entry] = []
        for (etype, eid), events in sorted(chains.items()):
            name = f"审计/project-{codes_by_id.get(eid, eid)}.jsonl" if etype == "project" else \
                f"审计/fund_year-{fy.year}.jsonl"
            body = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events)
            out.append(Entry(name, body.encode("utf-8"), "该记录的全部审计事件(哈希链,逐条可重算)", None))
            chain_files.append({"entity_type": etype, "entity_id": eid, "file": name, "events": len(events),
                                "head": events[-1]["hash"] if events else audit.GENESIS,
                                "label": (f"项目 {codes_by_id.get(eid, eid)}" if etype == "project"
                                          else f"{org.name} {fy.year} 年度")})
        return out

    tasks.append(("audit", audit_files))
    return result


def _zip_info(path: str, when: tuple[int, int, int, int, int, int]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=when)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def build_archive(db: Database, community_code: str, year: int, out: IO[bytes],
                  progress: Callable[[Iterable[Any]], Iterator[Any]] | None = None) -> Built:
    """Write the archive of one community-year to ``out``; ``progress`` wraps the steps (a progress bar).

    The verification codes of the documents in it are registered, so that a printed copy verifies."""
    with db.uow(write=False) as uow:
        session = uow.session
        work = plan(session, community_code, year)
        fy, org, chains, chain_files = work.fund_year, work.community, work.chains, work.chain_files
        entries: list[Entry] = []
        steps = progress(work.tasks) if progress is not None else iter(work.tasks)
        for _name, run in steps:
            entries.extend(run())
        owners = [(p.kind, p.object_id, p.doc, p.owner, p.sha256) for p in work.printed]
        anchor = trust_roots(session, chain_files)
        as_of = max((e["at"] for events in chains.values() for e in events), default="")
        fund_year_id = fy.id
        community = {"code": org.code, "name": org.name}
    with db.uow() as uow:
        for kind, object_id, doc, who, sha in owners:
            papers.register(uow.session, kind, object_id, doc, who, sha)
        uow.commit()
    when = _as_of_tuple(as_of)
    readme = _readme(community["name"], year).encode("utf-8")
    entries.append(Entry(README, readme, "本档案的说明与核验方法", None))
    entries.sort(key=lambda e: e.path)
    files = [{"path": e.path, "sha256": hashlib.sha256(e.content).hexdigest(), "size": len(e.content),
              "proves": e.proves, "audit_event": e.audit_event} for e in entries]
    manifest = {"format": FORMAT, "community": community, "year": year, "fund_year_id": fund_year_id,
                "as_of": as_of, "files": files, "chains": chain_files, TRUST_ROOTS_KEY: anchor}
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(_zip_info(MANIFEST, when), manifest_bytes)
        for e in entries:
            z.writestr(_zip_info(e.path, when), e.content)
    return Built(len(entries) + 1, hashlib.sha256(manifest_bytes).hexdigest(), len(owners))


def trust_roots(session: Session, chain_files: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest signed daily root (``workflow.anchors``) and, for every chain of the archive that it covers,
    the leaf it signed (length and head) with its Merkle path to the signed ``state_root``: with the root's
    public key, anyone can check offline that the archived chains are the ones fundflow signed, up to that day.

    The root's state is rebuilt from the signed leaves (each chain's latest leaf), never from the signer's
    working copy; when it does not give the signed root, no proof is written and the archive says so."""
    from workflow import anchors

    latest = session.execute(select(AuditRoot).order_by(AuditRoot.seq.desc()).limit(1)).scalar_one_or_none()
    if latest is None:
        return {"root": None, "chains": [], "note": "尚无已签名的每日根哈希(fundflow audit sign)"}
    newest = (select(AuditRootLeaf.entity_type, AuditRootLeaf.entity_id,
                     func.max(AuditRootLeaf.root_seq).label("root_seq"))
              .where(AuditRootLeaf.root_seq <= latest.seq)
              .group_by(AuditRootLeaf.entity_type, AuditRootLeaf.entity_id).subquery())
    rows = session.execute(select(AuditRootLeaf.entity_type, AuditRootLeaf.entity_id, AuditRootLeaf.seq,
                                  AuditRootLeaf.head)
                           .join(newest, (newest.c.entity_type == AuditRootLeaf.entity_type)
                                 & (newest.c.entity_id == AuditRootLeaf.entity_id)
                                 & (newest.c.root_seq == AuditRootLeaf.root_seq))).all()
    ordered = sorted(((t, int(i), int(v), h) for t, i, v, h in rows), key=lambda x: (x[0], x[1]))
    root = anchors.published_root(latest)
    levels = _merkle_levels([anchors.leaf_hash(*leaf) for leaf in ordered])
    if (levels[-1][0].hex() if levels[-1] else anchors.merkle_root([])) != latest.state_root:
        return {"root": root, "chains": [], "note": "签名根的链头无法由已签名的叶重建,未附包含证明"}
    index = {(t, i): k for k, (t, i, _v, _h) in enumerate(ordered)}
    chains = []
    for c in chain_files:
        k = index.get((c["entity_type"], c["entity_id"]))
        if k is None:
            continue  # not yet signed: its events came after the latest root
        _t, _i, seq, head = ordered[k]
        chains.append({"entity_type": c["entity_type"], "entity_id": c["entity_id"], "seq": seq, "head": head,
                       "path": _path(levels, k)})
    return {"root": root, "chains": chains}


def _merkle_levels(leaves: list[bytes]) -> list[list[bytes]]:
    """Every level of the signed Merkle tree (``workflow.anchors.merkle_root``'s shape), built once, so that
    the path of each archived chain is read off it (one pass, whatever the number of chains)."""
    levels = [leaves]
    while len(levels[-1]) > 1:
        level = levels[-1]
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        levels.append(nxt)
    return levels


def _path(levels: list[list[bytes]], index: int) -> list[list[str]]:
    """[side, sibling hash] from a leaf up to the root, as ``workflow.anchors.inclusion_proof`` gives it."""
    path: list[list[str]] = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(["L" if sibling < index else "R", level[sibling].hex()])
        index //= 2
    return path


def _as_of_tuple(as_of: str) -> tuple[int, int, int, int, int, int]:
    if not as_of:
        return (1980, 1, 1, 0, 0, 0)
    t = dt.datetime.strptime(as_of, _AT).replace(tzinfo=dt.UTC).astimezone(clock.SHANGHAI)
    return (t.year, t.month, t.day, t.hour, t.minute, t.second - t.second % 2)


def _readme(community: str, year: int) -> str:
    return (f"{community} {year} 年度党组织服务群众专项经费档案(《细则》第十七条)\n\n"
            f"{MANIFEST} 列出档案中的每个文件:路径、sha256、所证明的事项、所依据的审计事件;以及每条审计链的"
            "事件数和末端哈希,和最新的已签名每日根哈希及各链的包含证明(trust_roots)。\n"
            "核验:fundflow archive verify 本文件.zip —— 逐个文件核对 sha256,逐条重算审计哈希链,"
            "并指出第一处不符。\n"
            "纸质文件上的核验码可在 fundflow 的 /v/核验码 或 /api/v1/public/verify/核验码 查询。\n")


# ------------------------------------------------------------------------------------------ verify


@dataclass
class Check:
    ok: bool
    files: int = 0
    events: int = 0
    chains: int = 0
    problems: list[str] = field(default_factory=list)
    signed_root: dict[str, Any] | None = None
    """The signed daily root the archive carries (None: made before any root was signed)."""

    @property
    def first(self) -> str:
        return self.problems[0] if self.problems else ""


def _chain_problem(name: str, lines: list[str], spec: dict[str, Any]) -> tuple[str, int]:
    """The first broken link of a chain file, in words ('' when it holds), and the events checked."""
    prev, seq = audit.GENESIS, 0
    for number, line in enumerate(lines, 1):
        try:
            e = json.loads(line)
        except ValueError:
            return f"{name} 第 {number} 行不是有效的审计事件(JSON)", seq
        where = f"{name} 第 {e.get('seq', number)} 条审计事件({e.get('event', '?')})"
        if e.get("seq") != seq + 1:
            return f"{where}: 序号不连续,前一条是第 {seq} 条(有事件被删除或插入)", seq
        if e.get("prev_hash") != prev:
            return f"{where}: 前一哈希不符(链被改动)", seq
        try:
            recomputed = event_hash(e)
        except (KeyError, TypeError, ValueError):
            return f"{where}: 缺少字段,无法重算哈希", seq
        if recomputed != e.get("hash"):
            return f"{where}: 内容与哈希不符,已被篡改", seq
        prev, seq = e["hash"], e["seq"]
    if seq != spec.get("events") or prev != spec.get("head"):
        return (f"{name}: 审计链末端(第 {seq} 条,{prev[:12]}…)与清单记录的末端(第 {spec.get('events')} 条,"
                f"{str(spec.get('head'))[:12]}…)不符", seq)
    return "", seq


def verify_archive(source: str | IO[bytes] | bytes, trusted: dict[str, bytes] | None = None) -> Check:
    """Check an archive against its own manifest: every file, every chain, every event reference, and the
    signed daily root it carries (against the ``trusted`` public keys, when given)."""
    check = Check(ok=False)
    try:
        z = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, OSError) as exc:
        check.problems.append(f"不是有效的 zip 档案: {exc}")
        return check
    with z:
        names = [i.filename for i in z.infolist() if not i.is_dir()]
        if MANIFEST not in names:
            check.problems.append(f"缺少清单 {MANIFEST}")
            return check
        try:
            manifest = json.loads(z.read(MANIFEST).decode("utf-8"))
            files = list(manifest["files"])
            chains = list(manifest["chains"])
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            check.problems.append(f"清单 {MANIFEST} 无法读取或格式不对")
            return check
        if manifest.get("format") != FORMAT:
            check.problems.append(f"清单格式 {manifest.get('format')!r} 不是 {FORMAT}")
            return check
        chain_of = {c["file"]: c for c in chains}
        heads: dict[tuple[str, int], dict[str, str]] = {}
        listed = set()
        for f in files:
            path = f["path"]
            listed.add(path)
            if path not in names:
                check.problems.append(f"缺少文件 {path}(清单中登记,档案中没有)")
                continue
            content = z.read(path)
            if path in chain_of:
                lines = [line for line in content.decode("utf-8", "replace").splitlines() if line.strip()]
                problem, counted = _chain_problem(path, lines, chain_of[path])
                check.events += counted
                check.chains += 1
                if problem:
                    check.problems.append(problem)
                    continue
                for line in lines:
                    e = json.loads(line)
                    heads.setdefault((e["entity_type"], e["entity_id"]), {})[str(e["seq"])] = e["hash"]
            if hashlib.sha256(content).hexdigest() != f["sha256"]:
                check.problems.append(f"文件 {path} 的 sha256 与清单不符(已被修改)")
                continue
            check.files += 1
        for path in names:
            if path != MANIFEST and path not in listed:
                check.problems.append(f"多出清单中没有的文件 {path}")
        for c in chains:
            if c["file"] not in listed:
                check.problems.append(f"审计链 {c.get('label', c['file'])} 的文件 {c['file']} 未登记在清单中")
        for f in files:
            ref = f.get("audit_event")
            if not ref:
                continue
            chain = heads.get((ref["entity_type"], ref["entity_id"]))
            if chain is None:
                continue  # its chain is reported above
            if chain.get(str(ref["seq"])) != ref["hash"]:
                check.problems.append(f"文件 {f['path']} 所依据的审计事件(第 {ref['seq']} 条 {ref.get('event', '')})"
                                      "在审计链中不存在或哈希不符")
        check.problems.extend(verify_trust_roots(manifest.get(TRUST_ROOTS_KEY) or {}, heads, trusted))
        check.signed_root = (manifest.get(TRUST_ROOTS_KEY) or {}).get("root")
    check.ok = not check.problems
    return check


def verify_trust_roots(anchor: dict[str, Any], heads: dict[tuple[str, int], dict[str, str]],
                       trusted: dict[str, bytes] | None = None) -> list[str]:
    """The signed root an archive carries: its message and Ed25519 signature, the signing key among the
    ``trusted`` ones when any are configured, and each chain's signed leaf: an event of the archived chain,
    on a Merkle path to the signed state root. A consistent rewrite of the archived chains is caught here."""
    from workflow import anchors

    root = (anchor or {}).get("root")
    if not root:
        return []
    try:
        at = dt.datetime.fromisoformat(str(root["signed_at"]))
        message = anchors.root_message(int(root["seq"]), at, int(root["chains"]), int(root["events"]),
                                       str(root["state_root"]), str(root["delta_root"]), int(root["delta_count"]),
                                       str(root["prev_hash"]))
        public = bytes.fromhex(str(root["public_key"]))
    except (KeyError, TypeError, ValueError):
        return ["签名根的字段不全或格式不对"]
    where = f"第 {root['seq']} 号签名根({root.get('day', '')})"
    if message.decode("ascii") != root.get("message") or not anchors.signature_ok(public, message,
                                                                                  str(root.get("signature"))):
        return [f"{where} 的签名不成立(根哈希或其字段被改动)"]
    if trusted and anchors.key_id(public) not in trusted:
        return [f"{where} 的签名密钥 {anchors.key_id(public)} 不在本机信任的密钥之中"]
    for c in anchor.get("chains") or []:
        name = f"{c['entity_type']} #{c['entity_id']}"
        chain = heads.get((c["entity_type"], c["entity_id"]))
        if chain is None or chain.get(str(c["seq"])) != c["head"]:
            return [f"审计链 {name} 第 {c['seq']} 条与{where}签名的链头不符(已签名的事件被改写)"]
        node = anchors.leaf_hash(c["entity_type"], int(c["entity_id"]), int(c["seq"]), str(c["head"]))
        for side, sibling in c.get("path") or []:
            pair = bytes.fromhex(sibling) + node if side == "L" else node + bytes.fromhex(sibling)
            node = hashlib.sha256(b"\x01" + pair).digest()
        if node.hex() != root["state_root"]:
            return [f"审计链 {name} 的包含证明不能导出{where}的状态根"]
    return []
