"""Five levels in one app (五级贯通), end to end: a real county server (both backends), a
township operator's device, a county-scope device of the county command centre's operator, and
the township's police, syncing for real.

A township escalates a case; the county device sees it arrive (上报待受理), takes it in and
dispatches it to a county bureau; the township follows it read-only, and what a tampered
township client forges on it is refused by the county with the device's own words. The county
then hands the case down (交办) with instructions; the township receives it as its own case and
dispatches it to its police, who feed back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from sync import protocol
from sync.model.clock import HlcStamp, new_id, now_millis
from sync.model.records import Action, Level, Status, TaskState
from sync.model.workflow import COUNTY_OWNS, Refused, allowed_actions
from sync.store.queries import CaseQuery

from .conftest import (
    COUNTY,
    TOWNSHIP_A,
    CountyServer,
    Device,
    api,
    report_case,
)

OP_A = f"{TOWNSHIP_A}-op"
POLICE_A = f"{TOWNSHIP_A}-police"
OP_COUNTY = f"{COUNTY}-op"  # 值班员（县综合指挥中心）, a demo account of `init`
BUREAU = "housing"  # 县住房和城乡建设局


def _forged(account: dict[str, Any], case_id: str, action: str, payload: dict) -> dict:
    now = now_millis()
    return {
        "id": new_id(),
        "case_id": case_id,
        "action": action,
        "actor_id": account["id"],
        "role": account["role"],
        "at": now,
        "hlc": HlcStamp(now, 0, "FORG").encode(),
        "payload": payload,
    }


def _push(county: CountyServer, token: str, entry: dict) -> dict:
    body = {"cursor": 0, "push": {"batch_id": new_id(), "entries": [entry]}}
    r = api(county, "POST", protocol.SYNC, token, json=body)
    assert r.status_code == 200, r.text
    [result] = r.json()["push"]["results"]
    return result


def _synced(device: Device) -> None:
    report = device.sync()
    assert report.status == "ok", report.to_json()
    assert report.quarantined_now == 0, report.to_json()


def test_escalate_accept_dispatch_hand_down_and_the_township_handles_it(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    assert county.account(OP_COUNTY)["township"] is None
    op = devices(OP_A)
    police = devices(POLICE_A)
    centre = devices(OP_COUNTY)
    assert centre.store.scope == COUNTY  # enrolled at county scope

    case_id = report_case(op, "小区排水管网破损，污水外溢")
    op.store.accept(case_id, op.actor)
    op.store.dispatch(case_id, op.actor, ("department", "police"))
    op.store.escalate(case_id, op.actor, "涉及县级排水管网改造，需县住建局处置")
    _synced(op)

    # The county device sees it arrive: 上报待受理, by township.
    _synced(centre)
    waiting = CaseQuery(escalation=1)
    assert case_id in {r["id"] for r in centre.store.cases(waiting, limit=50)}
    assert centre.store.count(waiting.with_(township_code=TOWNSHIP_A)) >= 1
    state = centre.store.case(case_id)
    assert state is not None and state.awaiting_county
    centre.store.accept(case_id, centre.actor)
    centre.store.dispatch(case_id, centre.actor, ("department", BUREAU))
    assert case_id not in {r["id"] for r in centre.store.cases(waiting, limit=50)}
    _synced(centre)

    # The township follows it read-only: nothing but a comment, on the device and the county.
    _synced(op)
    state = op.store.case(case_id)
    assert state is not None and state.level == Level.COUNTY and state.status == Status.HANDLING
    assert [t.assignee for t in state.active_tasks()] == [BUREAU]
    assert set(allowed_actions(state, op.actor)) == {Action.COMMENT}
    before = op.store.timeline(case_id)
    with pytest.raises(Refused) as local:
        op.store.edit(case_id, op.actor, {"title": "改成镇里的标题"})
    assert local.value.reason == COUNTY_OWNS
    with pytest.raises(Refused, match="county command centre"):
        op.store.request_park(case_id, op.actor, "历史遗留", now_millis() + 30 * 86_400_000)
    assert op.store.timeline(case_id) == before
    account = county.account(OP_A)
    for action, payload in (
        ("edit", {"fields": {"title": {"value": "冒名修改", "base": None}}}),
        ("hand_down", {"instructions": "镇里自己交办给自己"}),
        ("urge", {"note": "镇里督办县里"}),
    ):
        result = _push(county, op.token, _forged(account, case_id, action, payload))
        assert result["status"] == "rejected", (action, result)
        assert (result["code"], result["reason"]) == ("not_allowed", COUNTY_OWNS), action
    op.store.comment(case_id, op.actor, "群众来电询问进度")
    _synced(op)

    # 交办: the county hands it down with instructions; the township has it as its own case.
    _synced(centre)
    instructions = "经研判属镇级职责，请小南海镇牵头处置，五个工作日内反馈"
    handed = centre.store.hand_down(case_id, centre.actor, instructions)
    assert handed.level == Level.TOWNSHIP and handed.escalation == 3
    _synced(centre)
    _synced(op)
    state = op.store.case(case_id)
    assert state is not None and state.level == Level.TOWNSHIP
    assert state.status == Status.ACCEPTED
    assert state.handed_down is not None and state.handed_down["instructions"] == instructions
    assert case_id in {r["id"] for r in op.store.cases(CaseQuery(escalation=3), limit=50)}
    assert [t.state for t in state.tasks] == [TaskState.WITHDRAWN]  # the bureau's, taken back
    assert Action.DISPATCH in allowed_actions(state, op.actor)
    with pytest.raises(Refused, match="county department"):
        op.store.dispatch(case_id, op.actor, ("department", BUREAU))
    op.store.dispatch(case_id, op.actor, ("department", "police"))
    _synced(op)
    _synced(police)
    police.store.feedback(case_id, police.actor, "police", "已联合社区完成管网临时封堵")
    _synced(police)
    _synced(centre)
    seen = centre.store.case(case_id)
    assert seen is not None and seen.status == Status.VERIFYING and seen.escalation == 3
