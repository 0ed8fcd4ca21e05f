"""Residents' needs posted on the public form (居民点单, 第六条、第九条) and the community committee's answer.

A resident posts a need without an account: it is recorded on the channel 线上平台 (``platform``) with a
receipt code (``workflow.receipts``) that follows it on ``/gongshi/huizhi/{code}``: received, answered,
turned into a project, and that project's timeline. The committee (community secretary or staff) answers it
once. Each step is one audit event on the need's own chain; the resident's contact never enters the trail.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules import needs as r_needs
from rules.privacy import mask_text, strip_bidi
from store.models import Need
from workflow import audit, clock, receipts
from workflow.engine import PUBLIC, Actor
from workflow.services import ServiceError, _require_post, require_open_community


def post_need(session: Session, community_id: int, title: str, description: str = "", author_name: str = "",
              contact: str = "", now: dt.datetime | None = None) -> Need:
    """A resident's need, on the channel 线上平台, with its receipt code. Refusals raise ``ServiceError``."""
    title, description, author_name, contact = (strip_bidi(t) for t in (title, description, author_name, contact))
    for v in (r_needs.check_need_text(title, description), r_needs.check_contact(author_name, contact)):
        if not v.ok:
            raise ServiceError(v, 422)
    require_open_community(session, community_id)
    now = now or clock.now()
    need = Need(community_id=community_id, title=title.strip(), description=description.strip(), channel="platform",
                residents_count=1, recorded_by=None, created_at=now, receipt_code=receipts.new_code(session),
                author_name=author_name.strip(), contact=contact.strip())
    session.add(need)
    session.flush()
    audit.record(session, "need", need.id, event="post_need", at=now, actor_label=PUBLIC.label,
                 payload={"title": mask_text(need.title), "channel": "platform"})
    return need


def answer_need(session: Session, actor: Actor, need_id: int, answer: str) -> Need:
    """The community committee's answer to a need of its community (once; the resident reads it on the receipt)."""
    answer = strip_bidi(answer)
    stmt = select(Need).where(Need.id == need_id)
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    need = session.execute(stmt).scalar_one_or_none()
    if need is None:
        raise ServiceError(r_needs.check_need_answerable(False, False, answer), 404)
    post, role = _require_post(session, actor, need.community_id, ("community_secretary", "community_staff"),
                                "answer_need", r_needs.ART_NEEDS)
    if not (v := r_needs.check_need_answerable(True, bool(need.answer), answer)).ok:
        raise ServiceError(v, 409 if need.answer else 422)
    require_open_community(session, need.community_id)
    now = clock.now()
    need.answer, need.answered_by, need.answered_at = answer.strip(), actor.person_id, now
    audit.record(session, "need", need.id, event="answer_need", at=now, actor_id=actor.person_id,
                 actor_label=actor.label, post_id=post.id if post is not None else None, role=role,
                 payload={"answer": need.answer})
    return need
