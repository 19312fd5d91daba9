"""Scope and authority (sync.model.scope): the rule the county applies to every pushed entry and
the store applies to its own commands — and, in-process, the proof that both sides refuse the
same forged steps with the same reasons."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sync.county import accounts as acc
from sync.county.db import Database
from sync.county.service import County, Session
from sync.model import scope
from sync.model.clock import HlcStamp, new_id
from sync.model.records import Action, Actor, Entry, Level, Role
from sync.model.workflow import CaseState, Refused
from sync.store import Store, replica, schema

A, B = "330825102", "330825101"  # 小南海镇, 湖镇镇 (龙游县)
VA, VB = f"{A}201", f"{B}200"  # 新山水村, 新光村: one real village in each
GA, GA2, GB = f"{VA}001", f"{VA}002", f"{VB}001"
NOW = 1_800_000_000_000

REF = scope.Reference(
    grids={GA: VA, GA2: VA, GB: VB},
    villages={VA: A, VB: B},
    townships=frozenset({A, B}),
    departments=frozenset({"police", "justice", "housing"}),
    county_departments=frozenset({"housing"}),
)

OP_A = Actor("op-a", "值班员A", Role.OPERATOR, township=A)
GW_A = Actor("gw-a", "网格员A", Role.GRID_WORKER, grid_ids=(GA,), township=A)
POLICE_A = Actor("pol-a", "派出所A", Role.DEPARTMENT, "police", township=A)
OP_COUNTY = Actor("op-c", "县值班员", Role.OPERATOR)


def _case(township: str = A, grid: str = GA, level: Level = Level.TOWNSHIP) -> scope.CaseView:
    state = CaseState(case_id="c", fields={"grid_id": grid}, level=level)
    return scope.CaseView(scope.place_keys(township, {grid}), lambda: state)


def _check(
    case: scope.CaseView | None, action: Action, actor: Actor, payload: dict[str, Any]
) -> scope.Refusal | None:
    return scope.check_entry(case, action, actor, payload, ref=REF, mine=scope.actor_keys(actor, A))


def _lead(kind: str, assignee: str) -> dict[str, Any]:
    return {"tasks": [{"kind": kind, "assignee": assignee, "lead": True}]}


# -- the pure rule -----------------------------------------------------------------------------


def test_an_opening_entry_on_an_existing_case_is_refused_whoever_sends_it() -> None:
    report = {"title": "x", "category": "9901", "grid_id": GA}
    for actor in (OP_A, GW_A):
        found = _check(_case(), Action.REPORT, actor, report)
        assert found is not None and found.code == "case_exists"
    found = _check(_case(), Action.SELF_HANDLE, GW_A, {**report, "result": "ok"})
    assert found is not None and found.code == "case_exists"
    assert _check(None, Action.REPORT, OP_A, report) is None


@pytest.mark.parametrize(
    "payload, code, reason",
    [
        (_lead("grid", GB), "unknown_assignee", f"'{GB}' is not a grid of this case's township"),
        (
            _lead("department", "nonexistent_dept';--"),
            "unknown_assignee",
            'there is no department "nonexistent_dept\';--" in this county',
        ),
        (
            _lead("department", "housing"),
            "unknown_assignee",
            "'housing' is a county department: it takes only county-level cases "
            "(escalate the case first)",
        ),
        (
            {
                "tasks": [
                    {"kind": "department", "assignee": "police", "lead": True},
                    {"kind": "grid", "assignee": "330825102999999", "lead": False},
                ]
            },
            "unknown_assignee",
            "'330825102999999' is not a grid of this case's township",
        ),
    ],
)
def test_a_dispatch_names_only_units_that_may_take_the_case(
    payload: dict[str, Any], code: str, reason: str
) -> None:
    found = _check(_case(), Action.DISPATCH, OP_A, payload)
    assert found is not None and (found.code, found.reason) == (code, reason)


@pytest.mark.parametrize(
    "task",
    [
        {"kind": "grid", "assignee": int(GB), "lead": True},  # a number the projection would read
        {"kind": "unit", "assignee": GA, "lead": True},
        "police",
        {"kind": "department", "lead": True},
    ],
)
def test_a_dispatch_names_each_assignee_by_kind_and_code(task: Any) -> None:
    found = _check(_case(), Action.DISPATCH, OP_A, {"tasks": [task]})
    assert found is not None and found.code == "malformed"


def test_legal_dispatches_pass_and_a_county_department_takes_a_county_case() -> None:
    for payload in (_lead("grid", GA2), _lead("department", "police")):
        assert _check(_case(), Action.DISPATCH, OP_A, payload) is None
    county_case = _case(level=Level.COUNTY)
    assert _check(county_case, Action.DISPATCH, OP_COUNTY, _lead("department", "housing")) is None
    # Escalated to the county, the case is dispatched by the county, not the township.
    found = _check(county_case, Action.DISPATCH, OP_A, _lead("department", "housing"))
    assert found is not None and found.code == "not_allowed"


def test_a_sub_task_action_names_the_actors_own_unit() -> None:
    case = _case()
    for actor, task in ((GW_A, GA2), (GW_A, "police"), (POLICE_A, GA)):
        for action in (Action.FEEDBACK, Action.RETURN, Action.REQUEST_EXTENSION):
            found = _check(case, action, actor, {"task": task})
            assert found is not None and found.code == "not_your_task", (actor, task, action)
    assert _check(case, Action.FEEDBACK, GW_A, {"task": GA}) is None
    assert _check(case, Action.FEEDBACK, POLICE_A, {"task": "police"}) is None
    assert _check(case, Action.FEEDBACK, OP_A, {"task": GA2}) is None  # on the unit's behalf


def test_nothing_on_another_townships_case_and_no_move_out_of_reach() -> None:
    b_case = _case(B, GB)
    for action in Action:
        if action in scope.OPENING:
            continue
        found = _check(b_case, action, OP_A, {"task": GA})
        assert found is not None and found.code == "out_of_scope", action
    edit = {"fields": {"grid_id": {"value": GB, "base": None}}}
    found = _check(_case(), Action.EDIT, OP_A, edit)
    assert found is not None and found.reason == (
        "this edit moves the case out of scope: the new place is outside the acting account's scope"
    )
    within = {"fields": {"grid_id": {"value": GA2, "base": None}}}
    assert _check(_case(), Action.EDIT, OP_A, within) is None


def test_a_grid_worker_reaches_only_their_grids() -> None:
    found = _check(_case(grid=GA2), Action.COMMENT, GW_A, {"text": "x"})
    assert found is not None and found.code == "out_of_scope"
    assert _check(_case(), Action.COMMENT, GW_A, {"text": "x"}) is None


def test_a_settlement_voids_only_steps_of_its_own_case() -> None:
    state = CaseState(case_id="c", fields={"grid_id": GA})
    case = scope.CaseView(scope.place_keys(A, {GA}), lambda: state, lambda: ["e1", "e2"])
    found = _check(case, Action.SETTLE, OP_A, {"void": ["e1", "elsewhere"]})
    assert found is not None and found.reason.endswith("not of it: elsewhere")
    found = _check(case, Action.SETTLE, OP_A, {"void": "e1"})
    assert found is not None and found.code == "malformed"
    assert _check(case, Action.SETTLE, OP_A, {"void": ["e2"]}) is None


def test_a_merge_names_a_case_within_reach() -> None:
    found = scope.check_entry(
        _case(),
        Action.MERGE,
        OP_A,
        {"into": "other"},
        ref=REF,
        mine=scope.actor_keys(OP_A, A),
        visible=lambda case_id: False,
    )
    assert found is not None and found.code == "unknown_case"


def test_a_report_names_a_real_place_and_a_level_within_the_actors_reach() -> None:
    base = {"title": "x", "category": "9901"}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"grid_id": GB}, "out_of_scope"),
        ({"township_code": B}, "out_of_scope"),
        ({"grid_id": GA, "township_code": B}, "unknown_place"),
        ({"grid_id": GA, "village_code": VB}, "unknown_place"),
        ({"grid_id": "330825102999999"}, "unknown_place"),
        ({"grid_id": 5}, "malformed"),
        ({}, "unknown_place"),
        ({"grid_id": GA, "level": 4}, "not_allowed"),
        ({"grid_id": GA, "level": 9}, "malformed"),
    ]
    for fields, code in cases:
        found = _check(None, Action.REPORT, OP_A, {**base, **fields})
        assert found is not None and found.code == code, fields
    assert _check(None, Action.REPORT, OP_A, {**base, "grid_id": GA, "level": 3}) is None
    county = scope.check_entry(
        None,
        Action.REPORT,
        OP_COUNTY,
        {**base, "grid_id": GA, "level": 4},
        ref=REF,
        mine=scope.actor_keys(OP_COUNTY, "330825"),
    )
    assert county is None


def test_actor_keys_on_township_and_county_devices() -> None:
    assert scope.actor_keys(GW_A, A) == {f"g:{GA}"}
    assert scope.actor_keys(OP_A, A) == {f"t:{A}"}
    assert scope.actor_keys(OP_COUNTY, A) == {f"t:{A}"}
    assert scope.actor_keys(OP_COUNTY, "330825") == {"c:330825"}
    with pytest.raises(scope.ScopeError, match="works in township"):
        scope.actor_keys(OP_A, B)
    with pytest.raises(scope.ScopeError, match="holds the whole county"):
        scope.actor_keys(OP_A, "330825")


# -- the device: the store's command API -------------------------------------------------------


@pytest.fixture
def county_store(tmp_path: Path) -> Iterator[Store]:
    """A store of county scope holding grids of both townships."""
    from sync.model.records import Department, Grid, GridKind

    with Store.create(tmp_path / "county.db", scope="330825", device_code="CNTY") as store:
        store.put_grids([Grid(g, g, g, g[:12], GridKind.RURAL, 100, 300) for g in (GA, GA2, GB)])
        store.put_departments([Department("police", "派出所"), Department("justice", "司法所")])
        store.put_accounts([OP_A, GW_A, OP_COUNTY])
        yield store


def test_a_county_store_refuses_a_township_operator_and_foreign_assignees(
    county_store: Store,
) -> None:
    case_b = county_store.report(OP_COUNTY, {"title": "湖镇", "category": "9901", "grid_id": GB})
    county_store.accept(case_b.case_id, OP_COUNTY)
    # A township operator acts on a county device at all: refused, as the county refuses it.
    for attempt in (
        lambda: county_store.dispatch(case_b.case_id, OP_A, ("grid", GB)),
        lambda: county_store.escalate(case_b.case_id, OP_A, "越界"),
        lambda: county_store.comment(case_b.case_id, OP_A, "越界"),
    ):
        with pytest.raises(Refused, match="this device holds the whole county"):
            attempt()
    # The county's own operator may not send B's case to A's grid, nor to a made-up department.
    with pytest.raises(Refused, match="is not a grid of this case's township"):
        county_store.dispatch(case_b.case_id, OP_COUNTY, ("grid", GA))
    with pytest.raises(Refused, match="there is no department"):
        county_store.dispatch(case_b.case_id, OP_COUNTY, ("department", "nonexistent_dept';--"))
    # Nothing of it was written.
    assert [e.action for e in county_store.timeline(case_b.case_id)] == [
        Action.REPORT,
        Action.ACCEPT,
    ]
    county_store.dispatch(case_b.case_id, OP_COUNTY, ("grid", GB), [("department", "police")])


def test_the_store_refuses_a_second_report_of_a_case(county_store: Store) -> None:
    first = county_store.report(OP_COUNTY, {"title": "原报告", "category": "9901", "grid_id": GB})
    with pytest.raises(Refused, match="already reported"):
        county_store.report(
            OP_COUNTY,
            {"title": "冒名", "category": "9901", "grid_id": GA},
            case_id=first.case_id,
        )
    # One arriving from elsewhere (a pull, a bundle), stamped long before the real report: left
    # out with a reason; the case keeps its report, its township and its place.
    early = first.reported_at - 86_400_000
    forged = Entry(
        new_id(),
        first.case_id,
        Action.REPORT,
        OP_COUNTY.id,
        OP_COUNTY.role,
        early,
        HlcStamp(early, 0, "FORG").encode(),
        {"title": "冒名", "category": "9901", "grid_id": GA, "township_code": A},
    )
    refused: list[str] = []
    county_store.apply_entries([forged], refused)
    assert refused and "a second report" in refused[0]
    state = county_store.case(first.case_id)
    assert state is not None and state.fields["grid_id"] == GB
    assert state.fields["title"] == "原报告"
    assert forged.id not in {e.id for e in county_store.timeline(first.case_id)}
    row = county_store.case_row(first.case_id)
    assert row is not None and row["township_code"] == B


def test_store_refusal_answers_without_writing(store: Store, actors: dict[str, Actor]) -> None:
    """``Store.refusal`` says what the county would refuse, without writing anything."""
    from tests.conftest import ZHANGWANG

    case = store.report(
        actors["operator"], {"title": "x", "category": "9901", "grid_id": f"{ZHANGWANG}001"}
    )
    store.accept(case.case_id, actors["operator"])
    state = store.case(case.case_id)
    payload = _lead("grid", GB)
    assert store.refusal(state, Action.DISPATCH, actors["operator"], payload) == (
        f"'{GB}' is not a grid of this case's township"
    )
    assert (
        store.refusal(state, Action.DISPATCH, actors["operator"], _lead("department", "pcs"))
        is None
    )


# -- both sides, one rule ------------------------------------------------------------------------


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[County, Session, Store, dict[str, dict[str, Any]]]]:
    """An in-process county and a store of township A holding the county's reference data for
    A's operator, as a sync leaves it."""
    acc.set_kdf_profile("light")
    try:
        with Database(str(tmp_path / "county.sqlite")) as db:
            made = County.initialise(db, "330825", demo_townships=[A, B])
            accounts = {a["login"]: a for a in made}
            county = County(db)
            op = accounts[f"{A}-op"]
            answer = county.login(
                op["login"], op["password"], device_id=new_id(), address="10.0.0.1"
            )
            session = county.authenticate("Bearer " + answer["token"])
            with Store.create(tmp_path / "a.db", scope=A, device_code="DEVA") as store:
                replica.apply_reference(store, county.reference(session))
                replica.set_state(store, {"account_id": op["id"]})
                yield county, session, store, accounts
    finally:
        acc.set_kdf_profile("standard")


