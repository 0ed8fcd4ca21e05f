"""Notifications: an in-app inbox per user, plus optional e-mail and a group-robot webhook.

* :func:`notify` writes inbox rows inside the caller's transaction, one per (deadline, recipient,
  kind) — an insert-if-absent on the table's unique constraint (``ON CONFLICT DO NOTHING`` on both
  databases), so a re-run of the same deadline, or two sweeps racing, never repeats one. For each
  row it created it also queues the outbound copies (``notification_deliveries``): an e-mail when
  SMTP is configured and the recipient has an address, and one webhook message per (deadline,
  kind) when a webhook is configured.
* :func:`deliver_pending` sends the queued copies *after* their transaction committed, outside any
  transaction: claim (short transaction, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), send, record
  the outcome (short transaction). A failed send is retried with capped exponential backoff; a
  copy claimed by a process that died is reclaimed after :data:`CLAIM_LEASE`. Delivery is
  therefore at-least-once; every e-mail carries a stable ``Message-ID`` so a duplicate can be
  recognised.

Settings (environment, read at delivery time)::

    FUNDFLOW_SMTP_HOST, FUNDFLOW_SMTP_PORT (25), FUNDFLOW_SMTP_USER, FUNDFLOW_SMTP_PASSWORD,
    FUNDFLOW_SMTP_FROM, FUNDFLOW_SMTP_SECURITY (starttls | ssl | none; default by port: 465 ssl,
    587 starttls, else none)
    FUNDFLOW_WEBHOOK_URL, FUNDFLOW_WEBHOOK_FORMAT (wecom | dingtalk; default from the URL's host),
    FUNDFLOW_WEBHOOK_SECRET (DingTalk 加签 secret, optional)
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.db import Database
from store.models import Notification, NotificationDelivery, Person
from workflow import clock

log = logging.getLogger("fundflow.notify")

MAX_ATTEMPTS = 8
"""A copy that failed this many times is marked ``failed`` and left alone."""
RETRY_BASE = dt.timedelta(seconds=30)
RETRY_CAP = dt.timedelta(hours=1)
CLAIM_LEASE = dt.timedelta(minutes=10)
"""A copy claimed (``sending``) longer than this by a sender that never recorded it is sent again."""


# -------------------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = "fundflow@localhost"
    security: str = "none"
    """``starttls`` | ``ssl`` | ``none``."""
    timeout: float = 20.0


@dataclass(frozen=True)
class WebhookSettings:
    url: str
    format: str = "wecom"
    """``wecom`` (企业微信群机器人) | ``dingtalk`` (钉钉自定义机器人)."""
    secret: str = ""
    timeout: float = 10.0


@dataclass(frozen=True)
class Settings:
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        smtp = None
        host = env.get("FUNDFLOW_SMTP_HOST", "").strip()
        if host:
            port = int(env.get("FUNDFLOW_SMTP_PORT", "").strip() or 25)
            security = env.get("FUNDFLOW_SMTP_SECURITY", "").strip().lower() or (
                "ssl" if port == 465 else "starttls" if port == 587 else "none")
            if security not in ("starttls", "ssl", "none"):
                raise ValueError("FUNDFLOW_SMTP_SECURITY 须为 starttls、ssl 或 none")
            smtp = SmtpSettings(host=host, port=port, user=env.get("FUNDFLOW_SMTP_USER", ""),
                                password=env.get("FUNDFLOW_SMTP_PASSWORD", ""),
                                sender=env.get("FUNDFLOW_SMTP_FROM", "").strip() or "fundflow@localhost",
                                security=security)
        webhook = None
        url = env.get("FUNDFLOW_WEBHOOK_URL", "").strip()
        if url:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("FUNDFLOW_WEBHOOK_URL 须为 http(s) 地址")
            fmt = env.get("FUNDFLOW_WEBHOOK_FORMAT", "").strip().lower() or (
                "dingtalk" if "dingtalk" in parts.hostname else "wecom")
            if fmt not in ("wecom", "dingtalk"):
                raise ValueError("FUNDFLOW_WEBHOOK_FORMAT 须为 wecom 或 dingtalk")
            webhook = WebhookSettings(url=url, format=fmt, secret=env.get("FUNDFLOW_WEBHOOK_SECRET", ""))
        return cls(smtp=smtp, webhook=webhook)

    @classmethod
    def safe_from_env(cls) -> Settings:
        """The environment's settings; a malformed setting is logged and that channel left off."""
        try:
            return cls.from_env()
        except ValueError as exc:
            log.error("notification settings ignored: %s", exc)
            return cls()

    @property
    def any(self) -> bool:
        return self.smtp is not None or self.webhook is not None


