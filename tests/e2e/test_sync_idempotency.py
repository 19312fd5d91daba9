"""Exactly once: every push replayed changes nothing and gets its first answer; a push that
crashed in flight is resent under the same key; a pull cut mid-page resumes exactly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from sync import protocol
from sync.client.transport import Reply, Transport
from sync.store import replica

from .conftest import TOWNSHIP_A, CountyServer, Device, api, report_case

badlink = pytest.importorskip("tests.support.badlink")

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"


def _county_entries(county: CountyServer, device: Device) -> list[str]:
    """Every entry id the county holds in the device's township, through the snapshot API."""
    ids: list[str] = []
    villages = {d.code for d in device.store.divisions("village")} | {""}
    for village in sorted(villages):
        after = None
        while True:
            body = api(
                county,
                "POST",
                protocol.SNAPSHOT,
                device.token,
                json={"village_code": village, "after": after},
            ).json()
            ids += [e["id"] for c in body["cases"] for e in c["entries"]]
            if body["done"]:
                break
            after = body["next"]
    return ids


class Replaying(Transport):
    """Sends every push twice (as a retry after a lost answer would) and checks the answers."""

    answers: ClassVar[list[tuple[Any, Any]]] = []

    def post_json(self, path: str, body: Any, *, token: str | None = None, **kw: Any) -> Reply:
        first = super().post_json(path, body, token=token, **kw)
        if path == protocol.SYNC and body.get("push"):
            second = super().post_json(path, body, token=token, **kw)
            Replaying.answers.append((first.json()["push"], second.json()["push"]))
            return second
        return first