def _wire(e: Entry) -> dict[str, Any]:
    from sync import protocol

    return protocol.entry_to_wire(e)


@pytest.mark.parametrize(
    "action, payload",
    [
        (Action.DISPATCH, lambda acc_: _lead("grid", acc_[f"{B}-gw"]["grids"][0])),
        (Action.DISPATCH, lambda acc_: _lead("department", "nonexistent_dept';--")),
        (
            Action.DISPATCH,
            lambda acc_: {
                "tasks": [
                    {"kind": "department", "assignee": "police", "lead": True},
                    {"kind": "grid", "assignee": acc_[f"{B}-gw"]["grids"][0], "lead": False},
                ]
            },
        ),
        (Action.MERGE, lambda acc_: {"into": new_id()}),
    ],
)
def test_the_device_refuses_what_the_county_refuses_with_the_same_reason(
    pair: tuple[County, Session, Store, dict[str, dict[str, Any]]], action: Action, payload: Any
) -> None:
    county, session, store, accounts = pair
    op = store.account(accounts[f"{A}-op"]["id"])
    assert op is not None and op.township == A  # the reference carries the account's township
    grid = accounts[f"{A}-gw"]["grids"][0]
    case = store.report(op, {"title": "本镇事件", "category": "9901", "grid_id": grid})
    if action == Action.DISPATCH:
        store.accept(case.case_id, op)
    # The county holds the case as the device pushed it.
    pushed = county.push(
        session,
        {"batch_id": new_id(), "entries": [_wire(e) for e in store.timeline(case.case_id)]},
        server_now=store.now(),
    )
    assert {r["status"] for r in pushed["results"]} == {"applied"}
    body = payload(accounts)
    with pytest.raises(Refused) as local:
        store.act(case.case_id, action, op, body)
    at = store.now()
    forged = Entry(
        new_id(), case.case_id, action, op.id, op.role, at, HlcStamp(at, 9, "DEVA").encode(), body
    )
    [result] = county.push(
        session, {"batch_id": new_id(), "entries": [_wire(forged)]}, server_now=at
    )["results"]
    assert result["status"] == "rejected"
    assert result["reason"] == local.value.reason


