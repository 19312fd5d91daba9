"""A hostile enrolled device: township A's devices, with valid tokens, push whatever entries they
like against township B. Every action and every payload field that names a place, case, task,
department or actor is tried (one row of ``FORGERIES`` each), on both storage backends, and each
must be refused with a reason while B's cases stay exactly as they were on the county and nothing
crosses between the townships' pulls — in either direction.

The forged entries are sent as raw HTTP with A's tokens (what a tampered client sends), not
through the store, which refuses them itself (tests/unit/test_scope.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import pytest

from sync import protocol
from sync.model.clock import HlcStamp, new_id

from .conftest import (
    TOWNSHIP_A,
    TOWNSHIP_B,
    CountyServer,
    Device,
    MemoryKeyring,
    api,
)

OP_A, SUP_A, GW_A, POLICE_A = (f"{TOWNSHIP_A}-{r}" for r in ("op", "sup", "gw", "police"))
OP_B, GW_B = f"{TOWNSHIP_B}-op", f"{TOWNSHIP_B}-gw"
BAD_DEPARTMENT = "nonexistent_dept';--"


@dataclass
class World:
    """Both townships, honestly set up through their own devices."""

    county: CountyServer
    devices: dict[str, Device]
    a_case: str  # A's accepted case (dispatch target for field forgeries)
    a_handling: str  # A's case dispatched to A's grid worker
    b_case: str  # B's case, dispatched to B's grid and police (sub-tasks to aim at)
    b_report: dict[str, Any]  # its report entry, as the county holds it
    a_grid: str
    a_village: str
    b_grid: str
    b_village: str
    b_staff: str
    b_visit: str
    extra: dict[str, str] = field(default_factory=dict)

    def token(self, login_name: str) -> str:
        return self.devices[login_name].token

    def account(self, login_name: str) -> dict[str, Any]:
        return self.county.account(login_name)


def _now() -> int:
    return int(time.time() * 1000)


def _pull_all(county: CountyServer, token: str) -> list[dict[str, Any]]:
    """Everything a token's pull hands out from the very beginning."""
    items: list[dict[str, Any]] = []
    cursor = 0
    for _ in range(100):
        r = api(county, "POST", protocol.SYNC, token, json={"cursor": cursor})
        assert r.status_code == 200, r.text
        pull = r.json()["pull"]
        items += pull["items"]
        cursor = pull["cursor"]
        if not pull.get("more"):
            return items
    raise AssertionError("the pull never ended")


def _timeline(items: list[dict[str, Any]], case_id: str) -> dict[str, dict[str, Any]]:
    """The entries of one case among pulled items (whole-case items included)."""
    found: dict[str, dict[str, Any]] = {}
    for item in items:
        if item.get("kind") == "entry" and item["entry"]["case_id"] == case_id:
            found[item["entry"]["id"]] = item["entry"]
        elif item.get("kind") == "case" and item.get("case_id", "") in ("", case_id):
            for e in item.get("entries", []):
                if e["case_id"] == case_id:
                    found[e["id"]] = e
    return found


def _entry(
    world: World, login_name: str, case_id: str, action: str, payload: dict, at: int | None = None
) -> dict[str, Any]:
    account = world.account(login_name)
    at = _now() if at is None else at
    return {
        "id": new_id(),
        "case_id": case_id,
        "action": action,
        "actor_id": account["id"],
        "role": account["role"],
        "at": at,
        "hlc": HlcStamp(at, 0, "FORG").encode(),
        "payload": payload,
    }


