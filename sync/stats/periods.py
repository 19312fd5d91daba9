"""Statistical periods (统计周期): a day, a week, a month, a quarter, a year or a custom range.

A period is a half-open range of Shanghai calendar days ``[first, last]`` (both included), turned
into UTC milliseconds ``[start, end)`` for queries. Text forms, as typed on the command line:

==============  =========================  =================================
form            example                    meaning
==============  =========================  =================================
``YYYY``        ``2026``                   the calendar year
``YYYY-Qn``     ``2026-Q4``                a quarter
``YYYY-MM``     ``2026-11``                a month
``YYYY-Www``    ``2026-W45``               an ISO week (Monday to Sunday)
``YYYY-MM-DD``  ``2026-11-05``             one day
``A..B``        ``2026-11-01..2026-11-15``  a custom range of days, both included
==============  =========================  =================================
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from ..model.calendar import SHANGHAI
from ..model.clock import Millis, to_millis

Kind = Literal["day", "week", "month", "quarter", "year", "custom"]
KINDS: tuple[Kind, ...] = ("day", "week", "month", "quarter", "year", "custom")


class BadPeriod(ValueError):
    """A period text that is not one of the accepted forms (the message says which are)."""


@dataclass(frozen=True)
class Period:
    kind: Kind
    first: dt.date  # first day, included
    last: dt.date  # last day, included

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise BadPeriod(f"the period ends ({self.last}) before it starts ({self.first})")

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def of(cls, kind: Kind, day: dt.date) -> Period:
        """The period of ``kind`` that contains ``day`` (``custom`` is the day itself)."""
        if kind == "day" or kind == "custom":
            return cls(kind, day, day)
        if kind == "week":
            monday = day - dt.timedelta(days=day.weekday())
            return cls("week", monday, monday + dt.timedelta(days=6))
        if kind == "month":
            first = day.replace(day=1)
            return cls("month", first, _next_month(first) - dt.timedelta(days=1))
        if kind == "quarter":
            first = dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
            end = _next_month(_next_month(_next_month(first)))
            return cls("quarter", first, end - dt.timedelta(days=1))
        if kind == "year":
            return cls("year", dt.date(day.year, 1, 1), dt.date(day.year, 12, 31))
        raise BadPeriod(f"unknown period kind {kind!r}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """A period from its text form (see the module docstring)."""
        t = text.strip()
        try:
            if ".." in t:
                a, b = (s.strip() for s in t.split("..", 1))
                return cls("custom", dt.date.fromisoformat(a), dt.date.fromisoformat(b))
            if re.fullmatch(r"\d{4}", t):
                return cls.of("year", dt.date(int(t), 1, 1))
            m = re.fullmatch(r"(\d{4})-[Qq]([1-4])", t)
            if m:
                return cls.of("quarter", dt.date(int(m[1]), 3 * int(m[2]) - 2, 1))
            m = re.fullmatch(r"(\d{4})-[Ww](\d{1,2})", t)
            if m:
                return cls.of("week", dt.date.fromisocalendar(int(m[1]), int(m[2]), 1))
            m = re.fullmatch(r"(\d{4})-(\d{1,2})", t)
            if m:
                return cls.of("month", dt.date(int(m[1]), int(m[2]), 1))
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", t):
                return cls.of("day", dt.date.fromisoformat(t))
        except ValueError as exc:
            if isinstance(exc, BadPeriod):
                raise
            raise BadPeriod(f"{text!r} is not a valid period: {exc}") from exc
        raise BadPeriod(
            f"{text!r} is not a period. Use 2026 (year), 2026-Q4 (quarter), 2026-11 (month), "
            "2026-W45 (ISO week), 2026-11-05 (day) or 2026-11-01..2026-11-15 (custom range)."
        )

    # -- what it covers -------------------------------------------------------------------------

    @property
    def start(self) -> Millis:
        """The first instant (UTC ms) of the first day, Shanghai time."""
        return to_millis(dt.datetime.combine(self.first, dt.time(), tzinfo=SHANGHAI))

    @property
    def end(self) -> Millis:
        """The first instant after the last day (exclusive)."""
        nxt = self.last + dt.timedelta(days=1)
        return to_millis(dt.datetime.combine(nxt, dt.time(), tzinfo=SHANGHAI))

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def text(self) -> str:
        """The text form :meth:`parse` reads back."""
        if self.kind == "day":
            return self.first.isoformat()
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "month":
            return self.first.strftime("%Y-%m")
        if self.kind == "quarter":
            return f"{self.first.year}-Q{(self.first.month - 1) // 3 + 1}"
        if self.kind == "year":
            return str(self.first.year)
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def label_zh(self) -> str:
        """How a report heads the period in Chinese."""
        f = self.first
        if self.kind == "day":
            return f"{f.year}年{f.month}月{f.day}日"
        if self.kind == "week":
            year, week, _ = f.isocalendar()
            return (
                f"{year}年第{week}周（{f.month}月{f.day}日—{self.last.month}月{self.last.day}日）"
            )
        if self.kind == "month":
            return f"{f.year}年{f.month}月"
        if self.kind == "quarter":
            return f"{f.year}年第{(f.month - 1) // 3 + 1}季度"
        if self.kind == "year":
            return f"{f.year}年"
        return f"{f.isoformat()} 至 {self.last.isoformat()}"

    # -- comparisons ----------------------------------------------------------------------------

    def previous(self) -> Period:
        """The period just before (环比): the previous month, week …; a custom range of the
        same length ending the day before."""
        if self.kind == "custom":
            last = self.first - dt.timedelta(days=1)
            return Period("custom", last - dt.timedelta(days=self.days - 1), last)
        return Period.of(self.kind, self.first - dt.timedelta(days=1))

    def year_ago(self) -> Period:
        """The same period last year (同比). A week is the same ISO week number; 29 February
        becomes 28 February."""
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            try:
                monday = dt.date.fromisocalendar(year - 1, week, 1)
            except ValueError:  # week 53 in a 52-week year
                monday = dt.date.fromisocalendar(year - 1, 52, 1)
            return Period.of("week", monday)
        return Period(self.kind, _year_back(self.first), _year_back(self.last))


def _next_month(first: dt.date) -> dt.date:
    return (first.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _year_back(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)
