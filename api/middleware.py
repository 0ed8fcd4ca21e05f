"""Request guards before any parsing (body size limit, content type by route kind), and the headers every
response of the app carries."""
from __future__ import annotations

import logging
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, problem_body

log = logging.getLogger("fundflow.api")

FORM_PATHS = frozenset({"/api/v1/auth/token", "/api/v1/auth/session"})
TEXT_PATHS = frozenset({"/api/v1/calendar/import"})
#: file uploads (multipart/form-data) and their own body limits: a 5,000-person roster .xlsx is ~250 KB
UPLOAD_PATHS: dict[str, int] = {"/api/v1/admin/orgs/import": 20 * 1024 * 1024}
BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH", "POST", "PUT", "PATCH"})


def _media_ok(path: str, media: str) -> bool:
    if path in FORM_PATHS or not path.startswith("/api/"):
        # the JSON API's login forms, and the web pages' forms (api.pages)
        return media in ("application/x-www-form-urlencoded", "multipart/form-data")
    if path in TEXT_PATHS:
        return media == "text/plain"
    if path in UPLOAD_PATHS:
        return media == "multipart/form-data"
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class RequestGuard:
    """413 for bodies over the limit (declared or streamed), 415 for a body of the wrong media type."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def _reject(self, send: Send, status: int, detail: str, code: str) -> None:
        import json

        body = json.dumps(problem_body(status, detail, code), ensure_ascii=False).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/problem+json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length_raw = headers.get(b"content-length")
        path = scope.get("path", "")
        limit = UPLOAD_PATHS.get(path, self.limit)
        if length_raw is not None:
            text = length_raw.decode("latin-1").strip()
            if not text.isdigit():
                await self._reject(send, 400, "Content-Length 不正确", "request.content_length")
                return
            if int(text) > limit:
                await self._reject(send, 413, f"提交的内容过大(最多 {limit // 1024} KB)", "request.too_large")
                return
        has_body = (length_raw is not None and length_raw.strip() not in (b"", b"0")) or \
            b"chunked" in headers.get(b"transfer-encoding", b"")
        if has_body:
            media = headers.get(b"content-type", b"").decode("latin-1").split(";")[0].strip().lower()
            if not _media_ok(path, media):
                await self._reject(send, 415, f"不支持的内容类型 {media or '(未声明)'}", "request.media_type")
                return
        if length_raw is None and has_body:
            # streamed without a declared length (chunked): read it here, so that going over the limit is
            # the same 413 as a declared length over it, not a body error later
            buffered = await self._read_limited(receive, limit)
            if buffered is _OVER:
                await self._reject(send, 413, f"提交的内容过大(最多 {limit // 1024} KB)", "request.too_large")
            elif buffered is not None:
                await self.app(scope, _replay(buffered, receive), send)
            return  # (None: the client went away before it finished)
        received = 0

        async def limited() -> Message:
            nonlocal received
            message: dict[str, Any] = dict(await receive())
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(f"提交的内容过大(最多 {limit // 1024} KB)")
            return message

        await self.app(scope, limited, send)

    async def _read_limited(self, receive: Receive, limit: int) -> bytes | None:
        """The whole body; ``_OVER`` as soon as it is over the limit, None if the client went away."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return _OVER
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


_OVER = b"<over the limit>"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives the buffered body once, then whatever the client sends next (a disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


# ------------------------------------------------------------------------------ response headers


SESSION_COOKIE_NAME = b"fundflow_session="


class ResponseHeaders:
    """Wraps the whole app (outside Starlette's error middleware, so that every answer has them, a 500
    included, whichever router or page produced it):

    * ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``, ``Referrer-Policy: same-origin`` and a
      ``Content-Security-Policy`` with ``frame-ancestors 'none'`` (added to a page's own policy when it has
      one; answers that are not HTML get ``default-src 'none'`` too);
    * ``Cache-Control: no-store`` on every answer to a request that carried credentials (a bearer token or
      the session cookie) and on every login answer;
    * behind HTTPS (``FUNDFLOW_HTTPS=1``): ``Strict-Transport-Security`` and ``Secure`` on every cookie.

    It also ends a request whose error was already answered (Starlette re-raises after sending its 500)
    quietly, so that the server keeps the client's keep-alive connection open instead of closing it.
    """

    def __init__(self, app: ASGIApp, https: bool = False) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        credentials = _carries_credentials(scope)
        done = False

        async def send_with_headers(message: Message) -> None:
            nonlocal done
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = self._headers(list(message.get("headers") or []), credentials)
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                done = True
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            if not done:
                raise
            # answered (and logged by the error handler): nothing for the server to do but carry on
            log.debug("error after a complete answer to %s %s", scope.get("method"), scope.get("path"))

    def _headers(self, headers: list[tuple[bytes, bytes]], credentials: bool) -> list[tuple[bytes, bytes]]:
        names = {name.lower() for name, _ in headers}
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        sets_cookie = b"set-cookie" in names
        out: list[tuple[bytes, bytes]] = []
        for name, value in headers:
            low = name.lower()
            if low == b"content-security-policy" and b"frame-ancestors" not in value:
                value = value.rstrip(b"; ") + b"; frame-ancestors 'none'"
            elif low == b"cache-control" and (credentials or sets_cookie):
                continue  # replaced below
            elif low == b"set-cookie" and self.https and b"secure" not in value.lower():
                value += b"; Secure"
            out.append((name, value))
        if b"content-security-policy" not in names:
            html = content_type.lower().startswith(b"text/html")
            out.append((b"content-security-policy",
                        b"frame-ancestors 'none'" if html else b"default-src 'none'; frame-ancestors 'none'"))
        for name, value in ((b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"same-origin")):
            if name not in names:
                out.append((name, value))
        if credentials or sets_cookie:
            out.append((b"cache-control", b"no-store"))
        if self.https and b"strict-transport-security" not in names:
            out.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
        return out


def _carries_credentials(scope: Scope) -> bool:
    if scope.get("path", "").startswith("/api/v1/auth/"):
        return True
    for name, value in scope.get("headers") or []:
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE_NAME in value):
            return True
    return False


def wrap_outermost(app: Any) -> None:
    """Make :class:`ResponseHeaders` the outermost layer of ``app`` (a Starlette/FastAPI application),
    whatever middleware is added to it later; ``https`` is read from ``app.state.settings`` when the app
    serves its first request."""
    build = app.build_middleware_stack

    def build_wrapped() -> ASGIApp:
        return ResponseHeaders(build(), https=app.state.settings.https)

    app.build_middleware_stack = build_wrapped
