"""Two devices of one township work on the same case offline, then sync: per-field merge,
field conflicts with both values, workflow conflicts — nothing silently lost."""

from __future__ import annotations

from collections.abc import Callable

from sync.model.records import Action, Status
from sync.store import CaseQuery, replica

from .conftest import TOWNSHIP_A, Device, api, grid_of, report_case

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"


def _pair(devices: Callable[..., Device]) -> tuple[Device, Device]:
    return devices(OP), devices(SUP)


def _share(a: Device, b: Device, case_id: str) -> None:
    assert a.sync().status == "ok"
    assert b.sync().status == "ok"
    assert b.store.case(case_id) is not None


def test_a_case_reaches_the_other_device(devices: Callable[..., Device]) -> None:
    a, b = _pair(devices)
    case_id = report_case(a, "路灯不亮", description="三号楼前的路灯坏了一周")
    report = a.sync()
    assert (report.status, report.pushed) == ("ok", 1)
    report = b.sync()
    assert report.pulled_entries == 1
    state = b.store.case(case_id)
    assert state is not None
    assert state.fields["title"] == "路灯不亮"
    assert state.case_no == a.store.case(case_id).case_no  # type: ignore[union-attr]
    # The case number carries the device code the county assigned at enrolment.
    assert a.result.device["code"] in state.case_no
    # Pulled cases are searchable like local ones (the projection and index are rebuilt).
    assert [r["id"] for r in b.store.cases(CaseQuery(text="路灯"))] == [case_id]


def test_nothing_changed_costs_one_round_trip(devices: Callable[..., Device]) -> None:
    a, b = _pair(devices)
    report_case(a)
    a.sync()
    b.sync()
    again = b.sync()
    assert again.status == "ok"
    assert again.round_trips == 1
    assert (again.pushed, again.pulled_entries) == (0, 0)


def test_edits_of_different_fields_both_win(devices: Callable[..., Device]) -> None:
    a, b = _pair(devices)
    case_id = report_case(a, "垃圾堆放", category="0301")
    _share(a, b, case_id)
    # Both offline: A changes the title, B the address.
    a.store.edit(case_id, a.actor, {"title": "河边垃圾堆放"})
    b.store.edit(case_id, b.actor, {"address": "小南海镇河滨路 12 号"})
    a.sync()
    b.sync()
    a.sync()
    for device in (a, b):
        state = device.store.case(case_id)
        assert state is not None
        assert state.fields["title"] == "河边垃圾堆放"
        assert state.fields["address"] == "小南海镇河滨路 12 号"
        assert state.field_conflicts == []
        assert state.conflicts == []


def test_same_field_twice_is_a_conflict_with_both_values(devices: Callable[..., Device]) -> None:
    a, b = _pair(devices)
    case_id = report_case(a, "邻里噪音", category="0101")
    _share(a, b, case_id)
    a.store.edit(case_id, a.actor, {"title": "邻里噪音纠纷（楼上装修）"})
    b.store.edit(case_id, b.actor, {"title": "邻里纠纷：夜间噪音"})
    a.sync()
    b.sync()
    a.sync()
    seen = []
    for device in (a, b):
        state = device.store.case(case_id)
        assert state is not None
        assert len(state.field_conflicts) == 1
        c = state.field_conflicts[0]
        assert c.field == "title"
        assert {c.winner_value, c.loser_value} == {"邻里噪音纠纷（楼上装修）", "邻里纠纷：夜间噪音"}
        assert state.fields["title"] == c.winner_value  # the provisional winner is shown
        seen.append((c.winner_value, c.loser_value, state.fields["title"]))
        listed = [x for x in replica.conflicts(device.store) if x["case_id"] == case_id]
        assert listed and listed[0]["fields"][0]["field"] == "title"
        assert device.store.case_row(case_id)["conflicts"] == 1  # type: ignore[index]
    assert seen[0] == seen[1], "both devices must show the same provisional winner"
    # A person settles it with an edit made with the conflict in view.
    a.store.edit(case_id, a.actor, {"title": "邻里纠纷：楼上夜间装修噪音"})
    a.sync()
    b.sync()
    for device in (a, b):
        state = device.store.case(case_id)
        assert state is not None
        assert state.field_conflicts == []
        assert state.fields["title"] == "邻里纠纷：楼上夜间装修噪音"
        assert replica.conflicts(device.store) == [] or all(
            x["case_id"] != case_id for x in replica.conflicts(device.store)
        )


