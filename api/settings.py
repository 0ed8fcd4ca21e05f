"""Settings of the HTTP layer, read once from the environment when the app is created."""
from __future__ import annotations

import os
from dataclasses import dataclass


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


@dataclass
class Settings:
    token_ttl_minutes: int = 480
    """Lifetime of a bearer token (``POST /api/v1/auth/token``)."""
    session_ttl_minutes: int = 720
    """Lifetime of a cookie session (``POST /api/v1/auth/session``)."""
    https: bool = False
    """The service is reached over HTTPS only (``FUNDFLOW_HTTPS=1``, e.g. behind a TLS-terminating proxy):
    every answer carries ``Strict-Transport-Security`` and every cookie is ``Secure``."""
    secure_cookies: bool = False
    """Send cookies with ``Secure`` (implied by ``https``; ``FUNDFLOW_SECURE_COOKIES=1`` alone also works)."""
    login_max_failures: int = 5
    """Failed logins of one username (from any address) within the window before it gets 429."""
    login_max_failures_per_address: int = 20
    """Failed logins from one address (on any accounts) within the window before it gets 429."""
    login_window_seconds: int = 300
    objection_max: int = 5
    objection_window_seconds: int = 600
    calendar_max_bytes: int = 64 * 1024
    body_max_bytes: int = 256 * 1024
    """Any request body larger than this is refused with 413 before it is parsed."""
    threads: int = 2
    """Threads that run the synchronous part of requests, per worker process (anyio's default is 40).
    Python runs one thread at a time: two keep the CPU busy while the other waits for the database,
    more only queue at the GIL and stretch the slowest answers (bench/README.md, "threads per worker").
    Raise it when slow requests (the audit check, argon2 logins) must not hold others up; keep it below
    the database pool's 10 connections so that bursts never open and close extra connections."""

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            token_ttl_minutes=_int("FUNDFLOW_TOKEN_TTL_MINUTES", cls.token_ttl_minutes),
            session_ttl_minutes=_int("FUNDFLOW_SESSION_TTL_MINUTES", cls.session_ttl_minutes),
            https=_flag("FUNDFLOW_HTTPS"),
            secure_cookies=_flag("FUNDFLOW_HTTPS") or _flag("FUNDFLOW_SECURE_COOKIES"),
            login_max_failures=_int("FUNDFLOW_LOGIN_MAX_FAILURES", cls.login_max_failures),
            login_max_failures_per_address=_int("FUNDFLOW_LOGIN_MAX_FAILURES_PER_ADDRESS",
                                                cls.login_max_failures_per_address),
            login_window_seconds=_int("FUNDFLOW_LOGIN_WINDOW_SECONDS", cls.login_window_seconds),
            objection_max=_int("FUNDFLOW_OBJECTION_MAX", cls.objection_max),
            objection_window_seconds=_int("FUNDFLOW_OBJECTION_WINDOW_SECONDS", cls.objection_window_seconds),
            threads=max(1, _int("FUNDFLOW_THREADS", cls.threads)),
        )


SESSION_COOKIE = "fundflow_session"
CSRF_COOKIE = "fundflow_csrf"
CSRF_HEADER = "X-CSRF-Token"