def test_every_push_replayed_changes_nothing(
    devices: Callable[..., Device], county: CountyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = devices(OP)
    b = devices(SUP)
    before = _county_entries(county, a)
    cases = [report_case(a, f"重复推送测试{i}", description="内容" * 50) for i in range(6)]
    for case_id in cases[:3]:
        a.store.accept(case_id, a.actor)
    monkeypatch.setattr("sync.client.service.Transport", Replaying)
    Replaying.answers = []
    a.service.batch_bytes = 3000  # several batches
    report = a.sync()
    assert report.status == "ok", report.to_json()
    assert len(Replaying.answers) >= 3
    for first, second in Replaying.answers:
        assert second.pop("replayed") is True
        assert first == second, "a replay gets the first answer, word for word"
    after = _county_entries(county, a)
    assert len(after) == len(set(after)) == len(before) + 9
    b.sync()
    assert sum(len(b.store.timeline(c)) for c in cases) == 9


def test_a_push_lost_in_a_crash_goes_again_under_its_key(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    a = devices(OP)
    case_id = report_case(a, "断电前的上报")
    batch = replica.next_batch(a.store)
    assert batch is not None
    # The request reaches the county, then the laptop loses power before recording the answer.
    r = api(
        county,
        "POST",
        protocol.SYNC,
        a.token,
        json={"cursor": 0, "push": batch.wire()},
        headers={protocol.IDEMPOTENCY_HEADER: batch.batch_id},
    )
    # A quiet answer (the client asks for one): nothing listed but a count of applied items.
    assert r.json()["push"]["applied"] == 1 and r.json()["push"]["results"] == []
    a.reopen()
    again = replica.next_batch(a.store)
    assert again is not None and again.batch_id == batch.batch_id
    assert again.wire() == batch.wire()
    a.store.comment(case_id, a.actor, "恢复供电后补充")  # new work joins a *later* batch
    report = a.sync()
    assert report.status == "ok"
    # The replayed batch gets its first answer ("applied"), the new one is applied now.
    assert (report.pushed, report.duplicates, report.replayed_batches) == (2, 0, 1)
    ids = _county_entries(county, a)
    assert len(ids) == len(set(ids))
    assert a.store.outbox_size() == 0


class CutSecond(Transport):
    """Arms the bad link to cut the *second* sync response of each run mid-body."""

    link: Any = None
    cut_at = 700

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.calls = 0

    def post_json(self, path: str, body: Any, *, token: str | None = None, **kw: Any) -> Reply:
        if path == protocol.SYNC:
            self.calls += 1
            if self.calls == 2:
                CutSecond.link.truncate_next_response(CutSecond.cut_at)
        return super().post_json(path, body, token=token, **kw)


def test_a_pull_cut_mid_page_resumes_exactly(
    devices: Callable[..., Device], county: CountyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = devices(OP)
    with badlink.BadLink(target=_address(county), profile=badlink.PROFILES["perfect"]) as link:
        b = _device_via(devices, county, link, SUP)
        start = replica.cursor(b.store)
        cases = [report_case(a, f"批量事件{i}", description="描述" * 120) for i in range(24)]
        assert a.sync().status == "ok"
        CutSecond.link = link
        monkeypatch.setattr("sync.client.service.Transport", CutSecond)
        b.service.page_bytes = 6000  # a few cases per page
        # Run 1, one attempt per request: page 1 lands, page 2 is cut mid-body and the run
        # ends there, as it does when a 2G link drops.
        b.service.transport_options = {"attempts": 1}
        first = b.sync()
        assert (first.status, first.error_code) == ("failed", "offline")
        held = [c for c in cases if b.store.case(c) is not None]
        assert 0 < len(held) < len(cases)
        assert first.pulled_entries == len(held)
        assert replica.cursor(b.store) > start, "page 1 and its cursor were kept together"
        # Run 2 (with retries): the cut request is retried from the same cursor and the pull
        # resumes exactly where run 1 stopped: nothing again, nothing skipped.
        b.service.transport_options = {}
        second = b.sync()
        assert second.status == "ok", second.to_json()
        assert second.retries >= 1
        assert second.pulled_entries == len(cases) - len(held)
        assert link.stats["truncations"] == 2
    for c in cases:
        assert len(b.store.timeline(c)) == 1, "every case arrived exactly once"
    assert sorted(_county_entries(county, a)) == sorted(
        r[0] for r in b.store.read("SELECT id FROM case_events")
    )


def _address(county: CountyServer) -> tuple[str, int]:
    host, port = county.url.removeprefix("http://").split(":")
    return host, int(port)


def _device_via(
    devices: Callable[..., Device], county: CountyServer, link: Any, login_name: str
) -> Device:
    """A device that talks to the county through the bad link."""
    real = county.url
    county.url = link.url
    try:
        return devices(login_name)
    finally:
        county.url = real


def test_batches_are_bounded_and_a_cancel_loses_nothing(
    devices: Callable[..., Device], county: CountyServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = devices(OP)
    b = devices(SUP)
    cases = [report_case(a, f"取消测试{i}", description="说明" * 200) for i in range(15)]
    budget = 5000
    a.service.batch_bytes = budget
    sizes: list[tuple[int, int]] = []
    real_next_batch = replica.next_batch

    def recording(store: Any, max_bytes: int = protocol.BATCH_BYTES) -> Any:
        batch = real_next_batch(store, max_bytes)
        if batch is not None:
            sizes.append((len(batch), protocol.json_size(batch.wire())))
        return batch

    monkeypatch.setattr(replica, "next_batch", recording)
    calls = []

    def progress(done: int, total: int) -> bool:
        calls.append((done, total))
        assert a.store.read("SELECT seqs FROM sync_inflight") == [], (
            "progress is reported between rounds, never with a batch in flight"
        )
        return len(calls) < 3  # the user presses Cancel after the second round

    first = a.service.sync_once(a.store, progress)
    assert first.status == "cancelled" and first.exit_code == 130
    assert 0 < first.pushed < len(cases)
    second = a.sync()
    assert second.status == "ok"
    assert first.pushed + second.pushed == len(cases), "each record went exactly once"
    assert len(sizes) >= 5
    assert all(n == 1 or size <= budget for n, size in sizes), sizes
    b.sync()
    assert all(len(b.store.timeline(c)) == 1 for c in cases)
