"""The township relay (docs/sync-protocol.md, section 19), all real processes on 127.0.0.1: a
``gridroom-county serve`` that is stopped and killed, a ``gridroom relay`` on the township's
command-room store (killed with -9 at a named point and restarted), and field-laptop stores
that switch between the county and the relay by themselves.

After each story: the county, the relay and the laptop hold the same entries, each applied
once (0 lost, 0 duplicated), whichever path each batch took.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from sync import relaycert
from sync.client.route import Router, certificate
from sync.client.service import SyncService
from sync.store import Store, replica

from .harness import (
    REPO,
    SERVER_ENV,
    TOWNSHIP,
    CountyProcess,
    Device,
    RelayProcess,
    county_command,
)

OTHER_TOWNSHIP = "330825101"  # 湖镇镇
WAIT_S = 120.0


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyProcess]:
    """A county with two townships: the relay's, and another one."""
    server = CountyProcess(tmp_path_factory.mktemp("county"))
    server.init(townships=(TOWNSHIP, OTHER_TOWNSHIP))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def world(county: CountyProcess, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The command-room store (enrolled, synced) with its relay process, and a device factory."""
    county.ensure_up()
    made = {"n": 0}

    def device(login_name: str) -> Device:
        made["n"] += 1
        dev = Device(
            f"d{made['n']}",
            login_name,
            tmp_path / f"d{made['n']}.sqlite",
            county.url,
            tmp_path / "keyring.json",
        )
        dev.enrol(county)
        return dev

    command_room = device(f"{TOWNSHIP}-op")
    report = command_room.sync()
    assert report.status == "ok", report.to_json()
    relay = RelayProcess(command_room, tmp_path)
    relay.start()
    try:
        yield {"county": county, "relay": relay, "device": device, "room": command_room}
    finally:
        relay.stop()
        county.ensure_up()


def router(dev: Device, relay: RelayProcess) -> Router:
    service = SyncService(tokens=dev.tokens(), deadline_s=20)
    return Router(service, relay_url=relay.url, probe_timeout=2.0)


def route_sync(dev: Device, relay: RelayProcess, **kw: Any) -> Any:
    with dev.store() as store:
        return router(dev, relay).sync_once(store, **kw)


def report_cases(dev: Device, n: int, tag: str) -> list[str]:
    with dev.store() as store:
        actor = dev.actor(store)
        grid = actor.grid_ids[0] if actor.grid_ids else store.grids()[0].code
        return [
            store.report(actor, {"title": f"{tag}{i}", "category": "0604", "grid_id": grid}).case_id
            for i in range(n)
        ]


def device_entries(dev: Device, case_ids: list[str]) -> dict[str, str]:
    """entry id → hlc of the cases on a device store (read-only: a relay may hold it open)."""
    store = Store.open_read_only(dev.path)
    try:
        out: dict[str, str] = {}
        for case_id in case_ids:
            out.update({e.id: e.hlc for e in store.timeline(case_id)})
        return out
    finally:
        store.close()


def county_entries(county: CountyProcess, case_ids: list[str]) -> dict[str, str]:
    marks = ",".join("?" * len(case_ids))
    with county.read() as conn:
        rows = conn.execute(
            f"SELECT id, hlc FROM entries WHERE case_id IN ({marks})", case_ids
        ).fetchall()
    ids = [r[0] for r in rows]
    assert len(ids) == len(set(ids)), "an entry stored twice at the county"
    return dict(rows)


def county_batches(county: CountyProcess, device_id: str) -> list[str]:
    with county.read() as conn:
        return [
            r[0]
            for r in conn.execute(
                "SELECT batch_id FROM batches WHERE device_id = ?", [device_id]
            ).fetchall()
        ]


def device_id(dev: Device) -> str:
    with dev.store() as store:
        return store.device_id


def wait_for(what: str, check: Callable[[], bool], timeout: float = WAIT_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def relay_answered(relay: RelayProcess) -> int:
    store = Store.open_read_only(relay.device.path)
    try:
        return int(store.read("SELECT count(*) FROM relay_batches WHERE answer IS NOT NULL")[0][0])
    finally:
        store.close()


def relay_waiting(relay: RelayProcess) -> int:
    store = Store.open_read_only(relay.device.path)
    try:
        return int(store.read("SELECT count(*) FROM relay_batches WHERE answer IS NULL")[0][0])
    finally:
        store.close()


def assert_identical(
    county: CountyProcess, relay: RelayProcess, laptop: Device, case_ids: list[str]
) -> None:
    at_county = county_entries(county, case_ids)
    assert at_county, "nothing reached the county"
    assert device_entries(relay.device, case_ids) == at_county
    assert device_entries(laptop, case_ids) == at_county


# -- the stories -------------------------------------------------------------------------------


def test_laptop_syncs_via_relay_while_county_down_then_exactly_once(
    world: dict[str, Any],
) -> None:
    county, relay = world["county"], world["relay"]
    laptop = world["device"](f"{TOWNSHIP}-gw")
    first = route_sync(laptop, relay)
    assert first.status == "ok" and first.route == "county", first.to_json()
    with laptop.store() as store:
        assert certificate(store) is not None  # renewed at the online sync

    # The command room dispatches nothing yet; the county goes down.
    county.stop()
    cases = report_cases(laptop, 3, "县网断了")
    via = route_sync(laptop, relay)
    assert via.route == "relay", via.to_json()
    assert via.reached_server and via.held_batches == 1, via.to_json()
    assert via.status == "partial"  # the batch waits, held by the relay, for the county's word
    with laptop.store() as store:
        assert replica.waiting(store)["changes"] >= 3  # kept until the county's word comes
    # The command room sees the field reports at once.
    assert set(device_entries(relay.device, cases)) == set(device_entries(laptop, cases))
    assert relay_waiting(relay) == 1

    # The county returns: the relay hands the batch on under the laptop's ids.
    county.start()
    wait_for("the relay to forward", lambda: relay_answered(relay) >= 1)
    laptop_id = device_id(laptop)
    batches = county_batches(county, laptop_id)
    assert len(batches) == len(set(batches))

    # The laptop is back on the county by itself, and sends the same batch again directly:
    # the county answers from what it stored, nothing is applied twice.
    back = route_sync(laptop, relay)
    assert back.route == "county" and back.status == "ok", back.to_json()
    assert back.replayed_batches == 1, back.to_json()
    assert county_batches(county, laptop_id) == batches
    with laptop.store() as store:
        assert replica.waiting(store)["changes"] == 0
    wait_for(
        "the relay's copy",
        lambda: device_entries(relay.device, cases) == county_entries(county, cases),
    )
    assert_identical(county, relay, laptop, cases)
    assert len(county_entries(county, cases)) == 3  # one report each: 0 lost, 0 duplicated


def test_relay_serves_the_command_rooms_work_within_scope(world: dict[str, Any]) -> None:
    """Pulls come from the relay's own copy, and only what the laptop's certificate covers."""
    county, relay, room = world["county"], world["relay"], world["room"]
    laptop = world["device"](f"{TOWNSHIP}-gw")
    assert route_sync(laptop, relay).status == "ok"
    with laptop.store() as store:
        mine = set(laptop.actor(store).grid_ids)
    with room.store() as store:
        grids = [g.code for g in store.grids()]
    outside = next(g for g in grids if g not in mine)
    inside = sorted(mine)[0]
    room_cases: list[str] = []
    with room.store() as store:
        actor = room.actor(store)
        for grid, title in ((inside, "网格内"), (outside, "网格外")):
            room_cases.append(
                store.report(actor, {"title": title, "category": "0604", "grid_id": grid}).case_id
            )
    # The relay's cycle pushes them to the county; then the county goes away.
    wait_for(
        "the room's cases to reach the county", lambda: len(county_entries(county, room_cases)) == 2
    )
    county.stop()
    via = route_sync(laptop, relay)
    assert via.route == "relay" and via.status == "ok", via.to_json()
    with laptop.store() as store:
        assert store.case(room_cases[0]) is not None  # its grid
        assert store.case(room_cases[1]) is None  # another grid: not served
    county.start()


def test_revoked_device_is_refused_once_the_relay_hears_of_it(world: dict[str, Any]) -> None:
    county, relay = world["county"], world["relay"]
    laptop = world["device"](f"{TOWNSHIP}-sup")
    assert route_sync(laptop, relay).status == "ok"
    with laptop.store() as store:
        code = store.device_code
    done = subprocess.run(
        [*county_command(), "device", "revoke", code, "--db", str(county.db)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=SERVER_ENV,
    )
    assert done.returncode == 0, done.stderr

    def refused() -> bool:
        with laptop.store() as store:
            report = router(laptop, relay).via_relay(store, relay.url)
        return report.error_code == "device_revoked"

    wait_for("the relay to refuse the revoked device", refused)
    with laptop.store() as store:
        report_cases(laptop, 1, "吊销后")
        report = router(laptop, relay).via_relay(store, relay.url)
        assert report.status == "failed" and report.error_code == "device_revoked"
        assert "revoked" in report.error
        assert replica.waiting(store)["changes"] > 0  # nothing lost on the laptop
    assert relay_waiting(relay) == 0  # and nothing taken by the relay


def test_device_of_another_township_or_a_forged_certificate_is_refused(
    world: dict[str, Any],
) -> None:
    relay = world["relay"]
    stranger = world["device"](f"{OTHER_TOWNSHIP}-op")
    assert route_sync(stranger, relay).status == "ok"  # online: it got its own certificate
    with stranger.store() as store:
        report = router(stranger, relay).via_relay(store, relay.url)
    assert report.status == "failed" and report.error_code == "wrong_device", report.to_json()
    assert OTHER_TOWNSHIP in report.error

    # A laptop of the township that edits its certificate (another grid, say) is refused too.
    laptop = world["device"](f"{TOWNSHIP}-gw")
    assert route_sync(laptop, relay).status == "ok"
    with laptop.store() as store:
        held = certificate(store)
        assert held is not None
        forged = dict(held["cert"], keys=[f"t:{TOWNSHIP}"])
        replica.set_state(
            store, {"relay_cert": json.dumps({"cert": forged, "signature": held["signature"]})}
        )
        report = router(laptop, relay).via_relay(store, relay.url)
    assert report.error_code == "unauthorized", report.to_json()
    assert "signature" in report.error

    # And a request with a made-up token gets nothing.
    with requests.post(
        relay.url + "/v1/sync",
        json={"cursor": 0},
        headers={"Authorization": "Bearer made-up"},
        timeout=10,
    ) as r:
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_laptop_moves_from_county_to_relay_mid_sync(world: dict[str, Any]) -> None:
    """The county dies inside the laptop's second push: the same sync goes on with the relay,
    which later forwards that batch; everything arrives once."""
    county, relay = world["county"], world["relay"]
    laptop = world["device"](f"{TOWNSHIP}-gw")
    assert route_sync(laptop, relay).status == "ok"
    cases = report_cases(laptop, 12, "半路断网")
    county.stop()
    county.start(kill_at="push:commit:2")
    service = SyncService(tokens=laptop.tokens(), deadline_s=20, batch_bytes=3_000)
    with laptop.store() as store:
        report = Router(service, relay_url=relay.url, probe_timeout=2.0).sync_once(store)
    assert report.route == "relay", report.to_json()
    assert report.held_batches == 1, report.to_json()
    assert any("county stopped answering" in p for p in report.problems)
    county.kill()
    county.start()
    wait_for("the relay to forward", lambda: relay_waiting(relay) == 0)
    for _ in range(5):
        done = route_sync(laptop, relay)
        if done.status == "ok":
            break
    assert done.route == "county" and done.status == "ok", done.to_json()
    laptop_id = device_id(laptop)
    batches = county_batches(county, laptop_id)
    assert len(batches) == len(set(batches))
    wait_for(
        "the relay's copy",
        lambda: device_entries(relay.device, cases) == county_entries(county, cases),
    )
    assert_identical(county, relay, laptop, cases)
    assert len(county_entries(county, cases)) == 12


def test_relay_killed_after_the_countys_answer_forwards_exactly_once(
    world: dict[str, Any],
) -> None:
    county, relay = world["county"], world["relay"]
    laptop = world["device"](f"{TOWNSHIP}-gw")
    assert route_sync(laptop, relay).status == "ok"
    county.stop()
    cases = report_cases(laptop, 2, "转发中断电")
    relay.stop()
    relay.start(kill_at="relay:answered:1")
    via = route_sync(laptop, relay)
    assert via.route == "relay" and via.held_batches == 1, via.to_json()
    county.start()
    # The relay forwards, the county applies, and the relay dies before storing the answer.
    assert relay.wait_dead() == -9
    laptop_id = device_id(laptop)
    wait_for("the county to hold the batch", lambda: len(county_batches(county, laptop_id)) >= 1)
    batches = county_batches(county, laptop_id)
    relay.stop()
    relay.start()  # it forwards the same batch again: the county answers from what it stored
    wait_for("the relay to have the answer", lambda: relay_waiting(relay) == 0)
    assert county_batches(county, laptop_id) == batches
    # The laptop takes the answer from the relay (the county is up, it goes there: replayed).
    done = route_sync(laptop, relay)
    assert done.status == "ok", done.to_json()
    assert done.replayed_batches == 1
    with laptop.store() as store:
        assert replica.waiting(store)["changes"] == 0
    wait_for(
        "the relay's copy",
        lambda: device_entries(relay.device, cases) == county_entries(county, cases),
    )
    assert_identical(county, relay, laptop, cases)
    assert len(county_entries(county, cases)) == 2


def test_certificate_checks_offline() -> None:
    """The certificate's checks need only the county's public key (unit-level, no network)."""
    from sync.bundlefile import KeyPair

    county_pair, device_pair = KeyPair.generate(), KeyPair.generate()
    cert = {
        "format": relaycert.CERT_FORMAT,
        "county": "330825",
        "device_id": "d1",
        "device_code": "AB12",
        "township": TOWNSHIP,
        "account_id": "a1",
        "account_login": "x",
        "role": "operator",
        "keys": [f"t:{TOWNSHIP}"],
        "sign": device_pair.public()["sign"],
        "issued_at": 1,
        "expires_at": 10**13,
    }
    sig = relaycert.sign_cert(county_pair.sign, cert)
    good = relaycert.check_cert(
        cert, sig, county_pair.public()["sign"], county="330825", township=TOWNSHIP, now=5
    )
    assert good["device_id"] == "d1"
    with pytest.raises(relaycert.RelayError) as late:
        relaycert.check_cert(
            cert,
            sig,
            county_pair.public()["sign"],
            county="330825",
            township=TOWNSHIP,
            now=10**13 + 1,
        )
    assert "expired" in late.value.message
    with pytest.raises(relaycert.RelayError):  # signed by someone else
        relaycert.check_cert(
            cert,
            relaycert.sign_cert(device_pair.sign, cert),
            county_pair.public()["sign"],
            county="330825",
            township=TOWNSHIP,
            now=5,
        )
    batch = {"batch_id": "b1", "entries": []}
    mark = relaycert.sign_batch(device_pair.sign, "330825", "d1", "a1", batch)
    relaycert.check_batch(device_pair.public()["sign"], mark, "330825", "d1", "a1", batch)
    with pytest.raises(relaycert.RelayError):  # the relay changed a byte of it
        relaycert.check_batch(
            device_pair.public()["sign"],
            mark,
            "330825",
            "d1",
            "a1",
            {**batch, "entries": [{"id": "x"}]},
        )


def test_relay_over_tls_with_the_countys_ca(world: dict[str, Any], tmp_path: Path) -> None:
    """The relay serves https with a certificate under the county's CA; a laptop that trusts
    that CA syncs, one that does not is refused before anything is sent."""
    from tests.install.tls import make_pki

    county, room = world["county"], world["room"]
    world["relay"].stop()
    pki = make_pki(tmp_path / "pki")
    relay = RelayProcess(room, tmp_path, tls=pki)
    relay.start()
    try:
        laptop = world["device"](f"{TOWNSHIP}-gw")
        assert route_sync(laptop, relay).status == "ok"
        county.stop()
        cases = report_cases(laptop, 1, "加密链路")
        with laptop.store() as store:
            untrusting = Router(SyncService(tokens=laptop.tokens()), relay_url=relay.url)
            refused = untrusting.via_relay(store, relay.url)
            assert refused.status == "failed" and refused.error_code == "tls", refused.to_json()
            trusting = SyncService(tokens=laptop.tokens(), ca_file=str(pki.ca_pem), deadline_s=20)
            via = Router(trusting, relay_url=relay.url, probe_timeout=2.0).sync_once(store)
        assert via.route == "relay" and via.held_batches == 1, via.to_json()
        assert set(device_entries(room, cases)) == set(device_entries(laptop, cases))
    finally:
        relay.stop()
        county.ensure_up()


@pytest.mark.slow
def test_relay_runs_of_the_fault_campaign_lose_nothing(tmp_path: Path) -> None:
    """The campaign's relay runs (tests.faults.campaign.RELAY_KINDS): after each, the laptop,
    the relay's store and the county identical, 0 lost, 0 duplicated."""
    from .campaign import RELAY_KINDS, Campaign

    lines: list[str] = []
    with Campaign(tmp_path, seed=17, kinds=RELAY_KINDS, log=lines.append) as campaign:
        for i in range(2 * len(RELAY_KINDS)):
            campaign.run(i)
        result = campaign.summary()
    assert result["failed_runs"] == 0, "\n".join(lines) + f"\n{result['first_failures']}"
    assert (result["losses"], result["duplicates"], result["differences"]) == (0, 0, 0)
    assert (result["stuck"], result["damaged"], result["tracebacks"]) == (0, 0, 0)
    assert set(result["faults_injected"]) == set(RELAY_KINDS)
    routes = result["relay_routes"]
    assert any("via relay" in r for r in routes), routes  # the laptop did go through the relay
    assert any("fired" in r for r in routes), routes  # and the relay was killed mid-forward
