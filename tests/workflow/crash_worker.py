"""Fires transitions forever on the database named by ``DATABASE_URL``, until it is killed.

Used by ``test_crash.py``, which kills it with SIGKILL at a random moment. Every project in the
database is moved round a cycle of real transitions, each its own transaction:

    draft --submit_preliminary--> preliminary_review --grant_preliminary--> joint_meeting
          --record_meeting (voted down: a meeting row is written)--> draft
    (every third round: preliminary_review --return_for_revision--> draft)

and every project ``in_progress`` gets follow-up inspections (``record_followup`` writes a row).
After each commit it prints ``ok <project id> <trigger> <to_state> <version>`` and flushes.
"""
from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import select  # noqa: E402

from store.db import Database  # noqa: E402
from store.models import Person, Post, Project  # noqa: E402
from workflow import clock  # noqa: E402
from workflow.engine import Actor  # noqa: E402
from workflow.services import fire_event  # noqa: E402

BASE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=clock.SHANGHAI)


def people(db: Database) -> tuple[dict[int, Actor], Actor]:
    """The secretary of each community, and one working-committee member."""
    with db.uow(write=False) as uow:
        rows = uow.session.execute(select(Post.organisation_id, Post.role, Person.id, Person.username)
                                   .join(Person, Person.id == Post.person_id)).all()
    secretaries = {org: Actor(pid, name) for org, role, pid, name in rows if role == "community_secretary"}
    member = next(Actor(pid, name) for _org, role, pid, name in rows if role == "working_member")
    return secretaries, member


def meeting(day: dt.date) -> dict[str, object]:
    return {"held_on": day.isoformat(),
            "attendees": [{"name": f"两委委员{i}", "capacity": "two_committees"} for i in range(1, 6)]
            + [{"name": f"居民代表{i}", "capacity": "resident_rep"} for i in range(1, 7)],
            "votes_for": 2, "votes_against": 8, "votes_abstain": 1, "minutes": "多数代表认为时机尚不成熟。"}


def main() -> None:
    db = Database(os.environ["DATABASE_URL"])
    secretaries, member = people(db)
    limit = int(os.environ.get("CRASH_WORKER_LIMIT", "0"))  # 0: until killed
    done = 0
    while True:
        with db.uow(write=False) as uow:
            projects = uow.session.execute(select(Project.id, Project.state, Project.version, Project.community_id)
                                           .order_by(Project.id)).all()
        for pid, state, version, community in projects:
            now = BASE + dt.timedelta(minutes=10 * (version + 1))
            secretary = secretaries[community]
            if state == "draft":
                step = ("submit_preliminary", secretary, {}, "")
            elif state == "preliminary_review" and version % 3 == 0:
                step = ("return_for_revision", member, {}, "请补充居民意见材料")
            elif state == "preliminary_review":
                step = ("grant_preliminary", member, {}, "")
            elif state == "joint_meeting":
                step = ("record_meeting", secretary, meeting(now.date()), "")
            elif state == "in_progress":
                step = ("record_followup", member, {"visited_on": now.date().isoformat(),
                                                    "notes": f"第 {version} 次现场检查,进度正常。"}, "")
            else:
                continue
            trigger, actor, payload, reason = step
            outcome = fire_event(db, "project", pid, trigger, actor, payload, reason=reason, now=now)
            if outcome.ok:
                print(f"ok {pid} {trigger} {outcome.to_state} {outcome.version}", flush=True)
                done += 1
            else:
                print(f"refused {pid} {trigger} {outcome.status} {outcome.verdict.code}", flush=True)
            if limit and done >= limit:
                return


if __name__ == "__main__":
    main()
