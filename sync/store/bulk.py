"""Bulk loading of ready case timelines: many cases per transaction, same rows as one at a time.

Building a demo county (a million cases) through :meth:`Store.report`/:meth:`Store.act` would
take one transaction — and one fsync — per step. :class:`BulkLoader` takes whole timelines
instead, projects each with the workflow's :func:`~sync.model.workflow.project` and
:meth:`Store.case_row_values` (with :func:`~sync.store.steps.step_counts`), and writes
``cases``, ``case_tasks``, ``case_units``, ``case_events`` and the search index with
``executemany`` in transactions of thousands of cases. The rows are exactly those
:meth:`Store.apply_entries` writes for the same timelines (``tests/unit/test_bulk.py`` holds it
to that).

Entries are written with ``local = 0`` by default: bulk-loaded history (a demo, a county's
archive) is not a local change waiting to be pushed, so the outbox stays empty — the same
choice :meth:`Store.apply_entries` makes for entries received from elsewhere.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..model.records import Entry
from ..model.workflow import CaseState, project
from . import search, steps
from .engine import DriverError
from .store import Store

#: Tables whose secondary indexes :class:`BulkLoader` may drop during a load and rebuild after.
_INDEXED_TABLES = ("cases", "case_tasks", "case_units", "case_events")


def _json(value: Any) -> str:
    # Same encoding as the store's, so payload text is byte-identical to the command API's.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(slots=True)
class BulkStats:
    """What a load did: cases and entries written, cases with workflow conflicts, seconds."""

    cases: int = 0
    entries: int = 0
    conflicts: int = 0
    seconds: float = 0.0
    index_seconds: float = 0.0


class BulkLoader:
    """Adds new cases from complete timelines, ``batch`` cases per transaction.

    Use as a context manager, or call :meth:`finish`::

        with BulkLoader(store) as loader:
            for timeline in timelines:
                loader.add(timeline)

    Every case must be new to the store (merging into existing cases is
    :meth:`Store.apply_entries`' job) and its timeline must hold its report.

    ``defer_indexes`` drops the secondary indexes of the case tables for the load and rebuilds
    them at the end — faster for a large load into a fresh file, but a crash in between leaves
    the file without them, so use it only for files that are thrown away when a load fails (the
    demo builder writes to a temporary file and renames it when complete).
    ``cache_mib`` enlarges SQLite's page cache during the load (index maintenance touches many
    pages); the store's own setting comes back afterwards.
    """

    def __init__(
        self,
        store: Store,
        *,
        batch: int = 10_000,
        local: bool = False,
        defer_indexes: bool = False,
        cache_mib: int | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least one case")
        self.store = store
        self.batch = batch
        self.local = int(local)
        self.defer_indexes = defer_indexes
        self.stats = BulkStats()
        self._pending: list[
            tuple[str, Sequence[Entry], CaseState, dict[str, Any], steps.StepCounts]
        ] = []
        self._dropped: list[tuple[str, str]] = []
        self._started = time.perf_counter()
        self._finished = False
        self._cache_before: int | None = None
        if cache_mib is not None:
            self._cache_before = int(store.read("PRAGMA cache_size")[0][0])
            store.read(f"PRAGMA cache_size = {-int(cache_mib) * 1024}")
        if defer_indexes:
            self._drop_indexes()

    def __enter__(self) -> BulkLoader:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            # Whatever failed, do not leave the store without its indexes or its cache setting.
            self._pending.clear()
            with contextlib.suppress(Exception):
                self._restore()

    # -- loading ------------------------------------------------------------------------------

    def add(self, timeline: Sequence[Entry]) -> CaseState:
        """Queue one new case's whole timeline; returns its projected state."""
        if self._finished:
            raise RuntimeError("this bulk load is finished")
        if not timeline:
            raise ValueError("a case needs at least one timeline entry")
        case_id = timeline[0].case_id
        if any(e.case_id != case_id for e in timeline):
            raise ValueError(f"a timeline mixes cases ({case_id} and others); pass one per case")
        try:
            state = project(timeline, self.store.rules)
        except ValueError as exc:
            raise ValueError(f"case {case_id} cannot be loaded: {exc}") from None
        if state.conflicts or state.field_conflicts:
            self.stats.conflicts += 1
        row = self.store.case_row_values(state)
        counts = steps.step_counts(timeline)
        row.update(counts.columns())
        self._pending.append((case_id, timeline, state, row, counts))
        if len(self._pending) >= self.batch:
            self.flush()
        return state

    def add_all(self, timelines: Iterable[Sequence[Entry]]) -> BulkStats:
        for timeline in timelines:
            self.add(timeline)
        return self.finish()

    def flush(self) -> None:
        """Write the queued cases in one transaction."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        store = self.store
        columns = ["rowid", "id", *pending[0][3]]
        insert_case = (
            f"INSERT INTO cases ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
        )
        try:
            with store.write() as conn:
                base = int(conn.execute("SELECT coalesce(max(rowid), 0) FROM cases").fetchone()[0])
                cases: list[list[Any]] = []
                tasks: list[tuple[Any, ...]] = []
                events: list[tuple[Any, ...]] = []
                bodies: list[tuple[int, str]] = []
                top = ""
                units: list[tuple[Any, ...]] = []
                for offset, (case_id, timeline, state, row, counts) in enumerate(
                    pending, start=1
                ):
                    rowid = base + offset
                    cases.append([rowid, case_id, *row.values()])
                    bodies.append(
                        (rowid, search.index_text(row["title"], row["description"], row["address"]))
                    )
                    units.extend(counts.unit_rows(rowid))
                    tasks.extend(
                        (rowid, t.assignee, t.kind.value, int(t.lead), t.state.value)
                        for t in state.tasks
                    )
                    for e in timeline:
                        events.append(
                            (
                                e.id,
                                rowid,
                                e.action.value,
                                e.actor_id,
                                e.role.value,
                                e.at,
                                e.hlc,
                                self.local,
                                _json(e.payload),
                            )
                        )
                        if e.hlc > top:
                            top = e.hlc
                conn.executemany(insert_case, cases)
                conn.executemany("INSERT INTO case_search (rowid, body) VALUES (?, ?)", bodies)
                conn.executemany(
                    "INSERT OR REPLACE INTO case_tasks (case_rowid, assignee, kind, lead, state) "
                    "VALUES (?, ?, ?, ?, ?)",
                    tasks,
                )
                conn.executemany(steps.INSERT_UNITS, units)
                conn.executemany(
                    "INSERT INTO case_events (id, case_rowid, action, actor, role, at, hlc, local,"
                    " payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    events,
                )
                # Like apply_entries: our clock moves past every stamp it has seen.
                store.hlc.observe(top)
                store.set_meta({"hlc": store.hlc.now().encode()}, conn)
        except DriverError as exc:
            if "UNIQUE constraint failed" in str(exc):
                raise ValueError(
                    "a case or timeline entry in this batch is already in the store; the bulk "
                    "loader only adds new cases (Store.apply_entries merges into existing ones). "
                    "Nothing from this batch was written."
                ) from exc
            raise
        self.stats.cases += len(pending)
        self.stats.entries += len(events)

    def finish(self) -> BulkStats:
        """Write what is queued, rebuild deferred indexes, restore the cache; idempotent."""
        if not self._finished:
            self.flush()
            self._restore()
            self._finished = True
            self.stats.seconds = time.perf_counter() - self._started
        return self.stats

    # -- indexes ----------------------------------------------------------------------------------

    def _drop_indexes(self) -> None:
        marks = ", ".join("?" * len(_INDEXED_TABLES))
        found = self.store.read(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND tbl_name IN ({marks}) ORDER BY name",
            _INDEXED_TABLES,
        )
        with self.store.write() as conn:
            for name, _sql in found:
                conn.execute(f'DROP INDEX "{name}"')
        self._dropped = [(str(n), str(s)) for n, s in found]

    def _restore(self) -> None:
        if self._dropped:
            started = time.perf_counter()
            with self.store.write() as conn:
                for _name, sql in self._dropped:
                    conn.execute(sql)
            self._dropped = []
            self.stats.index_seconds = time.perf_counter() - started
        if self._cache_before is not None:
            self.store.read(f"PRAGMA cache_size = {self._cache_before}")
            self._cache_before = None
