"""Working-day deadlines on the official calendar, make-up weekends (调休) included."""

from __future__ import annotations

import datetime as dt

from sync.model.calendar import SHANGHAI, WorkCalendar
from sync.model.clock import from_millis, to_millis


def at(y: int, m: int, d: int, h: int = 9) -> int:
    return to_millis(dt.datetime(y, m, d, h, tzinfo=SHANGHAI))


def local_date(ms: int) -> dt.date:
    return from_millis(ms).astimezone(SHANGHAI).date()


def test_national_day_holiday_is_skipped() -> None:
    cal = WorkCalendar()
    # 2026-09-30 (Wed) + 1 working day: 1–7 October are holidays, so the 8th.
    assert local_date(cal.working_days_due(at(2026, 9, 30), 1)) == dt.date(2026, 10, 8)
    assert not cal.fallback_years


def test_make_up_saturday_counts_as_a_working_day() -> None:
    cal = WorkCalendar()
    assert cal.is_workday(dt.date(2026, 10, 10))  # Saturday, a 调休 working day
    # Friday 9 October + 1 working day lands on that Saturday.
    assert local_date(cal.working_days_due(at(2026, 10, 9), 1)) == dt.date(2026, 10, 10)


def test_due_is_end_of_day_in_shanghai_even_late_at_night() -> None:
    cal = WorkCalendar()
    # 23:30 Shanghai on Monday is still Monday there (15:30 UTC): +2 → Wednesday 23:59:59.
    due = cal.working_days_due(at(2026, 11, 16, 23), 2)
    local = from_millis(due).astimezone(SHANGHAI)
    assert (local.date(), local.hour, local.minute) == (dt.date(2026, 11, 18), 23, 59)


def test_working_days_between_counts_spring_festival_right() -> None:
    cal = WorkCalendar()
    # 2026 Spring Festival: 15–23 February off; 14 and 28 February are make-up Saturdays.
    n = cal.working_days_between(at(2026, 2, 13), at(2026, 2, 28))
    assert n == 6  # 14th (Sat, make-up), 24, 25, 26, 27, 28 (Sat, make-up)
