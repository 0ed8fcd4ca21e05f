"""Signed roots: the audit chains anchored outside the database's reach (docs/audit.md).

A hash chain alone stops nobody who can write to the database: rewrite an event, recompute every later
hash and the row's head, and the chain holds again. So once a day (scheduler job ``sign_audit_root``, or
``fundflow audit sign``) every chain's head is combined into a Merkle root and the root is signed with an
Ed25519 key that the database never holds (a key file or an environment setting). The signed roots are
stored (``audit_roots``), chained to each other, written to a witness log next to the key, and published
(``GET /api/v1/public/audit/roots``, the notice board, the annual disclosure). ``fundflow audit verify``
then checks every chain against them with the public key of its own configuration.

What a root signs (``root_message``)::

    fundflow-audit-root/v1 | seq | signed_at | chains | events | state_root | delta_root | delta_count | prev_hash

- ``state_root``: Merkle root over every chain's leaf ``(entity_type, entity_id, length, head)``, sorted by
  (entity_type, entity_id); a leaf hashes ``0x00 || "type\\x1fid\\x1flength\\x1fhead"``, a node
  ``0x01 || left || right`` (RFC 6962 style, an odd node moves up unchanged; no leaves: sha256 of nothing);
- ``delta_root``: the same over the leaves of the chains that changed since the previous root, which are
  the rows of ``audit_root_leaves`` kept for this root;
- ``prev_hash``: the previous root's ``record_hash`` (sha256 of its message), so a root deleted from the
  middle, or a root altered, breaks the chain of roots.

Settings (environment):

- ``FUNDFLOW_AUDIT_KEY``: the private key itself (a PEM text, or 64 hex digits / base64 of the 32-byte seed);
- ``FUNDFLOW_AUDIT_KEY_FILE``: else the PEM file (default ``keys/audit-signing.key``; ``make run`` and
  ``fundflow audit keygen`` make it, mode 0600, git-ignored);
- ``FUNDFLOW_AUDIT_PUBLIC_KEYS``: more trusted public keys (hex or base64 of the raw 32 bytes, comma
  separated): a verifier that holds no private key, or the keys of earlier years after a rotation;
- ``FUNDFLOW_AUDIT_ROOTS_LOG``: the witness log (default: ``audit-roots.jsonl`` beside the key file);
- ``FUNDFLOW_AUDIT_ROOT_MAX_AGE_HOURS``: how old the latest root may be before verify calls the roots
  missing (default 50: the daily root and a day's grace).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session

from store.db import Database
from store.models import AuditAnchored, AuditChain, AuditEvent, AuditRoot, AuditRootLeaf
from workflow import audit, clock

log = logging.getLogger("fundflow.anchors")

VERSION = "fundflow-audit-root/v1"
GENESIS = "0" * 64
DEFAULT_KEY_FILE = "keys/audit-signing.key"
SIGN_LOCK = 7234008
"""PostgreSQL advisory lock that serialises signers (7234001 … 7234003 are taken)."""


class KeyError_(RuntimeError):
    """The signing key is missing or unreadable (message in Chinese, for the CLI and the logs)."""


# ------------------------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class Settings:
    key_text: str = ""
    key_file: Path = Path(DEFAULT_KEY_FILE)
    public_keys: tuple[str, ...] = ()
    roots_log: Path | None = None
    max_age_hours: float = 50.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        key_file = Path(e.get("FUNDFLOW_AUDIT_KEY_FILE") or DEFAULT_KEY_FILE)
        log_path = e.get("FUNDFLOW_AUDIT_ROOTS_LOG")
        return cls(key_text=e.get("FUNDFLOW_AUDIT_KEY", "").strip(), key_file=key_file,
                   public_keys=tuple(k.strip() for k in e.get("FUNDFLOW_AUDIT_PUBLIC_KEYS", "").split(",") if k.strip()),
                   roots_log=Path(log_path) if log_path else key_file.with_name("audit-roots.jsonl"),
                   max_age_hours=float(e.get("FUNDFLOW_AUDIT_ROOT_MAX_AGE_HOURS") or 50))


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


@dataclass(frozen=True)
class SigningKey:
    private: Any
    """``cryptography``'s Ed25519PrivateKey."""
    public_raw: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)

    @property
    def public_hex(self) -> str:
        return self.public_raw.hex()

    def sign(self, message: bytes) -> str:
        return bytes(self.private.sign(message)).hex()


