"""Field work through a real county: visits with their follow-ups and photos, 转为事件, ledger
sign-offs — they reach the township and the worker, never another township; forged ones from
another township's device are refused (create, read, sign off)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sync import protocol
from sync.model.clock import new_id
from sync.model.records import Visit
from sync.store import fieldwork as fw
from sync.store.attachments import photo_bytes

from .conftest import TOWNSHIP_A, TOWNSHIP_B, Device, api, photo

GW_A = f"{TOWNSHIP_A}-gw"
OP_A = f"{TOWNSHIP_A}-op"
SUP_A = f"{TOWNSHIP_A}-sup"
OP_B = f"{TOWNSHIP_B}-op"
SUP_B = f"{TOWNSHIP_B}-sup"
GW_B = f"{TOWNSHIP_B}-gw"


def _pull_all(device: Device) -> list[dict[str, Any]]:
    """Everything the county would send this device from the start (a raw pull)."""
    items: list[dict[str, Any]] = []
    cursor = 0
    while True:
        r = api(device.server, "POST", protocol.SYNC, device.token, json={"cursor": cursor})
        assert r.status_code == 200, r.text
        page = r.json()["pull"]
        items.extend(page["items"])
        cursor = page["cursor"]
        if not page["more"]:
            return items


def _push(device: Device, **lists: list[dict[str, Any]]) -> list[dict[str, Any]]:
    body = {"cursor": 0, "push": {"batch_id": new_id(), **lists}}
    r = api(device.server, "POST", protocol.SYNC, device.token, json=body)
    assert r.status_code == 200, r.text
    return list(r.json()["push"]["results"])


def _worker_visit(gw: Device) -> Visit:
    grid = gw.actor.grid_ids[0]
    return fw.record_visit(
        gw.store,
        gw.actor,
        kind="visit",
        grid=grid,
        household="3组15号 李奶奶家",
        content="独居老人，腿脚不便",
        subject_kind="household",
        subject_id="H-15",
        people=["李奶奶"],
        items=["门前路灯不亮，夜间出行不便", "代办高龄补贴"],
    )


def test_a_visit_its_photo_and_its_case_reach_the_township_and_not_another(
    devices: Callable[..., Device],
) -> None:
    gw, op, op_b = devices(GW_A), devices(OP_A), devices(OP_B)
    v = _worker_visit(gw)
    picture = photo(20_000, seed=3)
    shot = fw.add_visit_photo(gw.store, v.id, picture, "门前.png", gw.actor)
    case = fw.item_to_case(gw.store, gw.actor, v.id, v.items[0].id, category="0604")
    report = gw.sync()
    assert report.status == "ok", report.to_json()
    assert gw.store.outbox_size() == 0
    first = op.sync()
    assert first.status == "ok", first.to_json()
    # The township has the visit with all its parts, its photo and the case, linked.
    assert fw.visit(op.store, v.id) == v
    assert [a.sha256 for a in fw.visit_photos(op.store, v.id)] == [shot.sha256]
    assert op.sync().status == "ok"  # the photo's bytes follow
    assert photo_bytes(op.store, fw.visit_photos(op.store, v.id)[0]) == picture
    linked = fw.cases_of_visit(op.store, v.id)
    assert linked[v.items[0].id]["case_id"] == case.case_id
    source = fw.source_visit(op.store, case.case_id)
    assert source is not None and source[0].id == v.id and source[1] == v.items[0]
    # Another township sees none of it.
    assert op_b.sync().status == "ok"
    assert fw.visit(op_b.store, v.id) is None
    text = protocol.dumps(_pull_all(op_b)).decode()
    assert v.id not in text and shot.sha256 not in text and "李奶奶" not in text


def test_a_sign_off_reaches_the_township_and_the_worker_only(
    devices: Callable[..., Device],
) -> None:
    gw, sup, op, op_b = devices(GW_A), devices(SUP_A), devices(OP_A), devices(OP_B)
    _worker_visit(gw)
    assert gw.sync().status == "ok"
    assert sup.sync().status == "ok"
    worker = gw.actor.id
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    s = fw.sign_off(
        sup.store,
        sup.actor,
        worker,
        "week",
        monday.isoformat(),
        remarks="记录翔实",
        counts={"visits": 1},
    )
    report = sup.sync()
    assert report.status == "ok", report.to_json()
    assert sup.store.outbox_size() == 0
    for device in (op, gw):
        assert device.sync().status == "ok"
        assert fw.signoff(device.store, s.id) == s
    assert op_b.sync().status == "ok"
    assert fw.signoff(op_b.store, s.id) is None
    assert s.id not in protocol.dumps(_pull_all(op_b)).decode()


def _signoff_wire(worker: str, signer: str, township: str = TOWNSHIP_A) -> dict[str, Any]:
    monday = dt.date.today() - dt.timedelta(days=dt.date.today().weekday())
    return {
        "id": new_id(),
        "worker_id": worker,
        "township_code": township,
        "period": "week",
        "first_day": monday.isoformat(),
        "signer_id": signer,
        "at": 1_764_000_000_000,
        "remarks": "伪造签字",
        "counts": {},
    }


def test_another_townships_device_cannot_sign_off_or_create_or_read(
    devices: Callable[..., Device],
) -> None:
    gw, sup_b, gw_b, op = devices(GW_A), devices(SUP_B), devices(GW_B), devices(OP_A)
    v = _worker_visit(gw)
    assert gw.sync().status == "ok"
    worker = gw.actor.id
    a_sup = gw.server.account(SUP_A)["id"]
    # B's supervisor signs off A's worker: in A's township, in B's, or in A's supervisor's name.
    forged = [
        _signoff_wire(worker, sup_b.actor.id),
        _signoff_wire(worker, sup_b.actor.id, township=TOWNSHIP_B),
        _signoff_wire(worker, a_sup),
    ]
    results = _push(sup_b, signoffs=forged)
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "out_of_scope"),
        ("rejected", "out_of_scope"),
        ("rejected", "actor_not_on_device"),
    ], results
    # A's own grid worker signing off their own ledger, or in the supervisor's name.
    results = _push(gw, signoffs=[_signoff_wire(worker, worker), _signoff_wire(worker, a_sup)])
    assert [(r["status"], r["code"]) for r in results] == [
        ("rejected", "not_allowed"),
        ("rejected", "actor_not_on_device"),
    ], results
    # B's device files a visit in A's grid, or a photo under A's visit.
    visit = protocol.visit_to_wire(v) | {"id": new_id(), "staff_id": gw_b.actor.id}
    attachment = {
        "id": new_id(),
        "case_id": v.id,
        "sha256": "ab" * 32,
        "name": "x.png",
        "mime": "image/png",
        "size": 10,
        "created_at": 1_764_000_000_000,
    }
    results = _push(gw_b, visits=[visit], attachments=[attachment])
    assert [(r["kind"], r["status"], r["code"]) for r in results] == [
        ("visit", "rejected", "out_of_scope"),
        ("attachment", "rejected", "out_of_scope"),
    ], results
    # A malformed sign-off is refused item by item, in words.
    [bad] = _push(sup_b, signoffs=[{**_signoff_wire(worker, sup_b.actor.id), "counts": [1]}])
    assert (bad["status"], bad["code"]) == ("rejected", "malformed")
    # Nothing of it reached A, and B reads nothing of A's field work.
    assert op.sync().status == "ok"
    assert all(s.remarks != "伪造签字" for s in fw.signoffs(op.store))
    assert all(x.staff_id != gw_b.actor.id for x in fw.visits(op.store))
    assert v.id in [x.id for x in fw.visits(op.store)]
    for device in (sup_b, gw_b):
        text = protocol.dumps(_pull_all(device)).decode()
        assert v.id not in text and "李奶奶" not in text
