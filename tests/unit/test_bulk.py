"""The bulk loader writes exactly the rows the command API writes, many cases per transaction.

The same generated timelines go into two real store files — one through
:meth:`Store.apply_entries` (the path sync takes), one through :class:`BulkLoader` — and every
row of ``cases``, ``case_tasks`` and ``case_events`` must be identical, as must what search
finds. Then the loader's refusals: cases already present, timelines without a report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.demo.cases import CaseMaker
from sync.demo.places import build_world
from sync.model import divisions
from sync.model.calendar import SHANGHAI
from sync.model.clock import to_millis
from sync.model.records import Action, Entry, Role
from sync.model.workflow import default_rules
from sync.store import CaseQuery, Store
from sync.store.bulk import BulkLoader

TOWNSHIP = "330825002"
NOW = to_millis(dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
WORDS = ("漏水", "纠纷", "垃圾", "张王", "消防", "污水", "社区", "路灯", "zz", "12")


@pytest.fixture(scope="module")
def timelines() -> list[list[Entry]]:
    """360 generated cases: every state of the loop (showcase cases included)."""
    scope = divisions.by_code()[TOWNSHIP]
    world = build_world(11, scope, divisions.scope_divisions(TOWNSHIP))
    maker = CaseMaker(world, default_rules(), seed=11, now=NOW, months=12, count=360)
    return list(maker.timelines())


def new_store(path: Path) -> Store:
    return Store.create(path, scope=TOWNSHIP, device_code="BULK", clock=lambda: NOW)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[Store, Store]]:
    a, b = new_store(tmp_path / "api.sqlite"), new_store(tmp_path / "bulk.sqlite")
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def rows(store: Store, table: str, order: str) -> list[tuple[object, ...]]:
    return store.read(f"SELECT * FROM {table} ORDER BY {order}")


def assert_same_rows(a: Store, b: Store) -> None:
    for table, order in (
        ("cases", "rowid"),
        ("case_tasks", "case_rowid, assignee"),
        ("case_units", "case_rowid, unit, kind"),
        ("case_events", "seq"),
    ):
        left, right = rows(a, table, order), rows(b, table, order)
        assert len(left) == len(right) and left, table
        for x, y in zip(left, right, strict=True):
            assert x == y, table
    # Search: the contentless index cannot be read back, so ask it — for every word above and
    # for a bigram of every tenth title.
    titles = [r[0] for r in a.read("SELECT title FROM cases ORDER BY rowid")]
    probes = [*WORDS, *(t[i : i + 2] for t in titles[::10] for i in (0, 3))]
    for word in probes:
        match = "SELECT rowid FROM case_search WHERE case_search MATCH ? ORDER BY rowid"
        expression = f'"{word}"'
        assert a.read(match, [expression]) == b.read(match, [expression]), word
        query = CaseQuery(text=word)
        assert a.cases(query, limit=500) == b.cases(query, limit=500), word


def test_bulk_rows_equal_the_command_api_rows(
    stores: tuple[Store, Store], timelines: list[list[Entry]]
) -> None:
    api, bulk = stores
    api.apply_entries([e for t in timelines for e in t])
    # A batch size that does not divide the case count: several flushes and a partial last one.
    with BulkLoader(bulk, batch=97) as loader:
        for t in timelines:
            loader.add(t)
    assert loader.stats.cases == len(timelines) and loader.stats.conflicts == 0
    assert loader.stats.entries == sum(len(t) for t in timelines)
    assert_same_rows(api, bulk)
    # Demo history is not local work: nothing waits in the outbox, on either path.
    assert api.outbox_size() == bulk.outbox_size() == 0
    # And the stores agree on what the dashboard shows.
    assert api.kpis() == bulk.kpis()
    assert api.stats()["by_status"] == bulk.stats()["by_status"]


def test_deferred_indexes_come_back_and_change_nothing(
    stores: tuple[Store, Store], timelines: list[list[Entry]]
) -> None:
    api, bulk = stores
    schema_sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    before = bulk.read(schema_sql)
    api.apply_entries([e for t in timelines for e in t])
    loader = BulkLoader(bulk, batch=150, defer_indexes=True, cache_mib=64)
    dropped = {r[0] for r in bulk.read(schema_sql)}
    assert "cases_status" not in dropped and "case_events_case" not in dropped
    stats = loader.add_all(timelines)
    assert stats.cases == len(timelines)
    assert bulk.read(schema_sql) == before
    assert bulk.integrity() == "ok"
    assert_same_rows(api, bulk)
    # The page cache setting is the store's own again.
    assert bulk.read("PRAGMA cache_size") == api.read("PRAGMA cache_size")


def test_local_entries_go_to_the_outbox(tmp_path: Path, timelines: list[list[Entry]]) -> None:
    with new_store(tmp_path / "local.sqlite") as store:
        stats = BulkLoader(store, local=True).add_all(timelines[:20])
        assert store.outbox_size() == stats.entries == sum(len(t) for t in timelines[:20])


def test_conflicting_timelines_are_loaded_and_counted_as_the_api_would(
    stores: tuple[Store, Store], timelines: list[list[Entry]]
) -> None:
    api, bulk = stores
    # Take a rejected case and add an acceptance after the rejection: illegal, kept, flagged.
    rejected = next(t for t in timelines if t[-1].action == Action.REJECT)
    last = rejected[-1]
    late = Entry(
        last.id[:-4] + "beef", last.case_id, Action.ACCEPT, "demo-operator", Role.OPERATOR,
        last.at + 60_000, f"{last.at + 60_000:013d}.0000.ZZZZ", {},
    )  # fmt: skip
    timeline = [*rejected, late]
    api.apply_entries(timeline)
    loader = BulkLoader(bulk)
    state = loader.add(timeline)
    loader.finish()
    assert [c.entry_id for c in state.conflicts] == [late.id]
    assert loader.stats.conflicts == 1
    assert rows(api, "cases", "rowid") == rows(bulk, "cases", "rowid")
    assert rows(api, "case_events", "seq") == rows(bulk, "case_events", "seq")


def test_refuses_cases_already_in_the_store(
    stores: tuple[Store, Store], timelines: list[list[Entry]]
) -> None:
    _, bulk = stores
    BulkLoader(bulk).add_all(timelines[:10])
    count = bulk.count()
    loader = BulkLoader(bulk, batch=5)
    with pytest.raises(ValueError, match=r"already in the store.*Nothing from this batch"):
        for t in timelines[10:13] + timelines[:2]:
            loader.add(t)
    # The failing batch (3 new cases and 2 old ones) was rolled back whole.
    assert bulk.count() == count
    assert bulk.integrity() == "ok"


def test_refuses_timelines_it_cannot_project(
    stores: tuple[Store, Store], timelines: list[list[Entry]]
) -> None:
    _, bulk = stores
    loader = BulkLoader(bulk)
    with pytest.raises(ValueError, match="needs at least one timeline entry"):
        loader.add([])
    no_report = [e for e in timelines[0] if e.action not in (Action.REPORT, Action.SELF_HANDLE)]
    with pytest.raises(ValueError, match=r"cannot be loaded: the timeline holds no report"):
        loader.add(no_report)
    with pytest.raises(ValueError, match="mixes cases"):
        loader.add([*timelines[0], *timelines[1]])
    with pytest.raises(ValueError, match="batch must be at least one"):
        BulkLoader(bulk, batch=0)
    loader.finish()
    assert bulk.count() == 0
    with pytest.raises(RuntimeError, match="finished"):
        loader.add(timelines[0])


def test_a_failure_inside_the_block_restores_the_indexes(
    stores: tuple[Store, Store], timelines: list[list[Entry]]
) -> None:
    _, bulk = stores
    schema_sql = "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name"
    before = bulk.read(schema_sql)
    with (
        pytest.raises(RuntimeError, match="generator broke"),
        BulkLoader(bulk, batch=10, defer_indexes=True) as loader,
    ):
        for t in timelines[:25]:
            loader.add(t)
        raise RuntimeError("generator broke")
    assert bulk.read(schema_sql) == before
    # Flushed batches stay (each was its own transaction); the queued remainder was dropped.
    assert bulk.count() == 20
