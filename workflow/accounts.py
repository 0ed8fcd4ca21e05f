"""Passwords of the people a roster loaded (they arrive without one: no plaintext ever travels in a file).

Two ways to give an account its password, both audited on the person's own chain (``entity_type``
``person``), neither recording the secret:

- the operator sets it on the server: ``fundflow org set-password USERNAME`` (asked twice, not echoed);
- the administrator issues a **one-time activation code** (``fundflow org activation USERNAME`` or
  ``POST /api/v1/admin/users/{id}/activation``), hands it to the person, and the person chooses the
  password with it (``POST /api/v1/auth/activate``). Only the code's sha256 is stored; it works once, for
  72 hours by default, and a newer code spends the older ones. Setting a password ends the person's
  existing sessions.

Hashing is the caller's (argon2: ``api.auth.hash_password``, or ``argon2.PasswordHasher`` in the CLI).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rules import org as r_org
from store.models import ActivationToken, AuthSession, Person
from workflow import audit, clock
from workflow.engine import Actor
from workflow.services import ServiceError

DEFAULT_HOURS = 72


def normalise_code(code: str) -> str:
    """What the person typed, without spaces and dashes, upper case (codes are base32)."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def _digest(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode("ascii", "ignore")).hexdigest()


def find_person(session: Session, username: str) -> Person:
    person = session.execute(select(Person).where(Person.username == username.strip())).scalar_one_or_none()
    if person is None:
        raise ServiceError(r_org.check_found(False, f"用户 {username.strip()}"), 404)
    return person


def _end_sessions(session: Session, person_id: int, now: dt.datetime) -> None:
    session.execute(update(AuthSession).where(AuthSession.person_id == person_id, AuthSession.revoked_at.is_(None))
                    .values(revoked_at=now))


def set_password(session: Session, actor: Actor, person: Person, password: str, hashed: str,
                 now: dt.datetime | None = None, how: str = "set_password") -> None:
    """Give ``person`` the password whose argon2 hash is ``hashed`` (``password`` only to check its length)."""
    if not (v := r_org.check_password(password)).ok:
        raise ServiceError(v, 422)
    now = now or clock.now()
    had = person.password_hash is not None
    person.password_hash = hashed
    _end_sessions(session, person.id, now)
    audit.record(session, "person", person.id, event=how, at=now, actor_id=actor.person_id, actor_label=actor.label,
                 payload={"username": person.username, "had_password": had})


@dataclass(frozen=True)
class Activation:
    username: str
    code: str
    """Shown once; only its sha256 is kept."""
    expires_at: dt.datetime


def issue_activation(session: Session, actor: Actor, person: Person, hours: int = DEFAULT_HOURS,
                     now: dt.datetime | None = None) -> Activation:
    """A new one-time code for ``person``; any earlier unused code stops working."""
    now = now or clock.now()
    raw = base64.b32encode(secrets.token_bytes(15)).decode("ascii")
    code = "-".join(raw[i:i + 4] for i in range(0, len(raw), 4))
    session.execute(update(ActivationToken).where(ActivationToken.person_id == person.id,
                                                  ActivationToken.used_at.is_(None)).values(used_at=now))
    expires = now + dt.timedelta(hours=hours)
    session.add(ActivationToken(person_id=person.id, token_hash=_digest(code), created_at=now, expires_at=expires,
                                used_at=None, created_by=actor.person_id))
    audit.record(session, "person", person.id, event="issue_activation", at=now, actor_id=actor.person_id,
                 actor_label=actor.label, payload={"username": person.username, "expires_at": expires.isoformat()})
    return Activation(person.username, code, expires)


def activate(session: Session, username: str, code: str, password: str, hashed: str,
             now: dt.datetime | None = None) -> Person:
    """The person sets their password with the code they were given (refused alike for a wrong username or
    code, so that the answer tells nothing about which accounts exist)."""
    now = now or clock.now()
    if not (v := r_org.check_password(password)).ok:
        raise ServiceError(v, 422)
    person = session.execute(select(Person).where(Person.username == username.strip())).scalar_one_or_none()
    token = None
    if person is not None:
        stmt = select(ActivationToken).where(ActivationToken.token_hash == _digest(code),
                                             ActivationToken.person_id == person.id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        token = session.execute(stmt).scalar_one_or_none()
    verdict = r_org.check_activation(token is not None, token is not None and token.used_at is not None,
                                     token is not None and token.expires_at <= now)
    if not verdict.ok:
        raise ServiceError(verdict, 409 if token is not None else 404)
    assert person is not None and token is not None
    token.used_at = now
    set_password(session, Actor(person.id, person.username), person, password, hashed, now, how="activate")
    return person
