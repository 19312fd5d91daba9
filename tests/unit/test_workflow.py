"""Property tests of the closed loop: any sequence of allowed actions keeps the invariants."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.model.clock import HybridClock
from sync.model.records import (
    DONE_STATUSES,
    Action,
    Actor,
    Entry,
    Level,
    Light,
    Role,
    Status,
    TaskState,
)
from sync.model.workflow import (
    ROLES,
    CaseState,
    Refused,
    allowed_actions,
    check,
    default_rules,
    project,
)

DAY = 86_400_000
T0 = 1_767_225_600_000  # 2026-01-01T00:00Z

OPERATOR = Actor("op", "值班员", Role.OPERATOR)
SUPERVISOR = Actor("sup", "分管领导", Role.SUPERVISOR)
ADMIN = Actor("adm", "县管理员", Role.COUNTY_ADMIN)
POLICE = Actor("pol", "派出所", Role.DEPARTMENT, department_code="police")
JUSTICE = Actor("jus", "司法所", Role.DEPARTMENT, department_code="justice")
ENFORCE = Actor("enf", "综合执法", Role.DEPARTMENT, department_code="enforce")
WORKER = Actor("gw", "网格员", Role.GRID_WORKER, grid_ids=("330825002222001",))
ACTORS = [OPERATOR, SUPERVISOR, ADMIN, POLICE, JUSTICE, ENFORCE, WORKER]
UNITS = {"police": POLICE, "justice": JUSTICE, "enforce": ENFORCE, "330825002222001": WORKER}

REPORT_FIELDS = {
    "title": "楼道堆放杂物",
    "description": "三楼楼道堆放纸箱，影响消防通道",
    "category": "0201",
    "grid_id": "330825002222001",
    "village_code": "330825002222",
    "address": "张王村8号",
}


class Timeline:
    """A case built one legal step at a time, as a device would."""

    def __init__(self, device: str = "A", start: int = T0) -> None:
        self.at = start
        self.clock = HybridClock(device, wall=lambda: self.at)
        self.entries: list[Entry] = []
        self.n = 0

    def entry(self, action: Action, actor: Actor, payload: dict[str, Any]) -> Entry:
        self.n += 1
        return Entry(
            f"{self.clock.device}-{self.n:04d}",
            "case-1",
            action,
            actor.id,
            actor.role,
            self.at,
            self.clock.now().encode(),
            payload,
        )

    def step(self, action: Action, actor: Actor, payload: dict[str, Any]) -> CaseState:
        state = project(self.entries) if self.entries else None
        reason = check(state, action, actor, payload, at=self.at)
        if reason is not None:
            raise Refused(action, reason)
        self.entries.append(self.entry(action, actor, payload))
        return project(self.entries)


def payload_for(action: Action, state: CaseState, at: int, draw: Any) -> tuple[Actor, dict]:
    """A valid actor and payload for an action the state allows (drawn at random)."""
    assigned = [t for t in state.tasks if t.state == TaskState.ASSIGNED]
    if action in (Action.RETURN, Action.FEEDBACK, Action.REQUEST_EXTENSION):
        task = draw(st.sampled_from(assigned))
        actor = UNITS.get(task.assignee, OPERATOR)
        if action == Action.REQUEST_EXTENSION and actor.role == Role.OPERATOR:
            actor = UNITS["police"]
        if action == Action.RETURN:
            return actor, {"task": task.assignee, "reason": "不属于本单位职责"}
        if action == Action.FEEDBACK:
            return actor, {"task": task.assignee, "result": "已现场处置完毕"}
        until = (state.handle_due or at) + draw(st.integers(1, 10)) * DAY
        return actor, {"task": task.assignee, "until": until, "reason": "需协调多个部门"}
    roles = ROLES[action]
    actor = draw(st.sampled_from([a for a in ACTORS if a.role in roles]))
    if action == Action.DISPATCH:
        units = draw(st.lists(st.sampled_from(sorted(UNITS)), min_size=1, max_size=3, unique=True))
        lead = draw(st.integers(0, len(units) - 1))
        tasks = [
            {
                "kind": "grid" if u.isdigit() else "department",
                "assignee": u,
                "lead": i == lead,
            }
            for i, u in enumerate(units)
        ]
        return actor, {"tasks": tasks}
    if action in (Action.REJECT, Action.VERIFY_FAIL, Action.ESCALATE):
        return actor, {"reason": "现场核实情况不符"}
    if action == Action.MERGE:
        return actor, {"into": "case-0"}
    if action == Action.HAND_DOWN:
        return actor, {"instructions": "请镇里牵头处置，三日内反馈"}
    if action == Action.REQUEST_PARK:
        return actor, {"reason": "涉及历史遗留问题", "review_on": at + 30 * DAY}
    if action == Action.EVALUATE:
        return actor, {
            "quality": draw(st.integers(1, 5)),
            "satisfaction": draw(st.sampled_from(["satisfied", "basic", "dissatisfied"])),
        }
    if action == Action.COMMENT:
        return actor, {"text": "已电话联系当事人"}
    if action == Action.EDIT:
        return actor, {
            "fields": {
                "address": {
                    "value": f"张王村{at % 97}号",
                    "base": state.field_source.get("address"),
                }
            }
        }
    return actor, {}


def invariants(state: CaseState, previous: CaseState | None, last: Action) -> None:
    assert isinstance(state.status, Status)
    assert not state.conflicts, state.conflicts
    if state.status in (Status.ARCHIVED, Status.EVALUATED):
        assert state.verified and state.feedbacks > 0, "archived without verified feedback"
    if state.status in DONE_STATUSES:
        assert state.verified
        assert all(t.state == TaskState.FED_BACK for t in state.active_tasks())
    if state.status == Status.VERIFYING:
        assert state.active_tasks()
        assert all(t.state == TaskState.FED_BACK for t in state.active_tasks())
    if state.status == Status.HANDLING:
        assert any(t.state == TaskState.ASSIGNED for t in state.tasks)
        assert sum(t.lead for t in state.active_tasks()) == 1
    before = previous.handle_due if previous is not None else None
    if before is not None and state.handle_due != before:
        # An extension moves the deadline on; resuming a parked case restarts its clock.
        assert last in (Action.APPROVE_EXTENSION, Action.RESUME), f"deadline moved by {last}"
        assert state.handle_due is not None
        if last == Action.APPROVE_EXTENSION:
            assert state.handle_due > before
    # Every later decision or closing settles pending requests: none waits on a case that
    # can no longer take the decision.
    if state.extension_pending is not None:
        assert state.status == Status.HANDLING
    if state.park_pending is not None:
        assert state.status in (Status.ACCEPTED, Status.HANDLING)
    if state.overdue_at is not None and state.on_time is not None:
        assert not state.on_time, "an overdue case counted as on time"
    if previous is not None and previous.overdue_at is not None:
        assert state.overdue_at == previous.overdue_at, "the overdue record was erased"
    if last == Action.VERIFY_PASS:
        assert all(t.state == TaskState.FED_BACK for t in state.active_tasks())
    assert state.level in Level
    # 上报升级 and 交办: a case waits for the county only at county level, and one handed down
    # is the township's again.
    if state.awaiting_county:
        assert state.level == Level.COUNTY and state.escalation == 1
    if state.escalation == 3:
        assert state.level < Level.COUNTY and state.handed_down is not None
    if last == Action.HAND_DOWN:
        assert state.level == Level.TOWNSHIP and state.status == Status.ACCEPTED
        assert not any(t.state == TaskState.ASSIGNED for t in state.tasks)
    if state.status not in (Status.REPORTED, Status.ACCEPTED, Status.HANDLING, Status.VERIFYING):
        assert state.light(state.last_at) == Light.NONE


def run_random_case(data: Any, timeline: Timeline, steps: int) -> list[Action]:
    draw = data.draw
    if draw(st.booleans()):
        timeline.step(Action.REPORT, draw(st.sampled_from([OPERATOR, WORKER])), REPORT_FIELDS)
    else:
        timeline.step(Action.SELF_HANDLE, WORKER, {**REPORT_FIELDS, "result": "当场劝离"})
    taken = []
    state = project(timeline.entries)
    for _ in range(steps):
        options = sorted(
            {a for actor in ACTORS for a in allowed_actions(state, actor)} - {Action.SETTLE}
        )
        if not options:
            break
        action = draw(st.sampled_from(options))
        timeline.at += draw(st.integers(1, 3 * DAY))
        actor, payload = payload_for(action, state, timeline.at, draw)
        previous = state
        state = timeline.step(action, actor, payload)
        invariants(state, previous, action)
        taken.append(action)
    return taken


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_sequence_of_allowed_actions_keeps_invariants(data: Any) -> None:
    timeline = Timeline()
    run_random_case(data, timeline, data.draw(st.integers(1, 25)))
    # The projection is a function of the set: any arrival order gives the same state.
    shuffled = list(timeline.entries)
    random.Random(data.draw(st.integers(0, 2**32))).shuffle(shuffled)
    assert dataclasses.asdict(project(shuffled)) == dataclasses.asdict(project(timeline.entries))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_every_refused_action_says_why(data: Any) -> None:
    timeline = Timeline()
    run_random_case(data, timeline, data.draw(st.integers(0, 12)))
    state = project(timeline.entries)
    actor = data.draw(st.sampled_from(ACTORS))
    action = data.draw(st.sampled_from([a for a in Action if a not in (Action.REPORT,)]))
    payload = data.draw(
        st.sampled_from([{}, {"reason": ""}, {"task": "nobody"}, {"tasks": []}, {"quality": 9}])
    )
    reason = check(state, action, actor, payload, at=timeline.at + 1)
    if reason is not None:
        assert isinstance(reason, str) and len(reason) > 8
    elif action not in allowed_actions(state, actor):
        # A payload-free action the precondition table does not list must still be legal.
        pytest.fail(f"{action} accepted for {actor.role} but not in allowed_actions")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_two_devices_merge_to_the_same_projection_in_any_order(data: Any) -> None:
    base = Timeline("A")
    run_random_case(data, base, data.draw(st.integers(0, 6)))
    fork_at = base.at
    a = Timeline("A", fork_at)
    a.entries = list(base.entries)
    a.n = base.n
    a.clock.observe(base.entries[-1].hlc)
    b = Timeline("B", fork_at)
    b.entries = list(base.entries)
    b.clock.observe(base.entries[-1].hlc)
    for device in (a, b):
        state = project(device.entries)
        for _ in range(data.draw(st.integers(0, 5))):
            options = sorted(
                {x for actor in ACTORS for x in allowed_actions(state, actor)} - {Action.SETTLE}
            )
            if not options:
                break
            action = data.draw(st.sampled_from(options))
            device.at += data.draw(st.integers(1, DAY))
            actor, payload = payload_for(action, state, device.at, data.draw)
            state = device.step(action, actor, payload)
    merged = {e.id: e for e in a.entries + b.entries}
    orders = [list(merged.values()) for _ in range(3)]
    for i, order in enumerate(orders):
        random.Random(i).shuffle(order)
    projections = [dataclasses.asdict(project(o)) for o in orders]
    assert projections[0] == projections[1] == projections[2]
    # Nothing is silently lost: every entry is either applied or flagged as a conflict.
    state = project(merged.values())
    flagged = {c.entry_id for c in state.conflicts}
    assert flagged <= set(merged)
    assert state.entries == len(merged)


def test_close_versus_redispatch_is_a_workflow_conflict_settled_by_voiding() -> None:
    base = Timeline("A")
    base.step(Action.REPORT, OPERATOR, REPORT_FIELDS)
    base.step(Action.ACCEPT, OPERATOR, {})
    base.step(
        Action.DISPATCH,
        OPERATOR,
        {"tasks": [{"kind": "department", "assignee": "police", "lead": True}]},
    )
    base.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已处理"})
    a, b = Timeline("A", base.at + 10), Timeline("B", base.at + 20)
    for device in (a, b):
        device.entries = list(base.entries)
        device.clock.observe(base.entries[-1].hlc)
    a.n = base.n
    a.step(Action.VERIFY_PASS, OPERATOR, {})  # device A closes …
    b.step(
        Action.DISPATCH,
        SUPERVISOR,
        {"tasks": [{"kind": "department", "assignee": "justice", "lead": True}]},
    )
    merged = {e.id: e for e in a.entries + b.entries}.values()
    state = project(merged)
    assert len(state.conflicts) == 1
    loser = state.conflicts[0]
    assert loser.action == Action.DISPATCH and "dispatch" in loser.reason
    assert state.status == Status.CLOSED
    # The supervisor decides the re-dispatch stands: the close is voided.
    close_id = a.entries[-1].id
    settle = b.entry(Action.SETTLE, SUPERVISOR, {"void": [close_id]})
    state = project([*merged, settle])
    assert not state.conflicts
    assert state.status == Status.HANDLING
    assert [t.assignee for t in state.active_tasks()] == ["justice"]


def test_concurrent_edits_of_one_field_keep_both_values() -> None:
    base = Timeline("A")
    report = base.step(Action.REPORT, OPERATOR, REPORT_FIELDS)
    source = report.field_source["address"]
    a = base.entry(
        Action.EDIT, OPERATOR, {"fields": {"address": {"value": "张王村9号", "base": source}}}
    )
    base.at += 5
    b = base.entry(
        Action.EDIT, WORKER, {"fields": {"address": {"value": "张王村10号", "base": source}}}
    )
    c = base.entry(
        Action.EDIT,
        WORKER,
        {"fields": {"title": {"value": "楼道堆物", "base": report.field_source["title"]}}},
    )
    state = project([*base.entries, a, b, c])
    assert state.fields["title"] == "楼道堆物"  # a different field: both edits win
    assert len(state.field_conflicts) == 1
    conflict = state.field_conflicts[0]
    assert {conflict.winner_value, conflict.loser_value} == {"张王村9号", "张王村10号"}
    assert state.fields["address"] == conflict.winner_value
    # Keeping the other value: an edit made with the conflict in view settles it.
    keep = base.entry(
        Action.EDIT,
        OPERATOR,
        {
            "fields": {
                "address": {"value": conflict.loser_value, "base": state.field_source["address"]}
            }
        },
    )
    settled = project([*base.entries, a, b, c, keep])
    assert not settled.field_conflicts and settled.fields["address"] == conflict.loser_value


def test_deadline_light_and_working_days() -> None:
    t = Timeline()
    t.at = 1_763_686_800_000  # 2025-11-21 09:00 Shanghai, a Friday
    t.step(Action.REPORT, OPERATOR, {**REPORT_FIELDS, "category": "0101"})  # 5 working days
    state = t.step(Action.ACCEPT, OPERATOR, {})
    # Friday + 5 working days = the following Friday, end of day in Shanghai.
    assert state.handle_due == 1_764_345_599_000  # 2025-11-28 23:59:59 +08:00
    assert state.light(t.at) == Light.GREEN
    assert state.light(state.warn_at or 0) == Light.YELLOW
    assert state.light(state.handle_due + 1) == Light.RED


def test_joint_dispatch_waits_for_every_subtask() -> None:
    t = Timeline()
    t.step(Action.REPORT, OPERATOR, REPORT_FIELDS)
    t.step(Action.ACCEPT, OPERATOR, {})
    t.step(
        Action.DISPATCH,
        OPERATOR,
        {
            "tasks": [
                {"kind": "department", "assignee": "justice", "lead": True},
                {"kind": "department", "assignee": "police", "lead": False},
            ]
        },
    )
    state = t.step(Action.FEEDBACK, JUSTICE, {"task": "justice", "result": "调解完成"})
    assert state.status == Status.HANDLING
    assert Action.VERIFY_PASS not in allowed_actions(state, OPERATOR)
    reason = check(state, Action.VERIFY_PASS, OPERATOR, {}, at=t.at)
    assert reason and "verification" in reason
    state = t.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已出警"})
    assert state.status == Status.VERIFYING


def test_roles_are_enforced_with_reasons() -> None:
    t = Timeline()
    t.step(Action.REPORT, WORKER, REPORT_FIELDS)
    state = project(t.entries)
    assert state.level == Level.GRID
    reason = check(state, Action.ACCEPT, WORKER, {}, at=t.at)
    assert reason == "a grid_worker may not accept a case"
    with pytest.raises(Refused, match="needs a reason"):
        t.step(Action.REJECT, OPERATOR, {"reason": "  "})
    # A department may only act on its own sub-task.
    t.step(Action.ACCEPT, OPERATOR, {})
    t.step(
        Action.DISPATCH,
        OPERATOR,
        {"tasks": [{"kind": "department", "assignee": "police", "lead": True}]},
    )
    assert check(
        project(t.entries), Action.FEEDBACK, JUSTICE, {"task": "police", "result": "x"}, at=t.at
    )


def test_escalation_climbs_levels_and_stops_at_county() -> None:
    t = Timeline()
    t.step(Action.REPORT, WORKER, REPORT_FIELDS)
    for expected in (Level.VILLAGE, Level.TOWNSHIP, Level.COUNTY):
        state = t.step(Action.ESCALATE, OPERATOR, {"reason": "本级无法解决"})
        assert state.level == expected
    assert Action.ESCALATE not in allowed_actions(state, OPERATOR)


def test_uncovered_year_falls_back_to_weekdays_and_says_so() -> None:
    calendar = default_rules().calendar
    assert calendar.covers(2026)
    assert not calendar.covers(2099)
    due = calendar.working_days_due(4_102_444_800_000, 1)  # 2100-01-01 (a Friday) + 1
    assert 2100 in calendar.fallback_years
    assert due == 4_102_761_599_000  # Monday 2100-01-04 23:59:59 +08:00


def test_concurrent_first_edits_of_an_empty_field_conflict() -> None:
    base = Timeline("A")
    fields = {k: v for k, v in REPORT_FIELDS.items() if k != "address"}
    base.step(Action.REPORT, OPERATOR, fields)
    first = base.entry(
        Action.EDIT, OPERATOR, {"fields": {"address": {"value": "8号", "base": None}}}
    )
    base.at += 5
    second = base.entry(
        Action.EDIT, WORKER, {"fields": {"address": {"value": "9号", "base": None}}}
    )
    state = project([*base.entries, first, second])
    assert [(c.winner_value, c.loser_value) for c in state.field_conflicts] == [("9号", "8号")]
    # One device alone filling the field in is no conflict.
    assert not project([*base.entries, first]).field_conflicts
