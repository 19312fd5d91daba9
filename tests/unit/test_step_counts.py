"""Step counts kept with the projection (sync.store.steps, migration 0004_case_step_counts).

Statistics read the counts on ``cases`` and the units in ``case_units`` instead of the timeline,
so they must always equal what the timeline says: here on a real demo township (bulk-loaded),
for cases written step by step through the command API (a settlement voiding a step included),
for timelines merged in from elsewhere in the worst order (entries before their report), and
for an old store upgraded by the migration's SQL backfill.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from pathlib import Path

from sync import cli
from sync.model.calendar import SHANGHAI
from sync.model.clock import HlcStamp, new_id, to_millis
from sync.model.records import Action, Entry, Role
from sync.store import Store, schema
from sync.store.steps import COUNT_COLUMNS, step_counts
from tests.conftest import ACCOUNTS, HUAIWANG, Clock

NOW_MS = to_millis(dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
OP, SUP, ZHZF = ACCOUNTS["operator"], ACCOUNTS["supervisor"], ACCOUNTS["department"]


def _demo(path: Path) -> Path:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = cli.main(
            ["demo", "--township", "330825002", "--cases", "400", "--seed", "3",
             "--now", "2026-11-20T10:00+08:00", "--out", str(path)]
        )  # fmt: skip
    assert code == 0
    return path


def _stored(store: Store) -> dict[str, tuple[object, ...]]:
    """Per case id: its count columns and its sorted ``case_units`` rows."""
    cols = ", ".join(COUNT_COLUMNS)
    units: dict[int, list[tuple[object, ...]]] = {}
    for r in store.read(
        "SELECT case_rowid, unit, kind, lead, feedbacks, fed_back_at, returns FROM case_units"
    ):
        units.setdefault(int(r[0]), []).append(tuple(r[1:]))
    return {
        str(r[1]): (*r[2:], tuple(sorted(units.get(int(r[0]), []))))
        for r in store.read(f"SELECT rowid, id, {cols} FROM cases")
    }


def _expected(store: Store) -> dict[str, tuple[object, ...]]:
    """The same, computed from each case's timeline."""
    out = {}
    for (case_id,) in store.read("SELECT id FROM cases"):
        c = step_counts(store.timeline(case_id))
        units = tuple(sorted((u, k, *part) for (u, k), part in c.units.items()))
        out[str(case_id)] = (*c.columns().values(), units)
    return out


def _voided_case(store: Store, clock: Clock) -> str:
    """A case whose verification from another device a supervisor voids (see test_stats)."""
    june = [to_millis(dt.datetime(2025, 6, d, h, tzinfo=SHANGHAI)) for d, h in [(3, 9), (5, 9)]]
    clock.now = june[0]
    case = store.report(
        OP, {"title": "占道", "category": "0301", "grid_id": f"{HUAIWANG}001", "source": "hotline"}
    ).case_id
    store.accept(case, OP)
    store.dispatch(case, OP, ("department", "zhzf"))
    clock.now += 3_600_000
    store.feedback(case, ZHZF, "zhzf", "已清理")
    clock.now += 3_600_000
    store.dispatch(case, OP, ("department", "pcs"))
    remote = Entry(
        new_id(), case, Action.VERIFY_PASS, "op-b", Role.OPERATOR, june[1],
        HlcStamp(june[1], 0, "DEVB").encode(), {"note": "", "method": "call"},
    )  # fmt: skip
    store.apply_entries([remote])
    clock.now += 3_600_000
    store.settle(case, SUP, void=[remote.id])
    return case


def test_the_command_api_keeps_counts_equal_to_the_timeline(store: Store, clock: Clock) -> None:
    case = _voided_case(store, clock)
    stored = _stored(store)[case]
    # Two dispatches, no verification (voided), zhzf fed back once and pcs not yet.
    assert stored[:5] == (2, 0, 0, 0, 0)
    units = {u[0]: u for u in stored[5]}  # type: ignore[attr-defined]
    assert set(units) == {"zhzf", "pcs"}
    assert units["zhzf"][3] == 1 and units["zhzf"][4] is not None and units["pcs"][3] == 0
    assert _stored(store) == _expected(store)


def test_bulk_loaded_and_merged_stores_keep_counts_equal(tmp_path: Path) -> None:
    with Store.open(_demo(tmp_path / "demo.sqlite"), clock=lambda: NOW_MS) as demo:
        expected = _expected(demo)
        assert _stored(demo) == expected
        # The demo has every kind of step, so the comparison is not vacuous.
        sums = demo.read(
            "SELECT sum(dispatches), sum(returns), sum(verifications), sum(verify_failures), "
            "sum(extensions), (SELECT count(*) FROM case_units) FROM cases"
        )[0]
        assert all(v > 0 for v in sums), sums
        timelines = [demo.timeline(case_id) for case_id in expected]
        scope = demo.scope
    # Merge the same timelines into a fresh store newest entry first, in small batches: cases
    # wait under a placeholder for their report, then are re-projected as entries arrive.
    entries = sorted((e for t in timelines for e in t), key=lambda e: e.hlc, reverse=True)
    with Store.create(tmp_path / "merged.sqlite", scope=scope) as merged:
        for i in range(0, len(entries), 97):
            merged.apply_entries(entries[i : i + 97])
        assert _stored(merged) == expected


def _redo_migration_0004(store: Store) -> None:
    """Undo migration 0004 (as if the store were older), then run it again as migrate() does.

    Run by hand rather than by setting ``user_version`` back: migrations after it would run a
    second time on a store that already has them."""
    (migration,) = [m for m in schema.MIGRATIONS if m.name == "0004_case_step_counts"]
    with store.write() as conn:
        conn.execute("DROP TABLE case_units")
        for column in COUNT_COLUMNS:
            conn.execute(f"ALTER TABLE cases DROP COLUMN {column}")
    with store.write() as conn:
        for statement in schema._statements(migration.sql):
            conn.execute(statement)
        assert migration.after is not None
        migration.after(conn)


def test_the_migration_backfills_an_old_store(
    tmp_path: Path, store_path: Path, clock: Clock
) -> None:
    with Store.open(store_path, clock=clock) as store:
        _voided_case(store, clock)
    for path in (_demo(tmp_path / "old.sqlite"), store_path):
        with Store.open(path, clock=clock) as store:
            before = _stored(store)
            _redo_migration_0004(store)
            assert _stored(store) == before


def test_a_reprojection_after_sync_removes_entries_recounts(store: Store, clock: Clock) -> None:
    """Sync re-projects a case whose timeline lost entries (a discarded quarantined step):
    the counts follow the timeline down, in the same transaction."""
    from sync.store import replica

    case = _voided_case(store, clock)
    settle = [e for e in store.timeline(case) if e.action == Action.SETTLE]
    feedback = [e for e in store.timeline(case) if e.action == Action.FEEDBACK]
    with store.write() as conn:
        # Without its settlement the remote verification counts again; without its feedback
        # zhzf has none.
        conn.execute("DELETE FROM case_events WHERE id IN (?, ?)", [settle[0].id, feedback[0].id])
        replica._reproject(store, conn, case)
    stored = _stored(store)[case]
    assert stored[:5] == (2, 0, 1, 0, 0)
    units = {u[0]: u for u in stored[5]}  # type: ignore[attr-defined]
    assert units["zhzf"][3] == 0 and units["zhzf"][4] is None
    assert _stored(store) == _expected(store)