def test_before_the_first_sync_a_device_places_grids_by_their_code(tmp_path: Path) -> None:
    """A store that has not received the county's grids yet still refuses another township's
    places (its divisions are bundled) but lets the county judge a grid of its own township."""
    with Store.create(tmp_path / "fresh.db", scope=A, device_code="NEW1") as store:
        store.put_accounts([OP_A])
        ours = store.report(OP_A, {"title": "x", "category": "9901", "grid_id": GA})
        assert ours.fields["township_code"] == A
        with pytest.raises(Refused, match="not a grid known here"):
            store.report(OP_A, {"title": "x", "category": "9901", "grid_id": GB})
        store.accept(ours.case_id, OP_A)
        with pytest.raises(Refused, match="is not a grid of this case's township"):
            store.dispatch(ours.case_id, OP_A, ("grid", GB))
        # Departments not received yet: any name passes here; the county decides.
        store.dispatch(ours.case_id, OP_A, ("department", "police"))


def test_a_second_report_stored_by_an_older_version_never_becomes_the_report(
    county_store: Store,
) -> None:
    """A store (or county) that took a forged early report before this rule existed: the first
    report applied stays the case's report; the other is not part of the timeline."""
    first = county_store.report(OP_COUNTY, {"title": "原报告", "category": "9901", "grid_id": GB})
    early = first.reported_at - 86_400_000
    with county_store.write() as conn:
        rowid = conn.execute("SELECT rowid FROM cases WHERE id = ?", [first.case_id]).fetchone()
        conn.execute(
            "INSERT INTO case_events (id, case_rowid, action, actor, role, at, hlc, local, "
            "payload) VALUES (?, ?, 'report', ?, 'operator', ?, ?, 0, ?)",
            [
                new_id(),
                rowid[0],
                OP_COUNTY.id,
                early,
                HlcStamp(early, 0, "FORG").encode(),
                json.dumps({"title": "劫持", "category": "9901", "grid_id": GA}),
            ],
        )
    state = county_store.case(first.case_id)
    assert state is not None and state.fields["grid_id"] == GB and state.conflicts == []
    assert [e.action for e in county_store.timeline(first.case_id)] == [Action.REPORT]
    assert scope.one_report([]) == []


