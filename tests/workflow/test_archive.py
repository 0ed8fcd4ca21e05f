"""The archive of a community-year (both databases): it verifies; one changed byte, a missing file or an edited
audit event makes ``fundflow archive verify`` fail naming it; the same records give the same zip."""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from store.db import Database
from workflow import archive, papers
from workflow.demo import Driver


@pytest.fixture
def year(driver: Driver) -> Driver:
    driver.new_project("closed", title="老旧小区路灯维修", amount="18600.00")
    driver.new_project("closed", title="困难老人助餐服务", category="hardship", amount="9000.00", beneficiaries=12,
                       is_aid=True, contractor="张桂兰", contractor_kind="individual")
    driver.new_project("in_progress", title="小区健身器材更新", category="culture", amount="26000.00")
    return driver


def _cli(db: Database, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", db.url)
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _rewrite(src: Path, dst: Path, change: dict[str, bytes | None]) -> None:
    """A copy of the zip with some members replaced (bytes) or left out (None)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename in change:
                if change[info.filename] is not None:
                    zout.writestr(info, change[info.filename])  # type: ignore[arg-type]
            else:
                zout.writestr(info, zin.read(info.filename))


def test_archive_of_a_year_verifies_and_names_what_was_tampered(db: Database, year: Driver,
                                                                monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "S01-2026.zip"
    code = year.city.communities[0].code
    rc, text = _cli(db, monkeypatch, "archive", "--community", code, "--year", "2026", "--out", str(out))
    assert rc == 0, text
    assert "档案已写入" in text and out.exists()
    rc, text = _cli(db, monkeypatch, "archive", "verify", str(out))
    assert rc == 0 and "档案完整" in text, text

    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("manifest.json"))
        names = z.namelist()
        pdf = next(n for n in names if n.endswith(".pdf") and "付款审批单" in n)
        pdf_bytes = bytearray(z.read(pdf))
        chain = next(c["file"] for c in manifest["chains"] if c["entity_type"] == "project")
        lines = z.read(chain).decode("utf-8").splitlines()
    # the manifest says what each file proves and which audit event it rests on
    entry = next(f for f in manifest["files"] if f["path"] == pdf)
    assert "第十三条" in entry["proves"] and entry["audit_event"]["event"] == "pay"
    assert {"head", "events", "file"} <= set(manifest["chains"][0])
    assert any(p.endswith(".xlsx") for p in names) and any("/原始记录/" in p for p in names)

    # one byte of one document
    pdf_bytes[len(pdf_bytes) // 2] ^= 0x01
    bad = tmp_path / "byte.zip"
    _rewrite(out, bad, {pdf: bytes(pdf_bytes)})
    rc, text = _cli(db, monkeypatch, "archive", "verify", str(bad))
    assert rc == 1 and f"文件 {pdf} 的 sha256 与清单不符" in text, text

    # a file removed
    gone = tmp_path / "gone.zip"
    _rewrite(out, gone, {pdf: None})
    rc, text = _cli(db, monkeypatch, "archive", "verify", str(gone))
    assert rc == 1 and f"缺少文件 {pdf}" in text, text

    # an audit event edited (its hash left as it was)
    event = json.loads(lines[2])
    event["reason"] = "篡改的理由"
    edited = "\n".join([*lines[:2], json.dumps(event, ensure_ascii=False, sort_keys=True), *lines[3:]]) + "\n"
    forged = tmp_path / "audit.zip"
    _rewrite(out, forged, {chain: edited.encode("utf-8")})
    rc, text = _cli(db, monkeypatch, "archive", "verify", str(forged))
    assert rc == 1 and f"{chain} 第 3 条审计事件({event['event']}): 内容与哈希不符" in text, text

    # an audit event removed, the rest of the chain intact
    cut = tmp_path / "cut.zip"
    _rewrite(out, cut, {chain: ("\n".join([*lines[:1], *lines[2:]]) + "\n").encode("utf-8")})
    check = archive.verify_archive(cut.read_bytes())
    assert not check.ok and "第 3 条审计事件" in check.first and "序号不连续" in check.first

    # a file slipped in
    extra = tmp_path / "extra.zip"
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(extra, "w") as zout:
        for info in z.infolist():
            zout.writestr(info, z.read(info.filename))
        zout.writestr("项目/伪造的收据.pdf", b"%PDF-1.4 forged")
    assert archive.verify_archive(extra.read_bytes()).first == "多出清单中没有的文件 项目/伪造的收据.pdf"


def test_the_same_records_give_the_same_archive_and_its_papers_verify(db: Database, year: Driver) -> None:
    code = year.city.communities[0].code
    first, second = io.BytesIO(), io.BytesIO()
    steps: list[str] = []

    def progress(tasks):  # type: ignore[no-untyped-def]
        for task in tasks:
            steps.append(task[0])
            yield task

    built = archive.build_archive(db, code, 2026, first, progress=progress)
    archive.build_archive(db, code, 2026, second)
    assert first.getvalue() == second.getvalue()
    assert steps and built.codes > 10
    check = archive.verify_archive(first.getvalue())
    assert check.ok and check.chains == 4 and check.events > 40, check.problems
    with zipfile.ZipFile(first) as z:
        manifest = json.loads(z.read("manifest.json"))
        pdfs = [f for f in manifest["files"] if f["path"].endswith(".pdf")]
        assert all(f["audit_event"] for f in pdfs), [f["path"] for f in pdfs if not f["audit_event"]]
        assert manifest[archive.TRUST_ROOTS_KEY]["root"] is None  # no root signed yet: said so
    # every paper in the archive is a registered, current fundflow document
    from store.models import DocumentCode

    with db.uow(write=False) as uow:
        codes = list(uow.session.query(DocumentCode.code).filter(DocumentCode.superseded_by.is_(None)))
    assert len(codes) >= built.codes
    assert all(papers.verify(db, c)["current"] for (c,) in codes[:5])  # type: ignore[index]


def test_archive_refuses_an_unknown_community_or_year(db: Database, year: Driver, monkeypatch: pytest.MonkeyPatch,
                                                      tmp_path: Path) -> None:
    rc, text = _cli(db, monkeypatch, "archive", "--community", "S99", "--year", "2026", "--out", str(tmp_path / "x.zip"))
    assert rc == 2 and "没有代码为 S99 的社区" in text
    rc, text = _cli(db, monkeypatch, "archive", "--community", year.city.communities[0].code, "--year", "2019",
                    "--out", str(tmp_path / "x.zip"))
    assert rc == 2 and "没有 2019 年度的经费年度" in text and not (tmp_path / "x.zip").exists()
    rc, text = _cli(db, monkeypatch, "archive")
    assert rc == 2 and "用法" in text
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    rc, text = _cli(db, monkeypatch, "archive", "verify", str(tmp_path / "junk.zip"))
    assert rc == 1 and "不是有效的 zip 档案" in text


def _consistent_rewrite(src: bytes, reason: str) -> bytes:
    """Rewrite one audit event and recompute every later hash, the chain's head in the manifest and the
    file's sha256: an archive that is consistent in itself."""
    import hashlib

    with zipfile.ZipFile(io.BytesIO(src)) as z:
        manifest = json.loads(z.read("manifest.json"))
        spec = next(c for c in manifest["chains"] if c["entity_type"] == "project")
        events = [json.loads(line) for line in z.read(spec["file"]).decode("utf-8").splitlines()]
        events[1]["reason"] = reason
        prev = events[0]["hash"]
        for e in events[1:]:
            e["prev_hash"] = prev
            e["hash"] = prev = archive.event_hash(e)
        body = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events).encode("utf-8")
        spec["head"] = prev
        by_seq = {e["seq"]: e["hash"] for e in events}
        for f in manifest["files"]:
            ref = f["audit_event"]
            if ref and (ref["entity_type"], ref["entity_id"]) == (spec["entity_type"], spec["entity_id"]):
                ref["hash"] = by_seq[ref["seq"]]
        next(f for f in manifest["files"] if f["path"] == spec["file"])["sha256"] = hashlib.sha256(body).hexdigest()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in z.infolist():
                content = {"manifest.json": json.dumps(manifest, ensure_ascii=False).encode("utf-8"),
                           spec["file"]: body}.get(info.filename, z.read(info.filename))
                zout.writestr(info, content)
    return out.getvalue()


