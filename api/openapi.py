"""The OpenAPI document: errors as ``application/problem+json``, tags described, Chinese titles."""
from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import PROBLEM

DESCRIPTION = """\
fundflow 的 HTTP 接口:社区党组织服务群众专项经费从群众需求到年度公示的全过程。

* 登录:``POST /api/v1/auth/token``(OAuth2 密码模式,Bearer 令牌)或 ``POST /api/v1/auth/session``
  (网页 Cookie 会话;修改类请求须带 ``X-CSRF-Token``)。
* 权限来自当日在任的岗位;非公开数据只对本社区、所属大社区的岗位及市管理员开放。
* 金额一律为两位小数的元字符串(如 ``"12345.67"``),不接受数字或布尔值。
* 错误为 ``application/problem+json``:``type``、``title``、``status``、``detail``(中文)、``code``、``article``。
* 修改项目时可在 ``If-Match`` 中带上项目版本(GET 返回的 ``ETag``),版本已变时返回 412。
"""

TAGS = [
    {"name": "auth", "description": "登录与退出"},
    {"name": "system", "description": "当前用户、流程定义、工作日历"},
    {"name": "needs", "description": "群众需求"},
    {"name": "projects", "description": "项目及其全部操作"},
    {"name": "fund years", "description": "经费年度"},
    {"name": "public", "description": "公示栏、异议与年度公示(无需登录)"},
    {"name": "documents", "description": "文件下载(PDF、Excel、年度档案)与纸质文件核验"},
    {"name": "administration", "description": "用户与岗位、政策版本、节假日安排、审计核验(市管理员)"},
    {"name": "ops", "description": "运维"},
]


def _problemise(schema: dict[str, Any]) -> None:
    """Error responses are documented under ``application/problem+json``, not ``application/json``."""
    for path_item in schema.get("paths", {}).values():
        for op in path_item.values():
            if not isinstance(op, dict):
                continue
            for status, response in (op.get("responses") or {}).items():
                if not str(status).startswith(("4", "5")):
                    continue
                content = response.get("content") or {}
                body = content.pop("application/json", None)
                if body is None:
                    body = {"schema": {"$ref": "#/components/schemas/Problem"}}
                if "schema" in body and body["schema"].get("$ref", "").endswith("/HTTPValidationError"):
                    body["schema"] = {"$ref": "#/components/schemas/Problem"}
                content[PROBLEM] = body
                response["content"] = content
    comps = schema.get("components", {}).get("schemas", {})
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)


def install(app: FastAPI) -> None:
    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version="1", description=DESCRIPTION, routes=app.routes,
                             tags=TAGS)
        _problemise(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = custom_openapi  # type: ignore[method-assign]


SWAGGER_STATIC = "/static/swagger-ui"


def install_docs(app: FastAPI) -> None:
    """``/docs``: Swagger UI from the packaged ``swagger-ui-bundle`` (served by fundflow itself, so the page
    works on an intranet without internet). The OpenAPI document is the same ``/openapi.json``."""
    from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount(SWAGGER_STATIC, StaticFiles(directory=str(swagger_ui_path)), name="swagger-ui")
    oauth2_redirect = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - 接口文档",
                                   oauth2_redirect_url=oauth2_redirect,
                                   swagger_js_url=f"{SWAGGER_STATIC}/swagger-ui-bundle.js",
                                   swagger_css_url=f"{SWAGGER_STATIC}/swagger-ui.css",
                                   swagger_favicon_url="/static/icons/emblem.svg")

    @app.get(oauth2_redirect, include_in_schema=False)
    async def docs_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
