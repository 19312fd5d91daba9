"""The local store against real SQLite files: atomicity under kill -9, change capture,
migrations, search, paging, encryption."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.model.records import Action, Actor, Department, Grid, GridKind, Role
from sync.model.workflow import project
from sync.store import CaseQuery, NewerSchema, NotADatabase, Store, WrongKey, schema

GRID = "330825002222001"
OP = Actor("op", "值班员", Role.OPERATOR)
POLICE = Actor("pol", "民警", Role.DEPARTMENT, department_code="police")


def make_store(path: Path, **kw) -> Store:
    store = Store.create(path, scope="330825002", **kw)
    store.put_grids([Grid(GRID, GRID, "张王村第1网格", "330825002222", GridKind.RURAL, 200, 500)])
    store.put_departments([Department("police", "派出所"), Department("justice", "司法所")])
    store.put_accounts([OP, POLICE])
    return store


def report(store: Store, title: str = "楼道堆放杂物", **fields) -> str:
    state = store.report(OP, {"title": title, "category": "0201", "grid_id": GRID, **fields})
    return state.case_id


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- atomicity and change capture under kill -9 ----------------------------------------------

WRITER = r"""
import sys, random
from sync.store import Store
from sync.model.records import Actor, Role
op = Actor("op", "值班员", Role.OPERATOR)
pol = Actor("pol", "民警", Role.DEPARTMENT, department_code="police")
store = Store.open(sys.argv[1])
rng = random.Random(int(sys.argv[2]))
print("ready", flush=True)
while True:
    fields = {"title": "漏水纠纷" + str(rng.random()), "category": "0101",
              "grid_id": "330825002222001", "description": "楼上漏水" * rng.randint(1, 50)}
    s = store.report(op, fields)
    store.accept(s.case_id, op)
    store.dispatch(s.case_id, op, ("department", "police"))
    store.feedback(s.case_id, pol, "police", "已调解")
    store.comment(s.case_id, op, "回访" * rng.randint(1, 20))
