"""Case-list queries: filters, sorting, keyset paging and full-text search, as SQL the store runs.

The GUI describes what it wants with a :class:`CaseQuery`; it never sees SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..model.clock import Millis
from ..model.records import OPEN_STATUSES
from . import search

#: Columns a case list may sort by, mapped to their SQL expression.
SORTABLE = {
    "reported_at": "reported_at",
    "due_at": "due_at",
    "case_no": "case_no",
    "status": "status",
    "category": "category",
    "village_code": "village_code",
    "grid_code": "grid_code",
    "level": "level",
    "updated_at": "updated_at",
    "title": "title",
}

LIST_COLUMNS = (
    "rowid",
    "id",
    "case_no",
    "title",
    "category",
    "major",
    "village_code",
    "grid_code",
    "address",
    "source",
    "urgency",
    "status",
    "level",
    "lead",
    "reported_at",
    "accepted_at",
    "closed_at",
    "due_at",
    "warn_at",
    "self_handled",
    "urges",
    "escalation",
    "pending",
    "conflicts",
    "updated_at",
)


@dataclass(frozen=True)
class CaseQuery:
    """A filtered, sorted case list. Empty fields do not filter."""

    statuses: tuple[str, ...] = ()
    open_only: bool = False
    category: str | None = None  # a major ("01") or minor ("0101") code
    township_code: str | None = None  # the township of the case's village (9 digits)
    village_code: str | None = None
    grid_code: str | None = None
    level: int | None = None
    source: str | None = None
    urgency: str | None = None
    light: str | None = None  # "red" (overdue) | "yellow" (soon due) | "due" (either)
    reported_from: Millis | None = None
    reported_to: Millis | None = None  # exclusive
    closed_from: Millis | None = None
    closed_to: Millis | None = None
    assignee: str | None = None  # department code or grid code holding a task now
    dispatched_to: str | None = None  # ... named by any dispatch of the case, ever (统计 drill)
    reporter_id: str | None = None
    self_handled: bool | None = None
    conflicts_only: bool = False
    #: Cases whose point lies in this box (min lon, min lat, max lon, max lat): the map's view.
    bbox: tuple[float, float, float, float] | None = None
    #: 五级贯通: 1 上报待受理 (waiting for the county), 2 in the county's hands, 3 handed down
    #: (上级交办); "escalated" is any of them (cases.escalation, see the workflow's escalation).
    escalation: int | None = None
    escalated: bool = False
    pending_approval: bool = False  # 待审批: a 延期 or 挂账 request waits for the supervisor
    pending_kind: int | None = None  # ... of this kind only: 1 延期, 2 挂账 (cases.pending bits)
    urged: bool = False  # 督办 at least once
    text: str = ""
    sort: str = "reported_at"
    descending: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def with_(self, **changes: Any) -> CaseQuery:
        return replace(self, **changes)


def where(q: CaseQuery, now: Millis, *, text_scan: bool = False) -> tuple[str, list[Any]]:
    """The WHERE clause (without the keyword) and its parameters.

    ``text_scan``: the text matches many cases; see :func:`text_clause`.
    """
    parts: list[str] = []
    args: list[Any] = []
    if q.statuses:
        parts.append(f"status IN ({','.join('?' * len(q.statuses))})")
        args.extend(q.statuses)
    if q.open_only:
        parts.append(f"status IN ({','.join('?' * len(OPEN_STATUSES))})")
        args.extend(s.value for s in OPEN_STATUSES)
    if q.category:
        parts.append("major = ?" if len(q.category) <= 2 else "category = ?")
        args.append(q.category)
    for column in ("village_code", "grid_code", "level", "source", "urgency", "reporter_id"):
        value = getattr(q, column)
        if value is not None and value != "":
            parts.append(f"{column} = ?")
            args.append(value)
    if q.township_code:
        # As the statistics group by township: the first nine digits of the village code.
        parts.append("substr(village_code, 1, 9) = ?")
        args.append(q.township_code)
    if q.self_handled is not None:
        parts.append("self_handled = ?")
        args.append(int(q.self_handled))
    if q.light == "red":
        parts.append("due_at IS NOT NULL AND due_at < ?")
        args.append(now)
    elif q.light == "yellow":
        parts.append("due_at IS NOT NULL AND due_at >= ? AND warn_at <= ?")
        args.extend([now, now])
    elif q.light == "due":
        parts.append("due_at IS NOT NULL AND warn_at <= ?")
        args.append(now)
    if q.reported_from is not None:
        parts.append("reported_at >= ?")
        args.append(q.reported_from)
    if q.reported_to is not None:
        parts.append("reported_at < ?")
        args.append(q.reported_to)
    if q.closed_from is not None:
        parts.append("closed_at >= ?")
        args.append(q.closed_from)
    if q.closed_to is not None:
        parts.append("closed_at < ?")
        args.append(q.closed_to)
    if q.assignee:
        parts.append(
            "rowid IN (SELECT case_rowid FROM case_tasks WHERE assignee = ? AND state = 'assigned')"
        )
        args.append(q.assignee)
    if q.dispatched_to:
        # Every unit any dispatch named is kept with the projection (sync.store.steps); the
        # primary key (case_rowid, unit, kind) answers this per case of the outer range.
        parts.append(
            "EXISTS (SELECT 1 FROM case_units u WHERE u.case_rowid = cases.rowid AND u.unit = ?)"
        )
        args.append(q.dispatched_to)
    if q.conflicts_only:
        parts.append("conflicts > 0")
    if q.bbox is not None:
        # The R*Tree of case points answers the box; the list keeps its own order and index.
        parts.append(
            "rowid IN (SELECT id FROM case_points WHERE min_x >= ? AND max_x <= ? "
            "AND min_y >= ? AND max_y <= ?)"
        )
        x0, y0, x1, y1 = q.bbox
        args.extend([x0, x1, y0, y1])
    if q.escalation is not None:
        # A literal (an int), and the index's own condition: SQLite uses the partial index
        # cases_escalation only when it can prove the row is in it (100k cases: 35 -> <1 ms).
        parts.append(f"escalation = {int(q.escalation)} AND escalation > 0")
    if q.escalated:
        parts.append("escalation > 0")
    if q.pending_approval:
        parts.append("pending > 0")
    if q.pending_kind:
        parts.append("(pending & ?) > 0")
        args.append(int(q.pending_kind))
    if q.urged:
        parts.append("urges > 0")
    text = q.text.strip()
    if text:
        clause, clause_args = text_clause(text, scan=text_scan)
        parts.append(clause)
        args.extend(clause_args)
    return (" AND ".join(parts) or "1"), args


#: Above this many full-text candidates a case list walks its sort index and tests each row
#: against the candidates (``text_clause(scan=True)``); at or below, it sorts the candidates.
#: The two costs meet near sqrt(cases) candidates: ~10 ms either way in a 1M-case store.
TEXT_SCAN_ABOVE = 1000

#: How many candidates the bigram index has for a MATCH expression, counted up to a limit.
TEXT_CANDIDATES_SQL = (
    "SELECT count(*) FROM (SELECT rowid FROM case_search WHERE case_search MATCH ? LIMIT ?)"
)


def text_clause(text: str, *, scan: bool = False) -> tuple[str, list[Any]]:
    """Full-text match: the bigram index narrows, LIKE confirms; a case number matches itself.

    The candidates (bigram hits, and the case whose number is ``text``) form one ``IN`` list.
    With ``scan`` the row is written ``+rowid`` so that SQLite cannot drive the query by that
    list: it walks the ORDER BY index and stops at the page's last row, instead of fetching and
    sorting every candidate — 110k of them for 垃圾 in a 1M-case store (~500 ms). For a rare
    word the list is short and driving by it is the fast plan, so the store decides by counting
    candidates first (:data:`TEXT_SCAN_ABOVE`).
    """
    expression = search.match_expression(text)
    if expression is None:
        return "0", []
    likes = []
    args: list[Any] = []
    for term in search.like_terms(text):
        likes.append("(title || char(10) || description || char(10) || address) LIKE ? ESCAPE '\\'")
        args.append("%" + _escape_like(term) + "%")
    member = "+rowid" if scan else "rowid"
    candidates = (
        f"{member} IN (SELECT rowid FROM case_search WHERE case_search MATCH ? "
        "UNION SELECT rowid FROM cases WHERE case_no = ?)"
    )
    return (
        f"({candidates} AND (({' AND '.join(likes)}) OR case_no = ?))",
        [expression, text, *args, text],
    )


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_by(q: CaseQuery) -> str:
    column = SORTABLE.get(q.sort)
    if column is None:
        raise ValueError(f"cannot sort cases by {q.sort!r}")
    direction = "DESC" if q.descending else "ASC"
    # rowid breaks ties so that keyset paging is total and stable.
    return f"{column} {direction}, rowid {direction}"


#: Sort columns declared NOT NULL in ``cases``: their keyset condition needs no NULL branch.
NOT_NULL_SORTS = frozenset(
    {"reported_at", "case_no", "status", "category", "level", "title", "updated_at"}
)


def keyset(q: CaseQuery, after: tuple[Any, int]) -> tuple[str, list[Any]]:
    """The condition for rows strictly after ``(sort value, rowid)`` in the query's order."""
    column = SORTABLE[q.sort]
    value, rowid = after
    op = "<" if q.descending else ">"
    if value is not None and q.sort in NOT_NULL_SORTS:
        # "col <= v AND (col < v OR rowid < r)": the leading range lets SQLite seek in the
        # column's index. The plain "col < v OR (col = v AND rowid < r)" makes it scan the index
        # from the top on every page — each page slower the deeper it is (1M cases: 180 ms a
        # page at the end instead of 0.4 ms, and a full export quadratic).
        return (f"({column} {op}= ? AND ({column} {op} ? OR rowid {op} ?))", [value, value, rowid])
    if value is None:
        # NULLs sort first ascending, last descending in SQLite.
        if q.descending:
            return f"({column} IS NULL AND rowid {op} ?)", [rowid]
        return f"({column} IS NOT NULL OR rowid {op} ?)", [rowid]
    null_side = f" OR {column} IS NULL" if q.descending else ""
    return (
        f"({column} {op} ? OR ({column} = ? AND rowid {op} ?){null_side})",
        [value, value, rowid],
    )