def test_the_county_counts_only_the_first_report_applied(
    pair: tuple[County, Session, Store, dict[str, dict[str, Any]]],
) -> None:
    county, session, store, accounts = pair
    op = store.account(accounts[f"{A}-op"]["id"])
    assert op is not None
    grid = accounts[f"{A}-gw"]["grids"][0]
    case = store.report(op, {"title": "原报告", "category": "9901", "grid_id": grid})
    [report] = store.timeline(case.case_id)
    county.push(session, {"batch_id": new_id(), "entries": [_wire(report)]}, server_now=store.now())
    # What an older county stored: a second report, stamped a day earlier, from elsewhere.
    early = report.at - 86_400_000
    forged = Entry(
        new_id(),
        case.case_id,
        Action.REPORT,
        op.id,
        op.role,
        early,
        HlcStamp(early, 0, "FORG").encode(),
        {"title": "劫持", "category": "9901", "township_code": B},
    )
    with county.db.write() as tx:
        tx.execute(
            "INSERT INTO entries (id, case_id, action, actor_id, role, at, hlc, payload, "
            "device_id, h, seq, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                forged.id,
                forged.case_id,
                "report",
                op.id,
                "operator",
                early,
                forged.hlc,
                json.dumps(forged.payload),
                "old",
                0,
                tx.next_seq(),
                early,
            ],
        )
    with county.db.read() as tx:
        state = county._project(tx, case.case_id)
        body = county._case_body(tx, case.case_id)
    assert state is not None and state.fields["title"] == "原报告"
    assert [e["id"] for e in body["entries"]] == [report.id]


