"""Errors as ``application/problem+json`` (RFC 9457): one base error carrying its status, one handler.

Every refusal the API gives — a rule's verdict, a missing post, a stale version, a bad payload, an
unknown path — is rendered by :func:`problem_response` with ``type``, ``title``, ``status``, a
Chinese ``detail``, the stable ``code`` and the regulation ``article`` (when a rule refused).
"""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from rules.articles import code_article, field_article
from rules.verdict import Verdict

PROBLEM = "application/problem+json"
log = logging.getLogger("fundflow.api")

TITLES = {
    400: "请求无效", 401: "未登录或登录已失效", 403: "无权执行此操作", 404: "未找到", 405: "不支持该请求方法",
    406: "无法提供所要求的格式", 409: "规则不允许此操作", 412: "记录已被修改", 413: "提交的内容过大",
    415: "内容类型不支持", 422: "提交的内容不正确", 429: "请求过于频繁", 500: "服务器内部错误",
    503: "服务暂时不可用",
}


class ProblemItem(BaseModel):
    loc: str = Field(description="出错的位置,如 body.amount")
    msg: str = Field(description="中文说明")
    article: str = Field("", description="该字段所依据的《细则》条款(字段受某条规则约束时)")


class Problem(BaseModel):
    """An error (RFC 9457 problem details); ``code`` and ``article`` come from the refusing rule."""

    type: str = Field(description="问题类型 URI", examples=["urn:fundflow:problem:cap.small_group"])
    title: str = Field(examples=["规则不允许此操作"])
    status: int = Field(examples=[409])
    detail: str = Field(description="中文说明", examples=["受益群体较小的项目已占用 19.8%,批准后将超过 20% 的上限"])
    code: str = Field(description="稳定的错误代码", examples=["cap.small_group"])
    article: str = Field("", description="所依据的《细则》条款", examples=["第七条第(二)项"])
    errors: list[ProblemItem] = Field(default_factory=list, description="逐项的校验错误(422)")


