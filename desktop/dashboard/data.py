"""What the dashboard shows, read in one background operation through the store's query API."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, from_millis, to_millis
from sync.store import Store
from sync.store.queries import CaseQuery

#: Rows per dashboard list: enough to act on, short enough to read without scrolling far.
TOP_N = 12
#: Weeks in the "cases per week" chart.
WEEKS = 12
#: Days covered by the category and village charts.
CHART_DAYS = 30


def day_start(day: dt.date) -> Millis:
    return to_millis(dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI))


@dataclass
class Snapshot:
    """Everything on the dashboard at one moment."""

    now: Millis
    kpis: dict[str, Any]
    today_start: Millis
    month_start: Millis
    month_end: Millis
    chart_since: Millis
    by_major: list[tuple[str, int]] = field(default_factory=list)
    by_village: list[tuple[str, int]] = field(default_factory=list)
    by_week: list[tuple[str, int]] = field(default_factory=list)  # (Monday ISO date, count)
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    queries: dict[str, CaseQuery] = field(default_factory=dict)


def list_queries(today_start: Millis) -> dict[str, CaseQuery]:
    """The query behind each dashboard list (also where clicking its figure lands)."""
    return {
        "overdue": CaseQuery(light="red", sort="due_at", descending=False),
        "soon_due": CaseQuery(light="yellow", sort="due_at", descending=False),
        "awaiting_acceptance": CaseQuery(
            statuses=("reported",), sort="reported_at", descending=False
        ),
        "awaiting_verification": CaseQuery(
            statuses=("verifying",), sort="updated_at", descending=False
        ),
        "today_intake": CaseQuery(reported_from=today_start),
    }


def load(store: Store) -> Snapshot:
    """Read the dashboard (runs in a worker thread)."""
    now = store.now()
    local = from_millis(now).astimezone(SHANGHAI)
    today = local.date()
    first = today.replace(day=1)
    nxt = (first + dt.timedelta(days=32)).replace(day=1)
    monday = today - dt.timedelta(days=today.weekday())
    week_since = day_start(monday - dt.timedelta(weeks=WEEKS - 1))
    snap = Snapshot(
        now=now,
        kpis=store.kpis(),
        today_start=day_start(today),
        month_start=day_start(first),
        month_end=day_start(nxt),
        chart_since=day_start(today - dt.timedelta(days=CHART_DAYS - 1)),
    )
    snap.by_major = store.breakdown("major", since=snap.chart_since)
    snap.by_village = store.breakdown("village_code", since=snap.chart_since)
    weeks = dict(store.breakdown("week", since=week_since))
    snap.by_week = [
        (d.isoformat(), int(weeks.get(d.isoformat(), 0)))
        for d in (monday - dt.timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS))
    ]
    snap.queries = list_queries(snap.today_start)
    snap.lists = {name: store.cases(q, limit=TOP_N) for name, q in snap.queries.items()}
    return snap
