"""County administration (issue 18) against a real ``gridroom-county serve`` on loopback, both
backends, with real devices syncing: the device list and revocation, account edits and grid
assignments reaching devices, and taxonomy versions reaching every server process and every
connection of a device."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sync import protocol
from sync.county.db import Database
from sync.model.clock import HlcStamp, new_id, now_millis
from sync.store import Store

from .conftest import (
    REPO,
    TOWNSHIP_A,
    TOWNSHIP_B,
    CountyServer,
    Device,
    api,
    county_command,
    report_case,
)

OP_A = f"{TOWNSHIP_A}-op"
DAY_MS = 86_400_000


def cli(
    county: CountyServer, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``gridroom-county COMMAND … --db`` against the server's database, as county IT runs it."""
    return subprocess.run(
        [*county_command(), *args, "--db", county.db_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        input=stdin,
        env=county.env,
    )


def ok(county: CountyServer, *args: str, stdin: str | None = None) -> Any:
    """Run a command that must succeed with ``--json``; its parsed output."""
    out = cli(county, *args, "--json", stdin=stdin)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def add_account(county: CountyServer, login: str, *options: str) -> dict[str, Any]:
    password = f"pw-{login}-1"
    account = ok(
        county, "user", "add", "--login", login, *options, "--password-stdin", stdin=password + "\n"
    )
    county.accounts[login] = {**account, "password": password, "grids": account["grid_ids"]}
    return account


def device_item(county: CountyServer, device: Device) -> dict[str, Any]:
    [item] = [d for d in ok(county, "device", "list") if d["id"] == device.store.device_id]
    return item


def set_last_sync(county: CountyServer, device_id: str, at: int) -> None:
    """Move a device's last sync into the past (the days a laptop sat in a drawer)."""
    with Database(county.db_url) as db, db.write(ordered=False) as tx:
        tx.execute("UPDATE devices SET last_sync = ? WHERE id = ?", [at, device_id])


# -- devices -------------------------------------------------------------------------------------


def test_device_list_shows_what_each_device_last_reported(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    # A laptop whose clock runs two hours fast.
    fast = devices(OP_A, clock=lambda: now_millis() + 2 * 3600_000)
    other = devices(f"{TOWNSHIP_B}-op")
    item = device_item(county, fast)
    assert item["township"] == TOWNSHIP_A and item["accounts"] == [OP_A]
    assert item["app_version"] and item["revoked_at"] is None
    assert item["outbox"] == 0 and item["days_since_sync"] == 0
    assert abs(item["clock_offset_ms"] + 2 * 3600_000) < 60_000
    assert device_item(county, other)["township"] == TOWNSHIP_B
    # The backlog as last reported: a device says what is still waiting in its outbox.
    r = api(
        county,
        "POST",
        protocol.SYNC,
        fast.token,
        json={"cursor": 0, "outbox": 37, "app_version": "0.9.1", "device_time": now_millis()},
    )
    assert r.status_code == 200, r.text
    item = device_item(county, fast)
    assert (item["outbox"], item["app_version"]) == (37, "0.9.1")
    assert abs(item["clock_offset_ms"]) < 60_000

    # "Not synced for N days" at a glance.
    set_last_sync(county, other.store.device_id, now_millis() - 9 * DAY_MS)
    stale = ok(county, "device", "list", "--stale-days", "7")
    assert other.store.device_id in {d["id"] for d in stale}
    assert fast.store.device_id not in {d["id"] for d in stale}
    text = cli(county, "device", "list")
    assert text.returncode == 0 and "not synced for 9 days" in text.stdout
    bad = cli(county, "device", "list", "--stale-days", "-1")
    assert bad.returncode == 2 and "--stale-days" in bad.stderr


def test_a_revoked_device_stops_at_once_and_is_told_why(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    lost = devices(OP_A)
    kept = devices(OP_A)  # the same account on another computer goes on working
    token = lost.token
    code = device_item(county, lost)["code"]
    done = ok(county, "device", "revoke", code)
    assert done["id"] == lost.store.device_id and done["revoked_at"] > 0

    r = api(county, "GET", protocol.SESSION, token)
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "device_revoked"
    assert "ask IT to re-enrol" in r.json()["error"]["message"]
    r = api(county, "POST", protocol.SYNC, token, json={"cursor": 0})
    assert r.status_code == 401 and r.json()["error"]["code"] == "device_revoked"
    report = lost.sync()
    assert report.status == "failed" and report.exit_code == 4
    assert report.error_code == "device_revoked"
    assert "This computer was revoked" in report.error and "ask IT to re-enrol" in report.error
    # The stolen password does not enrol the same computer again.
    r = api(
        county,
        "POST",
        protocol.LOGIN,
        json={"login": OP_A, "password": county.password(OP_A), "device_id": lost.store.device_id},
    )
    assert r.status_code == 401 and r.json()["error"]["code"] == "device_revoked"
    assert kept.sync().status == "ok"

    item = device_item(county, lost)
    assert item["revoked_at"] == done["revoked_at"] and item["revoked_by"] == "console"
    # Revoking again keeps the first date (bundle signatures are judged against it).
    assert ok(county, "device", "revoke", lost.store.device_id)["revoked_at"] == done["revoked_at"]
    missing = cli(county, "device", "revoke", "ZZZZ")
    assert missing.returncode == 2 and "no enrolled device" in missing.stderr
    audit = ok(county, "audit")
    assert any(a["action"] == "device.revoke" and a["target"] == code for a in audit)


# -- accounts ------------------------------------------------------------------------------------


def test_grid_assignments_reach_the_device_and_records_leaving_scope_go(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    op = devices(OP_A)
    grids = [g.code for g in op.store.grids()]
    login = f"{TOWNSHIP_A}-gw-admin"
    add_account(
        county, login, "--role", "grid_worker", "--township", TOWNSHIP_A, "--grids", grids[0]
    )
    gw = devices(login)
    mine = report_case(op, "老网格事件", grid_id=grids[0])
    theirs = report_case(op, "新网格事件", grid_id=grids[3])
    assert op.sync().status == "ok"
    assert gw.sync().status == "ok"
    assert gw.store.case(mine) is not None and gw.store.case(theirs) is None

    # A grid of another township is refused in plain words, and nothing changes.
    b_grid = county.account(f"{TOWNSHIP_B}-gw")["grids"][0]
    out = cli(county, "user", "grids", login, "--set", f"{grids[3]},{b_grid}")
    assert out.returncode == 2
    assert (
        f"grid {b_grid} is not a grid of township {TOWNSHIP_A} (it belongs to {TOWNSHIP_B})"
        in out.stderr
    )
    out = cli(county, "user", "grids", login, "--set", "330825102999999")
    assert out.returncode == 2 and "there is no grid 330825102999999" in out.stderr
    [account] = [a for a in ok(county, "user", "list") if a["login"] == login]
    assert account["grid_ids"] == [grids[0]]

    # Reassigned: at the next sync the device holds the new grid's case, not the old one's.
    edited = ok(county, "user", "grids", login, "--set", grids[3])
    assert edited["grid_ids"] == [grids[3]]
    report = gw.sync()
    assert report.status == "ok", report.to_json()
    assert gw.store.case(mine) is None
    assert gw.store.case(theirs) is not None
    assert gw.actor.grid_ids == (grids[3],)


def test_account_edits_follow_the_scope_rules_and_reach_devices(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    login = f"{TOWNSHIP_A}-op-admin"
    add_account(county, login, "--role", "operator", "--township", TOWNSHIP_A)
    desk = devices(login)
    edited = ok(county, "user", "edit", login, "--name", "值班员（张三）")
    assert edited["name"] == "值班员（张三）"
    assert desk.sync().status == "ok"
    assert desk.actor.name == "值班员（张三）"

    # Roles valid for the level; the refusals say why and change nothing.
    refusals = {
        ("--role", "grid_worker"): "a grid worker needs at least one grid",
        ("--role", "county_admin"): "a county admin belongs to no township",
        ("--role", "department"): "a department account needs its department code",
        ("--department", "police"): "only department accounts name a department",
        ("--township", "330825999"): "330825999 is not a township of county 330825",
        ("--grids", "x"): "only grid workers have grids",
    }
    for options, message in refusals.items():
        out = cli(county, "user", "edit", login, *options)
        assert out.returncode == 2 and message in out.stderr, (options, out.stderr)
    [account] = [a for a in ok(county, "user", "list") if a["login"] == login]
    assert (account["role"], account["township"]) == ("operator", TOWNSHIP_A)

    # Department accounts: a township's sunk unit (1+N) and the county's own.
    town = add_account(
        county,
        f"{TOWNSHIP_A}-env",
        "--role",
        "department",
        "--township",
        TOWNSHIP_A,
        "--department",
        "police",
    )
    assert (town["township"], town["department_code"]) == (TOWNSHIP_A, "police")
    whole = add_account(county, "330825-police", "--role", "department", "--department", "police")
    assert whole["township"] is None
    out = cli(
        county, "user", "add", "--login", "x-dep", "--role", "department", "--department", "nosuch"
    )
    assert out.returncode == 2 and "unknown department nosuch" in out.stderr

    # A role change revokes the account's tokens: the device signs in again.
    ok(county, "user", "edit", login, "--role", "supervisor")
    report = desk.sync()
    assert report.status == "failed" and report.error_code == "unauthorized"
    audit = [a for a in ok(county, "audit") if a["target"] == login]
    assert {a["action"] for a in audit} >= {"account.add", "account.edit"}


# -- taxonomy ------------------------------------------------------------------------------------


def _report_entry(actor: dict[str, Any], category: str, grid: str) -> dict[str, Any]:
    now = now_millis()
    return {
        "id": new_id(),
        "case_id": new_id(),
        "action": "report",
        "actor_id": actor["id"],
        "role": actor["role"],
        "at": now,
        "hlc": HlcStamp(now, 0, "TAXO").encode(),
        "payload": {"title": "新类别事件", "category": category, "grid_id": grid},
    }


def test_a_taxonomy_import_reaches_the_running_server_and_every_connection(
    devices: Callable[..., Device], county: CountyServer, tmp_path: Path
) -> None:
    desk = devices(OP_A)
    other = Store.open(desk.path)  # the app's other connection to the same file
    try:
        assert "0199" not in other.taxonomy
        exported = tmp_path / "taxonomy.json"
        out = cli(county, "taxonomy", "export", str(exported))
        assert out.returncode == 0, out.stderr
        data = json.loads(exported.read_text(encoding="utf-8"))
        assert data["format"] == "gridroom-taxonomy/1" and data["county"] == "330825"
        before = data["version"]
        data["categories"].append(
            {
                "code": "0199",
                "name": "宠物纠纷",
                "parent": "01",
                "normal": {"accept_hours": 2, "handle_days": 4},
                "urgent": {"accept_hours": 1, "handle_hours": 12},
            }
        )
        for c in data["categories"]:
            if c["code"] == "0604":
                c["normal"] = {"accept_hours": 1, "handle_days": 2}
        exported.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        done = ok(county, "taxonomy", "import", str(exported), "--note", "加宠物纠纷")
        assert done["version"] == before + 1
        history = ok(county, "taxonomy", "history")
        assert [h["version"] for h in history][-2:] == [before, before + 1]
        assert history[-1]["note"] == "加宠物纠纷"

        # The server process started before the import applies the new version at once.
        grid = desk.store.grids()[0].code
        r = api(
            county,
            "POST",
            protocol.SYNC,
            desk.token,
            json={
                "cursor": 0,
                "push": {
                    "batch_id": new_id(),
                    "entries": [_report_entry(county.account(OP_A), "0199", grid)],
                },
            },
        )
        assert r.status_code == 200, r.text
        [result] = r.json()["push"]["results"]
        assert result["status"] == "applied", result

        # A sync brings it to the device, and the app's other connection sees it too.
        assert desk.sync().status == "ok"
        assert desk.store.taxonomy["0199"].name == "宠物纠纷"
        assert other.taxonomy["0604"].normal.handle_days == 2
        case = other.report(desk.actor, {"title": "狗咬人", "category": "0199", "grid_id": grid})
        assert case.case_id
    finally:
        other.close()


def test_a_bad_taxonomy_file_is_refused_in_plain_words(
    devices: Callable[..., Device], county: CountyServer, tmp_path: Path
) -> None:
    desk = devices(OP_A)
    report_case(desk, "用了物业类别", category="0105")
    assert desk.sync().status == "ok"
    exported = tmp_path / "t.json"
    assert cli(county, "taxonomy", "export", str(exported)).returncode == 0
    good = json.loads(exported.read_text(encoding="utf-8"))
    version = good["version"]

    def refused(data: Any, message: str) -> None:
        path = tmp_path / "bad.json"
        path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
        out = cli(county, "taxonomy", "import", str(path))
        assert out.returncode == 2 and message in out.stderr, out.stderr

    def with_(change: Callable[[list[dict[str, Any]]], None]) -> dict[str, Any]:
        data = json.loads(json.dumps(good))
        change(data["categories"])
        return data

    refused("{not json", "is not a JSON file")
    refused({**good, "county": "330881"}, "this file is county 330881's taxonomy")
    refused({"categories": []}, 'no "categories" list')
    refused(with_(lambda cs: cs.append(dict(cs[0]))), "appears twice")
    refused(
        with_(lambda cs: cs[1].update(normal={"accept_hours": 0, "handle_days": 3})),
        "must be a whole number above 0",
    )
    refused(
        with_(lambda cs: cs[1].update(normal={"accept_hours": 2})),
        "either handle_days or handle_hours",
    )
    refused(
        with_(lambda cs: cs.append({**cs[1], "code": "9999", "parent": "77"})),
        "a minor category's code starts with its parent's",
    )
    refused(
        with_(lambda cs: cs[:] and cs.remove(next(c for c in cs if c["code"] == "0105"))),
        "categories 0105 are used by cases and cannot be removed",
    )
    out = cli(county, "taxonomy", "import", str(tmp_path / "missing.json"))
    assert out.returncode == 2 and "there is no file" in out.stderr
    # Nothing changed.
    assert ok(county, "taxonomy", "history")[-1]["version"] == version or version == 1
    again = tmp_path / "again.json"
    assert cli(county, "taxonomy", "export", str(again)).returncode == 0
    assert json.loads(again.read_text(encoding="utf-8"))["version"] == version


def test_new_deadlines_apply_to_new_cases_and_never_move_an_open_one(
    devices: Callable[..., Device], county: CountyServer, tmp_path: Path
) -> None:
    desk = devices(OP_A)
    old_limits = desk.store.taxonomy["0301"].normal
    open_case = report_case(desk, "旧垃圾堆放", category="0301")
    desk.store.accept(open_case, desk.actor)
    before = desk.store.case(open_case)
    assert before is not None and before.handle_due is not None
    assert desk.sync().status == "ok"

    path = tmp_path / "t.json"
    assert cli(county, "taxonomy", "export", str(path)).returncode == 0
    data = json.loads(path.read_text(encoding="utf-8"))
    for c in data["categories"]:
        if c["code"] == "0301":
            c["normal"] = {
                "accept_hours": old_limits.accept_hours + 3,
                "handle_days": (old_limits.handle_days or 0) + 7,
            }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    ok(county, "taxonomy", "import", str(path))
    assert desk.sync().status == "ok"
    desk.reopen()  # the earlier versions are kept on the device, not only in memory

    # The open case keeps the limits it was reported under, even once projected again.
    desk.store.comment(open_case, desk.actor, "已通知保洁")
    after = desk.store.case(open_case)
    assert after is not None
    assert (after.accept_due, after.handle_due) == (before.accept_due, before.handle_due)
    # A case reported now runs against the new limits.
    new_case = report_case(desk, "新垃圾堆放", category="0301")
    state = desk.store.case(new_case)
    assert state is not None
    assert state.accept_due - state.reported_at == (old_limits.accept_hours + 3) * 3600_000
    # Another device, which takes the earlier versions from the county, projects the same.
    assert desk.sync().status == "ok"
    other = devices(OP_A)
    mirrored = other.store.case(open_case)
    assert mirrored is not None and mirrored.handle_due == before.handle_due


# -- places --------------------------------------------------------------------------------------


def test_grids_merged_split_renamed_and_recoded_keep_their_history(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    op = devices(OP_A)
    live = [g for g in ok(county, "grid", "list", "--township", TOWNSHIP_A) if not g["retired_at"]]
    # Two grids of one village, away from the demo grid worker's.
    village = next(
        v
        for v in dict.fromkeys(g["village"] for g in live[4:])
        if sum(g["village"] == v for g in live[4:]) >= 3
    )
    first, second, third = [g["code"] for g in live if g["village"] == village][:3]
    login = f"{TOWNSHIP_A}-gw-merge"
    add_account(county, login, "--role", "grid_worker", "--township", TOWNSHIP_A, "--grids", first)
    gw = devices(login)
    old_case = report_case(op, "合并前的事件", grid_id=first)
    assert op.sync().status == "ok" and gw.sync().status == "ok"
    assert gw.store.case(old_case) is not None

    merged = f"{village}901"
    done = ok(county, "grid", "merge", f"{first},{second}", "--into", merged, "--name", "合并网格")
    assert done["retired"] == [first, second] and done["new"] == [merged]
    # Refusals in plain words; nothing changes.
    out = cli(county, "grid", "rename", first, "--name", "x")
    assert out.returncode == 2 and f"grid {first} was retired" in out.stderr
    out = cli(county, "grid", "recode", third, "--into", merged)
    assert out.returncode == 2 and f"grid {merged} exists already" in out.stderr
    out = cli(county, "grid", "add", f"{village}1", "--village", village, "--name", "x")
    assert out.returncode == 2 and "3 more digits" in out.stderr
    out = cli(county, "user", "grids", login, "--set", second)
    assert out.returncode == 2 and f"grid {second} was retired" in out.stderr

    ok(county, "grid", "rename", third, "--name", "新名字网格")
    recoded = f"{village}902"
    ok(county, "grid", "recode", third, "--into", recoded)
    ok(
        county,
        "grid",
        "split",
        merged,
        "--into",
        f"{village}903,{village}904",
        "--name",
        "东片,西片",
    )

    # The devices take it all at their next sync; the old case still names a grid that exists.
    assert op.sync().status == "ok" and gw.sync().status == "ok"
    names = {g.code: g.name for g in op.store.grids()}
    assert names[merged] == "合并网格" and names[recoded] == "新名字网格"
    assert {first, second, third} <= set(names) and names[f"{village}904"] == "西片"
    assert op.store.case_row(old_case)["grid_code"] == first  # type: ignore[index]
    # The grid worker of a merged grid also holds its successor, and keeps the old case.
    assert set(gw.actor.grid_ids) == {first, merged}
    assert gw.store.case(old_case) is not None
    new_case = report_case(op, "合并后的事件", grid_id=merged)
    assert op.sync().status == "ok" and gw.sync().status == "ok"
    assert gw.store.case(new_case) is not None

    history = ok(county, "grid", "history", merged)
    assert [h["action"] for h in history] == ["merge", "split"]
    assert history[1]["detail"]["to_reassign"] == [login]
    [info] = [g for g in ok(county, "grid", "list") if g["code"] == first]
    assert info["retired_at"] and info["successors"] == [merged]
