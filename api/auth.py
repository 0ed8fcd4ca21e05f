"""Who is calling: logins (argon2), bearer tokens and cookie sessions, CSRF, rate limits, visibility.

Tokens are 256-bit random strings; only their sha256 is stored (``auth_sessions``), so a leaked
database does not log anyone in, and logout revokes the row. Session lifetimes and rate-limit
windows go by the wall clock, not by ``workflow.clock`` (tests move the business clock by days);
rights go by the posts held on the business day (``workflow.clock.today``), as in the engine.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Date, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import Session

from api.errors import Forbidden, NotAuthenticated, NotFound, TooManyRequests
from api.settings import Settings
from store.counters import lock_name
from store.db import Database
from store.models import AuthSession, Organisation, Person, Post, RateLimitHit
from workflow import clock
from workflow.engine import ROLE_LEVEL, Actor, org_chain

_hasher = PasswordHasher()


def wall_now() -> dt.datetime:
    """Real time for sessions and rate limits (monkeypatched by the tests)."""
    return dt.datetime.now(dt.UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash(secrets.token_urlsafe(16))


def _verify(hashed: str | None, password: str) -> bool:
    try:
        return _hasher.verify(hashed or _dummy_hash(), password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


# ---------------------------------------------------------------------------------------- viewer


@dataclass(frozen=True)
class PostHeld:
    id: int
    organisation_id: int
    org_code: str
    org_name: str
    org_level: str
    role: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class Viewer:
    """An authenticated caller and the posts held today."""

    person_id: int
    username: str
    display_name: str
    session_id: int
    session_kind: str
    expires_at: dt.datetime
    posts: tuple[PostHeld, ...] = field(default_factory=tuple)

    @property
    def actor(self) -> Actor:
        return Actor(self.person_id, self.username)

    @property
    def held(self) -> frozenset[tuple[str, int]]:
        return frozenset((p.role, p.organisation_id) for p in self.posts)

    @property
    def admin_city_ids(self) -> frozenset[int]:
        return frozenset(p.organisation_id for p in self.posts if p.role == "city_admin")

    def roles_for(self, chain: dict[str, int]) -> list[str]:
        """The viewer's roles that apply to an entity whose organisation chain is ``chain``."""
        return [p.role for p in self.posts if chain.get(ROLE_LEVEL.get(p.role, "")) == p.organisation_id]


def posts_held(session: Session, person_id: int, day: dt.date) -> tuple[PostHeld, ...]:
    rows = session.execute(
        select(Post.id, Post.organisation_id, Organisation.code, Organisation.name, Organisation.level, Post.role,
               Post.valid_from, Post.valid_to)
        .join(Organisation, Organisation.id == Post.organisation_id)
        .where(Post.person_id == person_id, Post.valid_from <= day,
               (Post.valid_to.is_(None)) | (Post.valid_to >= day))
        .order_by(Post.id)).all()
    return tuple(PostHeld(*r) for r in rows)


def community_chain(session: Session, community_id: int) -> dict[str, int]:
    """The chain of a community (read afresh: a move holds at once); NotFound when the id is not a community."""
    try:
        chain = org_chain(session, community_id)
    except NoResultFound:
        chain = {}
    if chain.get("community") != community_id:
        raise NotFound(f"社区 #{community_id} 不存在", code="community.not_found")
    return chain


def can_read(viewer: Viewer, chain: dict[str, int]) -> bool:
    """Non-public data of a community: people with a post in it or its area, and the city's administrators."""
    return bool(viewer.roles_for(chain))


def require_read(session: Session, viewer: Viewer, community_id: int) -> dict[str, int]:
    return require_read_chain(viewer, community_id, community_chain(session, community_id))


def require_read_chain(viewer: Viewer, community_id: int, chain: dict[str, int]) -> dict[str, int]:
    """:func:`require_read` with the community's chain read already (in the statement that read the record)."""
    if chain.get("community") != community_id:
        raise NotFound(f"社区 #{community_id} 不存在", code="community.not_found")
    if not can_read(viewer, chain):
        raise Forbidden("您在该社区及其所属大社区没有岗位,无权查看或操作其记录", code="auth.not_in_community")
    return chain


def readable_communities(session: Session, viewer: Viewer) -> list[int]:
    """Every community whose non-public data the viewer may read."""
    direct = {p.organisation_id for p in viewer.posts if ROLE_LEVEL.get(p.role) == "community"}
    areas = {p.organisation_id for p in viewer.posts if ROLE_LEVEL.get(p.role) == "area"}
    cities = {p.organisation_id for p in viewer.posts if ROLE_LEVEL.get(p.role) == "city"}
    if cities:
        areas |= set(session.execute(select(Organisation.id).where(Organisation.parent_id.in_(cities),
                                                                   Organisation.level == "area")).scalars())
    if areas:
        direct |= set(session.execute(select(Organisation.id).where(Organisation.parent_id.in_(areas),
                                                                    Organisation.level == "community")).scalars())
    return sorted(direct)


