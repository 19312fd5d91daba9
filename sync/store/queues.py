"""The queues of the county command centre and of the supervisor, counted by the store.

* :func:`county_board` — 五级贯通: per township, the cases escalated to the county and waiting
  for it (上报待受理), those the county holds, those it handed down (交办) and the township has
  not closed, and every open case overdue or urged (督办). What the county dashboard shows.
* :func:`approvals` — 待审批: the 延期 and 挂账 requests waiting for the supervisor.

Both read only the projection's columns (``escalation``, ``pending``, ``due_at``, ``urges``),
through the partial indexes of migration 0010. Each figure is the count of the
:class:`~sync.store.queries.CaseQuery` that :func:`board_query` / :func:`approval_query` names,
so a click on it lands on exactly those cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..model.clock import Millis
from ..model.records import OPEN_STATUSES, Status
from .queries import CaseQuery

if TYPE_CHECKING:
    from .store import Store

#: The county board's columns, in order.
BOARD_COLUMNS = ("awaiting", "at_county", "handed_down", "overdue", "urged")

_OPEN = tuple(s.value for s in OPEN_STATUSES)
#: A case the county holds or handed down is still "in hand" while parked (挂账).
_IN_HAND = (*_OPEN, Status.PARKED.value)


def board_query(column: str, township: str | None = None) -> CaseQuery:
    """The cases behind one cell of the county board (``township`` None: the county total)."""
    base = CaseQuery(township_code=township)
    if column == "awaiting":
        return base.with_(escalation=1, sort="reported_at", descending=False)
    if column == "at_county":
        return base.with_(escalation=2, statuses=_IN_HAND)
    if column == "handed_down":
        return base.with_(escalation=3, statuses=_IN_HAND)
    if column == "overdue":
        return base.with_(light="red", sort="due_at", descending=False)
    if column == "urged":
        return base.with_(urged=True, open_only=True)
    raise ValueError(f"no county board column {column!r}")


@dataclass
class BoardRow:
    township: str
    counts: dict[str, int] = field(default_factory=dict)

    def total(self) -> int:
        return sum(self.counts.values())


def county_board(store: Store, now: Millis | None = None) -> list[BoardRow]:
    """One row per township of the store's scope (those with nothing to show included), in
    code order; each count is ``store.count(board_query(column, township))``."""
    now = store.now() if now is None else now
    townships = [d.code for d in store.divisions("township")]
    rows = {t: BoardRow(t, dict.fromkeys(BOARD_COLUMNS, 0)) for t in townships}
    open_marks = ",".join("?" * len(_OPEN))
    hand_marks = ",".join("?" * len(_IN_HAND))
    sql = (
        "SELECT substr(village_code, 1, 9) AS t,"
        " sum(escalation = 1),"
        f" sum(escalation = 2 AND status IN ({hand_marks})),"
        f" sum(escalation = 3 AND status IN ({hand_marks})),"
        " sum(due_at IS NOT NULL AND due_at < ?),"
        f" sum(urges > 0 AND status IN ({open_marks}))"
        " FROM cases"
        # Only the rows a figure can count: the partial indexes and the due index serve it.
        " WHERE escalation > 0 OR (due_at IS NOT NULL AND due_at < ?) OR urges > 0"
        " GROUP BY t"
    )
    args: list[Any] = [*_IN_HAND, *_IN_HAND, now, *_OPEN, now]
    for t, *counts in store.read(sql, args):
        if t is None:
            continue
        row = rows.setdefault(str(t), BoardRow(str(t), dict.fromkeys(BOARD_COLUMNS, 0)))
        row.counts = {c: int(n or 0) for c, n in zip(BOARD_COLUMNS, counts, strict=True)}
    return [rows[t] for t in sorted(rows)]


def approval_query(kind: str = "") -> CaseQuery:
    """待审批: every pending request, or only ``"extension"`` / ``"park"`` ones."""
    if kind == "extension":
        return CaseQuery(pending_approval=True, pending_kind=1, sort="updated_at")
    if kind == "park":
        return CaseQuery(pending_approval=True, pending_kind=2, sort="updated_at")
    return CaseQuery(pending_approval=True, sort="updated_at")


def approvals(store: Store) -> dict[str, int]:
    """Pending requests: ``cases`` (with any request), ``extension``, ``park``."""
    [(cases, extension, park)] = store.read(
        "SELECT count(*), sum((pending & 1) > 0), sum((pending & 2) > 0) FROM cases "
        "WHERE pending > 0"
    )
    return {"cases": int(cases or 0), "extension": int(extension or 0), "park": int(park or 0)}
