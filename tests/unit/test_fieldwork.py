"""Field work in the store: visits, patrols, 转为事件, ledger counts and sign-offs, on real
SQLite files, checked by the shared scope rule."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from sync import protocol
from sync.model.records import Actor, Role, Status, Visit
from sync.stats.fieldwork import field_work, ledger
from sync.stats.periods import Period
from sync.store import Store
from sync.store import fieldwork as fw
from tests.conftest import GRIDS, HUAIWANG, TOWNSHIP, ZHANGWANG, Clock

MINE = f"{ZHANGWANG}001"
OTHER = f"{HUAIWANG}001"


def _visit(store: Store, actor: Actor, **kw: object) -> Visit:
    values: dict[str, object] = {
        "kind": "visit",
        "grid": MINE,
        "household": "张王村12号 王大爷家",
        "content": "独居老人，身体尚可，反映屋顶漏雨",
        "subject_kind": "household",
        "subject_id": "H-0012",
        "people": ["王大爷", "王大爷之女"],
        "items": ["屋顶漏雨需维修", "申请低保材料"],
    }
    values.update(kw)
    return fw.record_visit(store, actor, **values)  # type: ignore[arg-type]


def test_a_visit_is_kept_with_its_parts_and_goes_to_the_outbox(
    store: Store, actors: dict[str, Actor]
) -> None:
    gw = actors["grid_worker"]
    v = _visit(store, gw)
    again = fw.visit(store, v.id)
    assert again == v
    assert again.people == ("王大爷", "王大爷之女")
    assert [i.text for i in again.items] == ["屋顶漏雨需维修", "申请低保材料"]
    assert again.staff_id == gw.id and again.subject_id == "H-0012"
    assert store.read("SELECT entity, entity_id FROM outbox WHERE entity = 'visit'") == [
        ("visit", v.id)
    ]
    # The wire form carries every part and reads back the same.
    assert protocol.visit_from_wire(protocol.visit_to_wire(v)) == v


def test_a_patrol_keeps_what_was_checked_and_its_location(
    store: Store, actors: dict[str, Actor]
) -> None:
    p = fw.record_visit(
        store,
        actors["grid_worker"],
        kind="patrol",
        grid=MINE,
        household="村口沿河道路",
        content="",
        subject_kind="place",
        checked="消防通道、河道护栏、垃圾收集点",
        items=["护栏松动一处"],
        location="119.1725, 29.0431",
    )
    assert fw.visits(store, kind="patrol") == [p]
    assert p.location == "119.172500,29.043100"
    assert fw.visits(store, kind="visit") == []


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"household": "  "}, "no_subject"),
        ({"content": "", "items": []}, "no_content"),
        ({"location": "东经119度"}, "bad_location"),
        ({"location": "200,29"}, "bad_location"),
        ({"kind": "meeting"}, "malformed"),
        ({"subject_kind": "car"}, "malformed"),
        ({"grid": "330825999999001"}, "unknown_place"),
    ],
)
def test_bad_visits_are_refused_in_plain_words_and_nothing_is_written(
    store: Store, actors: dict[str, Actor], changes: dict[str, object], code: str
) -> None:
    with pytest.raises(fw.FieldWorkRefused) as err:
        _visit(store, actors["grid_worker"], **changes)
    assert err.value.code == code
    assert err.value.reason
    assert store.read("SELECT count(*) FROM visits") == [(0,)]
    assert store.outbox_size() == 0


def test_a_grid_worker_records_only_in_their_grids(store: Store) -> None:
    gw = Actor("gw-x", "网格员", Role.GRID_WORKER, None, (MINE,), TOWNSHIP)
    store.put_accounts([gw])
    with pytest.raises(fw.FieldWorkRefused) as err:
        _visit(store, gw, grid=OTHER)
    assert err.value.code == "out_of_scope"
    assert _visit(store, gw).grid_id == MINE


def test_an_account_of_another_township_cannot_record_here(store: Store) -> None:
    stranger = Actor("op-b", "外镇值班员", Role.OPERATOR, None, (), "330825101")
    with pytest.raises(fw.FieldWorkRefused) as err:
        _visit(store, stranger)
    assert err.value.code == "out_of_scope"
    admin = Actor("admin", "县管理员", Role.COUNTY_ADMIN)
    with pytest.raises(fw.FieldWorkRefused) as err:
        _visit(store, admin)
    assert err.value.code == "not_allowed"


def test_a_follow_up_becomes_a_case_linked_both_ways(
    store: Store, actors: dict[str, Actor]
) -> None:
    gw = actors["grid_worker"]
    v = _visit(store, gw)
    item = v.items[0]
    assert fw.cases_of_visit(store, v.id) == {}
    state = fw.item_to_case(store, gw, v.id, item.id, category="0604")
    assert state.status == Status.REPORTED
    assert state.fields["title"] == "屋顶漏雨需维修"
    assert state.fields["grid_id"] == MINE
    assert "王大爷家" in state.fields["description"]
    # The visit shows the case …
    linked = fw.cases_of_visit(store, v.id)
    assert list(linked) == [item.id]
    assert linked[item.id]["case_id"] == state.case_id
    assert linked[item.id]["case_no"] == state.case_no
    # … and the case its source visit and follow-up.
    source = fw.source_visit(store, state.case_id)
    assert source is not None and source[0].id == v.id and source[1] == item
    # Once only.
    with pytest.raises(fw.FieldWorkRefused) as err:
        fw.item_to_case(store, gw, v.id, item.id, category="0604")
    assert err.value.code == "already_case"
    with pytest.raises(fw.FieldWorkRefused) as err:
        fw.item_to_case(store, gw, v.id, "no-such-item", category="0604")
    assert err.value.code == "unknown_item"
    # A case reported by hand has no source visit.
    plain = store.report(gw, {"title": "路灯坏", "category": "0604", "grid_id": MINE})
    assert fw.source_visit(store, plain.case_id) is None


def test_a_wrong_category_refuses_the_case_and_keeps_the_item_open(
    store: Store, actors: dict[str, Actor]
) -> None:
    gw = actors["grid_worker"]
    v = _visit(store, gw)
    with pytest.raises(fw.FieldWorkRefused) as err:
        fw.item_to_case(store, gw, v.id, v.items[0].id, category="nonsense")
    assert "category" in err.value.reason
    assert fw.cases_of_visit(store, v.id) == {}
    assert store.read("SELECT count(*) FROM cases") == [(0,)]


def test_follow_ups_are_added_by_their_recorder_only(
    store: Store, actors: dict[str, Actor]
) -> None:
    gw = actors["grid_worker"]
    v = _visit(store, gw)
    more = fw.add_items(store, gw, v.id, ["再次回访"])
    assert [i.text for i in more.items][-1] == "再次回访"
    assert fw.visit(store, v.id) == more
    with pytest.raises(fw.FieldWorkRefused) as err:
        fw.add_items(store, actors["operator"], v.id, ["别人加的"])
    assert err.value.code == "not_yours"


def test_visit_photos_are_attachments_of_the_visit(
    store: Store, actors: dict[str, Actor], tmp_path: object
) -> None:
    import io

    from PIL import Image

    gw = actors["grid_worker"]
    v = _visit(store, gw)
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, format="JPEG")
    a = fw.add_visit_photo(store, v.id, buf.getvalue(), "屋顶.jpg", gw)
    assert fw.visit_photos(store, v.id) == [a]
    # The same picture again is the same attachment.
    assert fw.add_visit_photo(store, v.id, buf.getvalue(), "again.jpg", gw) == a
    from sync.store.attachments import photo_bytes

    assert photo_bytes(store, a) == buf.getvalue()
    assert ("attachment", a.id) in store.read("SELECT entity, entity_id FROM outbox")


def _week(clock: Clock) -> Period:
    return Period.of("week", dt.date(2025, 6, 2))


def test_field_work_counts_per_worker_and_period(
    store: Store, actors: dict[str, Actor], clock: Clock
) -> None:
    gw, op = actors["grid_worker"], actors["operator"]
    v = _visit(store, gw)
    fw.record_visit(
        store, gw, kind="patrol", grid=MINE, household="河道", content="巡河", items=["垃圾漂浮"]
    )
    fw.item_to_case(store, gw, v.id, v.items[0].id, category="0604")
    store.report(gw, {"title": "路灯坏", "category": "0604", "grid_id": MINE})
    _visit(store, op, items=[])
    clock.advance(days=10)  # next week: not counted in this one
    _visit(store, gw)
    week = _week(clock)
    counts = field_work(store, week)
    assert counts[gw.id].counts() == {
        "visits": 1,
        "patrols": 1,
        "follow_ups": 2,
        "findings": 1,
        "field_cases": 1,
        "cases_reported": 2,
        "case_steps": 0,
        "record_updates": 0,
    }
    assert counts[gw.id].total == 4
    assert counts[op.id].visits == 1 and counts[op.id].follow_ups == 0
    assert set(field_work(store, week, gw.id)) == {gw.id}
    nxt = Period.of("week", dt.date(2025, 6, 12))
    assert field_work(store, nxt)[gw.id].visits == 1
    book = ledger(store, gw.id, week)
    assert [line.kind for line in book.lines].count("visit") == 1
    assert [line.kind for line in book.lines].count("report") == 2
    assert book.signed is None


def test_a_supervisor_signs_off_a_ledger(
    store: Store, actors: dict[str, Actor], clock: Clock
) -> None:
    gw, sup = actors["grid_worker"], actors["supervisor"]
    _visit(store, gw)
    week = _week(clock)
    counts = field_work(store, week)[gw.id].counts()
    s = fw.sign_off(store, sup, gw.id, "week", "2025-06-02", remarks="走访记录完整", counts=counts)
    assert fw.signoff(store, s.id) == s
    assert ledger(store, gw.id, week).signed == s
    assert s.counts["visits"] == 1
    assert ("signoff", s.id) in store.read("SELECT entity, entity_id FROM outbox")
    assert protocol.signoff_from_wire(protocol.signoff_to_wire(s)) == s
    # Another period's ledger is not signed by it.
    assert ledger(store, gw.id, Period.of("day", dt.date(2025, 6, 2))).signed is None


@pytest.mark.parametrize(
    "who, worker, period, first, code",
    [
        ("operator", "gw-zhang", "week", "2025-06-02", "not_allowed"),
        ("grid_worker", "gw-zhang", "week", "2025-06-02", "not_allowed"),
        ("supervisor", "sup-li", "week", "2025-06-02", "not_allowed"),
        ("supervisor", "nobody", "week", "2025-06-02", "unknown_actor"),
        ("supervisor", "gw-zhang", "week", "2025-06-03", "malformed"),
        ("supervisor", "gw-zhang", "month", "2025-06-02", "malformed"),
        ("supervisor", "gw-zhang", "year", "2025-01-01", "malformed"),
        ("supervisor", "gw-zhang", "day", "yesterday", "malformed"),
        ("b_supervisor", "gw-zhang", "week", "2025-06-02", "out_of_scope"),
    ],
)
def test_sign_offs_that_the_rule_refuses(
    store: Store,
    actors: dict[str, Actor],
    who: str,
    worker: str,
    period: str,
    first: str,
    code: str,
) -> None:
    signer = actors.get(who) or Actor("sup-b", "外镇领导", Role.SUPERVISOR, None, (), "330825101")
    with pytest.raises(fw.FieldWorkRefused) as err:
        fw.sign_off(store, signer, worker, period, first)
    assert err.value.code == code, err.value.reason
    assert store.read("SELECT count(*) FROM ledger_signoffs") == [(0,)]


def test_a_worker_of_another_township_is_not_signed_off_here(
    store: Store, actors: dict[str, Actor]
) -> None:
    store.put_accounts([Actor("gw-b", "外镇网格员", Role.GRID_WORKER, None, (), "330825101")])
    with pytest.raises(fw.FieldWorkRefused) as err:
        fw.sign_off(store, actors["supervisor"], "gw-b", "day", "2025-06-02")
    assert err.value.code == "out_of_scope"


def test_the_migration_keeps_old_visits(tmp_path: object, clock: Clock) -> None:
    """A store made before field work: its visits read with empty parts after 0009."""
    from pathlib import Path

    from tests.support.migrations import migrations_through, position

    path = Path(str(tmp_path)) / "old.db"
    with Store.create(path, scope=TOWNSHIP, device_code="OLD", clock=clock) as s:
        s.put_grids(GRIDS, synthetic=True)
    # Take the file back to the schema before field work, with a visit of that time.
    import sqlite3

    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE ledger_signoffs; DROP INDEX visits_staff; DROP INDEX case_events_from_visit;"
        "ALTER TABLE visits DROP COLUMN subject_kind; ALTER TABLE visits DROP COLUMN subject_id;"
        "ALTER TABLE visits DROP COLUMN people; ALTER TABLE visits DROP COLUMN items;"
        "ALTER TABLE visits DROP COLUMN checked; ALTER TABLE visits DROP COLUMN location;"
        f"INSERT INTO visits (id, grid_code, staff_id, kind, at, household, content, local) "
        f"VALUES "
        f"('v-old', '{MINE}', 'gw-zhang', 'visit', 1, '老记录', '旧走访', 0);"
        f"PRAGMA user_version = {position('0009_field_work')};"
    )
    conn.close()
    with migrations_through("0009_field_work"), Store.open(path, clock=clock) as s:
        old = fw.visit(s, "v-old")
    assert old is not None
    assert (old.content, old.people, old.items, old.location) == ("旧走访", (), (), "")


def test_a_visit_from_an_older_device_reads_without_its_new_parts() -> None:
    wire = {
        "id": "v1",
        "grid_id": MINE,
        "staff_id": "S1",
        "kind": "patrol",
        "at": 1_700_000_000_000,
        "household": "",
        "content": "巡查",
    }
    v = protocol.visit_from_wire(wire)
    assert (v.items, v.people, v.location, v.subject_kind) == ((), (), "", "")
    for bad in (
        {"items": [{"id": "x", "text": "a"}, {"id": "x", "text": "b"}]},
        {"items": "not a list"},
        {"people": [1]},
        {"location": "north"},
        {"subject_kind": "car"},
    ):
        with pytest.raises(protocol.WireError):
            protocol.visit_from_wire({**wire, **bad})
    assert dataclasses.replace(v, content="x") != v


def test_the_demo_township_has_synthetic_visits_and_patrols(tmp_path: Path) -> None:
    from sync.demo.build import DemoSpec, build_demo

    now = 1_764_000_000_000
    paths = [tmp_path / "a.db", tmp_path / "b.db"]
    for p in paths:
        build_demo(p, DemoSpec("330825002", cases=50, now=now))
    with Store.open(paths[0]) as a, Store.open(paths[1]) as b:
        visits = fw.visits(a, kind="visit", limit=100_000)
        patrols = fw.visits(a, kind="patrol", limit=100_000)
        assert visits and patrols
        # One seed, the same field work (ids and all).
        assert fw.visits(b, limit=100_000) == fw.visits(a, limit=100_000)
        workers = {x.id for x in a.accounts(Role.GRID_WORKER)}
        assert {v.staff_id for v in visits + patrols} <= workers
        assert all(now - 50 * 86_400_000 < v.at < now for v in visits + patrols)
        assert any(v.items for v in visits) and any(p.checked for p in patrols)
        assert a.outbox_size() == 0  # history, not local changes to push
        # The ledger counts them.
        week = Period.of("week", dt.date(2025, 11, 17))
        counted = field_work(a, week)
        in_week = [v for v in visits if week.start <= v.at < week.end]
        assert sum(w.visits for w in counted.values()) == len(in_week)