def test_a_store_from_before_the_township_column_is_migrated_and_refetches_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "old.db"
    # A store made by a build that knew only the first two migrations.
    everything = list(schema.MIGRATIONS)
    monkeypatch.setattr(schema, "MIGRATIONS", everything[:2])
    with Store.create(path, scope=A, device_code="OLD1") as store:
        replica.set_state(store, {"reference_version": "7"})
        assert schema.schema_version(store.conn) == 2
    monkeypatch.setattr(schema, "MIGRATIONS", everything)
    with Store.open(path) as store:
        assert replica.state(store).get("reference_version", "") == ""  # fetched again
        store.put_accounts([OP_A])
        assert store.account(OP_A.id) == OP_A


def test_a_store_migrated_to_department_levels_refetches_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0007_department_level: the column, and the whole reference data fetched again so that
    the county departments are known before the next dispatch."""
    from sync.model.records import Department

    path = tmp_path / "old.db"
    everything = list(schema.MIGRATIONS)
    before = [m.name for m in everything].index("0007_department_level")
    monkeypatch.setattr(schema, "MIGRATIONS", everything[:before])
    with Store.create(path, scope=A, device_code="OLD2") as store:
        # That build's departments had no level (today's put_departments writes one).
        store.conn.execute("INSERT INTO departments (code, name) VALUES ('police', '派出所')")
        replica.set_state(store, {"reference_version": "9"})
    monkeypatch.setattr(schema, "MIGRATIONS", everything)
    with Store.open(path) as store:
        assert replica.state(store).get("reference_version", "") == ""
        assert store.departments() == [Department("police", "派出所")]
        store.put_departments([Department("housing", "县住房和城乡建设局", county=True)])
        assert store.reference().county_departments == frozenset({"housing"})
