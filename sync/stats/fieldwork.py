"""Field work per worker (工作台账): visits, patrols, record updates and cases, for any period.

:func:`field_work` counts what each worker did in a period — what assessment (考核) reads, and
what the ledger shows above its lines; :func:`ledger` lists the lines themselves with the
supervisors' sign-offs of the period. A worker is the account that recorded the visit or took the
case step (``visits.staff_id``, ``case_events.actor``).

Base-record updates (实有人口·房屋·单位) are counted by whatever registers in
:data:`RECORD_SOURCES`: a function ``(store, start, end, worker) -> {worker: count}``, so the
base records add their count without this module knowing their tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..model.clock import Millis
from ..model.records import SignOff
from ..store import Store
from ..store import fieldwork as fw
from .periods import Period

__all__ = ["COUNTS", "RECORD_SOURCES", "FieldWork", "Ledger", "LedgerLine", "field_work", "ledger"]

#: The counts of a ledger, in the order they are shown.
COUNTS = (
    "visits",
    "patrols",
    "follow_ups",
    "findings",
    "field_cases",
    "cases_reported",
    "case_steps",
    "record_updates",
)

RecordSource = Callable[[Store, Millis, Millis, str | None], dict[str, int]]
#: Counters of base-record updates per worker (registered by the base-records module).
RECORD_SOURCES: list[RecordSource] = []


@dataclass
class FieldWork:
    """What one worker did in a period."""

    worker_id: str
    visits: int = 0
    patrols: int = 0
    follow_ups: int = 0  # follow-ups written on visits
    findings: int = 0  # findings written on patrols
    field_cases: int = 0  # cases made from a visit or patrol (转为事件)
    cases_reported: int = 0  # every case the worker reported (field cases included)
    case_steps: int = 0  # other steps taken on cases (feedback, comments, …)
    record_updates: int = 0  # base-record updates (RECORD_SOURCES)

    def counts(self) -> dict[str, int]:
        return {k: int(getattr(self, k)) for k in COUNTS}

    @property
    def total(self) -> int:
        """Visits, patrols, record updates and cases reported: the work items of a ledger."""
        return self.visits + self.patrols + self.record_updates + self.cases_reported


def field_work(store: Store, period: Period, worker: str | None = None) -> dict[str, FieldWork]:
    """Field work per worker in ``period`` (only ``worker``'s when given), by worker id."""
    start, end = period.start, period.end
    out: dict[str, FieldWork] = {}

    def of(worker_id: str) -> FieldWork:
        return out.setdefault(worker_id, FieldWork(worker_id))

    who = " AND staff_id = ?" if worker else ""
    args: list[Any] = [start, end, *([worker] if worker else [])]
    for staff, kind, n, items in store.read(
        "SELECT staff_id, kind, count(*), sum(json_array_length(items)) FROM visits "
        f"WHERE at >= ? AND at < ?{who} GROUP BY staff_id, kind",
        args,
    ):
        fwk = of(str(staff))
        if kind == "patrol":
            fwk.patrols += int(n)
            fwk.findings += int(items or 0)
        else:
            fwk.visits += int(n)
            fwk.follow_ups += int(items or 0)
    who = " AND actor = ?" if worker else ""
    for actor, opening, from_visit, n in store.read(
        "SELECT actor, action IN ('report', 'self_handle'), "
        "json_extract(payload, '$.from_visit') IS NOT NULL, count(*) FROM case_events "
        f"WHERE at >= ? AND at < ?{who} GROUP BY 1, 2, 3",
        args,
    ):
        fwk = of(str(actor))
        if opening:
            fwk.cases_reported += int(n)
            if from_visit:
                fwk.field_cases += int(n)
        else:
            fwk.case_steps += int(n)
    for source in RECORD_SOURCES:
        for worker_id, n in source(store, start, end, worker).items():
            of(worker_id).record_updates += int(n)
    return out


@dataclass(frozen=True)
class LedgerLine:
    """One line of a worker's ledger: a visit, a patrol or a case step."""

    at: Millis
    kind: str  # visit | patrol | report | step
    ref: str  # the visit's or the case's id
    title: str  # who was visited, the place patrolled, the case's number and title
    detail: str  # notes, what was found, the step taken
    grid: str = ""


@dataclass
class Ledger:
    worker_id: str
    period: Period
    work: FieldWork
    lines: list[LedgerLine] = field(default_factory=list)
    #: The sign-offs of exactly this period (day, week or month), newest first.
    signoffs: list[SignOff] = field(default_factory=list)

    @property
    def signed(self) -> SignOff | None:
        return self.signoffs[0] if self.signoffs else None


def ledger(store: Store, worker_id: str, period: Period, *, limit: int = 2000) -> Ledger:
    """A worker's 工作台账 for ``period``: the counts, the lines (newest first) and the
    sign-offs of that period."""
    work = field_work(store, period, worker_id).get(worker_id) or FieldWork(worker_id)
    lines: list[LedgerLine] = []
    for v in fw.visits(store, staff=worker_id, start=period.start, end=period.end, limit=limit):
        parts = [v.content] + [f"· {i.text}" for i in v.items]
        lines.append(
            LedgerLine(v.at, v.kind, v.id, v.household, "\n".join(p for p in parts if p), v.grid_id)
        )
    for at, action, case_id, case_no, title, grid in store.read(
        "SELECT e.at, e.action, c.id, c.case_no, c.title, coalesce(c.grid_code, '') "
        "FROM case_events e JOIN cases c ON c.rowid = e.case_rowid "
        "WHERE e.actor = ? AND e.at >= ? AND e.at < ? ORDER BY e.at DESC LIMIT ?",
        [worker_id, period.start, period.end, limit],
    ):
        kind = "report" if action in ("report", "self_handle") else "step"
        lines.append(LedgerLine(int(at), kind, case_id, f"{case_no} {title}".strip(), action, grid))
    lines.sort(key=lambda line: (line.at, line.ref), reverse=True)
    signed = (
        fw.signoffs(
            store, worker_id=worker_id, period=period.kind, first_day=period.first.isoformat()
        )
        if period.kind in ("day", "week", "month")
        else []
    )
    return Ledger(worker_id, period, work, lines[:limit], signed)
