"""What keeps a sync frugal on a 2G link, checked against the real county: one request when
nothing changed, quiet push answers, every JSON answer gzip'd (its CRC is the integrity check)."""

from __future__ import annotations

import json
from collections.abc import Callable

import requests

from sync import protocol
from sync.store import replica

from .harness import CountyProcess, Device


def _report(device: Device, n: int) -> None:
    with device.store() as store:
        actor = device.actor(store)
        for i in range(n):
            store.report(
                actor, {"title": f"省流量{i}", "category": "0604", "grid_id": store.grids()[0].code}
            )


def test_a_sync_with_nothing_to_do_is_one_request(
    county: CountyProcess, enrol: Callable[..., Device]
) -> None:
    device = enrol("op")
    assert device.sync().status == "ok"
    report = device.sync()
    assert report.status == "ok"
    assert (report.round_trips, report.retries) == (1, 0)


def test_a_push_is_answered_quietly(county: CountyProcess, enrol: Callable[..., Device]) -> None:
    device = enrol("op")
    _report(device, 5)
    report = device.sync()
    assert report.status == "ok" and report.pushed == 5
    with county.read() as conn:
        stored = conn.execute(
            "SELECT response FROM batches ORDER BY created_at DESC LIMIT 1"
        ).fetchone()[0]
    answer = json.loads(stored)
    assert answer["quiet"] is True and answer["applied"] == 5 and answer["results"] == []


def test_a_full_answer_and_a_partial_one_are_understood(
    county: CountyProcess, enrol: Callable[..., Device]
) -> None:
    """A server that does not know ``quiet`` lists every item; an answer that leaves an item
    out without saying ``quiet`` leaves it in the outbox (never taken as applied)."""
    device = enrol("op")
    _report(device, 3)
    with device.store() as store:
        batch = replica.next_batch(store)
        assert batch is not None and len(batch) == 3
        token = device.tokens().get(device.server_url, store.device_id)
        push = {k: v for k, v in batch.wire().items() if k != "quiet"}  # as an older client
        body, headers = protocol.encode_body({"cursor": 0, "push": push})
        r = requests.post(
            county.url + protocol.SYNC,
            data=body,
            headers={**headers, "Authorization": f"Bearer {token}"},
            timeout=60,
        )
        full = r.json()["push"]
        assert "quiet" not in full and len(full["results"]) == 3
        # Only two of the three results reach the device (a broken adapter): the third waits.
        partial = {**full, "results": full["results"][:2]}
        out = replica.finish_batch(store, batch, partial)
        assert (out.applied, out.unanswered) == (2, 1)
        assert replica.waiting(store)["changes"] == 1
    report = device.sync()  # goes again; the county already holds it
    assert report.status == "ok" and (report.pushed, report.duplicates) == (0, 1)
    with device.store() as store:
        assert replica.waiting(store)["changes"] == 0


def test_every_json_answer_is_gzipped_however_small(county: CountyProcess) -> None:
    with requests.get(
        county.url + protocol.HEALTH, headers={"Accept-Encoding": "gzip"}, timeout=30
    ) as r:
        assert r.status_code == 200
        assert r.headers.get("Content-Encoding") == "gzip"
        assert r.json()["status"] == "ok"