"""


def check_consistent(path: Path) -> tuple[int, int]:
    """No half change and no change missing from the outbox."""
    with Store.open(path) as store:
        assert store.integrity() == "ok"
        events = store.read("SELECT id FROM case_events WHERE local = 1")
        outbox = store.read("SELECT entity_id FROM outbox WHERE entity = 'case_event'")
        assert sorted(e[0] for e in events) == sorted(o[0] for o in outbox)
        for (case_id,) in store.read("SELECT id FROM cases"):
            state = project(store.timeline(case_id), store.rules)
            row = store.case_row(case_id)
            assert row is not None
            expected = store.case_row_values(state)
            assert {k: row[k] for k in expected} == expected, case_id
            assert store.count(CaseQuery(text=row["title"][:4])) >= 1
        return len(events), store.count()


@pytest.mark.slow
def test_kill_minus_nine_at_random_points_leaves_no_half_change(tmp_path: Path) -> None:
    path = tmp_path / "kill.sqlite"
    make_store(path).close()
    rng = random.Random(7)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    last_events = 0
    for round_ in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(round_)],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        events, _cases = check_consistent(path)
        assert events >= last_events  # nothing committed is ever lost
        last_events = events
    assert last_events > 0


# -- migrations --------------------------------------------------------------------------------


def test_newer_schema_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite"
    make_store(path).close()
    import sqlcipher3

    conn = sqlcipher3.connect(str(path))
    conn.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(NewerSchema, match="newer Gridroom"):
        Store.open(path)
    assert digest(path) == before


def test_fresh_store_has_every_migration_and_trigger(tmp_path: Path) -> None:
    with make_store(tmp_path / "s.sqlite") as store:
        assert schema.schema_version(store.conn) == schema.SCHEMA_VERSION
        schema.verify_triggers(store.conn)
        store.conn.execute("DROP TRIGGER outbox_case_events")
        with pytest.raises(RuntimeError, match="outbox_case_events"):
            schema.verify_triggers(store.conn)


def test_pulled_entries_do_not_enter_the_outbox(tmp_path: Path) -> None:
    with make_store(tmp_path / "a.sqlite") as a, make_store(tmp_path / "b.sqlite") as b:
        case_id = report(a)
        a.accept(case_id, OP)
        assert a.outbox_size() == 2
        b.apply_entries(a.timeline(case_id))
        assert b.outbox_size() == 0
        assert b.case(case_id) == a.case(case_id)
        # Applying the same entries again changes nothing (set union).
        b.apply_entries(a.timeline(case_id))
        assert len(b.timeline(case_id)) == 2


def test_hlc_survives_reopen_and_a_clock_that_jumps_back(tmp_path: Path) -> None:
    path = tmp_path / "hlc.sqlite"
    now = [1_800_000_000_000]
    with make_store(path, clock=lambda: now[0]) as store:
        case_id = report(store)
        first = store.timeline(case_id)[-1].hlc
    now[0] -= 10 * 365 * 86_400_000  # the laptop's clock is reset to ten years ago
    with Store.open(path, clock=lambda: now[0]) as store:
        store.accept(case_id, OP)
        second = store.timeline(case_id)[-1].hlc
    assert second > first
    assert [e.action for e in Store.open(path).timeline(case_id)] == [Action.REPORT, Action.ACCEPT]


def test_case_numbers_are_unique_per_device_and_day(tmp_path: Path) -> None:
    with make_store(tmp_path / "n.sqlite", device_code="K7Q2") as store:
        numbers = [store.case_row(report(store))["case_no"] for _ in range(5)]  # type: ignore[index]
    assert len(set(numbers)) == 5
    assert all(n.startswith("330825002-") and "-K7Q2-" in n for n in numbers)
    assert numbers[-1].endswith("-0005")


# -- search --------------------------------------------------------------------------------------

ALPHABET = "漏水纠纷垃圾张王村楼道"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(st.text(alphabet=ALPHABET + " 12ab", min_size=1, max_size=12), min_size=5, max_size=25)
)
def test_two_character_search_finds_what_like_finds(tmp_path: Path, titles: list[str]) -> None:
    path = tmp_path / f"search-{random.random()}.sqlite"
    with make_store(path) as store:
        for i, title in enumerate(titles):
            if title.strip():
                report(store, title, description=titles[-1 - i], address="张王村")
        for a in ALPHABET:
            for b in ALPHABET:
                query = a + b
                like = {
                    r[0]
                    for r in store.read(
                        "SELECT id FROM cases WHERE title LIKE ? OR description LIKE ? "
                        "OR address LIKE ?",
                        [f"%{query}%"] * 3,
                    )
                }
                found = {r["id"] for r in store.cases(CaseQuery(text=query), limit=1000)}
                assert found == like, query
    path.unlink()


def test_single_character_and_mixed_queries(tmp_path: Path) -> None:
    with make_store(tmp_path / "q.sqlite") as store:
        leak = report(store, "3号楼漏水", description="居民反映楼顶漏水严重")
        report(store, "垃圾清运不及时")
        assert {r["id"] for r in store.cases(CaseQuery(text="漏"))} == {leak}
        assert {r["id"] for r in store.cases(CaseQuery(text="漏水严重"))} == {leak}
        assert store.count(CaseQuery(text="水漏")) == 0
        number = store.case_row(leak)["case_no"]  # type: ignore[index]
        assert [r["id"] for r in store.cases(CaseQuery(text=number))] == [leak]
        # Editing the title re-indexes the case.
        store.edit(leak, OP, {"title": "屋顶渗水"})
        assert store.count(CaseQuery(text="渗水")) == 1
        assert store.count(CaseQuery(text="3号楼")) == 0


# -- paging ------------------------------------------------------------------------------------


@pytest.mark.parametrize("sort", ["reported_at", "due_at", "case_no", "status", "title"])
@pytest.mark.parametrize("descending", [True, False])
def test_keyset_paging_matches_offset_paging(tmp_path: Path, sort: str, descending: bool) -> None:
    now = [1_780_000_000_000]
    with make_store(tmp_path / "p.sqlite", clock=lambda: now[0]) as store:
        rng = random.Random(3)
        for i in range(60):
            now[0] += rng.choice([0, 1000, 60_000])  # ties in reported_at on purpose
            case_id = report(store, f"事件{rng.randint(0, 9)}")
            if i % 3 == 0:
                store.accept(case_id, OP)
        query = CaseQuery(sort=sort, descending=descending)
        everything = [r["id"] for r in store.cases(query, limit=1000)]
        paged: list[str] = []
        after = None
        while True:
            page = store.cases(query, limit=7, after=after)
            if not page:
                break
            paged += [r["id"] for r in page]
            after = (page[-1][sort], page[-1]["rowid"])
        assert paged == everything
        assert len(everything) == 60


# -- encryption and foreign files -------------------------------------------------------------


def test_encrypted_store_reveals_nothing_and_needs_its_key(tmp_path: Path) -> None:
    path = tmp_path / "secret.sqlite"
    with make_store(path, key="correct horse") as store:
        report(store, "涉密纠纷张三")
    raw = path.read_bytes()
    assert not raw.startswith(b"SQLite format 3")
    assert "张三".encode() not in raw
    with pytest.raises(WrongKey, match="key is wrong"):
        Store.open(path, key="wrong")
    with pytest.raises(NotADatabase, match="needs its key"):
        Store.open(path)
    with Store.open(path, key="correct horse") as store:
        assert store.count(CaseQuery(text="纠纷")) == 1


def test_kpis_and_stats_count_what_is_there(tmp_path: Path) -> None:
    now = [1_780_000_000_000]
    with make_store(tmp_path / "k.sqlite", clock=lambda: now[0]) as store:
        overdue = report(store)
        store.accept(overdue, OP)
        report(store, "无效事件")
        done = report(store, "已办结事件")
        store.accept(done, OP)
        store.dispatch(done, OP, ("department", "police"))
        store.feedback(done, POLICE, "police", "已处理")
        store.verify(done, OP, True)
        now[0] += 30 * 86_400_000  # a month later the accepted case is overdue
        stats = store.stats()
        assert stats["tables"]["cases"] == 3
        assert stats["by_status"] == {"accepted": 1, "reported": 1, "closed": 1}
        assert stats["overdue"] == 2  # the accepted one and the never-accepted one
        assert json.dumps(stats, ensure_ascii=False)
        red = store.cases(CaseQuery(light="red"))
        assert {r["light"] for r in red} == {"red"} and len(red) == 2
