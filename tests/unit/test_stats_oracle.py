"""Statistics against an oracle: the same figures computed case by case from the timelines.

A 1,500-case demo township is built; for several periods every figure (and the village and
department breakdowns) is recomputed here in plain Python from each case's projected state and
its timeline entries — a second, independent implementation of the definitions in
``sync.stats.definitions`` — and must equal what the set-based SQL of ``sync.stats.core`` gives.
"""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync import cli
from sync.model.calendar import DEFAULT_CALENDAR, SHANGHAI
from sync.model.clock import to_millis
from sync.model.records import DONE_STATUSES, DROPPED_STATUSES, OPEN_STATUSES, Action, Status
from sync.model.workflow import project
from sync.stats.core import Statistics
from sync.stats.periods import Period
from sync.store import Store

NOW = "2026-11-20T10:00+08:00"
NOW_MS = to_millis(dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
PERIODS = ["2026-10", "2026-11", "2026-Q2", "2026", "2026-W40", "2026-03-02..2026-04-15"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("stats-oracle") / "donghua.sqlite"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(
            ["demo", "--township", "330825002", "--cases", "1500", "--seed", "5",
             "--now", NOW, "--out", str(out)]
        )  # fmt: skip
    assert code == 0
    return out


@pytest.fixture(scope="module")
def store(demo: Path) -> Iterator[Store]:
    with Store.open(demo, clock=lambda: NOW_MS) as opened:
        yield opened


@pytest.fixture(scope="module")
def cases(store: Store) -> list[tuple[Any, list[Any]]]:
    """(projected state, timeline) of every case."""
    out = []
    for (case_id,) in store.read("SELECT id FROM cases"):
        entries = store.timeline(case_id)
        out.append((project(entries, store.rules), entries))
    return out


def _oracle(store: Store, cases: list[tuple[Any, list[Any]]], period: Period, key=None):
    """Figures per group (``key(state)``; None: one group) for cases reported in ``period``."""
    done = set(DONE_STATUSES)
    dropped = set(DROPPED_STATUSES)
    groups: dict[Any, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for s, entries in cases:
        if not period.start <= s.reported_at < period.end:
            continue
        g = groups[key(s) if key else ""]
        live = s.status not in dropped
        closed = s.status in done
        category = store.taxonomy.get(s.fields.get("category", ""))
        major = (category.parent or category.code) if category else ""
        steps = collections.Counter(e.action for e in entries if e.id not in s.voided)
        g["total"] += 1
        g["dropped"] += not live
        g["parked"] += s.status == Status.PARKED
        g["closed"] += closed
        g["on_time"] += closed and bool(s.on_time)
        sat = (s.evaluation or {}).get("satisfaction")
        g["rated"] += sat is not None
        g["satisfied"] += sat in ("satisfied", "basic")
        g["self_handled"] += live and s.self_handled
        g["disputes"] += live and major == "01"
        g["resolved"] += closed and major == "01" and int(s.level) <= 3
        if closed:
            g["days_sum"] += DEFAULT_CALENDAR.working_days_between(s.accepted_at, s.closed_at)
            g["days_n"] += 1
        late_open = s.status in OPEN_STATUSES and s.due_at is not None and s.due_at < NOW_MS
        g["overdue"] += (closed and s.on_time is False) or late_open
        g["urged"] += s.urges > 0
        g["urges"] += s.urges
        g["dispatched"] += steps[Action.DISPATCH] > 0
        g["returned"] += steps[Action.RETURN] > 0
        g["verifications"] += steps[Action.VERIFY_PASS] + steps[Action.VERIFY_FAIL]
        g["verify_failures"] += steps[Action.VERIFY_FAIL]
        g["extended"] += steps[Action.APPROVE_EXTENSION] > 0
    return groups


FIELDS = [
    "total",
    "dropped",
    "parked",
    "closed",
    "on_time",
    "rated",
    "satisfied",
    "self_handled",
    "disputes",
    "resolved",
    "days_sum",
    "days_n",
    "overdue",
    "urged",
    "urges",
    "dispatched",
    "returned",
    "verifications",
    "verify_failures",
    "extended",
]


@pytest.mark.parametrize("text", PERIODS)
def test_township_figures_equal_the_oracle(store, cases, text: str) -> None:
    period = Period.parse(text)
    expected = _oracle(store, cases, period)[""]
    got = Statistics(store, now=NOW_MS).figures(period)
    assert expected["total"] > 0
    assert {f: getattr(got, f) for f in FIELDS} == {f: expected[f] for f in FIELDS}


@pytest.mark.parametrize("text", ["2026-11", "2026"])
def test_village_breakdown_equals_the_oracle(store, cases, text: str) -> None:
    period = Period.parse(text)
    expected = _oracle(store, cases, period, key=lambda s: s.fields.get("village_code"))
    got = {r.key: r for r in Statistics(store, now=NOW_MS).breakdown(period, "village")}
    assert set(got) == set(expected)
    for village, counts in expected.items():
        assert {f: getattr(got[village], f) for f in FIELDS} == {f: counts[f] for f in FIELDS}


@pytest.mark.parametrize("text", ["2026-11", "2026"])
def test_each_unit_of_a_joint_dispatch_is_measured_on_its_own_part(store, cases, text) -> None:
    period = Period.parse(text)
    units: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    joint = 0
    for s, entries in cases:
        if not period.start <= s.reported_at < period.end:
            continue
        ok = [e for e in entries if e.id not in s.voided]
        lead_of: dict[str, bool] = {}
        for e in ok:
            if e.action == Action.DISPATCH:
                tasks = e.payload["tasks"]
                joint += len(tasks) > 1
                for t in tasks:
                    if t["kind"] == "department":
                        lead_of[t["assignee"]] = lead_of.get(t["assignee"], False) or t["lead"]
        lead = s.lead_task().assignee if s.lead_task() else None
        verifs = sum(e.action in (Action.VERIFY_PASS, Action.VERIFY_FAIL) for e in ok)
        fails = sum(e.action == Action.VERIFY_FAIL for e in ok)
        for unit, led in lead_of.items():
            u = units[unit]
            feedback = [
                e.at for e in ok if e.action == Action.FEEDBACK and e.payload.get("task") == unit
            ]
            u["assigned"] += 1
            u["led"] += led
            u["fed_back"] += bool(feedback)
            u["fed_back_on_time"] += bool(feedback) and (
                s.handle_due is None or max(feedback) <= s.handle_due
            ) and (s.overdue_at is None or max(feedback) <= s.overdue_at)
            u["returned"] += any(
                e.action == Action.RETURN and e.payload.get("task") == unit for e in ok
            )
            if lead == unit:
                u["lead_valid"] += s.status not in DROPPED_STATUSES
                u["lead_closed"] += s.status in DONE_STATUSES
                sat = (s.evaluation or {}).get("satisfaction")
                u["lead_rated"] += sat is not None
                u["lead_satisfied"] += sat in ("satisfied", "basic")
                u["lead_verifications"] += verifs
                u["lead_verify_failures"] += fails
    assert joint > 0, "the demo has joint dispatches"
    got = {u.key: u for u in Statistics(store, now=NOW_MS).breakdown(period, "department")}
    fields = [
        "assigned", "led", "fed_back", "fed_back_on_time", "returned", "lead_valid",
        "lead_closed", "lead_rated", "lead_satisfied", "lead_verifications",
        "lead_verify_failures",
    ]  # fmt: skip
    assert set(got) == set(units)
    for unit, counts in units.items():
        assert {f: getattr(got[unit], f) for f in fields} == {f: counts[f] for f in fields}, unit
