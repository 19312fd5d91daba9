"""Five levels in one loop (五级贯通): a case escalated to the county is the county's.

The county command centre takes it in (上报待受理 → 受理), dispatches it to its own bureaus or
hands it back down to the township (交办) with instructions; the township then handles it as its
own case. While the case is at county level a township account follows it read-only: no
command step, no edit, no 挂账 request, no 督办 — only its units' own sub-tasks and comments.
The same rule holds in the workflow (``check``/``allowed_actions``, what the app offers) and in
the scope check the county runs on every pushed entry.
"""

from __future__ import annotations

from typing import Any

import pytest

from sync.model import scope
from sync.model.clock import HybridClock
from sync.model.records import Action, Actor, Entry, Level, Role, Status, TaskState
from sync.model.workflow import (
    COUNTY_OWNS,
    CaseState,
    Refused,
    allowed_actions,
    check,
    project,
)

A = "330825102"
VA = f"{A}201"
GA = f"{VA}001"
DAY = 86_400_000
T0 = 1_767_225_600_000

REF = scope.Reference(
    grids={GA: VA},
    villages={VA: A},
    townships=frozenset({A}),
    departments=frozenset({"police", "housing"}),
    county_departments=frozenset({"housing"}),
)

OP_A = Actor("op-a", "值班员A", Role.OPERATOR, township=A)
SUP_A = Actor("sup-a", "分管领导A", Role.SUPERVISOR, township=A)
GW_A = Actor("gw-a", "网格员A", Role.GRID_WORKER, grid_ids=(GA,), township=A)
POLICE_A = Actor("pol-a", "派出所A", Role.DEPARTMENT, "police", township=A)
HOUSING = Actor("hou", "县住建局", Role.DEPARTMENT, "housing")
OP_C = Actor("op-c", "县综合指挥中心值班员", Role.OPERATOR)
SUP_C = Actor("sup-c", "县分管领导", Role.SUPERVISOR)

REPORT = {
    "title": "小区排水管网破损",
    "category": "0201",
    "grid_id": GA,
    "village_code": VA,
    "township_code": A,
}


class Case:
    """A case built one checked step at a time (the workflow and the scope rule, as a store)."""

    def __init__(self) -> None:
        self.at = T0
        self.clock = HybridClock("D", wall=lambda: self.at)
        self.entries: list[Entry] = []

    @property
    def state(self) -> CaseState:
        return project(self.entries)

    def refusal(self, action: Action, actor: Actor, payload: dict[str, Any]) -> str | None:
        state = project(self.entries) if self.entries else None
        reason = check(state, action, actor, payload, at=self.at)
        if reason is not None:
            return reason
        view = None if state is None else scope.view_of(state, REF)
        keys = scope.actor_keys(actor, A if actor.township else A[:6])
        found = scope.check_entry(view, action, actor, payload, ref=REF, mine=keys)
        return None if found is None else found.reason

    def step(
        self, action: Action, actor: Actor, payload: dict[str, Any] | None = None
    ) -> CaseState:
        payload = payload or {}
        self.at += DAY // 4
        reason = self.refusal(action, actor, payload)
        if reason is not None:
            raise Refused(action, reason)
        n = len(self.entries) + 1
        self.entries.append(
            Entry(
                f"e{n:03d}",
                "c1",
                action,
                actor.id,
                actor.role,
                self.at,
                self.clock.now().encode(),
                payload,
            )
        )
        return self.state


def _lead(kind: str, code: str) -> dict[str, Any]:
    return {"tasks": [{"kind": kind, "assignee": code, "lead": True}]}


def escalated(dispatched: bool = True) -> Case:
    """A township case, accepted (and dispatched) by the township, escalated to the county."""
    case = Case()
    case.step(Action.REPORT, OP_A, REPORT)
    case.step(Action.ACCEPT, OP_A)
    if dispatched:
        case.step(Action.DISPATCH, OP_A, _lead("department", "police"))
    case.step(Action.ESCALATE, OP_A, {"reason": "涉及县级排水管网改造", "to": 4})
    return case


def test_an_escalated_case_waits_for_the_county_and_the_county_takes_it_in() -> None:
    case = escalated()
    s = case.state
    assert s.level == Level.COUNTY and s.status == Status.ACCEPTED
    assert s.awaiting_county and s.escalation == 1  # 上报待受理
    # The township's dispatch was taken back (已收回), not returned by the unit.
    assert [t.state for t in s.tasks] == [TaskState.WITHDRAWN]
    assert Action.ACCEPT in allowed_actions(s, OP_C)
    s = case.step(Action.ACCEPT, OP_C)
    assert not s.awaiting_county and s.escalation == 2
    assert s.status == Status.ACCEPTED
    # Taken in once: a second 受理 is refused.
    assert Action.ACCEPT not in allowed_actions(s, OP_C)
    assert case.refusal(Action.ACCEPT, OP_C, {}) is not None


