"""The real lossy link (:mod:`tests.support.lossylink`) and sync through it.

Kernel TCP end to end between the host and a network namespace, a user-space forwarder in
between that delays, rate-limits and drops packets. Needs root and /dev/net/tun (CI runs as
root); skipped with the reason otherwise. Timing checks are lower bounds only (a paced link
cannot be faster than its rate), never upper bounds: the machines running this are shared.
"""

from __future__ import annotations

import dataclasses
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from sync.store import replica
from tests.bench.sync_bench import report_cases
from tests.support.lossylink import PROFILES, LinkProfile, LossyLink, unavailable

from .harness import TOWNSHIP, CountyProcess, Device

pytestmark = pytest.mark.skipif(unavailable() is not None, reason=unavailable() or "")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def link(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LossyLink]:
    with LossyLink("perfect", index=240, workdir=tmp_path_factory.mktemp("link")) as made:
        yield made


@pytest.fixture(scope="module")
def county(link: LossyLink, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyProcess]:
    """The county server in the link's namespace: devices reach it only through the link."""
    server = CountyProcess(
        tmp_path_factory.mktemp("county"), port=8765, host=link.server_ip, wrap=link.netns_command
    )
    server.init()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _device(name: str, county: CountyProcess, link: LossyLink, tmp: Path) -> Device:
    link.set("perfect")
    device = Device(name, f"{TOWNSHIP}-op", tmp / f"{name}.sqlite", county.url, tmp / "k.json")
    device.enrol(county)
    return device


def test_the_link_paces_delays_and_loses_packets_and_tcp_recovers(link: LossyLink) -> None:
    data = bytes(range(256)) * 200  # 51,200 bytes
    www = link.workdir / "www"
    www.mkdir(exist_ok=True)
    (www / "f").write_bytes(data)
    server = subprocess.Popen(
        link.netns_command(
            [sys.executable, "-m", "http.server", "8081", "--bind", link.server_ip, "-d", str(www)]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://{link.server_ip}:8081/f"
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, timeout=5).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        # 20% loss each way: TCP still delivers every byte, and the link counted the losses.
        harsh = dataclasses.replace(PROFILES["village-2g-loss"], name="harsh", loss=0.2)
        link.set(harsh)
        before = link.stats()
        started = time.monotonic()
        got = requests.get(url, timeout=(60, 120)).content
        seconds = time.monotonic() - started
        after = link.stats()
        assert got == data
        lost = sum(after[way]["lost"] - before[way]["lost"] for way in ("up", "down"))
        assert lost > 0
        # 51,200 bytes at 128 kbit/s are 3.2 s at least, plus a handshake and a request (2 RTT).
        assert seconds >= 51_200 * 8 / 128_000 + 1.2
        # An outage loses everything, both ways, but does not reset anything: TCP resumes.
        link.set("village-2g-loss")
        with requests.Session() as session:
            session.get(url, timeout=(60, 120))
            link.outage(3.0)
            before = link.stats()
            started = time.monotonic()
            assert session.get(url, timeout=(60, 120)).content == data
            assert time.monotonic() - started >= 3.0
        assert link.stats()["up"]["outage_lost"] > before["up"]["outage_lost"]
    finally:
        server.terminate()
        server.wait(15)
        link.set("perfect")


def test_first_pull_brings_reference_and_cases_in_one_request(
    link: LossyLink, county: CountyProcess, tmp_path: Path
) -> None:
    """On the lossy link, a new device's first sync is one request: the reference data rides
    along with the first page (protocol section 12)."""
    maker = _device("maker", county, link, tmp_path)
    assert maker.sync().status == "ok"
    with maker.store() as store:
        actor = maker.actor(store)
        grid = store.grids()[0].code
        category = next(c.code for c in store.taxonomy if c.parent is not None)
        for i in range(20):
            store.report(
                actor, {"title": f"路灯损坏（{i}）", "category": category, "grid_id": grid}
            )
    assert maker.sync().status == "ok"
    fresh = _device("fresh", county, link, tmp_path)
    link.set("village-2g-loss")
    try:
        report = fresh.sync()
    finally:
        link.set("perfect")
    assert report.status == "ok", report.to_json()
    assert report.round_trips == 1
    assert report.reference_updated
    assert report.pulled_entries >= 20
    with fresh.store() as store:
        assert store.account(maker.actor_id) is not None  # reference data stored
        assert int(store.read("SELECT count(*) FROM cases")[0][0]) >= 20


def test_a_push_cut_by_an_outage_goes_on_without_sending_again(
    link: LossyLink, county: CountyProcess, tmp_path: Path
) -> None:
    """A 20 s outage in the middle of a push: the connection survives it — the request is sent
    under the read timeout, not urllib3's 10 s connect timeout, and TCP's retransmission backoff
    is capped, so it notices the link is back within seconds — nothing is sent twice, and every
    entry arrives exactly once. (Before, the batch went again whole on a new connection.)"""
    device = _device("pusher", county, link, tmp_path)
    assert device.sync().status == "ok"
    # ~50 kB gzip'd: more than the socket's send buffer holds, so the upload is in the middle
    # of sending when the link goes.
    made = report_cases(device, 600, random.Random("outage"))
    # The first outage starts 1.5 s into the sync and lasts 20 s.
    profile = LinkProfile(
        "outage", up_bps=64_000, down_bps=128_000, rtt_ms=600, loss=0.02,
        outage_s=20.0, outage_every_s=600.0,
    )  # fmt: skip
    link.set(profile, phase_s=600.0 - 20.0 - 1.5)
    try:
        report = device.sync()
    finally:
        link.set("perfect")
    assert report.status == "ok", report.to_json()
    assert report.pushed == len(made)
    assert report.bytes_resent == 0, report.to_json()
    assert link.stats()["up"]["outage_lost"] + link.stats()["down"]["outage_lost"] > 0
    with county.read() as conn:
        marks = ",".join("?" * len(made))
        rows = conn.execute(
            f"SELECT count(*), count(DISTINCT id) FROM entries WHERE case_id IN ({marks})", made
        ).fetchone()
    assert rows == (len(made), len(made))
    with device.store() as store:
        assert replica.waiting(store)["changes"] == 0
