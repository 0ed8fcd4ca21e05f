"""CSRF protection for the residents' forms, which have no login: a signed double-submit token.

The form page sets a cookie ``fundflow_public_csrf`` holding ``<issued>.<nonce>.<hmac>`` (HMAC-SHA256 with a
server key kept in ``app_secrets``, the same for every worker) and puts the same token in the form's hidden
field ``csrf_token``. A post is accepted only when the field equals the cookie, the signature is the
server's and the token is at most a day old: another site can neither read the cookie nor mint a token
(planting a cookie is not enough, it would need the key), so it cannot post in a resident's name.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from api.errors import ApiError
from store.db import Database
from store.models import AppSecret

COOKIE = "fundflow_public_csrf"
FIELD = "csrf_token"
MAX_AGE = 24 * 3600
_KEYS: dict[str, bytes] = {}


class PublicFormExpired(ApiError):
    status, code = 403, "csrf.invalid"


def _key(db: Database) -> bytes:
    cached = _KEYS.get(db.url)
    if cached is not None:
        return cached
    with db.uow() as uow:
        row = uow.session.execute(select(AppSecret.value).where(AppSecret.name == "public_csrf")).scalar_one_or_none()
        if row is None:
            uow.session.add(AppSecret(name="public_csrf", value=secrets.token_hex(32), created_at=dt.datetime.now(dt.UTC)))
            try:
                uow.commit()
            except Exception:  # another worker created it first: read theirs
                uow.rollback()
            row = uow.session.execute(select(AppSecret.value).where(AppSecret.name == "public_csrf")).scalar_one()
    _KEYS[db.url] = bytes.fromhex(row)
    return _KEYS[db.url]


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode(), hashlib.sha256).hexdigest()[:32]


def _valid(key: bytes, token: str, now: float) -> bool:
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit():
        return False
    issued = int(parts[0])
    return (0 <= now - issued <= MAX_AGE and
            hmac.compare_digest(_sign(key, f"{parts[0]}.{parts[1]}"), parts[2]))


async def token_for(request: Request, db: Database) -> str:
    """The token a form page puts in its form: the request's own cookie when still valid, else a new one."""
    key = await run_in_threadpool(_key, db)
    current = request.cookies.get(COOKIE, "")
    if current and _valid(key, current, time.time()):
        return current
    body = f"{int(time.time())}.{secrets.token_urlsafe(12)}"
    return f"{body}.{_sign(key, body)}"


def set_cookie(response: Response, token: str, request: Request, path: str = "/gongshi") -> None:
    """The token's cookie, sent back only to the pages under ``path`` (the board, or ``/activate``)."""
    response.set_cookie(COOKIE, token, max_age=MAX_AGE, httponly=True, samesite="lax", path=path,
                        secure=request.url.scheme == "https")


async def check(request: Request, db: Database, form: Mapping[str, Any]) -> None:
    """Refuse (403) a posted residents' form whose token is missing, foreign, forged or stale."""
    key = await run_in_threadpool(_key, db)
    value = form.get(FIELD)
    sent = (value[-1] if isinstance(value, list) and value else value) or ""
    cookie = request.cookies.get(COOKIE, "")
    if not sent or not cookie or not hmac.compare_digest(str(sent), cookie) or not _valid(key, cookie, time.time()):
        raise PublicFormExpired("表单已过期或来源不明,请刷新页面后重新提交(您填写的内容已保留)")
