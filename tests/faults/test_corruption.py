"""A byte damaged on the way (a broken middlebox on a plain-HTTP link) is detected and the
answer fetched again; it never ends up in the store. Real county, real proxy, real sockets."""

from __future__ import annotations

from collections.abc import Callable

from sync.model.clock import now_millis
from sync.store import replica

from .harness import CountyProcess, Device, check_device
from .proxy import TcpProxy


def _report(device: Device, title: str) -> str:
    with device.store() as store:
        actor = device.actor(store)
        fields = {"title": title, "category": "0604", "grid_id": store.grids()[0].code}
        return store.report(actor, fields).case_id


def test_a_damaged_pull_is_fetched_again_not_stored(
    county: CountyProcess, enrol: Callable[..., Device]
) -> None:
    with TcpProxy(county.address) as flipper:
        field = enrol("op", flipper.url)
        desk = enrol("sup")
        case_id = _report(desk, "损坏测试7777777")
        assert desk.sync().status == "ok"
        # One digit of the title turns into another: the answer stays valid JSON (and valid
        # UTF-8), only a value changes: nothing but an integrity check can tell.
        flipper.flip_next_responses(1, pattern=b"7777777", xor=1)
        report = field.sync()
        assert flipper.stats["flips"] == 1, flipper.flipped
        assert report.status == "ok", report.to_json()
        assert report.retries >= 1, "the damaged answer must be noticed and fetched again"
        with field.store() as store:
            state = store.case(case_id)
            assert state is not None and state.fields["title"] == "损坏测试7777777"
        assert check_device(field, county).ok()


def test_a_damaged_clock_reading_does_not_move_the_clock(
    county: CountyProcess, enrol: Callable[..., Device]
) -> None:
    with TcpProxy(county.address) as flipper:
        field = enrol("op", flipper.url)
        # The first digit of server_time (nothing else in a no-op answer starts like it):
        # 1 → 3 would move the device's clock 63 years ahead.
        prefix = str(now_millis())[:4].encode()
        flipper.flip_next_responses(1, pattern=prefix, xor=2)
        report = field.sync()
        assert flipper.stats["flips"] == 1, flipper.flipped
        assert report.status == "ok", report.to_json()
        with field.store() as store:
            assert abs(replica.clock_offset(store)) < 60_000
            assert abs(store.now() - now_millis()) < 60_000