def _to_verification(device: Device, case_id: str) -> None:
    s = device.store
    s.accept(case_id, device.actor)
    s.dispatch(case_id, device.actor, ("grid", grid_of(device)))
    s.feedback(case_id, device.actor, grid_of(device), "已清理完毕")
    assert s.case(case_id).status == Status.VERIFYING  # type: ignore[union-attr]


def test_close_against_redispatch_is_a_workflow_conflict(
    devices: Callable[..., Device],
) -> None:
    a, b = _pair(devices)
    case_id = report_case(a, "道路积水", category="0205")
    _to_verification(a, case_id)
    _share(a, b, case_id)
    # Offline: the operator closes it; the supervisor sends it back out meanwhile.
    a.store.verify(case_id, a.actor, passed=True, note="电话回访满意")
    b.store.dispatch(case_id, b.actor, ("department", "emergency"), note="需应急站复查")
    a.sync()
    b.sync()
    a.sync()
    timelines = []
    for device in (a, b):
        state = device.store.case(case_id)
        assert state is not None
        actions = [e.action for e in device.store.timeline(case_id)]
        assert Action.VERIFY_PASS in actions and actions.count(Action.DISPATCH) == 2
        assert len(state.conflicts) == 1, "the step that no longer fits is flagged"
        timelines.append(([e.id for e in device.store.timeline(case_id)], state.status))
    assert timelines[0] == timelines[1], "both devices agree on the merged timeline"
    # The county holds both steps too (nothing silently dropped there).
    body = api(
        b.server,
        "POST",
        "/v1/snapshot",
        b.token,
        json={"village_code": b.store.case_row(case_id)["village_code"]},  # type: ignore[index]
    ).json()
    county_ids = {e["id"] for c in body["cases"] if c["case_id"] == case_id for e in c["entries"]}
    assert set(timelines[0][0]) == county_ids
    # Settle: the supervisor voids the step that does not stand.
    loser = b.store.case(case_id).conflicts[0].entry_id  # type: ignore[union-attr]
    b.store.settle(case_id, b.actor, void=[loser], note="以复查为准")
    b.sync()
    a.sync()
    for device in (a, b):
        state = device.store.case(case_id)
        assert state is not None
        assert state.conflicts == []
        assert loser in state.voided
        assert len(device.store.timeline(case_id)) == len(timelines[0][0]) + 1


def _visit(device: Device, grid: str, content: str) -> str:
    from sync.model.clock import new_id

    visit_id = new_id()
    with device.store.write() as conn:
        # The store has no visit command yet; this is the row it will write (outbox trigger).
        conn.execute(
            "INSERT INTO visits (id, grid_code, staff_id, kind, at, household, content) "
            "VALUES (?, ?, ?, 'visit', ?, '王家', ?)",
            [visit_id, grid, "S1", device.store.now(), content],
        )
    return visit_id


def test_visits_reach_the_grid_and_the_township(devices: Callable[..., Device]) -> None:
    gw = devices(f"{TOWNSHIP_A}-gw")
    op = devices(OP)
    mine = gw.actor.grid_ids[0]
    visit_id = _visit(gw, mine, "走访独居老人，身体状况良好")
    assert gw.sync().pushed == 1
    op.sync()
    assert op.store.read("SELECT content, local FROM visits WHERE id = ?", [visit_id]) == [
        ("走访独居老人，身体状况良好", 0)
    ]
    # A correction on the field laptop replaces the diary entry everywhere.
    with gw.store.write() as conn:
        conn.execute(
            "UPDATE visits SET content = ? WHERE id = ?", ["走访独居老人，已送药", visit_id]
        )
    gw.sync()
    op.sync()
    assert op.store.read("SELECT content FROM visits WHERE id = ?", [visit_id]) == [
        ("走访独居老人，已送药",)
    ]
