"""Per-case step counts kept with the projection, so statistics never read the timeline.

A year of a county's statistics used to read every timeline entry of the period (a 300k-case
county: 14–18 s for the page's data). The counts statistics need are a function of a case's
timeline alone, so they are computed whenever the projection is written — in the same
transaction, by :meth:`Store._save_projection` (every local action, every merge, every pull, a
re-projection after a quarantine decision) and by the bulk loader — and can never disagree with
it:

* on ``cases``: ``dispatches``, ``returns``, ``verifications``, ``verify_failures``,
  ``extensions`` — the number of such steps in the timeline;
* in ``case_units``: one row per unit any dispatch of the case ever named (lead or assisting),
  with that unit's own part: whether it was ever lead, how many feedbacks it gave and when the
  last one was, how many times it returned the case. No index by unit: every reader goes from
  the period's cases (``cases_reported``) to their units by the primary key, and an index would
  cost ~33 bytes a case of the 3 KB budget (docs/benchmarks.md).

A step a settlement voided never happened, as in the projection: it is not counted. The voided
set is the union of every ``settle`` entry's ``void`` list (as the statistics always read it).
Migration ``0004_case_step_counts`` backfills existing stores with :data:`BACKFILL_SQL`, the
same definitions in SQL over ``case_events`` (``tests/unit/test_step_counts.py`` holds the two
to each other).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..model.records import Action, Entry

#: The ``cases`` columns kept here, in order.
COUNT_COLUMNS = ("dispatches", "returns", "verifications", "verify_failures", "extensions")


@dataclass
class StepCounts:
    dispatches: int = 0
    returns: int = 0
    verifications: int = 0
    verify_failures: int = 0
    extensions: int = 0
    #: (unit, kind) → [lead, feedbacks, fed_back_at, returns]
    units: dict[tuple[str, str], list[Any]] = field(default_factory=dict)

    def columns(self) -> dict[str, int]:
        return {c: getattr(self, c) for c in COUNT_COLUMNS}

    def unit_rows(self, rowid: int) -> list[tuple[Any, ...]]:
        """``case_units`` rows of the case at ``rowid``."""
        return [(rowid, unit, kind, *part) for (unit, kind), part in self.units.items()]


def step_counts(timeline: Iterable[Entry]) -> StepCounts:
    """The step counts of one case's timeline (entries in any order; duplicates count once)."""
    seen: dict[str, Entry] = {}
    for e in timeline:
        seen.setdefault(e.id, e)
    voided: set[str] = set()
    for e in seen.values():
        if e.action == Action.SETTLE:
            voided.update(str(v) for v in e.payload.get("void", ()) or ())
    out = StepCounts()
    feedbacks: dict[str, list[int]] = {}  # unit → [count, last at]
    returns: dict[str, int] = {}
    for e in seen.values():
        if e.id in voided:
            continue
        a = e.action
        if a == Action.DISPATCH:
            out.dispatches += 1
            for task in e.payload.get("tasks", ()) or ():
                if not isinstance(task, dict) or task.get("assignee") is None:
                    continue
                key = (str(task["assignee"]), str(task.get("kind") or ""))
                part = out.units.setdefault(key, [0, 0, None, 0])
                part[0] = max(part[0], int(bool(task.get("lead"))))
        elif a == Action.RETURN:
            out.returns += 1
            unit = e.payload.get("task")
            if unit is not None:
                returns[str(unit)] = returns.get(str(unit), 0) + 1
        elif a == Action.FEEDBACK:
            unit = e.payload.get("task")
            if unit is not None:
                fb = feedbacks.setdefault(str(unit), [0, e.at])
                fb[0] += 1
                fb[1] = max(fb[1], e.at)
        elif a in (Action.VERIFY_PASS, Action.VERIFY_FAIL):
            out.verifications += 1
            out.verify_failures += a == Action.VERIFY_FAIL
        elif a == Action.APPROVE_EXTENSION:
            out.extensions += 1
    for (unit, _kind), part in out.units.items():
        if unit in feedbacks:
            part[1], part[2] = feedbacks[unit]
        part[3] = returns.get(unit, 0)
    return out


