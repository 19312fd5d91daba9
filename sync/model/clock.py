"""Time, ids and the hybrid logical clock.

Instants are integer milliseconds since the Unix epoch, UTC (``Millis``): compact in SQLite and
cheap to compare. The hybrid logical clock (HLC) orders edits from devices whose wall clocks
disagree: its stamps are fixed-width strings that sort in causal order.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

import uuid6

Millis = int

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

    def encode(self) -> str:
        return f"{self.wall:013d}.{self.counter:04d}.{self.device}"

    @classmethod
    def decode(cls, text: str) -> HlcStamp:
        wall, counter, device = text.split(".", 2)
        return cls(int(wall), int(counter), device)


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
