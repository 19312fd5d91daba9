"""Village clocks are wrong: the county tells each device its offset and clamps stamps from the
future, so a laptop set ten years ahead neither poisons the order of events nor their times."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator

from sync import protocol
from sync.model.clock import HlcStamp, now_millis
from sync.model.records import Action, Actor, Role
from sync.store import replica

from .conftest import TOWNSHIP_A, CountyServer, Device

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"
TEN_YEARS = 10 * 365 * 24 * 3600 * 1000
SLACK = 5 * 60_000  # generous: the machine running this is shared and slow at times


def _actor(county: CountyServer, login_name: str) -> Actor:
    a = county.account(login_name)
    return Actor(a["id"], a["name"], Role(a["role"]))


def test_a_clock_ten_years_ahead(devices: Callable[..., Device], county: CountyServer) -> None:
    honest = devices(SUP)
    ahead = devices(OP, clock=lambda: now_millis() + TEN_YEARS, sync=False)
    grid = county.account(f"{TOWNSHIP_A}-gw")["grids"][0]
    actor = _actor(county, OP)
    # Offline before it ever met the county: these stamps are ten years in the future.
    case_id = ahead.store.report(
        actor, {"title": "时钟超前的上报", "category": "0301", "grid_id": grid}
    ).case_id
    ahead.store.accept(case_id, actor)
    assert ahead.store.timeline(case_id)[0].at > now_millis() + TEN_YEARS - SLACK
    report = ahead.sync()
    assert report.status == "ok", report.to_json()
    assert report.restamped == 2
    # The county measured the offset and the device adopted it.
    assert abs(report.clock_offset_ms + TEN_YEARS) < SLACK
    assert abs(ahead.store.now() - now_millis()) < SLACK
    # Its copies of the clamped entries now carry the county's time, in their original order.
    entries = ahead.store.timeline(case_id)
    assert [e.action for e in entries] == [Action.REPORT, Action.ACCEPT]
    for e in entries:
        assert abs(e.at - now_millis()) < SLACK
        assert HlcStamp.decode(e.hlc).wall <= now_millis() + protocol.MAX_FUTURE_MS
    # New work is stamped with the corrected clock, after what came before.
    ahead.store.comment(case_id, actor, "时钟已校正")
    late = ahead.store.timeline(case_id)[-1]
    assert late.action == Action.COMMENT
    assert abs(late.at - now_millis()) < SLACK
    assert late.hlc > entries[-1].hlc
    assert HlcStamp.decode(late.hlc).wall < now_millis() + protocol.MAX_FUTURE_MS
    ahead.sync()
    # The other device sees sane times and a sane order, and its own step lands after them.
    honest.sync()
    honest.store.urge(case_id, honest.actor, "请加快")
    honest.sync()
    ahead.sync()
    for device in (honest, ahead):
        timeline = device.store.timeline(case_id)
        assert [e.action for e in timeline] == [
            Action.REPORT,
            Action.ACCEPT,
            Action.COMMENT,
            Action.URGE,
        ]
        assert all(abs(e.at - now_millis()) < SLACK for e in timeline)
        state = device.store.case(case_id)
        assert state is not None and state.conflicts == []
        assert state.reported_at < now_millis() + SLACK
    # The offset survives closing and reopening the store.
    ahead.reopen(clock=lambda: now_millis() + TEN_YEARS)
    assert abs(ahead.store.now() - now_millis()) < SLACK
    assert replica.clock_offset(ahead.store) == report.clock_offset_ms


def test_a_clock_ten_years_behind_is_corrected_for_new_work(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    behind = devices(OP, clock=lambda: now_millis() - TEN_YEARS)
    assert abs(replica.clock_offset(behind.store) - TEN_YEARS) < SLACK
    case_id = behind.store.report(
        behind.actor,
        {"title": "时钟落后的上报", "category": "0301", "grid_id": behind.store.grids()[0].code},
    ).case_id
    assert abs(behind.store.timeline(case_id)[0].at - now_millis()) < SLACK
    assert behind.sync().restamped == 0


def test_another_connection_catches_up_after_a_sync(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    """The desktop syncs on a connection of its own; its window's store then refreshes."""
    from sync.store import Store

    writer = devices(SUP)
    desk = devices(OP, clock=lambda: now_millis() - 3_600_000, sync=False)
    window = Store.open(desk.path, clock=lambda: now_millis() - 3_600_000)
    try:
        case_id = writer.store.report(
            writer.actor,
            {
                "title": "一小时后的派遣",
                "category": "0301",
                "grid_id": writer.store.grids()[0].code,
            },
        ).case_id
        writer.store.accept(case_id, writer.actor)
        writer.sync()
        assert desk.sync().status == "ok"
        replica.refresh_clock(window)
        assert abs(window.now() - now_millis()) < SLACK
        state = window.comment(case_id, window.account(desk.actor.id), "已阅")  # type: ignore[arg-type]
        timeline = window.timeline(case_id)
        assert [e.action for e in timeline] == [Action.REPORT, Action.ACCEPT, Action.COMMENT]
        assert state.conflicts == []
    finally:
        window.close()


