"""SQLAlchemy 2 tables of fundflow.

Conventions: money columns end in ``_fen`` and hold integer fen; every timestamp is stored in UTC
(``UTCDateTime``) and shown in Asia/Shanghai by the layers above; calendar dates are plain dates
in Asia/Shanghai. Only the workflow engine writes ``state`` columns. Relationships are
``lazy="raise"`` so that no query hides behind an attribute.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Autoincrementing 64-bit keys on PostgreSQL; SQLite only autoincrements INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer, "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC instant on every database (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    pass


# ---------------------------------------------------------------- organisations, people, posts


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    """Stable short code, e.g. ``C01`` (city), ``A01`` (area), ``S01`` (community)."""
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(16))
    """``city`` | ``area`` | ``community``."""
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    """The day (Asia/Shanghai) the city administrator closed it; None while it exists. A closed
    organisation keeps its records but takes no new action (``workflow.org``)."""


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    """argon2 hash; None for accounts that cannot log in (e.g. the system)."""
    phone: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[str | None] = mapped_column(String(254))
    """Where deadline notifications are e-mailed when SMTP is configured (None: inbox only)."""


class Post(Base):
    """A person holds a role in an organisation for a term; rights come from the posts of the day."""

    __tablename__ = "posts"
    __table_args__ = (Index("ix_posts_person", "person_id"), Index("ix_posts_org_role", "organisation_id", "role"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(String(32))
    """One of the role ids of SPEC section 1 (``community_secretary`` …)."""
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    """Last day of the term, inclusive; None while the term runs."""


class ActivationToken(Base):
    """A one-time code with which a person sets their own password (accounts loaded by a roster have none).

    Only the code's sha256 is stored; using it, or issuing a newer one, spends it."""

    __tablename__ = "activation_tokens"
    __table_args__ = (Index("ix_activation_tokens_person", "person_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 (hex) of the code handed to the person."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """When the code set a password, or was replaced by a newer one; a spent code never works again."""
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    """The administrator who issued it (None: the ``fundflow`` command on the server)."""


# ---------------------------------------------------------------- API sessions and rate limits


class AuthSession(Base):
    """A login: a bearer token or a browser cookie session. Only the token's sha256 is stored."""

    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_person", "person_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 (hex) of the secret token the client holds."""
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(8))
    """``bearer`` (``Authorization`` header) | ``cookie`` (web pages; unsafe requests need the CSRF token)."""
    csrf_hash: Mapped[str] = mapped_column(String(64), default="")
    """sha256 of the CSRF token of a cookie session ('' for bearer tokens)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """Set by logout (or an administrator); a revoked session never authenticates again."""
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class RateLimitHit(Base):
    """One counted attempt (a login not yet proven right, a public objection) for sliding-window rate limiting."""

    __tablename__ = "rate_limit_hits"
    __table_args__ = (Index("ix_rate_limit_hits_key", "bucket", "key", "at"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    bucket: Mapped[str] = mapped_column(String(16))
    """``login`` (per username) | ``login_ip`` (per address, across accounts) | ``objection`` (per address)."""
    key: Mapped[str] = mapped_column(String(200))
    """The lower-cased username for ``login``, the client address for ``login_ip`` and ``objection``."""
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AppSecret(Base):
    """A server secret shared by every worker (e.g. the key that signs the public forms' CSRF tokens).

    Created on first use (``api.pages.public_csrf``); never shown, never leaves the server."""

    __tablename__ = "app_secrets"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))
    """Random hex."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- policy, calendar


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    __table_args__ = (UniqueConstraint("city_id", "version"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    version: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType)
    """``rules.policy.Policy.to_dict()``."""
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CalendarDay(Base):
    """One day of a year whose official schedule is loaded."""

    __tablename__ = "calendar_days"
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    is_workday: Mapped[bool] = mapped_column(Boolean)
    kind: Mapped[str] = mapped_column(String(16))
    """``workday`` | ``weekend`` | ``holiday`` | ``makeup`` (调休 working day)."""
    name: Mapped[str] = mapped_column(String(32), default="")


class CalendarYear(Base):
    """A year whose official schedule has been loaded; deadlines in other years are provisional."""

    __tablename__ = "calendar_years"
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    loaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- fund years, needs, projects


class FundYear(Base):
    __tablename__ = "fund_years"
    __table_args__ = (UniqueConstraint("community_id", "year"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    year: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Number of audit events on this fund year; also the optimistic-lock version."""
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    """Hash of the latest audit event of this fund year's chain."""
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    allocation_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    carry_in_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    """Approved and not yet paid or released, all projects."""
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    small_group_committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    """Approved amount (committed + paid) of small-group projects."""
    carry_out_fen: Mapped[int | None] = mapped_column(BigInteger)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSONType)


class Need(Base):
    __tablename__ = "needs"
    __table_args__ = (Index("ix_needs_community", "community_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(32), default="visit")
    """How it was collected (Art. 9): ``visit`` 入户 | ``hall`` 便民服务大厅 | ``platform`` 桥梁平台."""
    residents_count: Mapped[int] = mapped_column(Integer, default=1)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    """The staff member who recorded it; None when a resident posted it on the public form (居民点单)."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # -- residents' receipts and the committee's answer (issue 9, public side)
    receipt_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    """The resident's receipt code (``workflow.receipts``: the alphabet and generator of objection receipts);
    follows the need on ``/gongshi/huizhi/{code}`` without an account. None for needs recorded before it."""
    author_name: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """Who posted it on the public form (optional; only its first character is ever shown publicly)."""
    contact: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """The resident's telephone or other contact, for the committee only: never shown publicly."""
    answer: Mapped[str] = mapped_column(Text, default="", server_default="")
    """The community committee's answer to the resident (public on the receipt page, masked)."""
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Project(Base):
    __tablename__ = "projects"
    __table_args__ = (
        Index("ix_projects_community_state", "community_id", "state"),
        Index("ix_projects_fund_year", "fund_year_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    fund_year_id: Mapped[int] = mapped_column(ForeignKey("fund_years.id"))
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    """The policy the project was proposed under; its rules keep applying to it."""
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Number of audit events on this project; the ``If-Match`` version."""
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    proposer_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32))
    """Art. 8: ``hardship`` | ``convenience`` | ``employment`` | ``property`` | ``culture`` | ``other``."""
    category_justification: Mapped[str] = mapped_column(Text, default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    """Requested, then approved (and changed) amount."""
    beneficiaries_count: Mapped[int] = mapped_column(Integer)
    beneficiaries_desc: Mapped[str] = mapped_column(Text, default="")
    small_group_marked: Mapped[bool] = mapped_column(Boolean, default=False)
    """Marked small-group by the committee even above the threshold."""
    is_small_group: Mapped[bool] = mapped_column(Boolean, default=False)
    """Derived at proposal and change: below the threshold or marked."""
    contractor_name: Mapped[str] = mapped_column(String(200), default="")
    contractor_kind: Mapped[str] = mapped_column(String(16), default="organisation")
    """``organisation`` | ``individual``."""
    is_aid: Mapped[bool] = mapped_column(Boolean, default=False)
    """帮扶资助 — recipients' names are private."""
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    planned_end: Mapped[dt.date | None] = mapped_column(Date)
    forbidden_use_declaration: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    """Art. 4 checklist: each forbidden use key → False (declared not to be such a use)."""
    keyword_flags_answer: Mapped[str] = mapped_column(Text, default="")
    """The committee's answer to flagged line items (must be present before submission)."""
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    released_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """When the working committee received the application (starts the Art. 11 clock)."""
    approval_round: Mapped[int] = mapped_column(Integer, default=0)
    """Which submission the current approvals belong to; each ``submit`` starts a new round."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProjectNeed(Base):
    __tablename__ = "project_needs"
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), primary_key=True)


class LineItem(Base):
    __tablename__ = "line_items"
    __table_args__ = (Index("ix_line_items_project", "project_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    catalog_item: Mapped[str] = mapped_column(String(100), default="")
    """Art. 12: the government procurement-catalog entry a purchase falls under."""
    flagged_keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # -- the working committee's decision on a keyword flag (Art. 4), made in preliminary review (issue 11)
    flag_decision: Mapped[str] = mapped_column(String(16), default="", server_default="")
    """'' (none yet) | ``cleared`` (not a forbidden use) | ``upheld`` (a forbidden use: the plan must change)."""
    flag_decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    flag_decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    flag_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Why the committee cleared or upheld the flag, after reading the community's explanation."""


# ---------------------------------------------------------------- meetings, notices, approvals


class Meeting(Base):
    """A joint meeting (两委+居民代表联席会议), a board meeting (班子会议) or a payment decision."""

    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_project", "project_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(16))
    """``joint`` | ``board`` | ``payment_decision``."""
    held_on: Mapped[dt.date] = mapped_column(Date)
    attendees: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    """[{"name", "capacity": "two_committees" | "resident_rep" | "working_committee" | ...}]."""
    votes_for: Mapped[int] = mapped_column(Integer, default=0)
    votes_against: Mapped[int] = mapped_column(Integer, default=0)
    votes_abstain: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    """``passed`` | ``divided`` | ``voted_down`` for joint meetings."""
    minutes: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Notice(Base):
    """A public notice on the community notice board."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_community", "community_id", "starts_at"),
                      Index("ix_notices_ends", "ends_at", "id"), Index("ix_notices_starts", "starts_at", "id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    fund_year_id: Mapped[int | None] = mapped_column(ForeignKey("fund_years.id"))
    payment_item_id: Mapped[int | None] = mapped_column(ForeignKey("payment_items.id"))
    kind: Mapped[str] = mapped_column(String(24))
    """``publicity`` | ``completion`` | ``voucher_payment`` | ``disclosure`` | ``termination``."""
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    """Already masked for the public."""
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)


class Objection(Base):
    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_notice", "notice_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    author_name: Mapped[str] = mapped_column(String(64), default="")
    contact: Mapped[str] = mapped_column(String(64), default="")
    """Never shown publicly."""
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved: Mapped[bool] = mapped_column(Boolean, default=False)
    """Settled: a supervisor confirmed the answer, or the resident accepted it (never the answer alone);
    unresolved ones send the project back to the joint meeting when the notice ends."""
    # -- how it was settled, and the resident's receipt (issue 11)
    receipt_code: Mapped[str] = mapped_column(String(16), unique=True)
    """Random code given to the resident (unambiguous letters and digits): looks the objection up and
    accepts the answer without a login. Never shown to the committee."""
    resolution: Mapped[str] = mapped_column(String(16), default="", server_default="")
    """'' (unresolved) | ``confirmed`` (a supervisor confirmed the answer) | ``accepted`` (the resident
    accepted it) | ``legacy`` (resolved before this rule, by the committee's answer alone)."""
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    """The confirming supervisor (None when the resident accepted)."""
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolution_comment: Mapped[str] = mapped_column(Text, default="", server_default="")


class Approval(Base):
    """One main leader's decision on a project (Art. 11)."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_project", "project_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    round: Mapped[int] = mapped_column(Integer, default=1)
    """Increases each time the project is submitted again."""
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    role: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(16))
    """``approve`` | ``reject`` | ``return`` | ``terminate`` (a main leader's vote to terminate; the second
    one terminates; a vote counts only until the project is reported complete)."""
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ChangeRequest(Base):
    __tablename__ = "change_requests"
    __table_args__ = (Index("ix_change_requests_project", "project_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    before: Mapped[dict[str, Any]] = mapped_column(JSONType)
    after: Mapped[dict[str, Any]] = mapped_column(JSONType)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """``pending`` | ``approved`` | ``rejected`` | ``lapsed`` (the project was terminated while it was
    pending); approved changes are the 备案 record."""
    requested_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class FollowUp(Base):
    __tablename__ = "followups"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    visited_on: Mapped[dt.date] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Acceptance(Base):
    __tablename__ = "acceptances"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    passed: Mapped[bool] = mapped_column(Boolean)
    quality: Mapped[str] = mapped_column(Text)
    satisfaction: Mapped[int] = mapped_column(Integer)
    """Resident satisfaction, percent 0–100."""
    team: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)
    """[{"person_id", "role"}] — at least a working-committee member and a supervisor."""
    recorded_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class SignOff(Base):
    """A supervisor's sign-off of a stage (Art. 14): ``declaration`` | ``acceptance`` | ``write_off``."""

    __tablename__ = "signoffs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """An acceptance sign-off lapses when that round's acceptance fails (issue 11): the next needs a fresh one."""


class Concern(Base):
    """A supervisor's concern; while open it holds every forward transition of its project."""

    __tablename__ = "concerns"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    raised_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    text: Mapped[str] = mapped_column(Text)
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- payments and the ledger


class PaymentItem(Base):
    __tablename__ = "payment_items"
    __table_args__ = (
        # One invoice is paid once in the whole city (Art. 13, 17): no two live items hold the same invoice.
        # A cancelled item (never paid) holds nothing, so the invoice can be entered again correctly.
        Index("uq_payment_items_invoice", "invoice_no_norm", "issuer_tax_id", unique=True,
              postgresql_where=text("status <> 'cancelled' AND invoice_no_norm IS NOT NULL"),
              sqlite_where=text("status <> 'cancelled' AND invoice_no_norm IS NOT NULL")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    """``invoice`` | ``voucher`` (no-invoice, Art. 13)."""
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(200))
    payee_account: Mapped[str] = mapped_column(String(64), default="")
    """Bank account; masked in every public output."""
    invoice_no: Mapped[str] = mapped_column(String(64), default="")
    """As entered (spaces trimmed)."""
    invoice_no_norm: Mapped[str | None] = mapped_column(String(64), nullable=True)
    """``rules.payment.normalise_invoice_no`` of an invoice's number (NFKC, no spaces, upper case); NULL
    for a voucher. What the city-wide uniqueness compares."""
    issuer_tax_id: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """The invoice issuer's taxpayer id (纳税人识别号), normalised; "" when not given."""
    status: Mapped[str] = mapped_column(String(16), default="open")
    """``open`` | ``paid`` | ``cancelled``."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """When the community secretary cancelled (作废) the item; it is then never paid."""
    cancelled_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", name="fk_payment_items_cancelled_by"),
                                                     nullable=True)
    cancel_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class Signature(Base):
    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("payment_item_id", "seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_item_id: Mapped[int] = mapped_column(ForeignKey("payment_items.id"))
    seq: Mapped[int] = mapped_column(Integer)
    """1 community secretary, 2 construction director, 3 working committee secretary."""
    role: Mapped[str] = mapped_column(String(32))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lapsed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    """Set when the item is cancelled: the signature no longer counts (it stays, and in the audit)."""


class VoucherEvidence(Base):
    __tablename__ = "voucher_evidence"
    __table_args__ = (UniqueConstraint("payment_item_id", "kind"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_item_id: Mapped[int] = mapped_column(ForeignKey("payment_items.id"))
    kind: Mapped[str] = mapped_column(String(24))
    """``meeting_decision`` | ``inprocess_proof`` | ``payee_signature`` | ``post_notice``."""
    document_sha256: Mapped[str | None] = mapped_column(ForeignKey("documents.sha256"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id"))
    recorded_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    payment_item_id: Mapped[int] = mapped_column(ForeignKey("payment_items.id"), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    """Repeating a payment request with the same key pays once."""
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LedgerEntry(Base):
    """The fund's own account 党组织服务群众专项经费 per community fund year (Art. 17)."""

    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_fund_year", "fund_year_id"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    fund_year_id: Mapped[int] = mapped_column(ForeignKey("fund_years.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(16))
    """``allocation`` | ``carry_in`` | ``commitment`` | ``adjustment`` | ``release`` | ``payment`` | ``carry_out``."""
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    """Positive, except adjustments: an approved change that lowers the amount books a negative one."""
    document_sha256: Mapped[str | None] = mapped_column(ForeignKey("documents.sha256"))
    memo: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Document(Base):
    """Every form, minute, invoice, proof and notice, stored once by its content hash."""

    __tablename__ = "documents"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class DocumentLink(Base):
    """Which documents belong to which project / fund year, and as what."""

    __tablename__ = "document_links"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    document_sha256: Mapped[str] = mapped_column(ForeignKey("documents.sha256"))
    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(32))
    """e.g. ``application_form``, ``minutes``, ``invoice``, ``acceptance``."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- audit, deadlines, notifications


class AuditChain(Base):
    """Chain head for audited things that are neither projects nor fund years (calendar, policy …)."""

    __tablename__ = "audit_chains"
    entity_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default="")


class AuditEvent(Base):
    """Append-only. Each entity has its own hash chain: hash = sha256(prev_hash + this event)."""

    __tablename__ = "audit_events"
    __table_args__ = (UniqueConstraint("entity_type", "entity_id", "seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(16))
    """``project`` | ``fund_year`` | ``calendar`` | ``policy`` | ``org``."""
    entity_id: Mapped[int] = mapped_column(BigInteger)
    seq: Mapped[int] = mapped_column(Integer)
    """1, 2, 3 … within the entity's chain (equals the entity's version after the event)."""
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    """None for the public and for timers."""
    actor_label: Mapped[str] = mapped_column(String(64), default="")
    """``system`` for timers, ``public`` for residents, else the username."""
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    role: Mapped[str] = mapped_column(String(32), default="")
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str] = mapped_column(String(32), default="")
    to_state: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Deadline(Base):
    """A step window of the regulation, kept as a row and swept (never an in-memory timer)."""

    __tablename__ = "deadlines"
    __table_args__ = (
        Index("ix_deadlines_open_due", "status", "due_at"),
        # every term of the engine's deadline statements is an equality on it, so SQLite picks it with or
        # without statistics (on (entity_type, entity_id) alone it took the status index and walked every
        # open deadline when no ANALYZE had run)
        Index("ix_deadlines_entity", "entity_type", "entity_id", "kind", "status"),
        # the sweep's due scan: only open rows (fired and cleared ones pile up over the years)
        Index("ix_deadlines_due_open", "due_at", "id", postgresql_where=text("status = 'open'"),
              sqlite_where=text("status = 'open'")),
        # deadlines the scheduler creates lazily are made once (insert-if-absent on this key)
        Index("ux_deadlines_ref", "entity_type", "entity_id", "kind", "ref", unique=True,
              postgresql_where=text("ref <> ''"), sqlite_where=text("ref <> ''")),
        # provisional deadlines not yet flagged to the city's administrators
        Index("ix_deadlines_unflagged", "id",
              postgresql_where=text("provisional AND status = 'open' AND flagged_at IS NULL"),
              sqlite_where=text("provisional AND status = 'open' AND flagged_at IS NULL")),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(16))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    """e.g. ``publicity``, ``approval_due``, ``completion_publicity``, ``disclosure``."""
    event: Mapped[str] = mapped_column(String(32), default="")
    """Timer event fired when due ('' for deadlines that escalate rather than transition)."""
    start_date: Mapped[dt.date] = mapped_column(Date)
    workdays: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """24:00 Asia/Shanghai of the last working day, in UTC."""
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    """Computed over a year with no official schedule loaded (weekends only)."""
    status: Mapped[str] = mapped_column(String(16), default="open")
    """``open`` | ``fired`` | ``cleared``."""
    fired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ref: Mapped[str] = mapped_column(String(64), default="", server_default="")
    """What the deadline is about within its entity, for deadlines made by the scheduler or an effect
    (e.g. ``payment_item:12``, ``2026``, ``2026-Q2``); unique per (entity, kind) when not ''.
    '' for the engine's state timers."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Sweeps that took the deadline and could not complete it (e.g. a timer refused by a guard)."""
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """After a refusal, the sweep leaves the deadline alone until then (capped exponential backoff)."""
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")
    """Why the last attempt did not complete (the refusing rule's code and message)."""
    outcome: Mapped[str] = mapped_column(String(32), default="", server_default="")
    """What the sweep did: ``transitioned`` | ``escalated`` | ``overdue`` | ``notified`` | ``moot``."""
    flagged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """When a provisional deadline was flagged to the city's administrators."""


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("deadline_id", "recipient_id", "kind"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadlines.id"))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class NotificationDelivery(Base):
    """One outbound copy of a notification (e-mail to the recipient, or the group-robot webhook).

    Written in the notification's transaction, sent after it commits, outside any transaction;
    the row records the outcome. A copy is at-least-once: a process killed between sending and
    recording sends it again (the e-mail carries a stable Message-ID for de-duplication).
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (
        UniqueConstraint("notification_id", "channel"),
        Index("ix_deliveries_pending", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"))
    channel: Mapped[str] = mapped_column(String(16))
    """``email`` | ``webhook``."""
    target: Mapped[str] = mapped_column(String(254), default="")
    """The e-mail address ('' for the webhook, whose URL comes from the settings)."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """``pending`` | ``sending`` (claimed by a sender) | ``sent`` | ``failed`` (gave up)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- audit anchors (signed daily roots)


class AuditRoot(Base):
    """A signed root of every audit chain's head (workflow.anchors): published, and checked by ``audit verify``.

    The signature is made with a key the database does not hold; ``public_key`` is stored for publication
    only: verification trusts the keys of its own configuration, never this column.
    """

    __tablename__ = "audit_roots"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    """1, 2, 3 …; each root names the record hash of the one before it."""
    day: Mapped[dt.date] = mapped_column(Date, index=True)
    """The Asia/Shanghai day of ``signed_at``."""
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    chains: Mapped[int] = mapped_column(Integer)
    """Audit chains covered (every project, fund year and other audited thing at signing time)."""
    events: Mapped[int] = mapped_column(BigInteger)
    """Audit events covered: the sum of every chain's length."""
    state_root: Mapped[str] = mapped_column(String(64))
    """Merkle root (sha256) over every chain's (entity type, entity id, length, head hash), sorted."""
    delta_root: Mapped[str] = mapped_column(String(64))
    """Merkle root over this root's leaves: the chains that changed since the previous root."""
    delta_count: Mapped[int] = mapped_column(Integer)
    prev_hash: Mapped[str] = mapped_column(String(64))
    """``record_hash`` of the previous root (64 zeros for the first)."""
    record_hash: Mapped[str] = mapped_column(String(64), unique=True)
    """sha256 of the signed message (see ``workflow.anchors.root_message``)."""
    key_id: Mapped[str] = mapped_column(String(16))
    """First 16 hex digits of the sha256 of the raw Ed25519 public key."""
    public_key: Mapped[str] = mapped_column(String(64))
    """The signer's raw Ed25519 public key, hex (published; not trusted by verification)."""
    signature: Mapped[str] = mapped_column(String(128))
    """Ed25519 signature of the message, hex."""


class AuditRootLeaf(Base):
    """One chain's head as a root signed it: only chains that changed since the previous root get a row."""

    __tablename__ = "audit_root_leaves"
    __table_args__ = (Index("ix_audit_root_leaves_chain", "entity_type", "entity_id", "seq"),)
    root_seq: Mapped[int] = mapped_column(ForeignKey("audit_roots.seq"), primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    """The chain's length when signed."""
    head: Mapped[str] = mapped_column(String(64))
    """The hash of the chain's event number ``seq``."""


class AuditAnchored(Base):
    """Where each chain stood at the latest root (the signer's working copy, to find what changed).

    Derived data: verification never trusts it (it rebuilds the same from the signed leaves).
    """

    __tablename__ = "audit_anchored"
    entity_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    entity_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    head: Mapped[str] = mapped_column(String(64))


# ---------------------------------------------------------------- counters (issue 12: race-free numbering)


class Counter(Base):
    """A named counter, taken and incremented in one statement (``store.counters.next_value``), so that
    concurrent transactions never draw the same number: e.g. ``project:<fund year id>`` numbers the project
    codes of one community-year."""

    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
    """The last number drawn."""


# ---------------------------------------------------------------- printed documents (issue 10)


class DocumentCode(Base):
    """A document fundflow printed: its verification code, what it belongs to, and whether a newer
    version of the same document has replaced it. The code is derived from the document's data
    (``documents.codes``), so the same data always maps to the same row."""

    __tablename__ = "document_codes"
    __table_args__ = (Index("ix_document_codes_subject", "subject"),)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    """12 characters of Crockford base32 (printed as XXXX-XXXX-XXXX)."""
    kind: Mapped[str] = mapped_column(String(32))
    """``application_form`` | ``notice`` | ``minutes`` | ``board_record`` | ``acceptance_record`` |
    ``change_filing`` | ``payment_voucher`` | ``annual_report`` | ``annual_disclosure``."""
    object_id: Mapped[int] = mapped_column(BigInteger)
    """The record the document is drawn from (project, notice, meeting, … or fund year id, by kind)."""
    subject: Mapped[str] = mapped_column(String(64))
    """``kind:object_id``: every version of one document shares it."""
    entity_type: Mapped[str] = mapped_column(String(16))
    """``project`` | ``fund_year``: whose audit chain the record belongs to."""
    entity_id: Mapped[int] = mapped_column(BigInteger)
    community_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    title: Mapped[str] = mapped_column(String(200))
    public: Mapped[bool] = mapped_column(Boolean)
    data_sha256: Mapped[str] = mapped_column(String(64))
    """sha256 of the document's canonical data (the code is its first 60 bits)."""
    pdf_sha256: Mapped[str | None] = mapped_column(String(64))
    """sha256 of the PDF as last printed (None: known from its data, not yet printed)."""
    as_of: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """The latest recorded time in the document's data (the date it bears)."""
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    """When fundflow first produced this version."""
    superseded_by: Mapped[str | None] = mapped_column(String(16))
    """The code of the version that replaced it (None while it is current)."""
    superseded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    """When the data changed: the recorded time of the replacing version's data."""


# ---------------------------------------------------------------- inspections and finance's steps (issue 13)


class Inspection(Base):
    """A regular inspection (定期检查, Art. 19) of one community over a period, by the area's working committee.

    Runs the ``inspection`` workflow (``workflow/definitions/inspection.py``): its own audit chain."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_community", "community_id"), Index("ix_inspections_area", "area_id"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    """The area whose working committee inspects (the community's area when it was planned)."""
    community_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    """The policy in force when it was planned."""
    period_from: Mapped[dt.date] = mapped_column(Date)
    """First day (Asia/Shanghai) of the period inspected."""
    period_to: Mapped[dt.date] = mapped_column(Date)
    """Last day of the period inspected, inclusive."""
    title: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    """Number of audit events on this inspection; the ``If-Match`` version."""
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    planned_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    """The inspection's conclusion, written when it is completed."""
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Finding(Base):
    """A problem an inspection found (检查发现): the article it breaches, the rectification required (整改要求) and
    its deadline; runs the ``finding`` workflow until a second person of the working committee verifies it."""

    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_inspection", "inspection_id"),
                      Index("ix_findings_community_state", "community_id", "state"))
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"))
    """The project the finding is about (None: the community's handling of the fund as a whole)."""
    state: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    audit_head: Mapped[str] = mapped_column(String(64), default="")
    article: Mapped[str] = mapped_column(String(32))
    """The article of 细则 cited, in the regulation's form (``第七条第(二)项``)."""
    description: Mapped[str] = mapped_column(Text)
    requirement: Mapped[str] = mapped_column(Text)
    """The rectification required (整改要求)."""
    workdays: Mapped[int] = mapped_column(Integer)
    """Working days given to rectify, counted from the day it is recorded (and again from a rejection)."""
    recorded_by: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    rectification: Mapped[str] = mapped_column(Text, default="")
    """The community's latest account of its rectification."""
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    rejections: Mapped[int] = mapped_column(Integer, default=0)
    """Times a submitted rectification was sent back."""


class FinanceCheck(Base):
    """One of finance's three steps on a project (Art. 18): ``budget_review`` (事前预算), ``in_process`` (事中监督)
    or ``audit`` (事后审计)."""

    __tablename__ = "finance_checks"
    __table_args__ = (Index("ix_finance_checks_project", "project_id", "kind"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"))
    kind: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    """``passed`` | ``failed`` (budget review); ``normal`` | ``issues_found`` (check); ``compliant`` |
    ``issues_found`` (audit)."""
    note: Mapped[str] = mapped_column(Text)
    """The review's opinion, the check's note or the audit's conclusion."""
    round: Mapped[int] = mapped_column(Integer, default=0)
    """The project's approval round when recorded (a budget review counts for that submission only)."""
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
