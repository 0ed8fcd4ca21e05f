"""Working-day arithmetic speed: ``workday_after`` calls per second on the seeded calendar.

Run: ``.venv/bin/python bench/calendar.py``. Prints figures; asserts nothing.
"""
from __future__ import annotations

import datetime as dt
import platform
import time

from rules.calendar import WorkCalendar
from store.calendar import chinesecalendar_rows


def main() -> None:
    days = {}
    for year in range(2004, 2027):
        for row in chinesecalendar_rows(year):
            days[row["day"]] = row["is_workday"]
    cal = WorkCalendar(days, range(2004, 2027))
    start = dt.date(2024, 3, 1)
    n = 200_000
    t0 = time.perf_counter()
    for i in range(n):
        cal.workday_after(start + dt.timedelta(days=i % 900), 1 + i % 30)
    elapsed = time.perf_counter() - t0
    print(f"machine: {platform.processor() or platform.machine()}, Python {platform.python_version()}")
    print(f"workday_after: {n / elapsed:,.0f} calls/s ({elapsed * 1e6 / n:.2f} µs per call)")


if __name__ == "__main__":
    main()