# -- the offset under a slow county ---------------------------------------------------------------

#: The error a measured offset may have on loopback, even on a busy machine.
PRECISION_MS = 1_000


@contextlib.contextmanager
def writers_held(county: CountyServer, seconds: float) -> Iterator[None]:
    """Hold the county database's writers' lock (as a long push would) for ``seconds``, from
    another connection: every push that arrives meanwhile waits for it, inside its handler."""
    taken = threading.Event()

    def hold() -> None:
        if county.backend == "postgres":
            import psycopg

            with psycopg.connect(county.db_url, autocommit=True) as conn:
                conn.execute("BEGIN")
                conn.execute("SELECT value FROM counters WHERE name = 'seq' FOR UPDATE")
                taken.set()
                time.sleep(seconds)
                conn.execute("ROLLBACK")
        else:
            conn = sqlite3.connect(county.db_url, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                taken.set()
                time.sleep(seconds)
                conn.execute("ROLLBACK")
            finally:
                conn.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(30), "could not take the county's writers' lock"
    try:
        yield
    finally:
        thread.join(seconds + 30)


def _pending_case(device: Device, county: CountyServer, title: str) -> str:
    grid = county.account(f"{TOWNSHIP_A}-gw")["grids"][0]
    actor = _actor(county, device.login)
    return device.store.report(actor, {"title": title, "category": "0301", "grid_id": grid}).case_id


def test_a_slow_request_does_not_skew_the_offset(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    """The server's clock used to be read at the end of the request: a push that waited 6 s
    for the database made the device adopt an offset 3 s off, and stamp its entries in the
    future. Now the arrival and reply stamps leave the server's own time out."""
    truth = 5 * 60_000  # this device's clock is 5 minutes behind the county's
    device = devices(OP, clock=lambda: now_millis() - truth, sync=False)
    _pending_case(device, county, "慢请求时的上报")
    with writers_held(county, 6.0):
        started = time.monotonic()
        report = device.sync()
        took = time.monotonic() - started
    assert report.status == "ok" and report.pushed == 1, report.to_json()
    assert took >= 5.0, f"the push was not slowed ({took:.1f} s)"
    assert abs(report.clock_offset_ms - truth) <= PRECISION_MS, report.clock_offset_ms
    assert abs(device.store.now() - now_millis()) <= PRECISION_MS + 500


def test_many_devices_syncing_at_once_adopt_the_right_offsets(
    devices: Callable[..., Device], county: CountyServer
) -> None:
    """The issue's scene, smaller: devices with different clocks push at once while the county
    serialises their writes (a queue of seconds); each adopts its own true offset."""
    truths = [(i - 5) * 7_000 for i in range(12)]  # -35 s … +42 s
    fleet = []
    for truth in truths:
        device = devices(OP, clock=lambda t=truth: now_millis() - t, sync=False)
        _pending_case(device, county, f"同时同步{truth}")
        fleet.append(device)
    reports: list[object] = [None] * len(fleet)
    start = threading.Barrier(len(fleet))

    def run(i: int) -> None:
        start.wait()
        reports[i] = fleet[i].sync()

    with writers_held(county, 3.0):  # and a slow start on top of the queue
        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(fleet))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
    for truth, report in zip(truths, reports, strict=True):
        assert report is not None and report.status == "ok", report  # type: ignore[attr-defined]
        offset = report.clock_offset_ms  # type: ignore[attr-defined]
        expected = truth if abs(truth) >= protocol.OFFSET_NOISE_MS else 0
        assert abs(offset - expected) <= PRECISION_MS, (truth, offset)
