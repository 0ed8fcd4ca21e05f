"""The one clock the engine reads. Tests and ``fundflow sweep --now`` set it; nothing calls utcnow()."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_source: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)  # noqa: E731


def now() -> dt.datetime:
    """The current instant, timezone-aware UTC."""
    return _source().astimezone(dt.UTC)


def today() -> dt.date:
    """Today's date in Asia/Shanghai: posts, deadlines and the fund year go by local dates."""
    return now().astimezone(SHANGHAI).date()


def set_clock(source: Callable[[], dt.datetime]) -> None:
    global _source
    _source = source


def reset_clock() -> None:
    set_clock(lambda: dt.datetime.now(dt.UTC))


@contextmanager
def frozen(at: dt.datetime) -> Iterator[None]:
    """Run a block as of a fixed instant (aware; naive means Asia/Shanghai)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=SHANGHAI)
    global _source
    previous = _source
    _source = lambda: at  # noqa: E731
    try:
        yield
    finally:
        _source = previous


def local_date(instant: dt.datetime) -> dt.date:
    return instant.astimezone(SHANGHAI).date()


def end_of_local_day(day: dt.date) -> dt.datetime:
    """24:00 Asia/Shanghai of ``day`` (= 00:00 of the next day), in UTC."""
    nxt = day + dt.timedelta(days=1)
    return dt.datetime(nxt.year, nxt.month, nxt.day, tzinfo=SHANGHAI).astimezone(dt.UTC)