def test_the_signed_daily_root_travels_with_the_archive_and_catches_a_consistent_rewrite(
        db: Database, year: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workflow import anchors

    key_file = tmp_path / "keys" / "audit-signing.key"
    key = anchors.generate_key_file(key_file)
    monkeypatch.setenv("FUNDFLOW_AUDIT_KEY_FILE", str(key_file))
    monkeypatch.delenv("FUNDFLOW_AUDIT_KEY", raising=False)
    monkeypatch.delenv("FUNDFLOW_AUDIT_PUBLIC_KEYS", raising=False)
    signed = anchors.sign_root(db, settings=anchors.Settings.from_env(), now=year.tick())
    # events after the root: the fund year's chain is signed up to the event before them, and the annual
    # report, whose data now postdates the root, names it
    year.new_project("draft", title="冬季清雪工具购置", category="property", amount="4400.00")
    code = year.city.communities[0].code
    year.now = dt.datetime(2026, 11, 24, 9, 0, tzinfo=year.now.tzinfo)
    year.fire(_fund_year_id(db, code), "submit_report", year.a("secretary"),
              {"summary": "全年收集群众需求,开展服务项目三个,经费专款专用。", "service_effect": "群众满意。"},
              entity_type="fund_year")
    code = year.city.communities[0].code
    out = io.BytesIO()
    archive.build_archive(db, code, 2026, out)
    with zipfile.ZipFile(out) as z:
        anchor = json.loads(z.read("manifest.json"))[archive.TRUST_ROOTS_KEY]
    assert anchor["root"]["seq"] == signed.seq and anchor["root"]["state_root"] == signed.state_root
    assert len(anchor["chains"]) == 4, "the four chains that existed when the root was signed"
    trusted = anchors.trusted_keys(anchors.Settings.from_env())
    check = archive.verify_archive(out.getvalue(), trusted)
    assert check.ok and check.signed_root is not None, check.problems

    file = tmp_path / "signed.zip"
    file.write_bytes(out.getvalue())
    rc, text = _cli(db, monkeypatch, "archive", "verify", str(file))
    assert rc == 0 and f"已核验第 {signed.seq} 号每日签名根" in text and key.key_id in text, text

    # consistent in itself, but not what was signed
    forged = _consistent_rewrite(out.getvalue(), "改写后的理由")
    assert archive.verify_archive(forged).first.endswith("签名的链头不符(已签名的事件被改写)")
    # a root whose fields were changed no longer carries its signature
    with zipfile.ZipFile(out) as z:
        manifest = json.loads(z.read("manifest.json"))
    manifest[archive.TRUST_ROOTS_KEY]["root"]["events"] += 1
    bad = tmp_path / "root.zip"
    _rewrite(file, bad, {"manifest.json": json.dumps(manifest, ensure_ascii=False).encode("utf-8")})
    assert "签名不成立" in archive.verify_archive(bad.read_bytes()).first
    # the annual report printed after the root names it, as the published roots do
    from tests.documents.helpers import flat
    from workflow import papers

    with db.uow(write=False) as uow:
        report = papers.render(uow.session, "annual_report", _fund_year_id(db, code))
    assert report.doc.anchor.startswith(f"第 {signed.seq} 号") and signed.state_root in report.doc.anchor
    assert "审计签名" in flat(report.content) and f"签名密钥{signed.key_id}" in flat(report.content)
    # a root signed by a key this machine does not trust
    other = anchors.key_id(bytes(32))
    assert "不在本机信任的密钥之中" in archive.verify_archive(out.getvalue(), {other: bytes(32)}).first


def _fund_year_id(db: Database, code: str) -> int:
    from sqlalchemy import select

    from store.models import FundYear, Organisation

    with db.uow(write=False) as uow:
        return int(uow.session.execute(select(FundYear.id).join(Organisation, Organisation.id == FundYear.community_id)
                                       .where(Organisation.code == code, FundYear.year == 2026)).scalar_one())