# ----------------------------------------------------------------------------------- the inbox


def insert_ignoring_duplicates(session: Session, model: Any, rows: list[dict[str, Any]],
                               returning: tuple[str, ...] = ()) -> list[Any]:
    """INSERT … ON CONFLICT DO NOTHING of many rows (same keys) on either database, in the session's
    transaction; returns the ``returning`` columns of the rows actually inserted."""
    if not rows:
        return []
    table = model.__table__
    ins = (pg_insert(table) if session.get_bind().dialect.name == "postgresql" else sqlite_insert(table))
    stmt = ins.on_conflict_do_nothing()
    if not returning:
        session.connection().execute(stmt, rows)
        return []
    return list(session.connection().execute(stmt.returning(*[table.c[c] for c in returning]), rows))


@dataclass(frozen=True)
class Message:
    """One notification to send to several recipients (one inbox row each)."""

    deadline_id: int
    recipients: tuple[int, ...]
    kind: str
    title: str
    body: str


def notify(session: Session, *, deadline_id: int, recipients: Iterable[int], kind: str, title: str, body: str,
           now: dt.datetime, settings: Settings | None = None) -> list[int]:
    """Inbox rows for each recipient not yet notified of this (deadline, kind); returns the new ids.

    Runs in the caller's transaction; a re-run (or a concurrent sweep) creates nothing twice.
    """
    return notify_many(session, [Message(deadline_id, tuple(recipients), kind, title, body)], now, settings)