class ApiError(Exception):
    """The one base error of the API: raise it (or a subclass) anywhere below a route."""

    status: int = 400
    code: str = "request.invalid"

    def __init__(self, detail: str, *, code: str | None = None, article: str = "", status: int | None = None,
                 headers: dict[str, str] | None = None, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.article = article
        self.headers = headers or {}
        self.errors = errors or []

    @classmethod
    def from_verdict(cls, verdict: Verdict, status: int) -> ApiError:
        return cls(verdict.message, code=verdict.code, article=verdict.article, status=status)


class NotAuthenticated(ApiError):
    status, code = 401, "auth.required"

    def __init__(self, detail: str = "请先登录", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class Forbidden(ApiError):
    status, code = 403, "auth.forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PreconditionFailed(ApiError):
    status, code = 412, "workflow.version_mismatch"


class PayloadTooLarge(ApiError):
    status, code = 413, "request.too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "request.media_type"


class Unprocessable(ApiError):
    status, code = 422, "payload.invalid"


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"


def problem_body(status: int, detail: str, code: str, article: str = "",
                 errors: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The problem document; a refusal raised without an article cites the one ``rules.articles`` decides."""
    article = article or code_article(code)
    return {"type": f"urn:fundflow:problem:{code}", "title": TITLES.get(status, "请求失败"), "status": status,
            "detail": detail, "code": code, "article": article, "errors": errors or []}


def problem_response(status: int, detail: str, code: str, article: str = "",
                     headers: dict[str, str] | None = None, errors: list[dict[str, str]] | None = None) -> JSONResponse:
    return JSONResponse(problem_body(status, detail, code, article, errors), status_code=status,
                        media_type=PROBLEM, headers=headers)


# ------------------------------------------------------------------------ validation messages

_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "不允许的字段",
    "string_type": "须为字符串",
    "int_type": "须为整数",
    "int_parsing": "须为整数",
    "int_from_float": "须为整数",
    "bool_type": "须为布尔值 true 或 false",
    "bool_parsing": "须为布尔值 true 或 false",
    "dict_type": "须为 JSON 对象",
    "model_type": "须为 JSON 对象",
    "model_attributes_type": "须为 JSON 对象",
    "list_type": "须为数组",
    "date_type": "须为日期 YYYY-MM-DD",
    "date_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_parsing": "须为日期 YYYY-MM-DD",
    "date_from_datetime_inexact": "须为日期 YYYY-MM-DD",
    "json_invalid": "不是有效的 JSON",
    "json_type": "不是有效的 JSON",
    "enum": "取值不在允许的范围内",
    "literal_error": "取值不在允许的范围内",
    "string_pattern_mismatch": "格式不正确",
    "uuid_parsing": "格式不正确",
}


def _message(err: dict[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in _MESSAGES:
        return _MESSAGES[kind]
    if kind in ("too_long", "too_short") and isinstance(err.get("input"), str):
        # a text field whose constraints follow a validator (schemas' Clean) reports the generic kinds
        kind = "string_" + kind
    if kind == "string_too_long":
        return f"文本过长,最多 {ctx.get('max_length')} 个字符"
    if kind == "string_too_short":
        return f"文本过短,至少 {ctx.get('min_length')} 个字符"
    if kind == "too_long":
        return f"项数过多,最多 {ctx.get('max_length')} 项"
    if kind == "too_short":
        return f"项数过少,至少 {ctx.get('min_length')} 项"
    if kind in ("greater_than_equal", "greater_than"):
        return f"须不小于 {ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"须不大于 {ctx.get('le', ctx.get('lt'))}"
    if kind == "value_error":
        # our validators raise Chinese messages (money, usernames …)
        return str(ctx.get("error") or err.get("msg", "格式不正确")).removeprefix("Value error, ")
    return "格式不正确"


def validation_items(errors: list[dict[str, Any]], context: str = "", context_article: str = "") -> list[dict[str, str]]:
    """Each error with its location, its Chinese message and the article of the rule governing the field."""
    items = []
    for err in errors[:20]:
        loc = ".".join(str(p) for p in err.get("loc", ()))
        article = field_article(err.get("loc", ()), context_article, context) if context or context_article else ""
        items.append({"loc": loc, "msg": _message(err), "article": article})
    return items


def validation_problem(errors: list[dict[str, Any]], context: str = "", context_article: str = "") -> ApiError:
    """A 422 for malformed input; ``context`` names the request (an event's trigger, or a key of
    ``rules.articles.CONTEXT_ARTICLES``) and ``context_article`` is an event's own article."""
    items = validation_items(errors, context, context_article)
    first = items[0] if items else {"loc": "", "msg": "格式不正确", "article": ""}
    detail = f"提交的内容不正确: {first['loc']} {first['msg']}".strip()
    return Unprocessable(detail, errors=items, article=first["article"])


#: the requests that are no workflow event, by route name, and the context their fields are judged in
ROUTE_CONTEXTS = {"create_project": "proposal", "create_need": "need", "open_year": "fund_year_open",
                  "object_to_notice": "object"}


def request_context(request: Request) -> tuple[str, str]:
    """(context, its article) of the route a request matched: an event's trigger and article, or a request
    kind of ``ROUTE_CONTEXTS``; ("", "") for reads and forms no rule governs."""
    route = request.scope.get("route")
    name = str(getattr(route, "name", "") or "")
    for prefix, entity in (("project_event_", "project"), ("fund_year_event_", "fund_year")):
        if name.startswith(prefix):
            from workflow.machines import workflow_for

            trigger = name.removeprefix(prefix)
            return trigger, workflow_for(entity).article(trigger)
    context = ROUTE_CONTEXTS.get(name, "")
    if context == "object":
        from workflow.machines import workflow_for

        return context, workflow_for("project").article(context)
    return context, ""


# ------------------------------------------------------------------------------- handlers

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method some route of ``app`` answers at the request's path (the ``Allow`` header of a 405)."""
    allowed = []
    for method in _METHODS:
        probe = {**scope, "method": method}
        if any(route.matches(probe)[0] == Match.FULL for route in app.router.routes):
            allowed.append(method)
    return allowed


def _is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    state = getattr(orig, "sqlstate", None)
    if state is not None:
        return bool(state == "23505")
    return "UNIQUE constraint failed" in str(orig)


_HTTP_DETAIL = {404: "请求的地址不存在", 405: "该地址不支持此请求方法", 401: "请先登录", 403: "无权执行此操作"}


def install(app: FastAPI) -> None:
    """Register the one renderer for every error the app can raise."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return problem_response(exc.status, exc.detail, exc.code, exc.article, exc.headers, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        err = validation_problem(list(exc.errors()), *request_context(request))
        return problem_response(err.status, err.detail, err.code, err.article, errors=err.errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # a body that is not JSON (or not UTF-8) is a bad payload like any other
            _context, article = request_context(request)
            return problem_response(422, "提交的内容不正确: body 不是有效的 JSON", "payload.invalid", article,
                                    errors=[{"loc": "body", "msg": "不是有效的 JSON", "article": article}])
        if exc.status_code == 400 and "multipart" in str(exc.detail).lower():
            # so is a file upload whose multipart/form-data framing is broken (Starlette's parser refused it)
            _context, article = request_context(request)
            return problem_response(422, "提交的内容不正确: body 不是有效的 multipart/form-data 表单", "payload.invalid",
                                    article, errors=[{"loc": "body", "msg": "不是有效的 multipart/form-data 表单",
                                                      "article": article}])
        detail = _HTTP_DETAIL.get(exc.status_code) or (exc.detail if isinstance(exc.detail, str) else "请求失败")
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http.{exc.status_code}")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        return problem_response(exc.status_code, detail, code, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # the safety net: a unique key or reference that a concurrent request took first (the places where
        # that is expected answer with their own code); never a 500
        log.warning("integrity error on %s %s: %s", request.method, request.url.path, exc.orig)
        if _is_unique_violation(exc):
            return problem_response(409, "与已有记录重复(可能有人同时提交了相同的内容),请刷新后重试",
                                    "conflict.duplicate")
        return problem_response(409, "所引用的记录不存在或已被修改,请刷新后重试", "conflict.reference")

    @app.exception_handler(DataError)
    async def _data(request: Request, exc: DataError) -> JSONResponse:
        log.warning("data error on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(422, "提交的内容超出允许的范围或含有无法保存的字符", "payload.unstorable")

    @app.exception_handler(OperationalError)
    async def _operational(request: Request, exc: OperationalError) -> JSONResponse:
        # a lost connection, a deadlock or a serialisation failure: nothing was written, try again
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc.orig)
        return problem_response(503, "数据库暂时不可用或繁忙,请稍后重试", "server.database_busy",
                                headers={"Retry-After": "1"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "服务器内部错误,请稍后重试", "server.error")