def _raw_bytes(value: str) -> bytes:
    value = value.strip()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = base64.b64decode(value, validate=True)
    if len(raw) != 32:
        raise ValueError("not 32 bytes")
    return raw


def _private_from_text(value: str) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if "PRIVATE KEY" in value:
        key = serialization.load_pem_private_key(value.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("not an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_raw_bytes(value))


def load_signing_key(settings: Settings | None = None) -> SigningKey:
    """The signing key from ``FUNDFLOW_AUDIT_KEY`` or the key file; raises :class:`KeyError_` naming the file."""
    from cryptography.hazmat.primitives import serialization

    s = settings or Settings.from_env()
    source = "环境变量 FUNDFLOW_AUDIT_KEY" if s.key_text else f"密钥文件 {s.key_file}"
    try:
        text_ = s.key_text or s.key_file.read_text(encoding="ascii")
    except FileNotFoundError:
        raise KeyError_(f"没有审计签名密钥:{s.key_file} 不存在(运行 `fundflow audit keygen` 生成,"
                        "或以 FUNDFLOW_AUDIT_KEY / FUNDFLOW_AUDIT_KEY_FILE 指定)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise KeyError_(f"无法读取审计签名密钥({source}):{exc}") from None
    try:
        private = _private_from_text(text_)
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"审计签名密钥无效({source}):应为 Ed25519 私钥(PEM,或 32 字节种子的十六进制/base64)"
                        f"[{exc}]") from None
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(private=private, public_raw=bytes(raw))


def generate_key_file(path: Path) -> SigningKey:
    """Write a new Ed25519 private key (PKCS#8 PEM, mode 0600); refuses to overwrite an existing file."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return SigningKey(private=private, public_raw=bytes(raw))


def trusted_keys(settings: Settings | None = None) -> dict[str, bytes]:
    """key id → raw public key, from the configuration only (the signing key's, and FUNDFLOW_AUDIT_PUBLIC_KEYS)."""
    s = settings or Settings.from_env()
    keys: dict[str, bytes] = {}
    for value in s.public_keys:
        try:
            raw = _raw_bytes(value)
        except ValueError:
            log.warning("FUNDFLOW_AUDIT_PUBLIC_KEYS: ignoring %r (not a 32-byte key)", value[:20])
            continue
        keys[key_id(raw)] = raw
    try:
        signing = load_signing_key(s)
    except KeyError_:
        return keys
    keys[signing.key_id] = signing.public_raw
    return keys


def signature_ok(public_raw: bytes, message: bytes, signature_hex: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


# ----------------------------------------------------------------------------------------- merkle


def leaf_hash(entity_type: str, entity_id: int, seq: int, head: str) -> bytes:
    return hashlib.sha256(b"\x00" + f"{entity_type}\x1f{entity_id}\x1f{seq}\x1f{head}".encode()).digest()


def merkle_root(leaves: Iterable[bytes]) -> str:
    """RFC 6962-style root of leaf hashes given in order (an odd node moves up unchanged)."""
    level = list(leaves)
    if not level:
        return hashlib.sha256(b"").hexdigest()
    sha = hashlib.sha256
    while len(level) > 1:
        nxt = [sha(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0].hex()


Leaf = tuple[str, int, int, str]
"""(entity_type, entity_id, seq, head)."""


def tree_root(leaves: Iterable[Leaf]) -> str:
    return merkle_root(leaf_hash(*leaf) for leaf in sorted(leaves, key=lambda x: (x[0], x[1])))


def inclusion_proof(leaves: list[Leaf], entity_type: str, entity_id: int) -> list[tuple[str, str]] | None:
    """The Merkle path of one chain's leaf: [(side, sibling hash hex)], side 'L' or 'R' of the sibling."""
    ordered = sorted(leaves, key=lambda x: (x[0], x[1]))
    index = next((i for i, lf in enumerate(ordered) if (lf[0], lf[1]) == (entity_type, entity_id)), None)
    if index is None:
        return None
    level = [leaf_hash(*lf) for lf in ordered]
    path: list[tuple[str, str]] = []
    while len(level) > 1:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(("L" if sibling < index else "R", level[sibling].hex()))
        nxt = [hashlib.sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level, index = nxt, index // 2
    return path


def root_message(seq: int, signed_at: dt.datetime, chains: int, events: int, state_root: str, delta_root: str,
                 delta_count: int, prev_hash: str) -> bytes:
    at = signed_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return "|".join([VERSION, str(seq), at, str(chains), str(events), state_root, delta_root, str(delta_count),
                     prev_hash]).encode("ascii")


def message_of(root: AuditRoot) -> bytes:
    return root_message(root.seq, root.signed_at, root.chains, root.events, root.state_root, root.delta_root,
                        root.delta_count, root.prev_hash)


# ---------------------------------------------------------------------------------------- signing


def current_heads(session: Session) -> dict[tuple[str, int], tuple[int, str]]:
    """(entity_type, entity_id) → (length, head) of every chain with at least one event."""
    heads: dict[tuple[str, int], tuple[int, str]] = {}
    for kind, model in audit.CHAIN_HOLDERS:
        for i, v, h in session.execute(select(model.id, model.version, model.audit_head).where(model.version > 0)):
            heads[(kind, int(i))] = (int(v), h)
    for t, i, v, h in session.execute(select(AuditChain.entity_type, AuditChain.entity_id, AuditChain.version,
                                             AuditChain.audit_head).where(AuditChain.version > 0)):
        heads[(t, int(i))] = (int(v), h)
    return heads


@dataclass(frozen=True)
class Signed:
    seq: int
    day: dt.date
    signed_at: dt.datetime
    chains: int
    events: int
    delta_count: int
    state_root: str
    record_hash: str
    key_id: str


def sign_root(db: Database, key: SigningKey | None = None, settings: Settings | None = None,
              now: dt.datetime | None = None) -> Signed:
    """Sign the current head of every chain as the next root; one transaction. Raises KeyError_ without a key."""
    s = settings or Settings.from_env()
    key = key or load_signing_key(s)
    with db.uow() as uow:
        session = uow.session
        if db.is_postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SIGN_LOCK})
        at = now or clock.now()
        last = session.execute(select(AuditRoot).order_by(AuditRoot.seq.desc()).limit(1)).scalar_one_or_none()
        heads = current_heads(session)
        anchored = {(t, int(i)): (int(v), h) for t, i, v, h in session.execute(
            select(AuditAnchored.entity_type, AuditAnchored.entity_id, AuditAnchored.seq, AuditAnchored.head))}
        delta = [(t, i, v, h) for (t, i), (v, h) in heads.items() if anchored.get((t, i)) != (v, h)]
        seq = (last.seq + 1) if last else 1
        prev = last.record_hash if last else GENESIS
        state_root = tree_root((t, i, v, h) for (t, i), (v, h) in heads.items())
        delta_root = tree_root(delta)
        events = sum(v for v, _h in heads.values())
        message = root_message(seq, at, len(heads), events, state_root, delta_root, len(delta), prev)
        root = AuditRoot(seq=seq, day=clock.local_date(at), signed_at=at, chains=len(heads), events=events,
                         state_root=state_root, delta_root=delta_root, delta_count=len(delta), prev_hash=prev,
                         record_hash=hashlib.sha256(message).hexdigest(), key_id=key.key_id,
                         public_key=key.public_hex, signature=key.sign(message))
        session.add(root)
        session.flush()
        for chunk in _chunks(delta, 5000):
            session.execute(insert(AuditRootLeaf), [{"root_seq": seq, "entity_type": t, "entity_id": i, "seq": v,
                                                      "head": h} for t, i, v, h in chunk])
        _advance_anchored(session, delta, anchored)
        signed = Signed(seq, root.day, at, root.chains, events, len(delta), state_root, root.record_hash, key.key_id)
        witness = published_root(root)
        uow.commit()
    _witness(s, witness)
    log.info("audit root #%d signed: %d chains, %d events, %d changed", seq, signed.chains, events, len(delta))
    return signed


def _chunks(rows: list[Leaf], size: int) -> Iterator[list[Leaf]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _advance_anchored(session: Session, delta: list[Leaf], anchored: dict[tuple[str, int], tuple[int, str]]) -> None:
    known = [(t, i) for t, i, _v, _h in delta if (t, i) in anchored]
    for t, ids in _by_type(known).items():
        for part in range(0, len(ids), 5000):
            session.execute(delete(AuditAnchored).where(AuditAnchored.entity_type == t,
                                                        AuditAnchored.entity_id.in_(ids[part:part + 5000])))
    for chunk in _chunks(delta, 5000):
        session.execute(insert(AuditAnchored), [{"entity_type": t, "entity_id": i, "seq": v, "head": h}
                                                for t, i, v, h in chunk])


def _by_type(keys: list[tuple[str, int]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for t, i in keys:
        out.setdefault(t, []).append(i)
    return out


def _witness(settings: Settings, root: dict[str, Any]) -> None:
    """Append the root to the witness log beside the key (outside the database); a failure is logged only."""
    if settings.roots_log is None:
        return
    try:
        settings.roots_log.parent.mkdir(parents=True, exist_ok=True)
        with settings.roots_log.open("a", encoding="utf-8") as f:
            f.write(json.dumps(root, ensure_ascii=False, sort_keys=True) + "\n")
    except OSError as exc:
        log.warning("audit roots witness log %s not written: %s", settings.roots_log, exc)


def sign_if_due(db: Database, now: dt.datetime | None = None, settings: Settings | None = None,
                catch_up: bool = False) -> Signed | None:
    """The daily signing (``catch_up=False``: sign unless a root was signed in the last hour, so two runs of
    the job make one root) or a leader's catch-up at start (``catch_up=True``: sign only when no root is
    newer than yesterday, i.e. the daily root was missed). Without a key: log a warning, sign nothing."""
    s = settings or Settings.from_env()
    at = now or clock.now()
    with db.uow(write=False) as uow:
        last = uow.session.execute(select(AuditRoot.day, AuditRoot.signed_at).order_by(AuditRoot.seq.desc())
                                   .limit(1)).first()
    if last is not None:
        if catch_up and last[0] >= clock.local_date(at) - dt.timedelta(days=1):
            return None
        if not catch_up and at - last[1] < dt.timedelta(hours=1):
            return None
    try:
        key = load_signing_key(s)
    except KeyError_ as exc:
        log.warning("audit root not signed: %s", exc)
        return None
    return sign_root(db, key, s, at)


# -------------------------------------------------------------------------------------- publishing


def published_root(root: AuditRoot) -> dict[str, Any]:
    """A root as it is published (API, board, disclosure, witness log): everything needed to check it."""
    return {"seq": root.seq, "day": root.day.isoformat(), "signed_at": root.signed_at.astimezone(dt.UTC).isoformat(),
            "chains": root.chains, "events": root.events, "state_root": root.state_root,
            "delta_root": root.delta_root, "delta_count": root.delta_count, "prev_hash": root.prev_hash,
            "record_hash": root.record_hash, "key_id": root.key_id, "public_key": root.public_key,
            "signature": root.signature, "message": message_of(root).decode("ascii")}


def roots(session: Session, *, since: dt.date | None = None, until: dt.date | None = None, limit: int = 50,
          offset: int = 0) -> list[dict[str, Any]]:
    """Published roots, newest first, optionally of the days ``since`` … ``until`` (inclusive).

    The read function for the notice board page and the annual disclosure: e.g. the roots of a year are
    ``roots(s, since=date(Y, 1, 1), until=date(Y, 12, 31), limit=400)``.
    """
    stmt = select(AuditRoot).order_by(AuditRoot.seq.desc())
    if since is not None:
        stmt = stmt.where(AuditRoot.day >= since)
    if until is not None:
        stmt = stmt.where(AuditRoot.day <= until)
    return [published_root(r) for r in session.execute(stmt.limit(limit).offset(offset)).scalars()]


def latest_root(session: Session, on_or_before: dt.date | None = None) -> dict[str, Any] | None:
    """The newest root (of a day on or before ``on_or_before``): what a disclosure prints as its anchor."""
    stmt = select(AuditRoot).order_by(AuditRoot.seq.desc()).limit(1)
    if on_or_before is not None:
        stmt = stmt.where(AuditRoot.day <= on_or_before)
    root = session.execute(stmt).scalar_one_or_none()
    return published_root(root) if root is not None else None


def count_roots(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(AuditRoot)).scalar_one())


# ------------------------------------------------------------------------------------------ verify


@dataclass
class AnchorReport:
    roots: int = 0
    anchored_events: int = 0
    """Events covered by the latest valid root."""
    problems: list[str] = field(default_factory=list)


def _published_list(path: Path) -> list[dict[str, Any]]:
    """Roots from a witness log (JSON lines) or a saved API answer (a JSON list, or {"items": [...]})."""
    content = path.read_text(encoding="utf-8").strip()
    if not content:
        return []
    try:
        data = json.loads(content)
    except json.JSONDecodeError:
        return [json.loads(line) for line in content.splitlines() if line.strip()]
    if isinstance(data, dict):
        data = data.get("items", [data])
    return [dict(x) for x in data]


def check_roots(session: Session, settings: Settings | None = None, published: list[Path] | None = None,
                full: bool = False, events_total: int | None = None) -> AnchorReport:
    """The roots and their leaves: chained, signed by a trusted key, leaves matching the signed Merkle roots,
    nothing deleted that the witness log or a published copy knows, not too old; then every signed leaf
    against the audit events it names."""
    s = settings or Settings.from_env()
    report = AnchorReport()
    problems = report.problems
    keys = trusted_keys(s)
    rows = list(session.execute(select(AuditRoot).order_by(AuditRoot.seq)).scalars())
    report.roots = len(rows)
    if rows and not keys:
        problems.append("无法校验签名根:未配置审计签名公钥(FUNDFLOW_AUDIT_KEY_FILE / FUNDFLOW_AUDIT_PUBLIC_KEYS)")
    by_seq = {r.seq: r for r in rows}
    prev = GENESIS
    state: dict[tuple[str, int], tuple[int, str]] = {}
    leaves = session.execute(select(AuditRootLeaf.root_seq, AuditRootLeaf.entity_type, AuditRootLeaf.entity_id,
                                    AuditRootLeaf.seq, AuditRootLeaf.head)
                             .order_by(AuditRootLeaf.root_seq, AuditRootLeaf.entity_type, AuditRootLeaf.entity_id)
                             .execution_options(yield_per=5000))
    pending = iter(leaves)
    nxt = next(pending, None)
    expected_seq = 1
    for root in rows:
        name = f"签名根 #{root.seq}({root.day})"
        if root.seq != expected_seq:
            problems.append(f"签名根 #{expected_seq}–#{root.seq - 1} 缺失:签名根被删除")
        expected_seq = root.seq + 1
        message = message_of(root)
        if hashlib.sha256(message).hexdigest() != root.record_hash:
            problems.append(f"{name}: 记录哈希与内容不符,签名根被改动")
        if root.prev_hash != prev:
            problems.append(f"{name}: 前一签名根哈希不符,签名根链断裂(有签名根被删除或改动)")
        prev = root.record_hash
        public = keys.get(root.key_id)
        if keys and public is None:
            problems.append(f"{name}: 签名密钥 {root.key_id} 不在受信任的公钥之列")
        elif public is not None and not signature_ok(public, message, root.signature):
            problems.append(f"{name}: 签名无效,签名根被伪造或改动")
        delta: list[Leaf] = []
        while nxt is not None and nxt[0] <= root.seq:
            if nxt[0] == root.seq:
                delta.append((nxt[1], int(nxt[2]), int(nxt[3]), nxt[4]))
            else:
                problems.append(f"签名根 #{nxt[0]} 不存在,却有其叶子({nxt[1]} #{nxt[2]})")
            nxt = next(pending, None)
        if len(delta) != root.delta_count or tree_root(delta) != root.delta_root:
            problems.append(f"{name}: 所记链头与签名的默克尔根不符,签名根的叶子被改动")
        for t, i, v, h in delta:
            state[(t, i)] = (v, h)
        if (full or root is rows[-1]) and (len(state) != root.chains or tree_root(
                (t, i, v, h) for (t, i), (v, h) in state.items()) != root.state_root):
            problems.append(f"{name}: 全部链头的默克尔根与签名不符")
    while nxt is not None:
        problems.append(f"签名根 #{nxt[0]} 不存在,却有其叶子({nxt[1]} #{nxt[2]})")
        nxt = next(pending, None)
    if rows:
        report.anchored_events = rows[-1].events
    _check_outside_copies(s, by_seq, published or [], problems)
    _check_age(session, s, rows, problems, events_total)
    problems.extend(_leaves_against_events(session))
    return report


def _check_outside_copies(s: Settings, by_seq: dict[int, AuditRoot], published: list[Path],
                          problems: list[str]) -> None:
    sources = [p for p in ([s.roots_log] if s.roots_log is not None and s.roots_log.exists() else []) + published]
    for path in sources:
        try:
            copies = _published_list(path)
        except (OSError, ValueError) as exc:
            problems.append(f"无法读取签名根副本 {path}:{exc}")
            continue
        for copy in copies:
            seq = int(copy.get("seq", 0))
            root = by_seq.get(seq)
            if root is None:
                problems.append(f"签名根 #{seq}({copy.get('day', '?')})见于 {path},数据库中却没有:签名根被删除")
            elif copy.get("record_hash") != root.record_hash:
                problems.append(f"签名根 #{seq} 与 {path} 中的副本不符:签名根被替换")


def _check_age(session: Session, s: Settings, rows: list[AuditRoot], problems: list[str],
               events_total: int | None) -> None:
    """Roots deleted from the end leave no gap: a latest root older than the signing rhythm, with events
    after it, is reported (so is no root at all under events older than that)."""
    limit = clock.now() - dt.timedelta(hours=s.max_age_hours)
    if not rows:
        oldest = session.execute(select(func.min(AuditEvent.at))).scalar_one_or_none()
        if oldest is not None and oldest < limit:
            problems.append(f"没有任何签名根,而最早的审计事件在 {oldest.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M}:"
                            "签名根被删除,或每日签名任务从未运行")
        return
    last = rows[-1]
    if events_total is None:
        events_total = int(session.execute(select(func.count()).select_from(AuditEvent)).scalar_one())
    if last.signed_at < limit and events_total > last.events:
        problems.append(f"最近的签名根 #{last.seq} 签于 {last.signed_at.astimezone(clock.SHANGHAI):%Y-%m-%d %H:%M},"
                        f"已超过 {s.max_age_hours:g} 小时,其后又有 {events_total - last.events} 个事件:"
                        "其后的签名根被删除,或每日签名任务未运行")


def _leaves_against_events(session: Session, limit: int = 20) -> list[str]:
    """Every signed leaf names an event (entity, seq) that must still exist with that hash."""
    ev = AuditEvent
    rows = session.execute(
        select(AuditRootLeaf.root_seq, AuditRootLeaf.entity_type, AuditRootLeaf.entity_id, AuditRootLeaf.seq,
               ev.id, ev.hash)
        .outerjoin(ev, (ev.entity_type == AuditRootLeaf.entity_type) & (ev.entity_id == AuditRootLeaf.entity_id)
                   & (ev.seq == AuditRootLeaf.seq))
        .where((ev.id.is_(None)) | (ev.hash != AuditRootLeaf.head))
        .order_by(AuditRootLeaf.entity_type, AuditRootLeaf.entity_id, AuditRootLeaf.seq).limit(limit)).all()
    out = []
    for root_seq, t, i, seq, event_id, _h in rows:
        if event_id is None:
            out.append(f"{t} #{i} 第 {seq} 条审计事件已不存在,而签名根 #{root_seq} 签过它:事件被删除")
        else:
            out.append(f"{t} #{i} 第 {seq} 条审计事件(id={event_id})与签名根 #{root_seq} 所签的链头不符:"
                       f"该链第 1–{seq} 条中有事件在签名后被改写")
    return out


@dataclass(frozen=True)
class FullResult:
    """``fundflow audit verify``: the chains, the signed roots and the business tables."""

    checked: int
    chains: int
    roots: int
    anchored_events: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def broken(self) -> str:
        return self.problems[0] if self.problems else ""


def verify_all(session: Session, settings: Settings | None = None, published: list[Path] | None = None,
               full: bool = False) -> FullResult:
    from workflow import audit
    from workflow.audit_checks import business_breaks

    chains = audit.verify(session)
    problems = [] if chains.ok else [chains.broken]
    report = check_roots(session, settings, published, full, chains.checked if chains.ok else None)
    problems += report.problems
    problems += business_breaks(session)
    return FullResult(chains.checked, chains.chains, report.roots, report.anchored_events, tuple(problems))
