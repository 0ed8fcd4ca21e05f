"""Login (bearer token or cookie session), logout."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from api import auth
from api.deps import DB, AppSettings, CurrentViewer, client_ip
from api.errors import Unprocessable
from api.routes import problems
from api.schemas import SessionOut, TokenOut
from api.settings import CSRF_COOKIE, SESSION_COOKIE
from workflow import clock

router = APIRouter(prefix="/auth", tags=["auth"])
Form = Annotated[OAuth2PasswordRequestForm, Depends()]


def _check(form: OAuth2PasswordRequestForm) -> None:
    if not (1 <= len(form.username) <= 64) or not (1 <= len(form.password) <= 128):
        raise Unprocessable("用户名或密码长度不正确", code="auth.form")


@router.post("/token", response_model=TokenOut, responses=problems(401, 413, 415, 422, 429))
def token(form: Form, request: Request, db: DB, settings: AppSettings) -> dict[str, object]:
    """OAuth2 密码模式登录,返回 Bearer 令牌(有效期见 ``expires_in``)。

    同一用户名在同一 IP 上 5 分钟内失败 5 次后,返回 429,须等待后再试。"""
    _check(form)
    result = auth.login(db, settings, form.username, form.password, "bearer", client_ip(request),
                        request.headers.get("user-agent", ""))
    return {"access_token": result.token, "token_type": "bearer",
            "expires_in": settings.token_ttl_minutes * 60, "expires_at": result.expires_at.astimezone(clock.SHANGHAI)}


@router.post("/session", response_model=SessionOut, responses=problems(401, 413, 415, 422, 429))
def session(form: Form, request: Request, response: Response, db: DB, settings: AppSettings) -> dict[str, object]:
    """网页登录:设置 HttpOnly 会话 Cookie ``fundflow_session`` 和 CSRF Cookie ``fundflow_csrf``。

    以 Cookie 登录时,所有修改类请求(POST 等)须在请求头 ``X-CSRF-Token`` 中带上 ``fundflow_csrf`` 的值。"""
    _check(form)
    result = auth.login(db, settings, form.username, form.password, "cookie", client_ip(request),
                        request.headers.get("user-agent", ""))
    max_age = settings.session_ttl_minutes * 60
    response.set_cookie(SESSION_COOKIE, result.token, max_age=max_age, httponly=True, samesite="strict",
                        secure=settings.secure_cookies, path="/")
    response.set_cookie(CSRF_COOKIE, result.csrf, max_age=max_age, httponly=False, samesite="strict",
                        secure=settings.secure_cookies, path="/")
    return {"csrf_token": result.csrf, "expires_at": result.expires_at.astimezone(clock.SHANGHAI),
            "username": result.username, "display_name": result.display_name}


@router.post("/logout", status_code=204, responses=problems(401, 403))
def logout(viewer: CurrentViewer, db: DB, response: Response) -> Response:
    """退出登录:当前令牌或会话立即失效。"""
    auth.logout(db, viewer.session_id)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response
