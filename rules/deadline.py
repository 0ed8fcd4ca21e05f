"""Deadlines: a timed stage (a publicity period, an approval period …) moves on only once its deadline is due."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from rules.verdict import OK, Verdict, refuse

#: deadlines are shown in Beijing time.
SHANGHAI = ZoneInfo("Asia/Shanghai")


def check_deadline_reached(now: dt.datetime, due_at: dt.datetime | None, article: str) -> Verdict:
    """The stage's deadline exists and ``now`` is at or after it; ``article`` is the event's."""
    if due_at is None:
        return refuse("deadline.missing", "未找到该阶段的期限记录", article)
    if now < due_at:
        local = due_at.astimezone(SHANGHAI)
        return refuse("deadline.not_reached", f"期限未满: 须到 {local:%Y-%m-%d %H:%M}(北京时间)后方可进行", article)
    return OK
