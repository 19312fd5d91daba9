"""County departments (县级部门) take only county-level cases, on the county and on the device.

A real county server (both backends) seeded by ``gridroom-county init``: its own bureaus carry
the county level, the 1+N departments sunk into the townships do not. A township operator's
device receives the levels with the reference data and refuses a township-level case dispatched
to a county bureau, with the county's own words; the same entry forged as raw HTTP is refused by
the county. Escalated to county level, the same dispatch is taken by both.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sync import protocol
from sync.county.seed import COUNTY_DEPARTMENTS
from sync.model import scope
from sync.model.clock import HlcStamp, new_id, now_millis
from sync.model.records import Level
from sync.model.workflow import Refused

from .conftest import TOWNSHIP_A, CountyServer, Device, api, report_case

OP_A = f"{TOWNSHIP_A}-op"
BUREAU = "housing"  # 县住房和城乡建设局


def _dispatch_entry(account: dict, case_id: str, assignee: str) -> dict:
    now = now_millis()
    return {
        "id": new_id(),
        "case_id": case_id,
        "action": "dispatch",
        "actor_id": account["id"],
        "role": account["role"],
        "at": now,
        "hlc": HlcStamp(now, 0, "FORG").encode(),
        "payload": {"tasks": [{"kind": "department", "assignee": assignee, "lead": True}]},
    }


def _push(county: CountyServer, token: str, entry: dict) -> dict:
    body = {"cursor": 0, "push": {"batch_id": new_id(), "entries": [entry]}}
    r = api(county, "POST", protocol.SYNC, token, json=body)
    assert r.status_code == 200, r.text
    [result] = r.json()["push"]["results"]
    return result


def test_the_reference_data_carries_the_department_level(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    op = devices(OP_A)
    ref = api(county, "GET", protocol.REFERENCE, op.token).json()
    levels = {d["code"]: d["level"] for d in ref["departments"]}
    assert {d.code for d in COUNTY_DEPARTMENTS} == {c for c, v in levels.items() if v == "county"}
    assert levels["police"] == "township"
    assert {d.code for d in op.store.departments() if d.county} == set(levels) - {
        c for c, v in levels.items() if v == "township"
    }
    assert BUREAU in op.store.reference().county_departments


def test_a_county_department_is_a_legal_assignee_only_after_escalation(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    op = devices(OP_A)
    case_id = report_case(op, "小区排水管网破损")
    op.store.accept(case_id, op.actor)
    assert op.sync().status == "ok"
    # The device refuses it, in the county's words, and writes nothing.
    before = op.store.timeline(case_id)
    with pytest.raises(Refused, match="county department") as local:
        op.store.dispatch(case_id, op.actor, ("department", BUREAU))
    assert op.store.timeline(case_id) == before
    # The county refuses the same entry forged by a tampered client.
    account = county.account(OP_A)
    result = _push(county, op.token, _dispatch_entry(account, case_id, BUREAU))
    assert result["status"] == "rejected", result
    assert (result["code"], result["reason"]) == ("unknown_assignee", local.value.reason)
    # A 1+N department sunk into the township takes the township-level case.
    op.store.dispatch(case_id, op.actor, ("department", "enforcement"))
    # Escalated to the county, the bureau is a legal assignee for it (the shared rule both
    # sides run) — but the county command centre dispatches it now, not the township.
    state = op.store.escalate(case_id, op.actor, "涉及县级排水管网改造，需县住建局处置")
    assert state.level == Level.COUNTY
    ref = op.store.reference()
    tasks = [{"kind": "department", "assignee": BUREAU}]
    assert scope.check_assignees(scope.view_of(state, ref), tasks, ref) is None
    with pytest.raises(Refused, match="county"):
        op.store.dispatch(case_id, op.actor, ("department", BUREAU))
    report = op.sync()
    assert report.status == "ok", report.to_json()
    assert report.quarantined_now == 0, report.to_json()
    second = _push(county, op.token, _dispatch_entry(account, case_id, BUREAU))
    assert second["status"] == "rejected" and second["code"] == "not_allowed", second
