"""Records the county refuses are quarantined with the reason; everything else flows on, and a
person can retry or discard them."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sync.client import login
from sync.model.clock import new_id
from sync.model.records import Action, Actor, Entry, Role
from sync.model.workflow import Refused
from sync.store import replica

from .conftest import TOWNSHIP_A, TOWNSHIP_B, CountyServer, Device, report_case

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"


def _forge(device: Device, case_id: str, action: Action, actor: Actor, payload: dict) -> str:
    """Write an entry the local rules would refuse (a buggy or tampered client does this)."""
    entry = Entry(
        new_id(),
        case_id,
        action,
        actor.id,
        actor.role,
        device.store.now(),
        device.store.hlc.now().encode(),
        payload,
    )
    with device.store.write() as conn:
        device.store._append(conn, [entry], local=True)
    return entry.id


def test_a_refused_record_is_quarantined_and_the_rest_flows(
    devices: Callable[..., Device],
) -> None:
    a = devices(OP)
    b = devices(SUP)
    first = report_case(a, "井盖缺失", category="0204")
    # An operator may not approve a park request: the county refuses this one entry.
    bad = _forge(a, first, Action.APPROVE_PARK, a.actor, {"reason": "批准"})
    second = report_case(a, "违规搭建雨棚", category="0402")
    a.store.comment(second, a.actor, "已电话联系户主")
    report = a.sync()
    assert report.status == "partial"
    assert report.exit_code == 1
    assert (report.pushed, report.quarantined_now) == (3, 1)
    stuck = replica.quarantined(a.store)
    assert [(q.entity_id, q.code) for q in stuck] == [(bad, "role_not_allowed")]
    assert "an operator may not approve park" in stuck[0].reason
    assert a.store.outbox_size() == 0, "the refused record left the outbox for quarantine"
    # The other device received everything else, and not the refused entry.
    b.sync()
    assert b.store.case(first) is not None and b.store.case(second) is not None
    assert bad not in {e.id for e in b.store.timeline(first)}
    assert len(b.store.timeline(second)) == 2
    # Discarding removes it here; the next sync is clean.
    assert replica.discard(a.store, "case_event", bad) == 1
    assert bad not in {e.id for e in a.store.timeline(first)}
    assert replica.quarantined(a.store) == []
    assert a.sync().exit_code == 0


def test_a_report_outside_the_scope_takes_its_case_with_it(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    a = devices(OP)
    other_grid = county.account(f"{TOWNSHIP_B}-gw")["grids"][0]
    fields = {
        "title": "外镇事件",
        "category": "9901",
        "grid_id": other_grid,
        "village_code": other_grid[:12],
        "township_code": TOWNSHIP_B,
    }
    # The store refuses this itself (the county's rule, applied locally) …
    with pytest.raises(Refused, match="not a grid known here"):
        a.store.report(a.actor, fields)
    # … so the entries are forged, as a client with older rules would have written them.
    outside = new_id()
    _forge(a, outside, Action.REPORT, a.actor, fields)
    _forge(a, outside, Action.COMMENT, a.actor, {"text": "补充说明"})
    inside = report_case(a, "本镇事件")
    report = a.sync()
    assert report.status == "partial"
    codes = {q.code for q in replica.quarantined(a.store)}
    assert codes == {"out_of_scope", "unknown_case"}
    assert all(q.case_id == outside for q in replica.quarantined(a.store))
    assert a.store.case(inside) is not None
    # Discarding the refused report discards the case and what hangs off it.
    report_entry = a.store.timeline(outside)[0].id
    assert replica.discard(a.store, "case_event", report_entry) == 2
    assert a.store.case(outside) is None and a.store.case_row(outside) is None
    assert replica.quarantined(a.store) == []
    assert a.sync().status == "ok"


def test_retry_after_the_county_fixed_the_account(
    devices: Callable[..., Device], county: CountyServer, tmp_path
) -> None:
    login_name = f"{TOWNSHIP_A}-retry"
    added = county.admin(
        "add",
        "--login",
        login_name,
        "--role",
        "supervisor",
        "--township",
        TOWNSHIP_A,
        "--name",
        "复核人",
        "--password-stdin",
        stdin="pw-retry-123\n",
    )
    assert added.returncode == 0, added.stderr
    county.accounts[login_name] = {"password": "pw-retry-123"}
    a = devices(OP)
    # The supervisor signs in on the same desk PC once; then the operator is back.
    login(county.url, login_name, "pw-retry-123", tokens=a.tokens, store_path=a.path)
    login(county.url, OP, county.password(OP), tokens=a.tokens, store_path=a.path)
    a.reopen()
    a.sync()
    supervisor = next(x for x in a.store.accounts(Role.SUPERVISOR) if x.name == "复核人")
    case_id = report_case(a, "占道经营", category="0702")
    a.sync()
    a.store.urge(case_id, supervisor, note="请尽快处理")
    assert county.admin("disable", "--login", login_name).returncode == 0
    report = a.sync()
    assert report.status == "partial"
    (stuck,) = replica.quarantined(a.store)
    assert stuck.code == "actor_disabled"
    # Retrying while the account is still disabled fails the same way, and counts the attempt.
    assert replica.retry(a.store, stuck.entity, stuck.entity_id) == 1
    a.sync()
    (again,) = replica.quarantined(a.store)
    assert again.attempts == 2
    # County IT re-enables the account: the retry goes through.
    assert county.admin("enable", "--login", login_name).returncode == 0
    replica.retry(a.store, again.entity, again.entity_id)
    report = a.sync()
    assert report.status == "ok", report.to_json()
    assert replica.quarantined(a.store) == []
    assert report.pushed == 1
