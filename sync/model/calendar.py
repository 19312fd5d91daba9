"""Working days by the official Chinese holiday calendar, make-up working weekends (调休) included.

The holiday schedule comes from the ``chinesecalendar`` package, which follows the State Council's
yearly notice. A year that package does not cover yet falls back to Monday–Friday, and the
calendar says so (``fallback_years``) so the UI can warn that deadlines in that year are estimates.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

from .clock import Millis, from_millis, to_millis

SHANGHAI = ZoneInfo("Asia/Shanghai")


@lru_cache(maxsize=8192)
def _official(day: dt.date) -> bool | None:
    """True/False from the official calendar, or None when the year is not covered."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


class WorkCalendar:
    """Answers "is this a working day" and adds working days to an instant."""

    def __init__(self) -> None:
        self.fallback_years: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        official = _official(day)
        if official is None:
            self.fallback_years.add(day.year)
            return day.weekday() < 5
        return official

    def covers(self, year: int) -> bool:
        """Whether the official schedule for ``year`` is known (not a Mon–Fri guess)."""
        return _official(dt.date(year, 6, 1)) is not None

    def working_days_due(self, start: Millis, days: int) -> Millis:
        """The deadline for "within ``days`` working days" counted from ``start``.

        The count starts on the first working day after the start day, and the deadline is the
        end of the last counted day in Shanghai time (what "3个工作日内" means to an operator).
        ``days == 0`` means by the end of the start day.
        """
        local = from_millis(start).astimezone(SHANGHAI).date()
        day = local
        remaining = days
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        end = dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=SHANGHAI)
        return to_millis(end)

    def working_days_between(self, start: Millis, end: Millis) -> int:
        """Whole working days after ``start``'s day up to and including ``end``'s day."""
        a = from_millis(start).astimezone(SHANGHAI).date()
        b = from_millis(end).astimezone(SHANGHAI).date()
        n = 0
        while a < b:
            a += dt.timedelta(days=1)
            if self.is_workday(a):
                n += 1
        return n


DEFAULT_CALENDAR = WorkCalendar()