def test_an_escalated_case_not_yet_accepted_is_accepted_by_the_county_with_its_clock() -> None:
    case = Case()
    case.step(Action.REPORT, GW_A, REPORT)
    case.step(Action.ESCALATE, GW_A, {"reason": "村里解决不了", "to": 4})
    s = case.state
    assert s.status == Status.REPORTED and s.awaiting_county
    s = case.step(Action.ACCEPT, OP_C)
    assert s.status == Status.ACCEPTED and s.handle_due is not None and s.escalation == 2


def test_a_township_account_follows_a_county_case_read_only() -> None:
    case = escalated()
    s = case.state
    for actor in (OP_A, SUP_A, GW_A):
        allowed = set(allowed_actions(s, actor))
        assert allowed <= {Action.COMMENT}, (actor.role, allowed)
    # Each step the township might try is refused — by the workflow and by the scope rule the
    # county runs — with the same plain reason.
    tries = [
        (Action.ACCEPT, OP_A, {}),
        (Action.DISPATCH, OP_A, _lead("department", "police")),
        (Action.HAND_DOWN, OP_A, {"instructions": "镇里自己办"}),
        (Action.EDIT, OP_A, {"fields": {"title": {"value": "改个标题", "base": "e001"}}}),
        (Action.EDIT, GW_A, {"fields": {"address": {"value": "张王村8号", "base": None}}}),
        (Action.REQUEST_PARK, OP_A, {"reason": "历史遗留", "review_on": case.at + 30 * DAY}),
        (Action.URGE, SUP_A, {"note": "抓紧"}),
        (Action.SETTLE, OP_A, {"void": ["e003"]}),
    ]
    for action, actor, payload in tries:
        assert case.refusal(action, actor, payload) == COUNTY_OWNS, action
        view = scope.view_of(s, REF)
        found = scope.check_entry(
            view, action, actor, payload, ref=REF, mine=scope.actor_keys(actor, A)
        )
        assert found is not None and found.code == "not_allowed", action
        assert found.reason == COUNTY_OWNS
    # A comment is not a step on the case.
    case.step(Action.COMMENT, OP_A, {"text": "群众又来电催问"})
    # The county may do all of it.
    assert case.refusal(Action.URGE, SUP_C, {"note": "请县住建局加快"}) is None
    assert (
        case.refusal(Action.EDIT, OP_C, {"fields": {"title": {"value": "x", "base": "e001"}}})
        is None
    )


def test_the_scope_rule_reads_the_level_from_the_index_without_projecting() -> None:
    def no_projection() -> CaseState:
        raise AssertionError("the rule projected the case")

    view = scope.CaseView(scope.place_keys(A, {GA}), no_projection, level=int(Level.COUNTY))
    mine = scope.actor_keys(OP_A, A)
    found = scope.check_entry(view, Action.EDIT, OP_A, {"fields": {}}, ref=REF, mine=mine)
    assert found is not None and found.reason == COUNTY_OWNS
    # A comment or a unit's own sub-task needs no level at all.
    assert scope.check_entry(view, Action.COMMENT, OP_A, {"text": "x"}, ref=REF, mine=mine) is None
    township = scope.CaseView(scope.place_keys(A, {GA}), no_projection, level=int(Level.TOWNSHIP))
    assert scope.check_entry(township, Action.URGE, OP_A, {}, ref=REF, mine=mine) is None


def test_the_county_dispatches_to_its_bureau_and_the_bureau_and_township_units_handle_it() -> None:
    case = escalated()
    s = case.step(
        Action.DISPATCH,
        OP_C,
        {
            "tasks": [
                {"kind": "department", "assignee": "housing", "lead": True},
                {"kind": "department", "assignee": "police", "lead": False},
            ]
        },
    )
    assert s.status == Status.HANDLING and s.escalation == 2  # a dispatch takes it in too
    # The township's police (a 1+N unit) handles its own part; the township operator may not
    # feed back for the county's bureau.
    assert Action.FEEDBACK in allowed_actions(s, POLICE_A)
    assert Action.FEEDBACK not in allowed_actions(s, OP_A)
    assert (
        case.refusal(Action.FEEDBACK, OP_A, {"task": "housing", "result": "已修复"}) == COUNTY_OWNS
    )
    case.step(Action.FEEDBACK, POLICE_A, {"task": "police", "result": "已维持现场秩序"})
    s = case.step(Action.FEEDBACK, HOUSING, {"task": "housing", "result": "管网已修复"})
    assert s.status == Status.VERIFYING
    assert case.refusal(Action.VERIFY_PASS, OP_A, {}) == COUNTY_OWNS
    assert case.step(Action.VERIFY_PASS, OP_C, {}).status == Status.CLOSED


