"""Login (bearer token or cookie session), logout."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request, Response

from api import auth
from api.deps import DB, AppSettings, CurrentViewer, client_ip
from api.routes import Router, problems
from api.schemas import SessionOut, TokenOut
from api.settings import CSRF_COOKIE, SESSION_COOKIE, Settings
from workflow import clock
from workflow.fields import Length, LineText, SecretText

router = Router(prefix="/auth", tags=["auth"])


class LoginForm:
    """The OAuth2 password form (``grant_type`` may be omitted), its fields bounded and free of control
    characters like every text the API takes."""

    def __init__(self, username: Annotated[LineText, Length(64, 1), Form(description="用户名")],
                 password: Annotated[SecretText, Length(128, 1), Form(description="密码",
                                                                      json_schema_extra={"format": "password"})],
                 grant_type: Annotated[str | None, Form(pattern="^password$")] = None) -> None:
        self.username = username
        self.password = password
        self.grant_type = grant_type


Credentials = Annotated[LoginForm, Depends()]


@router.post("/token", response_model=TokenOut, responses=problems(401, 413, 415, 422, 429))
def token(form: Credentials, request: Request, db: DB, settings: AppSettings) -> dict[str, object]:
    """OAuth2 密码模式登录,返回 Bearer 令牌(有效期见 ``expires_in``)。

    同一用户名 5 分钟内失败 5 次后返回 429,须等待后再试;同一地址 5 分钟内对各账号累计失败过多时也返回 429。"""
    result = auth.login(db, settings, form.username, form.password, "bearer", client_ip(request),
                        request.headers.get("user-agent", ""))
    return {"access_token": result.token, "token_type": "bearer",
            "expires_in": settings.token_ttl_minutes * 60, "expires_at": result.expires_at.astimezone(clock.SHANGHAI)}


@router.post("/session", response_model=SessionOut, responses=problems(401, 413, 415, 422, 429))
def session(form: Credentials, request: Request, response: Response, db: DB,
            settings: AppSettings) -> dict[str, object]:
    """网页登录:设置 HttpOnly 会话 Cookie ``fundflow_session`` 和 CSRF Cookie ``fundflow_csrf``。

    以 Cookie 登录时,所有修改类请求(POST 等)须在请求头 ``X-CSRF-Token`` 中带上 ``fundflow_csrf`` 的值。"""
    result = auth.login(db, settings, form.username, form.password, "cookie", client_ip(request),
                        request.headers.get("user-agent", ""))
    set_session_cookies(response, result, settings)
    return {"csrf_token": result.csrf, "expires_at": result.expires_at.astimezone(clock.SHANGHAI),
            "username": result.username, "display_name": result.display_name}


@router.post("/logout", status_code=204, responses=problems(401, 403))
def logout(viewer: CurrentViewer, db: DB, response: Response) -> Response:
    """退出登录:当前令牌或会话立即失效。"""
    auth.logout(db, viewer.session_id)
    response = Response(status_code=204)
    clear_session_cookies(response)
    return response


def set_session_cookies(response: Response, result: auth.LoginResult, settings: Settings) -> None:
    """The HttpOnly session cookie and the CSRF cookie of a cookie login (the JSON route and the web pages)."""
    max_age = settings.session_ttl_minutes * 60
    response.set_cookie(SESSION_COOKIE, result.token, max_age=max_age, httponly=True, samesite="strict",
                        secure=settings.secure_cookies, path="/")
    response.set_cookie(CSRF_COOKIE, result.csrf, max_age=max_age, httponly=False, samesite="strict",
                        secure=settings.secure_cookies, path="/")


def clear_session_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