def write_units(conn: Any, rowid: int, counts: StepCounts, *, replace: bool) -> None:
    """Write the ``case_units`` rows of one case (``replace``: delete its old ones first)."""
    if replace:
        conn.execute("DELETE FROM case_units WHERE case_rowid = ?", [rowid])
    rows = counts.unit_rows(rowid)
    if rows:
        conn.executemany(INSERT_UNITS, rows)


INSERT_UNITS = (
    "INSERT INTO case_units (case_rowid, unit, kind, lead, feedbacks, fed_back_at, returns) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)

#: The table and columns of migration 0004 (its backfill follows in :data:`BACKFILL_SQL`).
SCHEMA_SQL = """
ALTER TABLE cases ADD COLUMN dispatches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN returns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN verifications INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN verify_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN extensions INTEGER NOT NULL DEFAULT 0;
CREATE TABLE case_units (
    case_rowid INTEGER NOT NULL REFERENCES cases(rowid) ON DELETE CASCADE,
    unit TEXT NOT NULL,
    kind TEXT NOT NULL,
    lead INTEGER NOT NULL,
    feedbacks INTEGER NOT NULL,
    fed_back_at INTEGER,
    returns INTEGER NOT NULL,
    PRIMARY KEY (case_rowid, unit, kind)
) WITHOUT ROWID;
"""

_COUNTED = (
    "('dispatch', 'return', 'feedback', 'verify_pass', 'verify_fail', 'approve_extension', "
    "'settle')"
)

#: The backfill of an existing store: the definitions of :func:`step_counts`, in SQL.
BACKFILL_SQL = f"""
CREATE TEMP TABLE step_voided AS
    SELECT DISTINCT CAST(j.value AS TEXT) AS id
    FROM case_events s, json_each(s.payload, '$.void') j WHERE s.action = 'settle';
CREATE TEMP TABLE step_ok AS
    SELECT case_rowid AS r, action, at,
           CASE WHEN action = 'dispatch' THEN payload END AS payload,
           CASE WHEN action IN ('feedback', 'return')
                THEN CAST(json_extract(payload, '$.task') AS TEXT) END AS task
    FROM case_events
    WHERE action IN {_COUNTED} AND action != 'settle'
      AND id NOT IN (SELECT id FROM step_voided);
UPDATE cases SET
    dispatches = s.dispatches, returns = s.returns, verifications = s.verifs,
    verify_failures = s.vfail, extensions = s.exts
FROM (
    SELECT r, sum(action = 'dispatch') AS dispatches, sum(action = 'return') AS returns,
           sum(action IN ('verify_pass', 'verify_fail')) AS verifs,
           sum(action = 'verify_fail') AS vfail, sum(action = 'approve_extension') AS exts
    FROM step_ok GROUP BY r
) AS s
WHERE cases.rowid = s.r;
INSERT INTO case_units (case_rowid, unit, kind, lead, feedbacks, fed_back_at, returns)
    SELECT t.r, t.unit, t.kind, t.lead, coalesce(f.fb, 0), f.fb_at, coalesce(f.ret, 0)
    FROM (
        SELECT o.r, CAST(json_extract(j.value, '$.assignee') AS TEXT) AS unit,
               coalesce(CAST(json_extract(j.value, '$.kind') AS TEXT), '') AS kind,
               max(coalesce(json_extract(j.value, '$.lead'), 0) != 0) AS lead
        FROM step_ok o, json_each(o.payload, '$.tasks') j
        WHERE o.action = 'dispatch' AND json_extract(j.value, '$.assignee') IS NOT NULL
        GROUP BY 1, 2, 3
    ) AS t
    LEFT JOIN (
        SELECT r, task, sum(action = 'feedback') AS fb,
               max(CASE WHEN action = 'feedback' THEN at END) AS fb_at,
               sum(action = 'return') AS ret
        FROM step_ok WHERE action IN ('feedback', 'return') AND task IS NOT NULL
        GROUP BY 1, 2
    ) AS f ON f.r = t.r AND f.task = t.unit;
DROP TABLE temp.step_ok;
DROP TABLE temp.step_voided;
"""