def test_the_county_hands_a_case_down_and_the_township_handles_it_as_its_own() -> None:
    case = escalated()
    case.step(Action.ACCEPT, OP_C)
    case.step(Action.DISPATCH, OP_C, _lead("department", "housing"))
    # Instructions are required.
    assert case.refusal(Action.HAND_DOWN, OP_C, {}) == (
        "handing a case down needs instructions for the township"
    )
    s = case.step(Action.HAND_DOWN, OP_C, {"instructions": "属镇级职责，请镇里牵头，三日内办结"})
    assert s.level == Level.TOWNSHIP and s.status == Status.ACCEPTED
    assert s.escalation == 3 and s.hand_downs == 1
    assert s.handed_down is not None
    assert s.handed_down["instructions"] == "属镇级职责，请镇里牵头，三日内办结"
    assert s.handed_down["by"] == OP_C.id
    # The county bureau's sub-task was taken back.
    assert [(t.assignee, t.state) for t in s.tasks] == [("housing", TaskState.WITHDRAWN)]
    # The township has it back: it dispatches to its own units, not to the county's bureau.
    assert Action.DISPATCH in allowed_actions(s, OP_A)
    assert "county department" in (
        case.refusal(Action.DISPATCH, OP_A, _lead("department", "housing")) or ""
    )
    s = case.step(Action.DISPATCH, OP_A, _lead("department", "police"))
    assert s.status == Status.HANDLING and s.escalation == 3
    case.step(Action.FEEDBACK, POLICE_A, {"task": "police", "result": "已处置"})
    assert case.step(Action.VERIFY_PASS, OP_A, {}).status == Status.CLOSED


def test_only_the_county_hands_down_and_only_a_county_case_it_holds() -> None:
    township = Case()
    township.step(Action.REPORT, OP_A, REPORT)
    township.step(Action.ACCEPT, OP_A)
    assert township.refusal(Action.HAND_DOWN, OP_C, {"instructions": "x"}) == (
        "only a case at county level can be handed down"
    )
    case = Case()
    case.step(Action.REPORT, GW_A, REPORT)
    case.step(Action.ESCALATE, GW_A, {"reason": "解决不了", "to": 4})
    # Not yet accepted by anyone: the county takes it in first.
    assert case.refusal(Action.HAND_DOWN, OP_C, {"instructions": "x"}) == (
        "only a case the county has accepted and not yet closed can be handed down"
    )
    case.step(Action.ACCEPT, OP_C)
    assert case.refusal(Action.HAND_DOWN, OP_A, {"instructions": "x"}) == COUNTY_OWNS
    assert case.refusal(Action.HAND_DOWN, POLICE_A, {"instructions": "x"}) is not None
    assert case.refusal(Action.HAND_DOWN, SUP_C, {"instructions": "x"}) is None


def test_a_case_handed_down_can_be_escalated_again_and_waits_for_the_county_again() -> None:
    case = escalated(dispatched=False)
    case.step(Action.HAND_DOWN, OP_C, {"instructions": "请镇里处置"})
    s = case.step(Action.ESCALATE, OP_A, {"reason": "镇里协调不了", "to": 4})
    assert s.awaiting_county and s.handed_down is None and s.hand_downs == 1


@pytest.mark.parametrize("request_action", [Action.REQUEST_EXTENSION, Action.REQUEST_PARK])
def test_pending_requests_are_counted_for_the_supervisor(request_action: Action) -> None:
    case = Case()
    case.step(Action.REPORT, OP_A, REPORT)
    case.step(Action.ACCEPT, OP_A)
    case.step(Action.DISPATCH, OP_A, _lead("department", "police"))
    assert case.state.pending == 0
    if request_action == Action.REQUEST_EXTENSION:
        until = (case.state.handle_due or 0) + 5 * DAY
        payload = {"task": "police", "until": until, "reason": "需协调"}
        s = case.step(request_action, POLICE_A, payload)
        assert s.pending == 1
        s = case.step(Action.APPROVE_EXTENSION, SUP_A)
    else:
        s = case.step(request_action, OP_A, {"reason": "历史遗留", "review_on": case.at + 30 * DAY})
        assert s.pending == 2
        s = case.step(Action.DENY_PARK, SUP_A, {"reason": "可以办"})
    assert s.pending == 0
