"""Request guards before any parsing: body size limit and content type by route kind."""
from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PayloadTooLarge, problem_body

FORM_PATHS = frozenset({"/api/v1/auth/token", "/api/v1/auth/session"})
TEXT_PATHS = frozenset({"/api/v1/calendar/import"})
BODY_METHODS = frozenset({b"POST", b"PUT", b"PATCH", "POST", "PUT", "PATCH"})


def _media_ok(path: str, media: str) -> bool:
    if path in FORM_PATHS:
        return media in ("application/x-www-form-urlencoded", "multipart/form-data")
    if path in TEXT_PATHS:
        return media == "text/plain"
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
        limit = self.limit
        path = scope.get("path", "")
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
