"""The loop's rules as a township and a county run it (issue 10, "The loop's rules").

Each test walks one case through the steps a command room takes and checks the projection:
pending requests settle when the case moves on, an extension granted late keeps the overdue
record, parking stops the handling clock, and escalation to the county takes the case out of
the township's hands (its units' sub-tasks are withdrawn, not returned).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sync.model import scope
from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, to_millis
from sync.model.records import Action, Actor, Level, Light, Role, Status, TaskState
from sync.model.workflow import CaseState, allowed_actions, check, project
from tests.unit.test_workflow import (
    JUSTICE,
    OPERATOR,
    POLICE,
    REPORT_FIELDS,
    SUPERVISOR,
    WORKER,
    Timeline,
)

HOUR = 3_600_000
DAY = 24 * HOUR
TOWNSHIP = "330825002"
GRID = "330825002222001"
TOWN_OP = Actor("op-t", "镇值班员", Role.OPERATOR, township=TOWNSHIP)
TOWN_SUP = Actor("sup-t", "镇分管领导", Role.SUPERVISOR, township=TOWNSHIP)
TOWN_POLICE = Actor("pol-t", "派出所", Role.DEPARTMENT, "police", township=TOWNSHIP)
COUNTY_OP = Actor("op-c", "县值班员", Role.OPERATOR)  # a county-level account: no township


def at(day: str, hour: int = 9) -> Millis:
    """``2026-09-03`` at ``hour``:00 in Shanghai."""
    d = dt.date.fromisoformat(day)
    return to_millis(dt.datetime(d.year, d.month, d.day, hour, tzinfo=SHANGHAI))


def end_of(day: str) -> Millis:
    d = dt.date.fromisoformat(day)
    return to_millis(dt.datetime(d.year, d.month, d.day, 23, 59, 59, tzinfo=SHANGHAI))


def lead(assignee: str, *assisting: str) -> dict[str, Any]:
    def kind(u: str) -> str:
        return "grid" if u.isdigit() else "department"

    tasks = [{"kind": kind(assignee), "assignee": assignee, "lead": True}]
    tasks += [{"kind": kind(u), "assignee": u, "lead": False} for u in assisting]
    return {"tasks": tasks}


def handling(*units: str, accepted: Millis | None = None) -> Timeline:
    """A 0201 case (3 working days) accepted on Thursday 2026-09-03 09:00 (due end of Tuesday
    09-08) and dispatched to ``units`` (the first leads)."""
    t = Timeline(start=accepted or at("2026-09-03"))
    t.step(Action.REPORT, OPERATOR, REPORT_FIELDS)
    state = t.step(Action.ACCEPT, OPERATOR, {})
    assert state.handle_due == end_of("2026-09-08")
    t.at += 600_000
    t.step(Action.DISPATCH, OPERATOR, lead(*(units or ("police",))))
    return t


def ask_extension(t: Timeline, unit: Actor, task: str, until: Millis) -> CaseState:
    payload = {"task": task, "until": until, "reason": "需协调"}
    return t.step(Action.REQUEST_EXTENSION, unit, payload)


# -- pending requests settle when the case moves on --------------------------------------------


def test_a_pending_extension_lapses_when_the_unit_feeds_back_and_stays_gone_to_the_end() -> None:
    t = handling("police")
    t.at += HOUR
    assert ask_extension(t, POLICE, "police", end_of("2026-09-15")).extension_pending
    t.at += HOUR
    state = t.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已处置"})
    assert state.status == Status.VERIFYING
    assert state.extension_pending is None and state.lapsed_requests == 1
    assert Action.APPROVE_EXTENSION not in allowed_actions(state, SUPERVISOR)
    request = next(e for e in t.entries if e.action == Action.REQUEST_EXTENSION)
    assert state.lapsed == [request.id]  # the history marks the request that lapsed
    for action, payload in (
        (Action.VERIFY_PASS, {}),
        (Action.ARCHIVE, {}),
        (Action.EVALUATE, {"quality": 5, "satisfaction": "satisfied"}),
    ):
        t.at += HOUR
        state = t.step(action, OPERATOR, payload)
        assert state.extension_pending is None, action
    assert state.status == Status.EVALUATED
    assert state.extensions == 0 and state.handle_due == end_of("2026-09-08")


def test_a_pending_extension_lapses_when_the_requesting_unit_no_longer_holds_a_task() -> None:
    # Joint dispatch: the assisting unit asks for more time, then returns its sub-task.
    t = handling("police", "justice")
    t.at += HOUR
    ask_extension(t, JUSTICE, "justice", end_of("2026-09-15"))
    t.at += HOUR
    state = t.step(Action.RETURN, JUSTICE, {"task": "justice", "reason": "不属于本单位职责"})
    assert state.status == Status.HANDLING  # the lead still works it
    assert state.extension_pending is None and state.lapsed_requests == 1
    # The lead's own request, by contrast, waits while the lead still holds its task.
    t.at += HOUR
    state = ask_extension(t, POLICE, "police", end_of("2026-09-15"))
    assert state.extension_pending is not None
    assert Action.APPROVE_EXTENSION in allowed_actions(state, SUPERVISOR)


@pytest.mark.parametrize(
    "step, actor, payload",
    [
        (Action.ESCALATE, OPERATOR, {"reason": "本级无法解决"}),
        (Action.RETURN, POLICE, {"task": "police", "reason": "派错单位"}),
    ],
)
def test_escalating_or_returning_the_dispatch_settles_both_pending_requests(
    step: Action, actor: Actor, payload: dict[str, Any]
) -> None:
    t = handling("police")
    t.at += HOUR
    ask_extension(t, POLICE, "police", end_of("2026-09-15"))
    park = {"reason": "历史遗留", "review_on": t.at + 30 * DAY}
    state = t.step(Action.REQUEST_PARK, POLICE, park)
    assert state.extension_pending and state.park_pending
    t.at += HOUR
    state = t.step(step, actor, payload)
    assert state.status == Status.ACCEPTED
    assert state.extension_pending is None
    # A case awaiting dispatch may still be parked: the park request stands.
    assert state.park_pending is not None and state.lapsed_requests == 1
    t.at += HOUR
    state = t.step(Action.APPROVE_PARK, SUPERVISOR, {})
    assert state.status == Status.PARKED and state.park_pending is None


def test_a_pending_park_request_lapses_when_the_case_goes_to_verification() -> None:
    t = handling("police")
    t.at += HOUR
    t.step(Action.REQUEST_PARK, POLICE, {"reason": "历史遗留", "review_on": t.at + 30 * DAY})
    state = t.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已处置"})
    assert state.status == Status.VERIFYING
    assert state.park_pending is None and state.lapsed_requests == 1
    assert Action.APPROVE_PARK not in allowed_actions(state, SUPERVISOR)


# -- an extension granted late keeps the overdue record ----------------------------------------


def test_an_extension_granted_after_the_deadline_keeps_the_overdue_and_is_not_on_time() -> None:
    t = handling("police")
    t.at = at("2026-09-16")  # 8 days past the deadline (end of 09-08)
    state = project(t.entries)
    assert state.light(t.at) == Light.RED and state.overdue_at is None
    assert state.was_overdue(t.at)
    ask_extension(t, POLICE, "police", end_of("2026-09-25"))
    t.at += HOUR
    state = t.step(Action.APPROVE_EXTENSION, SUPERVISOR, {})
    assert state.handle_due == end_of("2026-09-25") and state.extensions == 1
    # The light follows the new deadline, but the record of the miss stays.
    assert state.light(t.at) == Light.GREEN
    assert state.overdue_at == end_of("2026-09-08")
    assert state.was_overdue() and state.was_overdue(t.at)
    t.at += DAY
    t.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已处置"})
    state = t.step(Action.VERIFY_PASS, OPERATOR, {})
    assert state.status == Status.CLOSED
    assert state.closed_at is not None and state.closed_at <= state.handle_due
    assert state.on_time is False  # closed within the extension, but the extension came late
    t.at += HOUR
    t.step(Action.ARCHIVE, OPERATOR, {})
    state = t.step(Action.EVALUATE, OPERATOR, {"quality": 4, "satisfaction": "satisfied"})
    assert state.evaluation is not None and state.evaluation["timely"] is False


def test_an_extension_granted_before_the_deadline_is_on_time_when_kept() -> None:
    t = handling("police")
    t.at = at("2026-09-08", 10)  # the deadline's day, before its end
    ask_extension(t, POLICE, "police", end_of("2026-09-15"))
    t.at += HOUR
    t.step(Action.APPROVE_EXTENSION, SUPERVISOR, {})
    t.at = at("2026-09-14")
    t.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已处置"})
    state = t.step(Action.VERIFY_PASS, OPERATOR, {})
    assert state.overdue_at is None and not state.was_overdue(t.at)
    assert state.on_time is True


def test_a_request_made_late_records_the_overdue_even_if_denied() -> None:
    t = handling("police")
    t.at = at("2026-09-10")
    state = ask_extension(t, POLICE, "police", end_of("2026-09-20"))
    assert state.overdue_at == end_of("2026-09-08")
    t.at += HOUR
    state = t.step(Action.DENY_EXTENSION, SUPERVISOR, {})
    assert state.overdue_at == end_of("2026-09-08") and state.handle_due == end_of("2026-09-08")


# -- parking stops the clock --------------------------------------------------------------------


def test_parking_stops_the_clock_and_resuming_restarts_it_with_the_working_days_left() -> None:
    # Accepted Thu 09-03, due end of Tue 09-08; parked Sunday 09-06 with two working days left
    # (Mon 09-07, Tue 09-08); resumed Thu 11-12: due end of Mon 11-16 (Fri 11-13, Mon 11-16).
    t = handling("police")
    t.at = at("2026-09-05")
    park = {"reason": "涉及历史遗留问题", "review_on": at("2026-11-12")}
    t.step(Action.REQUEST_PARK, OPERATOR, park)
    t.at = at("2026-09-06", 10)
    state = t.step(Action.APPROVE_PARK, SUPERVISOR, {})
    assert state.status == Status.PARKED and state.clock_left == ("days", 2)
    # While parked no deadline runs: not red on 11-11, though past the old deadline.
    assert state.light(at("2026-11-11")) == Light.NONE
    assert not state.was_overdue(at("2026-11-11"))
    t.at = at("2026-11-12")
    state = t.step(Action.RESUME, OPERATOR, {})
    assert state.status == Status.HANDLING
    assert state.handle_due == end_of("2026-11-16")
    assert state.light(t.at) != Light.RED and state.overdue_at is None
    t.at = at("2026-11-16", 15)
    t.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已处置"})
    state = t.step(Action.VERIFY_PASS, OPERATOR, {})
    assert state.on_time is True


def test_parking_an_urgent_case_keeps_the_hours_left() -> None:
    t = Timeline(start=at("2026-09-03"))
    t.step(Action.REPORT, OPERATOR, {**REPORT_FIELDS, "urgency": "urgent"})
    state = t.step(Action.ACCEPT, OPERATOR, {})
    assert state.handle_due == at("2026-09-03") + 4 * HOUR  # 0201 urgent: 4 hours
    t.step(Action.DISPATCH, OPERATOR, lead("police"))
    t.at += HOUR
    t.step(Action.REQUEST_PARK, POLICE, {"reason": "等待鉴定", "review_on": t.at + 10 * DAY})
    t.at += HOUR  # parked with 2 hours left
    t.step(Action.APPROVE_PARK, SUPERVISOR, {})
    t.at += 5 * DAY
    state = t.step(Action.RESUME, OPERATOR, {})
    assert state.handle_due == t.at + 2 * HOUR


def test_a_case_parked_when_already_overdue_stays_overdue_by_the_same_time_only() -> None:
    t = handling("police")
    t.at = at("2026-09-10")
    t.step(Action.REQUEST_PARK, OPERATOR, {"reason": "历史遗留", "review_on": at("2026-10-20")})
    parked_at = t.at + HOUR
    t.at = parked_at
    state = t.step(Action.APPROVE_PARK, SUPERVISOR, {})
    late = parked_at - end_of("2026-09-08")
    assert state.overdue_at == end_of("2026-09-08") and state.clock_left == ("late", late)
    t.at = at("2026-10-20")
    state = t.step(Action.RESUME, OPERATOR, {})
    assert state.handle_due == t.at - late  # overdue by what it was, not by the parked weeks
    assert state.light(t.at) == Light.RED and state.overdue_at == end_of("2026-09-08")


# -- escalation to the county ------------------------------------------------------------------


def test_escalation_withdraws_the_units_tasks_rather_than_returning_them() -> None:
    t = Timeline(start=at("2026-09-03"))
    t.step(Action.REPORT, WORKER, REPORT_FIELDS)
    t.step(Action.ACCEPT, OPERATOR, {})
    t.step(Action.DISPATCH, OPERATOR, lead(GRID, "police"))
    t.at += HOUR
    state = t.step(Action.ESCALATE, OPERATOR, {"reason": "网格无法解决"})
    assert [t.state for t in state.tasks] == [TaskState.WITHDRAWN, TaskState.WITHDRAWN]
    assert state.active_tasks() == [] and state.lead_task() is None
    assert state.status == Status.ACCEPTED


def _county_case() -> Timeline:
    t = Timeline(start=at("2026-09-03"))
    t.step(Action.REPORT, TOWN_OP, {**REPORT_FIELDS, "township_code": TOWNSHIP})
    t.step(Action.ACCEPT, TOWN_OP, {})
    t.step(Action.DISPATCH, TOWN_OP, lead("police"))
    t.at += HOUR
    state = t.step(Action.ESCALATE, TOWN_OP, {"reason": "涉及多个乡镇，本级无法解决", "to": 4})
    assert state.level == Level.COUNTY
    return t


def test_after_escalation_to_the_county_only_county_accounts_dispatch() -> None:
    t = _county_case()
    state = project(t.entries)
    for actor in (TOWN_OP, TOWN_SUP):
        assert Action.DISPATCH not in allowed_actions(state, actor)
        reason = check(state, Action.DISPATCH, actor, lead("police"), at=t.at)
        assert reason == (
            "the case was escalated to the county: the county command centre takes this step"
        )
    # The township still sees it and may comment; nothing else (督办 comes from the county).
    assert set(allowed_actions(state, TOWN_OP)) == {Action.COMMENT}
    assert Action.DISPATCH in allowed_actions(state, COUNTY_OP)
    # The county hands it down to the township's police (交办), which still feeds back; the
    # county verifies.
    t.at += HOUR
    t.step(Action.DISPATCH, COUNTY_OP, lead("police"))
    state = t.step(Action.FEEDBACK, TOWN_POLICE, {"task": "police", "result": "已协调处理"})
    assert state.status == Status.VERIFYING
    assert Action.VERIFY_PASS not in allowed_actions(state, TOWN_OP)
    assert check(state, Action.VERIFY_PASS, TOWN_OP, {}, at=t.at) is not None
    assert t.step(Action.VERIFY_PASS, COUNTY_OP, {}).status == Status.CLOSED


def test_the_scope_rule_refuses_a_township_dispatch_of_a_county_case_like_the_workflow() -> None:
    t = _county_case()
    state = project(t.entries)
    ref = scope.Reference(
        grids={GRID: "330825002222"},
        villages={"330825002222": TOWNSHIP},
        townships=frozenset({TOWNSHIP}),
        departments=frozenset({"police", "housing"}),
        county_departments=frozenset({"housing"}),
    )
    view = scope.view_of(state, ref)
    for assignee in ("police", "housing"):
        found = scope.check_entry(
            view,
            Action.DISPATCH,
            TOWN_OP,
            lead(assignee),
            ref=ref,
            mine=scope.actor_keys(TOWN_OP, TOWNSHIP),
        )
        assert found is not None and found.code == "not_allowed", assignee
    county_keys = scope.actor_keys(COUNTY_OP, TOWNSHIP[:6])
    for assignee in ("police", "housing"):
        assert (
            scope.check_entry(
                view, Action.DISPATCH, COUNTY_OP, lead(assignee), ref=ref, mine=county_keys
            )
            is None
        )
    # A township-level case is the township's own, as before.
    township_case = project(t.entries[:3])
    found = scope.check_entry(
        scope.view_of(township_case, ref),
        Action.DISPATCH,
        TOWN_OP,
        lead("police"),
        ref=ref,
        mine=scope.actor_keys(TOWN_OP, TOWNSHIP),
    )
    assert found is None


# -- 督办 aimed at one unit --------------------------------------------------------------------


def test_an_urge_may_name_one_unit_of_the_dispatch_and_is_counted_for_it() -> None:
    t = handling("police", "justice")
    t.at += DAY
    state = t.step(Action.URGE, SUPERVISOR, {"unit": "justice", "note": "请今日到场"})
    state = t.step(Action.URGE, SUPERVISOR, {"unit": "justice"})
    state = t.step(Action.URGE, SUPERVISOR, {})  # the case as a whole
    assert state.urges == 3
    assert {task.assignee: task.urges for task in state.tasks} == {"police": 0, "justice": 2}
    for unit in ("enforce", "", 7):
        assert check(state, Action.URGE, SUPERVISOR, {"unit": unit}, at=t.at) == (
            "the unit urged is not handling this case"
        )


# -- each unit of a joint dispatch is evaluated on its own part ---------------------------------


def _closed_joint_case() -> Timeline:
    """Justice assists and feeds back in time; the police lead feeds back after the deadline."""
    t = handling("police", "justice")
    t.at = at("2026-09-07")
    t.step(Action.FEEDBACK, JUSTICE, {"task": "justice", "result": "已调解"})
    t.at = at("2026-09-10")
    t.step(Action.FEEDBACK, POLICE, {"task": "police", "result": "已处置"})
    t.step(Action.VERIFY_PASS, OPERATOR, {})
    t.step(Action.ARCHIVE, OPERATOR, {})
    return t


def test_a_joint_dispatch_is_evaluated_unit_by_unit_with_each_units_timeliness() -> None:
    t = _closed_joint_case()
    state = t.step(
        Action.EVALUATE,
        SUPERVISOR,
        {"quality": 4, "satisfaction": "satisfied", "units": {"police": 3, "justice": 5}},
    )
    assert state.evaluation is not None
    assert state.evaluation["timely"] is False and state.evaluation["quality"] == 4
    assert state.evaluation["units"] == {
        "police": {"quality": 3, "lead": True, "timely": False},
        "justice": {"quality": 5, "lead": False, "timely": True},
    }


@pytest.mark.parametrize(
    "units, reason",
    [
        ({"police": 3, "enforce": 4}, "'enforce' is not a unit of the dispatch"),
        ({"police": 0, "justice": 5}, "quality is scored 1 to 5"),
        ({"police": True, "justice": 5}, "quality is scored 1 to 5"),
        ({}, "unit scores name each unit of the dispatch with a score of 1 to 5"),
        ([3, 5], "unit scores name each unit of the dispatch with a score of 1 to 5"),
    ],
)
def test_unit_scores_must_fit_the_dispatch(units: Any, reason: str) -> None:
    t = _closed_joint_case()
    state = project(t.entries)
    payload = {"quality": 4, "satisfaction": "basic", "units": units}
    assert check(state, Action.EVALUATE, SUPERVISOR, payload, at=t.at) == reason
    # Without unit scores the case is evaluated as a whole, as before.
    assert check(state, Action.EVALUATE, SUPERVISOR, {**payload, "units": None}, at=t.at) is None
