"""A checksum per village detects drift between a device and the county; the drifted village is
pulled again in full, extra cases leave, and entries the county lacks are sent again."""

from __future__ import annotations

from collections.abc import Callable

from sync.model.clock import new_id
from sync.model.records import Action, Entry
from sync.store import replica

from .conftest import TOWNSHIP_A, Device, report_case

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"


def test_drift_is_found_and_repaired(devices: Callable[..., Device]) -> None:
    a = devices(OP)
    b = devices(SUP)
    cases = [report_case(a, f"校验事件{i}") for i in range(3)]
    a.store.comment(cases[0], a.actor, "第一条备注")
    a.sync()
    assert b.sync(verify=True).drifted_villages == []
    # Damage B's copy three ways: an entry lost, a case the county never had, and one of B's
    # own entries that never reached the county (its outbox row lost with an old backup).
    lost = b.store.timeline(cases[0])[-1].id
    with b.store.write() as conn:
        conn.execute("DELETE FROM case_events WHERE id = ?", [lost])
        replica._reproject(b.store, conn, cases[0])
    ghost = Entry(
        new_id(),
        new_id(),
        Action.REPORT,
        b.actor.id,
        b.actor.role,
        b.store.now(),
        b.store.hlc.now().encode(),
        {
            "title": "幽灵事件",
            "category": "9901",
            "grid_id": b.store.grids()[0].code,
            "village_code": b.store.grids()[0].village_code,
            "township_code": TOWNSHIP_A,
        },
    )
    b.store.apply_entries([ghost])
    b.store.comment(cases[1], b.actor, "丢失的备注")
    with b.store.write() as conn:
        conn.execute("DELETE FROM outbox")
    unsent = b.store.timeline(cases[1])[-1].id
    report = b.sync(verify=True)
    assert report.status == "ok", report.to_json()
    assert report.verified and report.drifted_villages
    assert lost in {e.id for e in b.store.timeline(cases[0])}, "the lost entry came back"
    assert b.store.case(ghost.case_id) is None, "the case the county never had is gone"
    assert report.pushed == 1, "the entry the county lacked was sent again"
    a.sync()
    assert unsent in {e.id for e in a.store.timeline(cases[1])}
    again = b.sync(verify=True)
    assert again.verified and again.drifted_villages == []