def notify_many(session: Session, messages: Iterable[Message], now: dt.datetime,
                settings: Settings | None = None) -> list[int]:
    """:func:`notify` for many messages in one statement (the sweep's batches)."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, int, str]] = set()
    for m in messages:
        for pid in m.recipients:
            key = (m.deadline_id, int(pid), m.kind)
            if key not in seen:
                seen.add(key)
                rows.append({"deadline_id": m.deadline_id, "recipient_id": int(pid), "kind": m.kind,
                             "title": m.title[:200], "body": m.body, "created_at": now, "read_at": None})
    if not rows:
        return []
    created = [(int(i), int(r), d, str(k)) for i, r, d, k in insert_ignoring_duplicates(
        session, Notification, rows, ("id", "recipient_id", "deadline_id", "kind"))]
    if not created:
        return []
    settings = settings if settings is not None else Settings.safe_from_env()
    deliveries: list[dict[str, Any]] = []
    if settings.smtp is not None:
        emails = dict(session.execute(select(Person.id, Person.email).where(
            Person.id.in_({r for _i, r, _d, _k in created}), Person.email.is_not(None), Person.email != "")
        ).tuples().all())
        for nid, pid, _d, _k in created:
            if emails.get(pid):
                deliveries.append(_delivery(nid, "email", str(emails[pid]), now))
    if settings.webhook is not None:
        # one group message per (deadline, kind): it names every recipient
        first: dict[tuple[Any, str], int] = {}
        for nid, _pid, d, k in created:
            first[(d, k)] = min(nid, first.get((d, k), nid))
        deliveries.extend(_delivery(nid, "webhook", "", now) for nid in first.values())
    insert_ignoring_duplicates(session, NotificationDelivery, deliveries)
    return [i for i, _r, _d, _k in created]


def _delivery(notification_id: int, channel: str, target: str, now: dt.datetime) -> dict[str, Any]:
    return {"notification_id": notification_id, "channel": channel, "target": target, "status": "pending",
            "attempts": 0, "next_attempt_at": None, "claimed_at": None, "sent_at": None, "last_error": "",
            "created_at": now}


def inbox(session: Session, person_id: int, unread_only: bool = False, limit: int = 100) -> list[Notification]:
    """A user's notifications, newest first."""
    stmt = select(Notification).where(Notification.recipient_id == person_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return list(session.execute(stmt.order_by(Notification.id.desc()).limit(limit)).scalars())


def mark_read(session: Session, person_id: int, notification_id: int, now: dt.datetime | None = None) -> bool:
    """Mark one of the user's own notifications read; False when it is not theirs (or unknown)."""
    session.execute(update(Notification).where(
        Notification.id == notification_id, Notification.recipient_id == person_id,
        Notification.read_at.is_(None)).values(read_at=now or clock.now()))
    return session.execute(select(Notification.id).where(
        Notification.id == notification_id, Notification.recipient_id == person_id)).first() is not None


# ------------------------------------------------------------------------------------ delivering


@dataclass
class DeliveryResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


@dataclass(frozen=True)
class _Job:
    id: int
    channel: str
    target: str
    attempts: int
    notification_id: int
    title: str
    body: str
    recipients: tuple[str, ...]


def retry_delay(attempts: int) -> dt.timedelta:
    """Capped exponential backoff after the given number of failed attempts (1 → 30 s, 2 → 60 s …)."""
    delay: dt.timedelta = RETRY_BASE * (2 ** max(attempts - 1, 0))
    return min(delay, RETRY_CAP)


def _claim(db: Database, now: dt.datetime, limit: int) -> list[_Job]:
    due = or_(NotificationDelivery.next_attempt_at.is_(None), NotificationDelivery.next_attempt_at <= now)
    claimable = or_(and_(NotificationDelivery.status == "pending", due),
                    and_(NotificationDelivery.status == "sending", NotificationDelivery.claimed_at < now - CLAIM_LEASE))
    with db.uow() as uow:
        s = uow.session
        stmt = select(NotificationDelivery).where(claimable).order_by(NotificationDelivery.id).limit(limit)
        if db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        rows = list(s.execute(stmt).scalars())
        if not rows:
            return []
        notes = {n.id: n for n in s.execute(select(Notification).where(
            Notification.id.in_([r.notification_id for r in rows]))).scalars()}
        jobs: list[_Job] = []
        for r in rows:
            r.status, r.claimed_at, r.attempts = "sending", now, r.attempts + 1
            n = notes[r.notification_id]
            names: tuple[str, ...] = ()
            if r.channel == "webhook":
                names = tuple(s.execute(
                    select(Person.display_name).join(Notification, Notification.recipient_id == Person.id)
                    .where(Notification.deadline_id == n.deadline_id, Notification.kind == n.kind)
                    .order_by(Notification.id)).scalars())
            jobs.append(_Job(r.id, r.channel, r.target, r.attempts, n.id, n.title, n.body, names))
        uow.commit()
    return jobs


def _record(db: Database, job: _Job, error: str, now: dt.datetime) -> str:
    with db.uow() as uow:
        row = uow.session.get(NotificationDelivery, job.id)
        assert row is not None
        if not error:
            row.status, row.sent_at, row.last_error = "sent", now, ""
            outcome = "sent"
        elif job.attempts >= MAX_ATTEMPTS:
            row.status, row.last_error = "failed", error[:2000]
            outcome = "failed"
        else:
            row.status, row.last_error = "pending", error[:2000]
            row.next_attempt_at = now + retry_delay(job.attempts)
            outcome = "retried"
        uow.commit()
    return outcome


def deliver_pending(db: Database, settings: Settings | None = None, now: dt.datetime | None = None,
                    limit: int = 200, should_stop: Callable[[], bool] | None = None) -> DeliveryResult:
    """Send every queued copy that is due; each outcome is recorded (see the module docstring)."""
    settings = settings if settings is not None else Settings.safe_from_env()
    result = DeliveryResult()
    while not (should_stop and should_stop()):
        started = now or clock.now()
        jobs = _claim(db, started, limit)
        if not jobs:
            break
        sender = _Sender(settings)
        try:
            for job in jobs:
                try:
                    sender.send(job)
                    error = ""
                except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
                    error = f"{type(exc).__name__}: {exc}"
                    log.warning("delivery %s (%s) failed: %s", job.id, job.channel, error)
                outcome = _record(db, job, error, now or clock.now())
                setattr(result, outcome, getattr(result, outcome) + 1)
        finally:
            sender.close()
        if len(jobs) < limit:
            break
    return result


class _Sender:
    """Sends copies; keeps one SMTP connection open for a batch."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def send(self, job: _Job) -> None:
        if job.channel == "email":
            self._email(job)
        elif job.channel == "webhook":
            self._webhook(job)
        else:
            raise ValueError(f"unknown channel {job.channel}")

    # -- e-mail
    def _connect(self, cfg: SmtpSettings) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        smtp: smtplib.SMTP
        if cfg.security == "ssl":
            smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
            if cfg.security == "starttls":
                smtp.starttls(context=ssl.create_default_context())
        if cfg.user:
            smtp.login(cfg.user, cfg.password)
        self._smtp = smtp
        return smtp

    def _email(self, job: _Job) -> None:
        cfg = self.settings.smtp
        if cfg is None:
            raise RuntimeError("SMTP is not configured (FUNDFLOW_SMTP_HOST)")
        msg = EmailMessage()
        msg["Subject"] = job.title
        msg["From"] = cfg.sender
        msg["To"] = job.target
        msg["Date"] = format_datetime(clock.now())
        domain = cfg.sender.rsplit("@", 1)[-1] or "localhost"
        msg["Message-ID"] = f"<fundflow-notification-{job.notification_id}@{domain}>"
        msg.set_content(job.body + "\n\n—— fundflow 社区党组织服务群众专项经费管理系统(系统自动发送)\n")
        try:
            self._connect(cfg).send_message(msg)
        except (smtplib.SMTPServerDisconnected, OSError):
            # a stale kept-open connection: reconnect once
            self.close()
            self._connect(cfg).send_message(msg)

    # -- webhook
    def _webhook(self, job: _Job) -> None:
        cfg = self.settings.webhook
        if cfg is None:
            raise RuntimeError("webhook is not configured (FUNDFLOW_WEBHOOK_URL)")
        content = f"【fundflow】{job.title}\n{job.body}"
        if job.recipients:
            content += "\n接收人: " + "、".join(job.recipients)
        payload = robot_message(cfg.format, content)
        url = cfg.url
        if cfg.format == "dingtalk" and cfg.secret:
            url = _dingtalk_signed(url, cfg.secret)
        req = urllib.request.Request(url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json; charset=utf-8"}, method="POST")
        with urllib.request.urlopen(req, timeout=cfg.timeout) as resp:  # noqa: S310 - http(s) checked in settings
            raw = resp.read()
        try:
            answer = json.loads(raw.decode("utf-8") or "{}")
        except ValueError:
            return
        if isinstance(answer, dict) and answer.get("errcode", 0) not in (0, "0"):
            raise RuntimeError(f"robot answered errcode={answer.get('errcode')} {answer.get('errmsg', '')}")

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._smtp.quit()
            self._smtp = None


def robot_message(fmt: str, content: str) -> dict[str, Any]:
    """The group-robot "text" message (WeCom and DingTalk share the shape)."""
    if fmt == "dingtalk":
        return {"msgtype": "text", "text": {"content": content}, "at": {"isAtAll": False}}
    return {"msgtype": "text", "text": {"content": content}}


def _dingtalk_signed(url: str, secret: str) -> str:
    timestamp = str(int(time.time() * 1000))
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = urllib.parse.quote_plus(base64.b64encode(digest))
    return f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
