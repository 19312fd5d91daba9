"""Village clocks are wrong: the county tells each device its offset and clamps stamps from the
future, so a laptop set ten years ahead neither poisons the order of events nor their times."""

from __future__ import annotations

from collections.abc import Callable

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
