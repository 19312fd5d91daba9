"""Scope is enforced by the county on every request, whatever the client claims: a device of
township A neither reads nor writes township B, even with hand-crafted requests carrying A's
token; a grid worker sees only the cases of their grids; a disabled account stops at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sync import protocol
from sync.model.clock import HlcStamp, new_id
from sync.model.workflow import Refused
from sync.store import replica

from .conftest import (
    TOWNSHIP_A,
    TOWNSHIP_B,
    CountyServer,
    Device,
    api,
    attach,
    grid_of,
    photo,
    report_case,
)

OP_A = f"{TOWNSHIP_A}-op"
OP_B = f"{TOWNSHIP_B}-op"
GW_A = f"{TOWNSHIP_A}-gw"


def _entry(actor_id: str, role: str, case_id: str, action: str, payload: dict) -> dict:
    now = 1_790_000_000_000
    return {
        "id": new_id(),
        "case_id": case_id,
        "action": action,
        "actor_id": actor_id,
        "role": role,
        "at": now,
        "hlc": HlcStamp(now, 0, "FORG").encode(),
        "payload": payload,
    }


def _push(county: CountyServer, token: str, *entries: dict) -> list[dict]:
    body = {"cursor": 0, "push": {"batch_id": new_id(), "entries": list(entries)}}
    r = api(county, "POST", protocol.SYNC, token, json=body)
    assert r.status_code == 200, r.text
    return r.json()["push"]["results"]


def test_township_b_is_invisible_and_untouchable_from_a(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    a = devices(OP_A)
    b = devices(OP_B)
    secret = report_case(b, "湖镇镇内部事件")
    village_b = b.store.case_row(secret)["village_code"]  # type: ignore[index]
    sha = attach(b, secret, photo(2000, seed=7))
    assert b.sync().status == "ok"

    # A's honest sync never brings it.
    a.sync()
    assert a.store.case(secret) is None

    # Forged reads with A's token.
    r = api(county, "POST", protocol.SYNC, a.token, json={"cursor": 0})
    items = r.json()["pull"]["items"]
    assert all(secret not in str(item) for item in items)
    r = api(county, "POST", protocol.SNAPSHOT, a.token, json={"village_code": village_b})
    assert r.status_code == 200 and r.json()["cases"] == []
    r = api(county, "GET", protocol.BLOB_STATUS.format(sha256=sha), a.token)
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = api(county, "GET", protocol.BLOB.format(sha256=sha), a.token)
    assert r.status_code == 404
    r = api(county, "GET", protocol.REFERENCE, a.token)
    assert {g["village_code"][:9] for g in r.json()["grids"]} == {TOWNSHIP_A}

    # Forged writes with A's token: into B's case, as A and as B's operator; a report in B.
    op_a, op_b = county.account(OP_A), county.account(OP_B)
    results = _push(
        county,
        a.token,
        _entry(op_a["id"], "operator", secret, "comment", {"text": "越界备注"}),
        _entry(op_b["id"], "operator", secret, "comment", {"text": "冒名备注"}),
        _entry(
            op_a["id"],
            "operator",
            new_id(),
            "report",
            {
                "title": "越界上报",
                "category": "9901",
                "township_code": TOWNSHIP_B,
                "village_code": village_b,
                "case_no": "X",
            },
        ),
    )
    assert [r["status"] for r in results] == ["rejected"] * 3
    assert [r["code"] for r in results] == ["out_of_scope", "actor_not_on_device", "out_of_scope"]
    # And B's device sees no trace of any of it.
    b.sync()
    assert len(b.store.timeline(secret)) == 1

    # A cannot enrol a device into B, nor sign in there with its account.
    r = api(
        county,
        "POST",
        protocol.LOGIN,
        json={
            "login": OP_A,
            "password": county.password(OP_A),
            "device_id": new_id(),
            "township": TOWNSHIP_B,
        },
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_device"
    r = api(
        county,
        "POST",
        protocol.LOGIN,
        json={"login": OP_A, "password": county.password(OP_A), "device_id": b.store.device_id},
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "wrong_device"


def test_requests_without_a_valid_token_are_refused(county: CountyServer) -> None:
    for method, path in protocol.ENDPOINTS:
        if path in (protocol.HEALTH, protocol.LOGIN):
            continue
        url = path.format(sha256="0" * 64)
        for headers in ({}, {"Authorization": "Bearer forged-token"}):
            r = api(county, method, url, headers=headers, json={} if method != "GET" else None)
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error"]["code"] == "unauthorized"


def test_a_disabled_account_stops_at_once(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    name = f"{TOWNSHIP_A}-leaver"
    assert (
        county.admin(
            "add",
            "--login",
            name,
            "--role",
            "operator",
            "--township",
            TOWNSHIP_A,
            "--password-stdin",
            stdin="pw-leaver-1\n",
        ).returncode
        == 0
    )
    county.accounts[name] = {"password": "pw-leaver-1"}
    d = devices(name)
    token = d.token
    assert api(county, "GET", protocol.SESSION, token).status_code == 200
    out = county.admin("disable", "--login", name)
    assert out.returncode == 0 and "revoked" in out.stdout
    r = api(county, "GET", protocol.SESSION, token)
    assert r.status_code in (401, 403)
    report = d.sync()
    assert report.status == "failed" and report.exit_code == 4
    assert report.error_code in ("unauthorized", "account_disabled")
    # Re-enabling the account does not bring the revoked token back: sign in again.
    assert county.admin("enable", "--login", name).returncode == 0
    assert api(county, "GET", protocol.SESSION, token).status_code == 401
    r = api(
        county,
        "POST",
        protocol.LOGIN,
        json={"login": name, "password": "wrong", "device_id": d.store.device_id},
    )
    assert (
        r.status_code == 401 and r.json()["error"]["message"] == "Wrong account name or password."
    )


def test_a_grid_worker_sees_only_their_grids(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    op = devices(OP_A)
    gw = devices(GW_A)
    mine = county.account(GW_A)["grids"]
    others = [g.code for g in op.store.grids() if g.code not in mine]
    in_my_grid = report_case(op, "本网格事件", grid_id=mine[0])
    elsewhere = report_case(op, "别的网格事件", grid_id=others[0])
    op.sync()
    gw.sync()
    assert gw.store.case(in_my_grid) is not None
    assert gw.store.case(elsewhere) is None
    # The grid worker may not report into a grid that is not theirs: the device refuses it
    # locally, by the county's own rule, and the county refuses the same entry forged.
    fields = {"title": "越网格上报", "category": "9901", "grid_id": others[1]}
    with pytest.raises(Refused, match="the case's place is outside this device's scope") as local:
        gw.store.report(gw.actor, fields)
    gw_account = county.account(GW_A)
    forged = _entry(gw_account["id"], "grid_worker", new_id(), "report", fields)
    [result] = _push(county, gw.token, forged)
    assert (result["code"], result["reason"]) == ("out_of_scope", local.value.reason)
    assert gw.sync().status == "ok" and replica.quarantined(gw.store) == []
    # Dispatched to one of their grids, the other case arrives whole (its history too).
    op.store.accept(elsewhere, op.actor)
    op.store.dispatch(elsewhere, op.actor, ("grid", mine[1]))
    op.sync()
    gw.sync()
    state = gw.store.case(elsewhere)
    assert state is not None and len(gw.store.timeline(elsewhere)) == 3
    # Re-dispatched away from them, it leaves the field laptop.
    op.store.dispatch(elsewhere, op.actor, ("department", "enforcement"))
    op.sync()
    report = gw.sync()
    assert report.removed_cases == 1
    assert gw.store.case(elsewhere) is None
    assert grid_of(op)  # the township device still has every grid


def test_a_narrower_account_on_the_device_narrows_what_it_holds(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    from sync.client import login

    desk = devices(OP_A)
    mine = county.account(GW_A)["grids"]
    others = [g.code for g in desk.store.grids() if g.code not in mine]
    kept = report_case(desk, "网格内", grid_id=mine[0])
    gone = report_case(desk, "网格外", grid_id=others[0])
    desk.sync()
    # The grid worker signs in on this (township) device: its scope is now the worker's grids.
    login(county.url, GW_A, county.password(GW_A), tokens=desk.tokens, store_path=desk.path)
    desk.reopen()
    report = desk.sync()
    assert report.status == "ok", report.to_json()
    assert any("scope changed" in p for p in report.problems)
    assert report.verified
    assert desk.store.case(kept) is not None
    assert desk.store.case(gone) is None
