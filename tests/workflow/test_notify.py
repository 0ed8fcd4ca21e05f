"""Notifications: inbox rows once per (deadline, recipient, kind); e-mail to a real local SMTP sink
(aiosmtpd on 127.0.0.1) and the group-robot webhook to a local HTTP server — never an external address."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from store.models import Deadline, NotificationDelivery, Person
from tests.workflow.test_scheduler_support import deadline, notifications, sh
from workflow import notify as nt
from workflow.notify import Settings, SmtpSettings, WebhookSettings, deliver_pending, inbox, mark_read, notify
from workflow.sweep import sweep


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sink:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        self.messages.append(envelope)
        return "250 OK"


class SmtpSink:
    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.handler = Sink()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[Any]:
        return self.handler.messages


class Robot:
    """A local group-robot endpoint: records every POST, answers like WeCom/DingTalk."""

    def __init__(self, errcode: int = 0) -> None:
        self.posts: list[tuple[str, dict[str, Any]]] = []
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server hook
                body = self.rfile.read(int(self.headers["Content-Length"]))
                robot.posts.append((self.path, json.loads(body)))
                answer = json.dumps({"errcode": errcode, "errmsg": "ok" if errcode == 0 else "bad"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/cgi-bin/webhook/send?key=test"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Robot:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def overdue(db, driver) -> Iterator[tuple[int, Any]]:  # type: ignore[no-untyped-def]
    """A project whose approval is overdue, and every person with an e-mail address."""
    pid = driver.new_project("pending_approval")
    with db.uow() as uow:
        uow.session.execute(update(Person).values(email=Person.username + "@example.org"))
        uow.commit()
    yield pid, deadline(db, "project", pid, "approval_due")


def test_inbox_once_per_deadline_recipient_kind(db, driver, overdue):
    _pid, dl = overdue
    who = [driver.a("working_secretary").person_id, driver.a("director").person_id]
    now = sh(2026, 4, 1, 9)
    with db.uow() as uow:
        first = notify(uow.session, deadline_id=dl.id, recipients=who + who, kind="t", title="a", body="b", now=now,
                       settings=Settings())
        again = notify(uow.session, deadline_id=dl.id, recipients=who, kind="t", title="a", body="b", now=now,
                       settings=Settings())
        other = notify(uow.session, deadline_id=dl.id, recipients=who[:1], kind="u", title="a", body="b", now=now,
                       settings=Settings())
        uow.commit()
    assert (len(first), again, len(other)) == (2, [], 1)
    with db.uow() as uow:
        mine = inbox(uow.session, who[0])
        assert [n.kind for n in mine] == ["u", "t"]
        assert mark_read(uow.session, who[0], mine[0].id)
        assert not mark_read(uow.session, who[1], mine[0].id)  # not theirs
        uow.commit()
    with db.uow(write=False) as uow:
        assert [n.kind for n in inbox(uow.session, who[0], unread_only=True)] == ["t"]


def test_email_and_webhook_sent_once_after_commit(db, driver, overdue):
    _pid, dl = overdue
    with SmtpSink() as smtp, Robot() as robot:
        settings = Settings(smtp=SmtpSettings(host="127.0.0.1", port=smtp.port, sender="fundflow@example.org"),
                            webhook=WebhookSettings(url=robot.url, format="wecom"))
        result = sweep(db, dl.due_at, settings=settings)
        assert result.escalated == 1 and result.delivered == 5  # 4 e-mails + 1 group message
        sent = notifications(db, "approval_overdue")
        assert len(sent) == 4 and len(smtp.messages) == 4
        with db.uow(write=False) as uow:
            emails = set(uow.session.execute(select(Person.email).where(
                Person.id.in_([n.recipient_id for n in sent]))).scalars())
        assert {m.rcpt_tos[0] for m in smtp.messages} == emails
        msg = message_from_bytes(smtp.messages[0].content)
        assert str(make_header(decode_header(msg["Subject"]))).startswith("审批逾期")
        assert msg["Message-ID"].startswith("<fundflow-notification-")
        assert "逾期不视为同意" in msg.get_payload(decode=True).decode("utf-8")
        [(path, body)] = robot.posts
        assert path.startswith("/cgi-bin/webhook/send") and body["msgtype"] == "text"
        assert "审批逾期" in body["text"]["content"] and "王建国" in body["text"]["content"]
        # a re-run sends nothing again
        again = sweep(db, dl.due_at + dt.timedelta(hours=1), settings=settings)
        assert again.delivered == 0 and len(smtp.messages) == 4 and len(robot.posts) == 1
    with db.uow(write=False) as uow:
        rows = list(uow.session.execute(select(NotificationDelivery)).scalars())
    assert len(rows) == 5 and all(r.status == "sent" and r.attempts == 1 and r.sent_at for r in rows)


def test_failed_delivery_is_retried_with_backoff(db, driver, overdue):
    _pid, dl = overdue
    port = free_port()  # nothing listens yet
    settings = Settings(smtp=SmtpSettings(host="127.0.0.1", port=port, timeout=3))
    sweep(db, dl.due_at, settings=settings, deliver=False)
    t0 = dt.datetime.now(dt.UTC)
    first = deliver_pending(db, settings, now=t0)
    assert (first.sent, first.retried) == (0, 4)
    with db.uow(write=False) as uow:
        rows = list(uow.session.execute(select(NotificationDelivery)).scalars())
    assert all(r.status == "pending" and r.attempts == 1 and r.next_attempt_at == t0 + nt.RETRY_BASE for r in rows)
    assert "Connection" in rows[0].last_error or "refused" in rows[0].last_error.lower()
    assert deliver_pending(db, settings, now=t0 + dt.timedelta(seconds=5)).retried == 0  # still backing off
    with SmtpSink(port) as smtp:
        later = deliver_pending(db, settings, now=t0 + nt.RETRY_BASE)
        assert later.sent == 4 and len(smtp.messages) == 4
    with db.uow(write=False) as uow:
        assert {r.status for r in uow.session.execute(select(NotificationDelivery)).scalars()} == {"sent"}


def test_dingtalk_robot_signed_and_errcode_checked(db, driver, overdue):
    _pid, dl = overdue
    with Robot(errcode=310000) as robot:
        settings = Settings(webhook=WebhookSettings(url=robot.url.replace("cgi-bin", "robot"), format="dingtalk",
                                                    secret="SECtest"))
        result = sweep(db, dl.due_at, settings=settings)
        assert result.delivered == 0  # the robot refused: recorded and retried later
        [(path, body)] = robot.posts
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    stamp, sign = query["timestamp"][0], query["sign"][0]
    expected = base64.b64encode(hmac.new(b"SECtest", f"{stamp}\nSECtest".encode(), hashlib.sha256).digest()).decode()
    assert sign == expected
    assert body["msgtype"] == "text" and body["at"] == {"isAtAll": False}
    with db.uow(write=False) as uow:
        [row] = uow.session.execute(select(NotificationDelivery)).scalars()
    assert row.status == "pending" and "errcode=310000" in row.last_error


def test_settings_from_environment():
    assert Settings.from_env({}) == Settings()
    s = Settings.from_env({"FUNDFLOW_SMTP_HOST": "smtp.example.org", "FUNDFLOW_SMTP_PORT": "465",
                           "FUNDFLOW_SMTP_USER": "u", "FUNDFLOW_SMTP_PASSWORD": "p", "FUNDFLOW_SMTP_FROM": "a@b.cn",
                           "FUNDFLOW_WEBHOOK_URL": "https://oapi.dingtalk.com/robot/send?access_token=x"})
    assert s.smtp == SmtpSettings(host="smtp.example.org", port=465, user="u", password="p", sender="a@b.cn",
                                  security="ssl")
    assert s.webhook is not None and s.webhook.format == "dingtalk"
    assert Settings.from_env({"FUNDFLOW_SMTP_HOST": "h", "FUNDFLOW_SMTP_PORT": "587"}).smtp.security == "starttls"
    assert Settings.from_env({"FUNDFLOW_WEBHOOK_URL": "https://qyapi.weixin.qq.com/x"}).webhook.format == "wecom"
    with pytest.raises(ValueError):
        Settings.from_env({"FUNDFLOW_WEBHOOK_URL": "file:///etc/passwd"})
    assert nt.retry_delay(1) == dt.timedelta(seconds=30) and nt.retry_delay(20) == nt.RETRY_CAP


def test_no_channels_configured_queues_nothing(db, driver, overdue):
    _pid, dl = overdue
    sweep(db, dl.due_at, settings=Settings())
    with db.uow(write=False) as uow:
        assert list(uow.session.execute(select(NotificationDelivery)).scalars()) == []
        assert uow.session.get(Deadline, dl.id).outcome == "escalated"