def _push(world: World, token: str, **lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = {"cursor": 0, "push": {"batch_id": new_id(), **lists}}
    r = api(world.county, "POST", protocol.SYNC, token, json=body)
    assert r.status_code == 200, r.text
    results: list[dict[str, Any]] = r.json()["push"]["results"]
    return results


@pytest.fixture(scope="module")
def world(county: CountyServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    folder: Path = tmp_path_factory.mktemp("hostile")
    made: dict[str, Device] = {}
    try:
        for n, name in enumerate((OP_A, SUP_A, GW_A, POLICE_A, OP_B, GW_B)):
            made[name] = Device(county, name, folder / f"d{n}.sqlite")
        op_a, op_b, gw_b = made[OP_A], made[OP_B], made[GW_B]
        a_grid = county.account(GW_A)["grids"][0]
        b_grid = county.account(GW_B)["grids"][0]
        fields = {"title": "本镇事件", "category": "0604", "grid_id": a_grid}
        a_case = op_a.store.report(op_a.actor, fields).case_id
        op_a.store.accept(a_case, op_a.actor)
        a_handling = op_a.store.report(op_a.actor, {**fields, "title": "已派网格"}).case_id
        op_a.store.accept(a_handling, op_a.actor)
        op_a.store.dispatch(a_handling, op_a.actor, ("grid", a_grid))
        b_fields = {
            "title": "湖镇镇事件",
            "category": "0604",
            "grid_id": b_grid,
            "reporter_name": "居民甲",
            "reporter_phone": "13900000000",
        }
        b_case = op_b.store.report(op_b.actor, b_fields).case_id
        op_b.store.accept(b_case, op_b.actor)
        op_b.store.dispatch(b_case, op_b.actor, ("grid", b_grid), [("department", "police")])
        for d in (op_a, op_b):
            assert d.sync().status == "ok"
        gw_b.sync()
        # A visit in B's grid, pushed by B's grid worker's own device.
        ref_b = api(county, "GET", protocol.REFERENCE, gw_b.token).json()
        b_staff = next(s["id"] for s in ref_b["staff"] if s.get("grid_id") == b_grid)
        b_visit = new_id()
        visit = {
            "id": b_visit,
            "grid_id": b_grid,
            "staff_id": b_staff,
            "kind": "visit",
            "at": _now(),
            "household": "3号",
            "content": "走访记录",
        }
        body = {"cursor": 0, "push": {"batch_id": new_id(), "visits": [visit]}}
        r = api(county, "POST", protocol.SYNC, gw_b.token, json=body)
        assert r.json()["push"]["results"][0]["status"] == "applied", r.text
        b_report = min(op_b.store.timeline(b_case), key=lambda e: e.hlc)
        for d in made.values():
            d.sync()
        yield World(
            county=county,
            devices=made,
            a_case=a_case,
            a_handling=a_handling,
            b_case=b_case,
            b_report=protocol.entry_to_wire(b_report),
            a_grid=a_grid,
            a_village=a_grid[:12],
            b_grid=b_grid,
            b_village=b_grid[:12],
            b_staff=b_staff,
            b_visit=b_visit,
        )
    finally:
        for d in made.values():
            d.close()
        keyring.set_keyring(previous)


# -- the table -----------------------------------------------------------------------------------

Payload = Callable[[World], dict[str, Any]]


@dataclass(frozen=True)
class Forgery:
    """One forged entry: who (an account of A) does what to which case, and the answer due."""

    login: str
    action: str
    target: str  # "b_case", "a_case", "a_handling" or "new"
    payload: Payload
    code: str
    early: bool = False  # stamped long before B's report


def _report_at(grid_of: str) -> Payload:
    def make(w: World) -> dict[str, Any]:
        grid = getattr(w, grid_of)
        return {"title": "伪造上报", "category": "9901", "grid_id": grid, "case_no": "X"}

    return make


def _task(name: str) -> Payload:
    return lambda w: {"task": getattr(w, name) if name.endswith("grid") else name, "result": "x"}


def _dispatch(*tasks: tuple[str, str, bool]) -> Payload:
    def make(w: World) -> dict[str, Any]:
        return {
            "tasks": [
                {"kind": k, "assignee": getattr(w, a, a), "lead": lead} for k, a, lead in tasks
            ]
        }

    return make


def _edit(**changes: str) -> Payload:
    return lambda w: {
        "fields": {k: {"value": getattr(w, v), "base": None} for k, v in changes.items()}
    }


FORGERIES = {
    # Opening entries naming B's existing case: refused, however early the stamp.
    "report-on-b-case-early-hlc": Forgery(
        OP_A, "report", "b_case", _report_at("a_grid"), "case_exists", early=True
    ),
    "report-on-b-case": Forgery(OP_A, "report", "b_case", _report_at("a_grid"), "case_exists"),
    "self-handle-on-b-case-early-hlc": Forgery(
        GW_A,
        "self_handle",
        "b_case",
        lambda w: {**_report_at("a_grid")(w), "result": "已处理"},
        "case_exists",
        early=True,
    ),
    # A new case in B's place, or a place that does not nest.
    "report-in-b-grid": Forgery(OP_A, "report", "new", _report_at("b_grid"), "out_of_scope"),
    "report-in-b-village": Forgery(
        OP_A,
        "report",
        "new",
        lambda w: {"title": "伪造", "category": "9901", "village_code": w.b_village},
        "out_of_scope",
    ),
    "report-in-b-township": Forgery(
        OP_A,
        "report",
        "new",
        lambda w: {"title": "伪造", "category": "9901", "township_code": TOWNSHIP_B},
        "out_of_scope",
    ),
    "report-a-grid-claiming-b-township": Forgery(
        OP_A,
        "report",
        "new",
        lambda w: {**_report_at("a_grid")(w), "township_code": TOWNSHIP_B},
        "unknown_place",
    ),
    "report-at-county-level": Forgery(
        OP_A,
        "report",
        "new",
        lambda w: {**_report_at("a_grid")(w), "level": 4},
        "not_allowed",
    ),
    # Every action on B's case, by an A account whose role may take it.
    **{
        f"{action}-on-b-case": Forgery(login, action, "b_case", payload, "out_of_scope")
        for action, login, payload in [
            ("comment", OP_A, lambda w: {"text": "越界备注"}),
            ("accept", OP_A, lambda w: {}),
            ("reject", OP_A, lambda w: {"reason": "越界"}),
            ("merge", OP_A, lambda w: {"into": w.a_case}),
            ("dispatch", OP_A, _dispatch(("grid", "a_grid", True))),
            ("return", GW_A, _task("a_grid")),
            ("request_extension", POLICE_A, lambda w: {"task": "police", "until": _now() * 2}),
            ("feedback", GW_A, _task("a_grid")),
            ("feedback", POLICE_A, _task("police")),
            ("verify_pass", OP_A, lambda w: {"note": "x"}),
            ("verify_fail", OP_A, lambda w: {"reason": "x"}),
            ("escalate", OP_A, lambda w: {"reason": "越界升级", "to": 4}),
            ("urge", SUP_A, lambda w: {"note": "x"}),
            ("request_park", OP_A, lambda w: {"reason": "x", "review_on": _now() * 2}),
            ("approve_park", SUP_A, lambda w: {"reason": "x"}),
            ("deny_park", SUP_A, lambda w: {"reason": "x"}),
            ("approve_extension", SUP_A, lambda w: {"reason": "x"}),
            ("deny_extension", SUP_A, lambda w: {"reason": "x"}),
            ("resume", OP_A, lambda w: {}),
            ("archive", OP_A, lambda w: {}),
            ("evaluate", OP_A, lambda w: {"quality": 1, "satisfaction": "dissatisfied"}),
            ("edit", OP_A, _edit(grid_id="a_grid")),
            ("settle", OP_A, lambda w: {"void": [w.b_report["id"]]}),
        ]
    },
    "feedback-by-operator-on-b-task": Forgery(
        OP_A, "feedback", "b_case", _task("b_grid"), "out_of_scope"
    ),
    # Fields of A's own cases that name B (or nothing real).
    "dispatch-to-b-grid": Forgery(
        OP_A, "dispatch", "a_case", _dispatch(("grid", "b_grid", True)), "unknown_assignee"
    ),
    "dispatch-assisting-b-grid": Forgery(
        OP_A,
        "dispatch",
        "a_case",
        _dispatch(("department", "police", True), ("grid", "b_grid", False)),
        "unknown_assignee",
    ),
    "dispatch-to-bad-department": Forgery(
        OP_A,
        "dispatch",
        "a_case",
        _dispatch(("department", BAD_DEPARTMENT, True)),
        "unknown_assignee",
    ),
    "dispatch-to-b-grid-as-a-number": Forgery(
        OP_A,
        "dispatch",
        "a_case",
        lambda w: {"tasks": [{"kind": "grid", "assignee": int(w.b_grid), "lead": True}]},
        "malformed",
    ),
    "feedback-on-b-grid-task-of-a-case": Forgery(
        GW_A, "feedback", "a_handling", _task("b_grid"), "not_your_task"
    ),
    "feedback-on-other-unit-task": Forgery(
        POLICE_A, "feedback", "a_handling", _task("a_grid"), "not_your_task"
    ),
    "settle-voiding-b-entry": Forgery(
        OP_A,
        "settle",
        "a_case",
        lambda w: {"void": [w.b_report["id"]], "note": "x"},
        "unknown_case",
    ),
    "merge-into-b-case": Forgery(
        OP_A, "merge", "a_case", lambda w: {"into": w.b_case}, "unknown_case"
    ),
    "edit-grid-to-b": Forgery(OP_A, "edit", "a_case", _edit(grid_id="b_grid"), "out_of_scope"),
    "edit-grid-and-village-to-b": Forgery(
        OP_A, "edit", "a_case", _edit(grid_id="b_grid", village_code="b_village"), "out_of_scope"
    ),
    "edit-village-to-b": Forgery(
        OP_A, "edit", "a_case", _edit(village_code="b_village"), "unknown_place"
    ),
    "edit-township-to-b": Forgery(
        OP_A,
        "edit",
        "a_case",
        lambda w: {"fields": {"township_code": {"value": TOWNSHIP_B, "base": None}}},
        "unknown_place",
    ),
    # B's accounts named as the actor from A's device.
    "comment-as-b-operator": Forgery(
        OP_B, "comment", "a_case", lambda w: {"text": "冒名"}, "actor_not_on_device"
    ),
}


def _forge(world: World, f: Forgery) -> dict[str, Any]:
    case_id = new_id() if f.target == "new" else getattr(world, f.target)
    at = int(world.b_report["at"]) - 86_400_000 if f.early else None
    entry = _entry(world, f.login, case_id, f.action, f.payload(world), at)
    # Pushed from the device of the account it names (A's: signed in there), unless it names
    # a B account: then from A's operator's device.
    device = f.login if f.login in world.devices and f.login.startswith(TOWNSHIP_A) else OP_A
    [result] = _push(world, world.token(device), entries=[entry])
    return result


def _b_timeline(world: World) -> dict[str, dict[str, Any]]:
    """B's case as the county hands it out to B's devices (each pull leaves out the device's
    own entries, so both are asked): any entry added or changed by a forgery shows here."""
    found: dict[str, dict[str, Any]] = {}
    for login_name in (OP_B, GW_B):
        found.update(_timeline(_pull_all(world.county, world.token(login_name)), world.b_case))
    return found


def _b_leaks(world: World, items: list[dict[str, Any]]) -> list[str]:
    text = protocol.dumps(items).decode()
    return [
        name
        for name, value in [
            ("B's case", world.b_case),
            ("B's grid", world.b_grid),
            ("B's visit", world.b_visit),
            ("B's reporter", "13900000000"),
        ]
        if value in text
    ]


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_entry_from_a_is_refused_and_b_is_untouched(world: World, name: str) -> None:
    f = FORGERIES[name]
    before_b = _b_timeline(world)
    assert len(before_b) >= 3  # report, accept, dispatch (and B's later comments)
    before_a = {
        c: _timeline(_pull_all(world.county, world.token(OP_A)), c)
        for c in (world.a_case, world.a_handling)
    }
    result = _forge(world, f)
    assert result["status"] == "rejected", (name, result)
    assert result["code"] == f.code, (name, result)
    assert result["reason"] and result["reason"] != f.code
    # B's case on the county is exactly what it was: not one entry more or changed.
    assert _b_timeline(world) == before_b
    # Nothing of B in any of A's pulls, nothing of A in any of B's.
    for login_name in (OP_A, SUP_A, GW_A, POLICE_A):
        assert _b_leaks(world, _pull_all(world.county, world.token(login_name))) == []
    for login_name in (OP_B, GW_B):
        text = protocol.dumps(_pull_all(world.county, world.token(login_name))).decode()
        assert world.a_case not in text and world.a_handling not in text
    # And A's own cases did not take the forged step either.
    after_a = {
        c: _timeline(_pull_all(world.county, world.token(OP_A)), c)
        for c in (world.a_case, world.a_handling)
    }
    assert after_a == before_a


@pytest.mark.parametrize(
    "field, value, code",
    [
        ("grid_id", "b_grid", "out_of_scope"),
        ("staff_id", "b_staff", "out_of_scope"),
        ("id", "b_visit", "id_clash"),
    ],
)
def test_a_forged_visit_from_a_is_refused(world: World, field: str, value: str, code: str) -> None:
    visit = {
        "id": new_id(),
        "grid_id": world.a_grid,
        "staff_id": "anyone",
        "kind": "patrol",
        "at": _now(),
        "household": "",
        "content": "伪造巡查",
    }
    visit[field] = getattr(world, value)
    [result] = _push(world, world.token(OP_A), visits=[visit])
    assert (result["status"], result["code"]) == ("rejected", code), result
    b_items = _pull_all(world.county, world.token(OP_B))  # not its own device's pull
    visits = [i["visit"] for i in b_items if i.get("kind") == "visit"]
    assert [v["content"] for v in visits if v["id"] == world.b_visit] == ["走访记录"]
    assert all(v["content"] != "伪造巡查" for v in visits)
    assert _b_leaks(world, _pull_all(world.county, world.token(OP_A))) == []


def test_b_devices_keep_their_case_after_the_attacks(world: World) -> None:
    """After every forgery, B's own devices still hold the case, its report and its place."""
    for login_name in (OP_B, GW_B):
        device = world.devices[login_name]
        assert device.sync().status == "ok"
        state = device.store.case(world.b_case)
        assert state is not None, login_name
        assert state.fields["grid_id"] == world.b_grid
        assert state.reporter_id == world.account(OP_B)["id"]
        assert device.store.comment(world.b_case, device.actor, "本镇备注").case_id
        assert device.sync().status == "ok", login_name


def test_a_tampered_device_pushing_an_early_report_on_b_case_gets_it_quarantined(
    world: World,
) -> None:
    """The issue's attack through a real device: A's store holds a forged report of B's case
    stamped a day before B's own (written past the store's checks) and syncs. The county
    refuses it, the device quarantines it with the reason, and B's case stays B's."""
    from sync.model.records import Action, Entry
    from sync.store import replica

    a = world.devices[OP_A]
    actor = a.actor
    at = int(world.b_report["at"]) - 86_400_000
    forged = Entry(
        new_id(),
        world.b_case,
        Action.REPORT,
        actor.id,
        actor.role,
        at,
        HlcStamp(at, 0, a.store.device_code).encode(),
        {"title": "劫持", "category": "9901", "grid_id": world.a_grid},
    )
    with a.store.write() as conn:
        a.store._append(conn, [forged], local=True)
    before_b = _b_timeline(world)
    report = a.sync()
    assert report.status == "partial", report.to_json()
    [stuck] = [q for q in replica.quarantined(a.store) if q.entity_id == forged.id]
    assert stuck.code == "case_exists"
    assert "already reported" in stuck.reason
    assert _b_timeline(world) == before_b
    b = world.devices[OP_B]
    assert b.sync().status == "ok"
    state = b.store.case(world.b_case)
    assert state is not None and state.fields["grid_id"] == world.b_grid
    assert b.store.case_row(world.b_case)["township_code"] == TOWNSHIP_B  # type: ignore[index]
    assert replica.discard(a.store, "case_event", forged.id) >= 1
