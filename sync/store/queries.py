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
    "conflicts",
    "updated_at",
)


@dataclass(frozen=True)
class CaseQuery:
    """A filtered, sorted case list. Empty fields do not filter."""

    statuses: tuple[str, ...] = ()
    open_only: bool = False
    category: str | None = None  # a major ("01") or minor ("0101") code
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
    reporter_id: str | None = None
    self_handled: bool | None = None
    conflicts_only: bool = False
    text: str = ""
    sort: str = "reported_at"
    descending: bool = True
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def with_(self, **changes: Any) -> CaseQuery:
        return replace(self, **changes)


def where(q: CaseQuery, now: Millis) -> tuple[str, list[Any]]:
    """The WHERE clause (without the keyword) and its parameters."""
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
    if q.conflicts_only:
        parts.append("conflicts > 0")
    text = q.text.strip()
    if text:
        clause, clause_args = text_clause(text)
        parts.append(clause)
        args.extend(clause_args)
    return (" AND ".join(parts) or "1"), args


def text_clause(text: str) -> tuple[str, list[Any]]:
    """Full-text match: the bigram index narrows, LIKE confirms; a case number matches itself."""
    expression = search.match_expression(text)
    if expression is None:
        return "0", []
    parts = ["rowid IN (SELECT rowid FROM case_search WHERE case_search MATCH ?)"]
    args: list[Any] = [expression]
    for term in search.like_terms(text):
        parts.append("(title || char(10) || description || char(10) || address) LIKE ? ESCAPE '\\'")
        args.append("%" + _escape_like(term) + "%")
    return f"(({' AND '.join(parts)}) OR case_no = ?)", [*args, text]


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_by(q: CaseQuery) -> str:
    column = SORTABLE.get(q.sort)
    if column is None:
        raise ValueError(f"cannot sort cases by {q.sort!r}")
    direction = "DESC" if q.descending else "ASC"
    # rowid breaks ties so that keyset paging is total and stable.
    return f"{column} {direction}, rowid {direction}"


def keyset(q: CaseQuery, after: tuple[Any, int]) -> tuple[str, list[Any]]:
    """The condition for rows strictly after ``(sort value, rowid)`` in the query's order."""
    column = SORTABLE[q.sort]
    value, rowid = after
    op = "<" if q.descending else ">"
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