def require_admin(viewer: Viewer) -> frozenset[int]:
    cities = viewer.admin_city_ids
    if not cities:
        raise Forbidden("此操作仅限市委组织部/财政管理员(city_admin)", code="auth.admin_only")
    return cities


# ------------------------------------------------------------------------------- authenticate


_DAY = bindparam("day", type_=Date)
_AS, _PE, _PO, _OR = (m.__table__ for m in (AuthSession, Person, Post, Organisation))
# built once on table columns (a Core statement, plain rows): building the statement and its cache key
# on every request, or loading through the ORM, costs more than running it
_AUTH = (
    select(_AS.c.id, _AS.c.kind, _AS.c.csrf_hash, _AS.c.expires_at, _AS.c.revoked_at, _PE.c.id, _PE.c.username,
           _PE.c.display_name, _PE.c.active, _PO.c.id, _PO.c.organisation_id, _OR.c.code, _OR.c.name, _OR.c.level,
           _PO.c.role, _PO.c.valid_from, _PO.c.valid_to)
    .join(_PE, _PE.c.id == _AS.c.person_id)
    .outerjoin(_PO, and_(_PO.c.person_id == _PE.c.id, _PO.c.valid_from <= _DAY,
                         or_(_PO.c.valid_to.is_(None), _PO.c.valid_to >= _DAY)))
    .outerjoin(_OR, _OR.c.id == _PO.c.organisation_id)
    .where(_AS.c.token_hash == bindparam("token_hash"))
    .order_by(_PO.c.id))


def authenticate(session: Session, token: str, kind: str, csrf: str | None = None) -> Viewer:
    """The viewer of a bearer token or session cookie, with the posts held today, in one query.

    ``csrf`` (cookie sessions, unsafe methods) must be the session's CSRF token.
    """
    if not token or len(token) > 200:
        raise NotAuthenticated("登录凭证无效,请重新登录", code="auth.invalid_token")
    now = wall_now()
    rows = session.execute(_AUTH, {"token_hash": token_hash(token), "day": clock.today()}).all()
    if not rows or rows[0][1] != kind:
        raise NotAuthenticated("登录凭证无效,请重新登录", code="auth.invalid_token")
    sid, _kind, csrf_hash, expires_at, revoked_at, pid, username, name, active = rows[0][:9]
    if revoked_at is not None:
        raise NotAuthenticated("您已退出登录,请重新登录", code="auth.revoked")
    if expires_at <= now:
        raise NotAuthenticated("登录已过期,请重新登录", code="auth.expired")
    if not active:
        raise NotAuthenticated("账号已停用", code="auth.inactive")
    if csrf is not None and not (csrf and hmac.compare_digest(token_hash(csrf), csrf_hash)):
        raise Forbidden("缺少或错误的 CSRF 令牌(请求头 X-CSRF-Token 须与 fundflow_csrf Cookie 一致)",
                        code="auth.csrf")
    posts = tuple(PostHeld(*r[9:]) for r in rows if r[9] is not None)
    return Viewer(person_id=pid, username=username, display_name=name, session_id=sid, session_kind=kind,
                  expires_at=expires_at, posts=posts)


# -------------------------------------------------------------------------------------- login


@dataclass(frozen=True)
class LoginResult:
    token: str
    csrf: str
    expires_at: dt.datetime
    person_id: int
    username: str
    display_name: str


