"""The clock offset from four timestamps (NTP-style), and which samples a device adopts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sync import protocol
from sync.model.clock import MAX_SAMPLE_DELAY_MS, ClockSample, best_sample, offset_to_adopt

NOISE = protocol.OFFSET_NOISE_MS
TEN_YEARS = 10 * 365 * 24 * 3600 * 1000


def test_the_servers_handling_time_does_not_enter_the_offset() -> None:
    # Device 10 s behind; 200 ms each way; the server takes 5 s (a lock, a slow push).
    sent, arrival, reply, received = 1_000, 11_200, 16_200, 6_400
    sample = ClockSample.ntp(sent, arrival, reply, received)
    assert sample == ClockSample(offset=10_000, delay=400)
    # The old estimate, with the server's time read at the end of the request: 2.5 s off.
    assert ClockSample.cristian(sent, received, reply).offset == 12_500
    assert protocol.measured_offset(sent, received, reply) == 12_500


@given(
    truth=st.integers(-TEN_YEARS, TEN_YEARS),
    up=st.integers(0, 3_000),
    down=st.integers(0, 3_000),
    handling=st.integers(0, 120_000),
)
def test_the_error_is_within_half_the_delay(truth: int, up: int, down: int, handling: int) -> None:
    sent = 1_800_000_000_000
    arrival = sent + up + truth
    reply = arrival + handling
    received = reply - truth + down
    sample = ClockSample.ntp(sent, arrival, reply, received)
    assert sample.delay == up + down
    assert abs(sample.offset - truth) <= sample.delay // 2 + 1


def test_the_best_sample_is_the_quickest() -> None:
    samples = [ClockSample(3_000, 6_000), ClockSample(40, 30), ClockSample(900, 1_900)]
    assert best_sample(samples) == ClockSample(40, 30)
    assert best_sample([]) is None


def test_a_quick_sample_is_adopted_when_it_differs_by_more_than_the_noise() -> None:
    assert offset_to_adopt(ClockSample(30_000, 50), 0, noise_ms=NOISE) == 30_000
    assert offset_to_adopt(ClockSample(1_500, 50), 0, noise_ms=NOISE) is None
    assert offset_to_adopt(None, 0, noise_ms=NOISE) is None


def test_a_slow_sample_never_moves_a_clock_that_is_about_right() -> None:
    # 9 s on the wire: the truth lies anywhere within ±4.5 s; 0 is consistent with it.
    slow = ClockSample(4_000, 9_000)
    assert slow.delay > MAX_SAMPLE_DELAY_MS
    assert offset_to_adopt(slow, 0, noise_ms=NOISE) is None


def test_a_slow_sample_still_corrects_a_clock_years_off() -> None:
    slow = ClockSample(-TEN_YEARS + 3_000, 9_000)
    assert offset_to_adopt(slow, 0, noise_ms=NOISE) == -TEN_YEARS + 3_000
