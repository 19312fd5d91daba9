"""The store's queues for the county and the supervisor: 上报待受理, 上级交办, 待审批.

Kept with the projection (``cases.escalation``, ``cases.pending``, migration 0010_county_level)
and read through :class:`CaseQuery`; an existing store is migrated and back-filled from the
timelines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.model.records import Actor, Department, Grid, GridKind, Role
from sync.model.workflow import Refused
from sync.store import Store, schema
from sync.store.queries import CaseQuery

A, B = "330825102", "330825101"
VA, VB = f"{A}201", f"{B}200"
GA, GB = f"{VA}001", f"{VB}001"
DAY = 86_400_000

OP_C = Actor("op-c", "县综合指挥中心值班员", Role.OPERATOR)
SUP_C = Actor("sup-c", "县分管领导", Role.SUPERVISOR)
POLICE = Actor("pol", "派出所", Role.DEPARTMENT, "police")


@pytest.fixture
def county_store(tmp_path: Path) -> Iterator[Store]:
    with Store.create(tmp_path / "county.db", scope="330825", device_code="CNTY") as store:
        store.put_grids([Grid(g, g, g, g[:12], GridKind.RURAL, 100, 300) for g in (GA, GB)])
        store.put_departments(
            [Department("police", "派出所"), Department("housing", "县住建局", county=True)]
        )
        store.put_accounts([OP_C, SUP_C, POLICE])
        yield store


def _case(store: Store, grid: str, title: str) -> str:
    case = store.report(OP_C, {"title": title, "category": "9901", "grid_id": grid})
    store.accept(case.case_id, OP_C)
    store.dispatch(case.case_id, OP_C, ("department", "police"))
    return case.case_id


def _ids(store: Store, query: CaseQuery) -> set[str]:
    return {r["id"] for r in store.cases(query, limit=100)}


def test_the_queues_follow_the_loop(county_store: Store) -> None:
    s = county_store
    up = _case(s, GA, "排水管网破损")
    other = _case(s, GB, "道路塌陷")
    plain = _case(s, GA, "楼道堆物")
    s.escalate(up, OP_C, "需县住建局处置")
    s.escalate(other, OP_C, "跨乡镇")
    awaiting = CaseQuery(escalation=1)
    assert _ids(s, awaiting) == {up, other}
    assert _ids(s, CaseQuery(escalated=True)) == {up, other}
    assert s.count(awaiting.with_(township_code=A)) == 1
    s.accept(up, OP_C)
    assert _ids(s, awaiting) == {other}
    assert _ids(s, CaseQuery(escalation=2)) == {up}
    with pytest.raises(Refused, match="instructions"):
        s.hand_down(up, OP_C, "  ")
    state = s.hand_down(up, OP_C, "属镇级职责，请镇里牵头处置")
    assert state.escalation == 3
    assert _ids(s, CaseQuery(escalation=3)) == {up}
    row = s.case_row(up)
    assert row is not None and row["level"] == 3 and row["escalation"] == 3
    # 待审批: a pending extension and a pending park request, until decided.
    until = (s.case(plain).handle_due or 0) + 5 * DAY  # type: ignore[union-attr]
    s.request_extension(plain, POLICE, "police", until, "需协调")
    assert _ids(s, CaseQuery(pending_approval=True)) == {plain}
    s.decide_extension(plain, SUP_C, approve=True)
    assert _ids(s, CaseQuery(pending_approval=True)) == set()
    s.request_park(other, OP_C, "历史遗留", s.now() + 30 * DAY)
    assert s.case_row(other)["pending"] == 2  # type: ignore[index]
    assert _ids(s, CaseQuery(pending_approval=True)) == {other}


def test_an_existing_store_is_migrated_and_back_filled(tmp_path: Path) -> None:
    from tests.support.migrations import migrations_through

    path = tmp_path / "old.db"
    with Store.create(path, scope="330825", device_code="OLD1") as s:
        s.put_grids([Grid(GA, GA, GA, VA, GridKind.RURAL, 100, 300)])
        s.put_departments([Department("police", "派出所")])
        s.put_accounts([OP_C, SUP_C, POLICE])
        up = _case(s, GA, "排水管网破损")
        s.escalate(up, OP_C, "需县住建局处置")
        parked = _case(s, GA, "违建")
        s.request_park(parked, OP_C, "历史遗留", s.now() + 30 * DAY)
        # As a store of the version before 0010 has it: no columns, no indexes.
        names = [m.name for m in schema.MIGRATIONS]
        with s.write() as conn:
            conn.execute("DROP INDEX cases_escalation")
            conn.execute("DROP INDEX cases_pending")
            conn.execute("ALTER TABLE cases DROP COLUMN escalation")
            conn.execute("ALTER TABLE cases DROP COLUMN pending")
        s.conn.execute(f"PRAGMA user_version = {names.index('0010_county_level')}")
    with migrations_through("0010_county_level"), Store.open(path) as s:
        assert _ids(s, CaseQuery(escalation=1)) == {up}
        assert _ids(s, CaseQuery(pending_approval=True)) == {parked}


def test_the_county_board_counts_what_the_projections_say(county_store: Store) -> None:
    from sync.model.records import OPEN_STATUSES, Light, Status
    from sync.store.queues import (
        BOARD_COLUMNS,
        approval_query,
        approvals,
        board_query,
        county_board,
    )

    s = county_store
    ids = []
    for grid, title in ((GA, "甲"), (GA, "乙"), (GA, "丙"), (GB, "丁"), (GB, "戊")):
        ids.append(_case(s, grid, title))
    s.escalate(ids[0], OP_C, "需县级部门")  # waiting for the county
    s.escalate(ids[1], OP_C, "需县级部门")
    s.accept(ids[1], OP_C)  # the county holds it
    s.escalate(ids[3], OP_C, "跨乡镇")
    s.hand_down(ids[3], OP_C, "请镇里牵头")  # handed down
    s.urge(ids[2], SUP_C, "抓紧")
    s.urge(ids[4], SUP_C, "抓紧")
    s.request_park(ids[4], OP_C, "历史遗留", s.now() + 30 * DAY)
    later = s.now() + 60 * DAY  # every open handling deadline has passed by then
    board = {r.township: r.counts for r in county_board(s, later)}

    def oracle(township: str) -> dict[str, int]:
        out = dict.fromkeys(BOARD_COLUMNS, 0)
        for case_id in ids:
            st = s.case(case_id)
            assert st is not None
            if st.fields["grid_id"][:9] != township:
                continue
            in_hand = st.status in (*OPEN_STATUSES, Status.PARKED)
            out["awaiting"] += st.awaiting_county
            out["at_county"] += st.level == 4 and not st.awaiting_county and in_hand
            out["handed_down"] += st.handed_down is not None and st.level < 4 and in_hand
            out["overdue"] += st.light(later) == Light.RED
            out["urged"] += st.urges > 0 and st.status in OPEN_STATUSES
        return out

    assert (
        board[A]
        == oracle(A)
        == {"awaiting": 1, "at_county": 1, "handed_down": 0, "overdue": 3, "urged": 1}
    )
    assert board[B] == oracle(B)
    assert board[B]["handed_down"] == 1
    # Each figure is the count of the list a click opens (the light at the board's time).
    for township in (A, B):
        for column in BOARD_COLUMNS:
            if column != "overdue":
                assert s.count(board_query(column, township)) == board[township][column]
    assert approvals(s) == {"cases": 1, "extension": 0, "park": 1}
    assert _ids(s, approval_query("park")) == {ids[4]}
    assert _ids(s, approval_query("extension")) == set()