def _failures(s: Session, bucket: str, key: str, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    count, oldest = s.execute(select(func.count(), func.min(RateLimitHit.at))
                              .where(RateLimitHit.bucket == bucket, RateLimitHit.key == key,
                                     RateLimitHit.at >= since)).one()
    return int(count), oldest


def _too_many(message: str, oldest: dt.datetime | None, window: int, now: dt.datetime) -> TooManyRequests:
    retry = window if oldest is None else max(1, int((oldest + dt.timedelta(seconds=window) - now).total_seconds()) + 1)
    minutes = max(1, (retry + 59) // 60)
    return TooManyRequests(message.format(minutes=minutes), headers={"Retry-After": str(retry)})


def _claim_login_attempt(db: Database, settings: Settings, user_key: str, address_key: str,
                         now: dt.datetime) -> int:
    """Count one login attempt against the username and the address *before* the password is checked, in one
    serialised transaction: 429 when either is at its limit, else the id of the address's counted row.

    Every attempt counts as a failure until its password is proven right, so parallel guesses cannot all
    pass the check before any of them is recorded.
    """
    window = settings.login_window_seconds
    since = now - dt.timedelta(seconds=window)
    with db.uow() as uow:
        s = uow.session
        lock_name(s, f"rate:login|{user_key}", f"rate:login_ip|{address_key}")
        count, oldest = _failures(s, "login", user_key, since)
        if count >= settings.login_max_failures:
            raise _too_many("该账号登录失败次数过多,请 {minutes} 分钟后再试", oldest, window, now)
        count, oldest = _failures(s, "login_ip", address_key, since)
        if count >= settings.login_max_failures_per_address:
            raise _too_many("此地址登录失败次数过多,请 {minutes} 分钟后再试", oldest, window, now)
        for bucket, key in (("login", user_key), ("login_ip", address_key)):  # what no window counts any more
            s.execute(delete(RateLimitHit).where(RateLimitHit.bucket == bucket, RateLimitHit.key == key,
                                                 RateLimitHit.at < since))
        address_hit = RateLimitHit(bucket="login_ip", key=address_key, at=now)
        s.add_all([RateLimitHit(bucket="login", key=user_key, at=now), address_hit])
        uow.commit()
        return address_hit.id


def login(db: Database, settings: Settings, username: str, password: str, kind: str, ip: str,
          user_agent: str = "") -> LoginResult:
    """Check the password (argon2) and open a session.

    At most ``login_max_failures`` failures per username (from any address) and
    ``login_max_failures_per_address`` per address (on any accounts) within the window; the attempt is counted
    before the password is checked (:func:`_claim_login_attempt`) and forgiven once it succeeds.
    """
    username = username.strip()
    user_key, address_key = username.lower()[:200], (ip or "-")[:200]
    now = wall_now()
    address_hit = _claim_login_attempt(db, settings, user_key, address_key, now)
    with db.uow(write=False) as uow:
        person = uow.session.execute(select(Person.id, Person.password_hash, Person.active, Person.display_name,
                                            Person.username).where(Person.username == username)).one_or_none()
    # verified outside any transaction: argon2 takes tens of milliseconds on purpose
    ok = _verify(person[1] if person else None, password)
    if not ok or person is None or not person[2]:
        raise NotAuthenticated("用户名或密码错误" if (person is None or not ok) else "账号已停用",
                               code="auth.invalid_credentials")
    pid, hashed, _active, name, uname = person
    token, csrf = secrets.token_urlsafe(32), (secrets.token_urlsafe(32) if kind == "cookie" else "")
    ttl = settings.session_ttl_minutes if kind == "cookie" else settings.token_ttl_minutes
    expires = now + dt.timedelta(minutes=ttl)
    with db.uow() as uow:
        s = uow.session
        # a success forgives this username's failures, and this attempt on the address's count
        s.execute(delete(RateLimitHit).where(RateLimitHit.bucket == "login", RateLimitHit.key == user_key))
        s.execute(delete(RateLimitHit).where(RateLimitHit.id == address_hit))
        if _hasher.check_needs_rehash(hashed):
            s.execute(update(Person).where(Person.id == pid).values(password_hash=_hasher.hash(password)))
        s.add(AuthSession(token_hash=token_hash(token), person_id=pid, kind=kind,
                          csrf_hash=token_hash(csrf) if csrf else "", created_at=now, expires_at=expires,
                          revoked_at=None, ip=ip[:64], user_agent=_printable(user_agent)[:200]))
        uow.commit()
    return LoginResult(token, csrf, expires, pid, uname, name)


def _printable(text: str) -> str:
    """A header value as it may be stored: control characters dropped."""
    return "".join(c for c in text if c.isprintable())


def logout(db: Database, session_id: int) -> None:
    with db.uow() as uow:
        uow.session.execute(update(AuthSession).where(AuthSession.id == session_id, AuthSession.revoked_at.is_(None))
                            .values(revoked_at=wall_now()))
        uow.commit()


def count_hit(db: Database, bucket: str, key: str, limit: int, window: int, message: str) -> None:
    """Count one attempt; raise 429 when ``limit`` attempts were already made within ``window`` seconds."""
    now = wall_now()
    with db.uow() as uow:
        lock_name(uow.session, f"rate:{bucket}|{key[:200]}")
        count, oldest = _failures(uow.session, bucket, key[:200], now - dt.timedelta(seconds=window))
        if count >= limit:
            raise _too_many(message, oldest, window, now)
        uow.session.add(RateLimitHit(bucket=bucket, key=key[:200], at=now))
        uow.commit()
