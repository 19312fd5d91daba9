"""The hybrid logical clock: its stamps order the same as values and as the text that is stored
and compared (``ORDER BY hlc``), for any number of readings within one millisecond."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import protocol
from sync.model.clock import HlcStamp, HybridClock

WALL = 1_767_225_600_000  # 2026-01-01
COUNTER_SPAN = 10_000  # readings per millisecond a 4-digit counter holds


def _strictly_increasing(stamps: list[HlcStamp]) -> None:
    texts = [s.encode() for s in stamps]
    for before, after, t_before, t_after in zip(stamps, stamps[1:], texts, texts[1:], strict=False):
        assert before < after, (before, after)
        assert t_before < t_after, (t_before, t_after)
    # The text is the value: it reads back as the same stamp, in canonical (4-digit) form.
    for stamp, text in zip(stamps, texts, strict=True):
        assert HlcStamp.decode(text) == stamp
        assert len(text.split(".")[1]) == 4


@settings(max_examples=40, deadline=None)
@given(
    start=st.integers(0, COUNTER_SPAN - 1),
    calls=st.integers(1, 3 * COUNTER_SPAN),
    remote_at=st.lists(st.integers(0, 3 * COUNTER_SPAN), max_size=5),
    remote_counter=st.integers(0, COUNTER_SPAN - 1),
)
def test_stamps_strictly_increase_with_a_stuck_clock(
    start: int, calls: int, remote_at: list[int], remote_counter: int
) -> None:
    """A stuck wall clock (a VM paused, a bulk import within one millisecond): every reading
    still orders after the one before, as a value and as stored text, past 10,000 readings."""
    clock = HybridClock("DEV1", wall=lambda: WALL)
    clock.observe(HlcStamp(WALL, start, "PEER").encode())
    stamps = [HlcStamp.decode(HlcStamp(WALL, start, "PEER").encode())]
    observe_at = set(remote_at)
    for i in range(calls):
        if i in observe_at:
            # Another device's stamp, seen mid-run: ours must still move past it.
            remote = HlcStamp(stamps[-1].wall, remote_counter, "PEER")
            clock.observe(remote.encode())
            now = clock.now()
            assert now > remote and now.encode() > remote.encode()
        stamps.append(clock.now())
    _strictly_increasing(stamps)


def test_the_ten_thousandth_reading_rolls_into_the_next_millisecond() -> None:
    clock = HybridClock("DEV1", wall=lambda: WALL)
    stamps = [clock.now() for _ in range(COUNTER_SPAN + 2)]
    assert stamps[COUNTER_SPAN - 1] == HlcStamp(WALL, COUNTER_SPAN - 1, "DEV1")
    assert stamps[COUNTER_SPAN] == HlcStamp(WALL + 1, 0, "DEV1")
    assert stamps[COUNTER_SPAN].encode() == f"{WALL + 1:013d}.0000.DEV1"
    assert stamps[-2].encode() < stamps[-1].encode()
    # As stored: SQLite's ORDER BY and max() on the text give the clock's order.
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE e (n INTEGER, hlc TEXT)")
    db.executemany("INSERT INTO e VALUES (?, ?)", [(i, s.encode()) for i, s in enumerate(stamps)])
    order = [n for (n,) in db.execute("SELECT n FROM e ORDER BY hlc")]
    assert order == list(range(len(stamps)))
    assert db.execute("SELECT max(hlc) FROM e").fetchone()[0] == stamps[-1].encode()
    # When the physical clock reaches that millisecond, it continues from there.
    later = HybridClock("DEV1", wall=lambda: WALL + 1)
    later.observe(stamps[-1].encode())
    assert later.now() == HlcStamp(WALL + 1, 3, "DEV1")  # observe() took 2


def test_stored_stamps_keep_their_text() -> None:
    """Migration-free: every stamp written before (counter below 10,000) reads and writes back
    byte for byte."""
    for text in (f"{WALL:013d}.0000.AB12", f"{WALL:013d}.9999.X", "0000000000001.0042.LOCAL"):
        assert HlcStamp.decode(text).encode() == text


def test_a_wide_counter_from_an_older_build_is_read_as_the_same_instant() -> None:
    """Older builds wrote ``…0000.10000.X`` after 10,000 readings: it sorts before ``…9999`` as
    text. It decodes rolled over, and the county rewrites it to that canonical text."""
    wide = f"{WALL:013d}.10003.OLD"
    assert protocol.check_hlc(wide) == wide  # still accepted on the wire
    stamp = HlcStamp.decode(wide)
    assert stamp == HlcStamp(WALL + 1, 3, "OLD")
    assert stamp > HlcStamp.decode(f"{WALL:013d}.9999.OLD")
    assert protocol.clamp_stamp(WALL, wide, server_now=WALL, device_offset=0) == (
        WALL,
        f"{WALL + 1:013d}.0003.OLD",
    )
    padded = f"{WALL:013d}.00042.OLD"  # five digits, small value: canonical text differs too
    assert protocol.clamp_stamp(WALL, padded, server_now=WALL, device_offset=0) == (
        WALL,
        f"{WALL:013d}.0042.OLD",
    )
    canonical = f"{WALL:013d}.0042.OLD"
    assert protocol.clamp_stamp(WALL, canonical, server_now=WALL, device_offset=0) is None


def test_a_negative_stamp_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        HlcStamp(WALL, -1, "X")
