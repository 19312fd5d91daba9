"""Time, ids and the hybrid logical clock.

Instants are integer milliseconds since the Unix epoch, UTC (``Millis``): compact in SQLite and
cheap to compare. The hybrid logical clock (HLC) orders edits from devices whose wall clocks
disagree: its stamps are fixed-width strings that sort in causal order.

Stamps are stored and compared as text (``ORDER BY hlc``, ``max(hlc)``, Python's ``<`` on
``Entry.hlc``), so the text must sort exactly as the values do: ``WWWWWWWWWWWWW.CCCC.DEVICE``,
13 digits of milliseconds and 4 of counter. A counter never reaches 10,000: the 10,000th reading
within one millisecond rolls over into the next millisecond, counter 0 (as the HLC papers bound
the counter). The wall part then runs at most a few milliseconds ahead of the physical clock,
and the next real millisecond continues from there. Every stamp ever written with the old code
and a counter below 10,000 keeps its text, so nothing stored needs migrating.

Devices in the field (older builds) could send a wider counter (``...0000.10000.X`` sorts
*before* ``...0000.9999.X``). :meth:`HlcStamp.decode` accepts it and reads it as the same
instant rolled over (``wall + counter // 10000``, ``counter % 10000``); :meth:`encode` then
writes the canonical text, and the county restamps such an entry on push
(:func:`sync.protocol.clamp_stamp`), which the device adopts like any restamp.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import uuid6

Millis = int

#: Digits of the counter in an encoded stamp: fixed, so the text sorts like the value.
COUNTER_DIGITS = 4
#: Readings per millisecond before the counter rolls over into the next millisecond.
COUNTER_SPAN = 10**COUNTER_DIGITS

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def now_millis() -> Millis:
    return time.time_ns() // 1_000_000


def to_millis(value: dt.datetime) -> Millis:
    if value.tzinfo is None:
        raise ValueError("naive datetime: Gridroom keeps every instant timezone-aware")
    return (value - _EPOCH) // dt.timedelta(milliseconds=1)


def from_millis(value: Millis) -> dt.datetime:
    return _EPOCH + dt.timedelta(milliseconds=value)


def new_id() -> str:
    """A time-ordered UUIDv7, generated on the device without coordination."""
    return str(uuid6.uuid7())


@dataclass(frozen=True, order=True)
class HlcStamp:
    """One HLC reading: physical milliseconds, a counter, and the device that made it."""

    wall: Millis
    counter: int
    device: str

    def __post_init__(self) -> None:
        if self.counter < 0 or self.wall < 0:
            raise ValueError(f"an HLC stamp cannot be negative ({self.wall}, {self.counter})")
        if self.counter >= COUNTER_SPAN:
            # Roll over into the next millisecond(s): same order, and a 4-digit counter.
            carry, counter = divmod(self.counter, COUNTER_SPAN)
            object.__setattr__(self, "wall", self.wall + carry)
            object.__setattr__(self, "counter", counter)

    def encode(self) -> str:
        return f"{self.wall:013d}.{self.counter:0{COUNTER_DIGITS}d}.{self.device}"

    @classmethod
    def decode(cls, text: str) -> HlcStamp:
        """Read a stamp; a counter wider than 4 digits (older builds) is rolled over."""
        wall, counter, device = text.split(".", 2)
        return cls(int(wall), int(counter), device)

    def canonical(self, text: str) -> bool:
        """Whether ``text`` (which decoded to this stamp) is already its canonical text."""
        return self.encode() == text


class HybridClock:
    """A hybrid logical clock (Kulkarni et al.): monotonic, close to wall time, causal.

    ``offset`` is the correction the county told us to apply to this device's wall clock.
    """

    def __init__(self, device: str, *, offset_ms: int = 0, wall=now_millis) -> None:
        self.device = device
        self.offset_ms = offset_ms
        self._wall = wall
        self._last = HlcStamp(0, 0, device)
        self._lock = threading.Lock()

    def now(self) -> HlcStamp:
        with self._lock:
            wall = self._wall() + self.offset_ms
            if wall > self._last.wall:
                self._last = HlcStamp(wall, 0, self.device)
            else:
                self._last = HlcStamp(self._last.wall, self._last.counter + 1, self.device)
            return self._last

    def observe(self, remote: str) -> None:
        """Advance past a stamp seen from another device so our next edit orders after it."""
        other = HlcStamp.decode(remote)
        with self._lock:
            wall = self._wall() + self.offset_ms
            top = max(wall, self._last.wall, other.wall)
            if top == self._last.wall == other.wall:
                counter = max(self._last.counter, other.counter) + 1
            elif top == self._last.wall:
                counter = self._last.counter + 1
            elif top == other.wall:
                counter = other.counter + 1
            else:
                counter = 0
            self._last = HlcStamp(top, counter, self.device)


# -- the offset from the county's clock ------------------------------------------------------------

#: A sample whose round trip (less the server's own time) exceeds this is not adopted when it
#: merely disagrees a little: its error can be up to half of it.
MAX_SAMPLE_DELAY_MS = 2_000


@dataclass(frozen=True)
class ClockSample:
    """One measurement of this device's clock error against the server's, NTP-style.

    ``offset`` is what to add to the device's wall clock to get the server's; ``delay`` is the
    time on the wire (the round trip less the server's own handling time): the true offset lies
    within ``offset ± delay / 2``.
    """

    offset: int
    delay: int

    @classmethod
    def ntp(cls, sent: Millis, arrival: Millis, reply: Millis, received: Millis) -> ClockSample:
        """From the four timestamps: the device's clock at sending and at receiving, the
        server's at the request's arrival and at its reply. How long the server took (waiting
        for a lock, a slow push) does not enter the estimate."""
        handling = max(0, reply - arrival)
        return cls(
            offset=((arrival - sent) + (reply - received)) // 2,
            delay=max(0, (received - sent) - handling),
        )

    @classmethod
    def cristian(cls, sent: Millis, received: Millis, server_time: Millis) -> ClockSample:
        """From one server reading anywhere inside the round trip (a server that does not
        stamp arrival and reply): the whole round trip is the uncertainty."""
        return cls(offset=server_time - (sent + received) // 2, delay=max(0, received - sent))


def best_sample(samples: list[ClockSample]) -> ClockSample | None:
    """The most precise of ``samples`` (lowest delay), or None."""
    return min(samples, key=lambda s: s.delay) if samples else None


def offset_to_adopt(sample: ClockSample | None, current: int, *, noise_ms: int) -> int | None:
    """The offset to adopt from the best recent ``sample``, or None to keep ``current``.

    A quick sample (delay up to :data:`MAX_SAMPLE_DELAY_MS`) is adopted when it differs from
    ``current`` by ``noise_ms`` or more. A slow one only when it proves ``current`` wrong: when
    ``current`` lies outside the sample's own uncertainty (``± delay / 2``) by more than the
    noise — a clock years off is still corrected over a slow link, while a slow round trip
    never moves a clock that is about right.
    """
    if sample is None:
        return None
    moved = abs(sample.offset - current)
    if sample.delay <= MAX_SAMPLE_DELAY_MS:
        return sample.offset if moved >= noise_ms else None
    return sample.offset if moved > sample.delay // 2 + noise_ms else None
