"""User-space bad-link emulator: a loopback TCP proxy that behaves like a poor WAN link.

Gridroom syncs over 2G village links, and the machines that run our tests have no
``netem`` (and no root), so this module emulates the link in user space instead.
:class:`BadLink` listens on 127.0.0.1, forwards every accepted connection to a target
server, and on the way imposes:

* **bandwidth**, separately per direction (upstream = client→server, downstream =
  server→client), in bits per second.  Pacing is shared by all connections of one
  proxy by default, because a real link is a single pipe;
* **latency**: a one-way delay added to every chunk (round trip = 2 × one-way).  New
  connections also pay the TCP handshake round trip, as they would on a real link;
* **connection drops** on a seeded schedule (every open connection is reset);
* **stalls**: periods in which no byte moves but connections stay open;
* **truncated responses**: the next downstream response is cut after N bytes;
* **outages**: for a period every connection is cut and new ones are reset.

Everything random comes from ``random.Random`` instances derived from the seed, one
per kind of event, so that a given seed always yields the same schedule regardless
of the traffic.  Byte and event counters are exposed through :attr:`BadLink.stats`
and :attr:`BadLink.events` so that benchmarks can record what went over the wire.

Example::

    with BadLink(target=("127.0.0.1", 8765), profile=PROFILES["village-2g"], seed=1) as link:
        requests.get(link.url + "/health", timeout=30)
        print(link.stats["bytes_down"])

Command line (runs until Ctrl-C, then prints the stats as JSON)::

    python -m tests.support.badlink --target 127.0.0.1:8765 --listen 127.0.0.1:9000 \
        --profile village-2g --seed 1

Model and accuracy notes
------------------------
* Bandwidth counts TCP *payload* bytes only; TCP/IP header overhead is not charged.
  On a 128 kbit/s downstream, 160 kB of payload therefore takes 10 s plus latency.
* Data is paced in chunks of at most :data:`CHUNK` bytes (one Ethernet MSS), so
  latency and serialisation delay compose like on a real link: a chunk is "on the
  wire" for ``len * 8 / bps`` seconds and arrives ``latency`` after it was sent.
* The pacer is a token bucket whose depth is :data:`BURST_S` seconds worth of
  bandwidth; the tiny burst only absorbs timer overshoot so the long-run rate is
  neither above nor below the configured one.
* Loopback kernel buffers and the proxy's own small buffers still accept some data
  ahead of the link, exactly like a real sender's socket buffer does: a client's
  ``send()`` may return before the bytes have "left".  Timing at the receiver is
  what is emulated faithfully.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import logging
import math
import random
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable
from typing import Any, Literal, NamedTuple, TypeVar

__all__ = ["PROFILES", "BadLink", "LinkEvent", "Profile", "main"]

#: Largest chunk paced as one unit on a shaped direction (one Ethernet TCP MSS).
CHUNK = 1460
#: Read size for unshaped directions (no bandwidth limit): just move bytes quickly.
BIG_CHUNK = 64 * 1024
#: Token-bucket depth in seconds of bandwidth; absorbs timer overshoot only.
BURST_S = 0.02
#: asyncio stream buffer limit; kept small so the proxy does not hide a large
#: buffer in front of a slow link (the stream pauses reading at 2x this).
READ_LIMIT = 16 * 1024
#: Transport write-buffer high-water mark, for the same reason.
WRITE_HIGH_WATER = 16 * 1024
#: How long to wait for the target server to accept a connection.
CONNECT_TIMEOUT_S = 10.0
#: How long a graceful close may take before the socket is reset instead.
CLOSE_TIMEOUT_S = 5.0
#: How long control calls from other threads wait for the proxy's loop.
CONTROL_TIMEOUT_S = 10.0

_STAT_KEYS = (
    "bytes_up",  # payload bytes delivered to the server
    "bytes_down",  # payload bytes delivered to the client
    "connections",  # client connections accepted and forwarded
    "drops",  # drop events (scheduled drops and cut_all() calls)
    "resets",  # connections the emulator tore down with a RST (all causes)
    "truncations",  # responses cut short by truncate_next_response()
    "stalls",  # stall periods begun
    "outages",  # outage periods begun
    "refused",  # connections reset on arrival because of an outage
    "errors",  # connections ended because a peer reset/errored
    "target_errors",  # connections reset because the target was unreachable
)

_T = TypeVar("_T")
_log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Profile:
    """Conditions of an emulated link.

    All ``*_every_s`` values are *mean* intervals between the end of one event and
    the start of the next; ``None`` disables that kind of event.  Intervals are drawn
    from an exponential distribution (a Poisson process, which is how radio fades
    arrive) unless ``intervals="uniform"``, which draws uniformly from
    ``[0.5, 1.5] × mean`` for a more regular "one every ~N seconds".
    """

    name: str
    #: Client→server bandwidth in bits per second; ``None`` = unlimited.
    up_bps: int | None = None
    #: Server→client bandwidth in bits per second; ``None`` = unlimited.
    down_bps: int | None = None
    #: One-way delay added to every chunk, in milliseconds (RTT = 2 × this).
    latency_ms: float = 0.0
    #: Mean interval between connection drops, seconds.
    drop_every_s: float | None = None
    #: Mean interval between stalls, seconds.
    stall_every_s: float | None = None
    #: Length of each stall, seconds.
    stall_for_s: float | None = None
    #: Mean interval between outages, seconds.
    outage_every_s: float | None = None
    #: Length of each outage, seconds.
    outage_for_s: float | None = None
    #: Interval distribution for scheduled events.
    intervals: Literal["exponential", "uniform"] = "exponential"

    def __post_init__(self) -> None:
        for field in ("up_bps", "down_bps"):
            value = getattr(self, field)
            if value is not None and value <= 0:
                raise ValueError(f"{field} must be positive or None, got {value!r}")
        if self.latency_ms < 0:
            raise ValueError(f"latency_ms must be >= 0, got {self.latency_ms!r}")
        for field in (
            "drop_every_s",
            "stall_every_s",
            "stall_for_s",
            "outage_every_s",
            "outage_for_s",
        ):
            value = getattr(self, field)
            if value is not None and value <= 0:
                raise ValueError(f"{field} must be positive or None, got {value!r}")
        # A schedule without a duration (or vice versa) is almost certainly a typo.
        if (self.stall_every_s is None) != (self.stall_for_s is None):
            raise ValueError("stall_every_s and stall_for_s must be set together")
        if (self.outage_every_s is None) != (self.outage_for_s is None):
            raise ValueError("outage_every_s and outage_for_s must be set together")
        if self.intervals not in ("exponential", "uniform"):
            raise ValueError(
                f"intervals must be 'exponential' or 'uniform', got {self.intervals!r}"
            )

    @property
    def latency_s(self) -> float:
        """One-way latency in seconds."""
        return self.latency_ms / 1000.0

    @property
    def rtt_ms(self) -> float:
        """Round-trip time in milliseconds."""
        return 2.0 * self.latency_ms


#: Named link profiles.  Rates are payload bits per second.
PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        # No shaping at all: the baseline for comparisons.
        Profile("perfect"),
        # A typical EDGE/GPRS village link: slow, high latency, drops every ~30 s.
        Profile("village-2g", up_bps=64_000, down_bps=128_000, latency_ms=300.0, drop_every_s=30.0),
        # Same link, additionally fading out for a few seconds now and then.
        Profile(
            "village-2g-fading",
            up_bps=64_000,
            down_bps=128_000,
            latency_ms=300.0,
            drop_every_s=30.0,
            stall_every_s=20.0,
            stall_for_s=5.0,
        ),
        # A township ADSL line: reasonable and reliable.
        Profile("township-dsl", up_bps=1_000_000, down_bps=4_000_000, latency_ms=20.0),
        # The 2G link going away for minutes at a time (mast power cut), then back.
        Profile(
            "outage",
            up_bps=64_000,
            down_bps=128_000,
            latency_ms=300.0,
            outage_every_s=120.0,
            outage_for_s=180.0,
        ),
    )
}


class LinkEvent(NamedTuple):
    """One entry of :attr:`BadLink.events`.

    ``at`` is seconds since :meth:`BadLink.start`.  For scheduled events it is the
    *scheduled* time, which depends only on the seed and profile, so two links with
    the same seed produce identical ``(at, kind)`` sequences.
    """

    at: float
    kind: str  # drop, stall_start, stall_end, outage_start, outage_end, truncation
    scheduled: bool
    affected: int  # connections reset/cut by this event


class _Marker:
    """Sentinel put in a delay line instead of data."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_EOF = _Marker("EOF")  # the source half-closed: forward a FIN
_CUT = _Marker("CUT")  # truncation point reached: close the client, reset the server


_LINGER_ZERO = struct.pack("ii", 1, 0)


def _hard_reset(writer: asyncio.StreamWriter | None) -> None:
    """Close ``writer``'s socket so that the peer sees a RST, not a FIN.

    SO_LINGER with a zero timeout makes close() discard unsent data and send a RST,
    which is what a peer observes when a NAT box or radio link drops the flow.
    """
    if writer is None:
        return
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    writer.transport.abort()


def _reset_socket(sock: socket.socket) -> None:
    """Close a raw socket with a RST (see :func:`_hard_reset`); safe if already closed."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_ZERO)
    sock.close()


async def _sleep_until(loop: asyncio.AbstractEventLoop, when: float) -> None:
    """Sleep until loop time ``when`` (no-op if it is already past)."""
    delay = when - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


class _Pacer:
    """Serialisation clock of one direction of the link (a token bucket).

    ``free_at`` is when the link finishes sending what has been reserved so far.
    Allowing a start up to ``BURST_S`` in the past is the bucket depth: it lets a
    continuous stream recover time lost to timer overshoot, without letting an idle
    link accumulate more than a few milliseconds of credit.
    """

    def __init__(self) -> None:
        self.free_at = -math.inf

    def reserve(self, nbytes: int, bps: int, now: float, not_before: float) -> float:
        """Reserve the link for ``nbytes``; return when their last bit has been sent."""
        start = max(self.free_at, now - BURST_S, not_before)
        self.free_at = start + nbytes * 8.0 / bps
        return self.free_at


class _DelayLine:
    """FIFO of chunks in flight, each with the loop time it should be delivered.

    FIFO order is what preserves byte order even if the latency changes mid-stream.
    The byte limit applies back-pressure to the reading side when the receiving
    peer stops reading; it is sized to hold at least twice the bandwidth-delay
    product so it never limits throughput itself.
    """

    def __init__(self) -> None:
        self._items: collections.deque[tuple[float, bytes | _Marker]] = collections.deque()
        self._nonempty = asyncio.Event()
        self._space = asyncio.Event()
        self._space.set()
        self.queued = 0

    @staticmethod
    def limit_for(bps: int | None, latency_s: float) -> int:
        """Byte limit for a direction with the given rate and one-way latency."""
        if bps is None:
            return 1024 * 1024
        return max(64 * 1024, int(2 * bps / 8 * (latency_s + 0.1)))

    async def wait_space(self, limit: int) -> None:
        """Wait until fewer than ``limit`` bytes are in flight."""
        while self.queued >= limit:
            self._space.clear()
            await self._space.wait()

    def put(self, deliver_at: float, item: bytes | _Marker) -> None:
        """Queue ``item`` for delivery at loop time ``deliver_at``."""
        self._items.append((deliver_at, item))
        if isinstance(item, bytes):
            self.queued += len(item)
        self._nonempty.set()

    async def get(self) -> tuple[float, bytes | _Marker]:
        """Next (deliver_at, item), waiting for one if the line is empty."""
        while not self._items:
            self._nonempty.clear()
            await self._nonempty.wait()
        return self._items.popleft()

    def release(self, nbytes: int) -> None:
        """Account for ``nbytes`` delivered to (and accepted by) the receiving peer."""
        self.queued -= nbytes
        self._space.set()


class _Period:
    """An on/off fault (a stall or an outage) that two sources can hold on.

    Each schedule run and the public ``stall()``/``outage()`` calls are separate
    sources so that none can end another's period early, and so that scheduled periods
    begin and end strictly in schedule order (the scheduler task releases its own
    hold instead of racing a timer), which keeps the event log deterministic.
    """

    #: The source used by stall()/outage()/restore(); any other source is a schedule.
    FORCED = "forced"

    def __init__(
        self,
        now: Callable[[], float],
        call_at: Callable[..., asyncio.TimerHandle],
        on_begin: Callable[[float | None, bool], None],
        on_end: Callable[[float | None, bool], None],
    ) -> None:
        self._now = now
        self._call_at = call_at
        self._on_begin = on_begin
        self._on_end = on_end
        self._sources: set[str] = set()
        self._forced_until = -math.inf
        self._timer: asyncio.TimerHandle | None = None

    @property
    def active(self) -> bool:
        return bool(self._sources)

    def hold(self, source: str, at: float | None) -> None:
        """Start holding; ``at`` is the scheduled link time (None = now)."""
        was_active = self.active
        self._sources.add(source)
        if not was_active:
            self._on_begin(at, source != self.FORCED)

    def release(self, source: str, at: float | None) -> None:
        """Stop holding; the period ends when no source holds it any more."""
        if source not in self._sources:
            return
        self._sources.discard(source)
        if source == self.FORCED:
            self._cancel_timer()
        if not self.active:
            self._on_end(at, source != self.FORCED)

    def force(self, seconds: float | None) -> None:
        """Hold for ``seconds`` from now (None = until release_all()); never shortens."""
        until = math.inf if seconds is None else self._now() + seconds
        if self.FORCED in self._sources and until <= self._forced_until:
            return
        self._forced_until = until
        self._cancel_timer()
        if until != math.inf:
            self._timer = self._call_at(until, self.release, self.FORCED, None)
        self.hold(self.FORCED, None)

    def release_all(self) -> None:
        """End the period now, whoever holds it."""
        self._cancel_timer()
        if self.active:
            self._sources.clear()
            self._on_end(None, False)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _Conn:
    """One proxied client connection and its connection to the target."""

    def __init__(
        self, link: BadLink, c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter
    ) -> None:
        self.link = link
        self.c_reader = c_reader
        self.c_writer = c_writer
        self.s_writer: asyncio.StreamWriter | None = None
        self.task: asyncio.Task[None] | None = None
        #: Set once the connection is being torn down; further resets are no-ops.
        self.closed = False
        #: Set once run() is in its cleanup; cancelling it then would skip cleanup.
        self.finishing = False
        #: Upstream bytes were forwarded since the last downstream bytes, i.e. the
        #: next downstream bytes start a new response (HTTP/1.x request/response).
        self.request_pending = False
        #: Bytes left before the current response is truncated (None = not truncating).
        self.trunc_left: int | None = None
        self.pacer_up = _Pacer()
        self.pacer_down = _Pacer()
        # TCP handshake emulation: on a real link connect() returns after one RTT, so
        # the first request byte cannot leave before accept + RTT, and the earliest a
        # server-first byte could reach the client is also accept + RTT (it departs
        # one one-way delay after accept).  Delaying the first transmission in each
        # direction reproduces both without slowing down the local connect().
        loop = link._require_loop()
        lat = link._profile.latency_s if link.emulate_handshake else 0.0
        now = loop.time()
        self.not_before_up = now + 2 * lat
        self.not_before_down = now + lat

    # -- teardown -------------------------------------------------------------

    def reset(self) -> bool:
        """Reset both sides now (RST). Returns False if already being torn down."""
        if self.closed:
            return False
        self.closed = True
        _hard_reset(self.c_writer)
        _hard_reset(self.s_writer)
        self._cancel_task()
        return True

    def _cancel_task(self) -> None:
        if self.task is not None and not self.finishing and self.task is not asyncio.current_task():
            self.task.cancel()

    def _truncate(self) -> None:
        """Cut the response: FIN to the client (incomplete body), RST to the server."""
        if self.closed:
            return
        self.closed = True
        self.c_writer.close()  # flushes what was delivered, then FIN
        _hard_reset(self.s_writer)
        self.link._count("truncations")
        self.link._log("truncation", scheduled=False, affected=1)
        # Cancel run() so that the TaskGroup tears down the other pumps.
        if self.task is not None and not self.finishing:
            self.task.cancel()

    # -- main -----------------------------------------------------------------

    async def run(self) -> None:
        """Forward traffic until both directions end or the connection is torn down."""
        link = self.link
        self.task = asyncio.current_task()
        link._conns.add(self)
        try:
            if link._stopping or link._outage.active:  # changed while we were set up
                if self.reset() and not link._stopping:
                    link._count("refused", "resets")
                return
            link._count("connections")
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT_S):
                    s_reader, s_writer = await asyncio.open_connection(
                        *link.target, limit=READ_LIMIT
                    )
            except (OSError, TimeoutError):
                link._count("target_errors")
                self.reset()
                return
            self.s_writer = s_writer
            if self.closed:  # reset() arrived while connecting; finish the job
                _hard_reset(s_writer)
                return
            for w in (self.c_writer, s_writer):
                w.transport.set_write_buffer_limits(high=WRITE_HIGH_WATER)
            up, down = _DelayLine(), _DelayLine()
            async with asyncio.TaskGroup() as tg:
                tg.create_task(self._pump(self.c_reader, up, upstream=True))
                tg.create_task(self._deliver(up, s_writer, upstream=True))
                tg.create_task(self._pump(s_reader, down, upstream=False))
                tg.create_task(self._deliver(down, self.c_writer, upstream=False))
        except asyncio.CancelledError:
            # Only ever cancelled by reset()/_truncate()/stop(), which already dealt
            # with the sockets.  Swallow it (and clear the cancellation request) so
            # that the clean-up below can still await, and asyncio logs no noise.
            task = asyncio.current_task()
            if task is not None:
                task.uncancel()
        except Exception as exc:  # any socket error ends the connection
            # A peer reset or vanished: propagate it as a reset to the other side,
            # the way a router in the middle of the path would.
            if self.reset():
                link._count("errors")
            link._note_unexpected(exc)
        finally:
            self.finishing = True
            await self._close()
            link._conns.discard(self)

    async def _close(self) -> None:
        """Close both sockets, gracefully if possible, and wait until they are closed."""
        for w in (self.c_writer, self.s_writer):
            if w is None:
                continue
            if not w.transport.is_closing():
                w.close()
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT_S):
                    await w.wait_closed()
            except TimeoutError:
                # The peer stopped reading with data still buffered; give up on it.
                _hard_reset(w)
                with contextlib.suppress(Exception):
                    await w.wait_closed()
            except Exception:  # closing a dead socket may error; it is closed anyway
                pass

    async def _pump(
        self, reader: asyncio.StreamReader, line: _DelayLine, *, upstream: bool
    ) -> None:
        """Read from one peer and put chunks in flight at the link's pace."""
        link = self.link
        loop = link._require_loop()
        pacer = (
            (link._shared_up if upstream else link._shared_down)
            if link.shared_bandwidth
            else (self.pacer_up if upstream else self.pacer_down)
        )
        not_before = self.not_before_up if upstream else self.not_before_down
        while True:
            prof = link._profile
            bps = prof.up_bps if upstream else prof.down_bps
            await line.wait_space(_DelayLine.limit_for(bps, prof.latency_s))
            await link._flow.wait()
            data = await reader.read(CHUNK if bps else BIG_CHUNK)
            if not data:
                line.put(loop.time() + link._profile.latency_s, _EOF)
                return
            cut = False
            if upstream:
                self.request_pending = True
            else:
                if self.request_pending:
                    # First downstream bytes after a request: a new response begins.
                    # A truncation longer than the previous response was consumed by
                    # it without effect; it must not spill over into this one.
                    self.request_pending = False
                    self.trunc_left = (
                        link._pending_truncations.popleft() if link._pending_truncations else None
                    )
                if self.trunc_left is not None:
                    data = data[: self.trunc_left]
                    self.trunc_left -= len(data)
                    cut = self.trunc_left == 0
            # A stall may have begun while we were blocked in read(); the chunk must
            # not start crossing the link until it ends.
            await link._flow.wait()
            prof = link._profile
            bps = prof.up_bps if upstream else prof.down_bps
            now = loop.time()
            if bps and data:
                sent_at = pacer.reserve(len(data), bps, now, not_before)
                # Hold the reader while the chunk is on the wire: this is what paces
                # the source, since we do not read the next chunk before the link is free.
                await _sleep_until(loop, sent_at)
            else:
                sent_at = max(now, not_before)
            arrive_at = sent_at + link._profile.latency_s
            if data:
                line.put(arrive_at, data)
            if cut:
                line.put(arrive_at, _CUT)
                return

    async def _deliver(
        self, line: _DelayLine, writer: asyncio.StreamWriter, *, upstream: bool
    ) -> None:
        """Hand chunks to the other peer once their latency has elapsed."""
        link = self.link
        loop = link._require_loop()
        while True:
            arrive_at, item = await line.get()
            await _sleep_until(loop, arrive_at)
            # During a stall nothing arrives, not even bytes already in flight.
            await link._flow.wait()
            if item is _EOF:
                if writer.can_write_eof() and not writer.transport.is_closing():
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                return
            if item is _CUT:
                self._truncate()
                return
            assert isinstance(item, bytes)
            # Count before writing: once a peer has seen the bytes, stats include them.
            link._count("bytes_up" if upstream else "bytes_down", n=len(item))
            writer.write(item)
            await writer.drain()
            line.release(len(item))


class BadLink:
    """A loopback TCP proxy emulating a bad network link; see the module docstring.

    The proxy runs an asyncio event loop in a background thread.  All public methods
    are thread-safe and may be called from any thread; those that change conditions
    return once the change has taken effect.

    Fault semantics, as seen by a client:

    * drop / :meth:`cut_all`: every open connection gets a RST (``ECONNRESET``);
      the server side is reset too;
    * outage: open connections are reset; new connections complete the (local)
      handshake and are reset at once, so clients see ``ECONNRESET`` or ``EPIPE``
      rather than a connect timeout;
    * stall: nothing moves in either direction, including bytes already in flight;
      connections stay open, and a client's own timeouts are what fire;
    * truncation: the client receives exactly N bytes of the response, then a FIN.

    Events that happen while :meth:`stop` runs are not counted.
    """

    def __init__(
        self,
        target: tuple[str, int],
        profile: Profile | None = None,
        seed: int = 0,
        *,
        listen: tuple[str, int] = ("127.0.0.1", 0),
        shared_bandwidth: bool = True,
        emulate_handshake: bool = True,
    ) -> None:
        """Create (but do not start) a link to ``target``.

        :param target: (host, port) of the real server.
        :param profile: link conditions; defaults to ``PROFILES["perfect"]``.
        :param seed: seed for every random schedule.
        :param listen: address to listen on; port 0 picks a free port.
        :param shared_bandwidth: if True (default) all connections share one pipe per
            direction, like a real link; if False each connection gets the full rate.
        :param emulate_handshake: charge new connections one RTT for the TCP
            handshake before their first byte can cross the link.
        """
        self.target = (target[0], int(target[1]))
        self.seed = seed
        self.listen = (listen[0], int(listen[1]))
        self.shared_bandwidth = shared_bandwidth
        self.emulate_handshake = emulate_handshake
        self._profile = profile if profile is not None else PROFILES["perfect"]
        self._rngs = {
            kind: random.Random(f"badlink:{seed}:{kind}") for kind in ("drop", "stall", "outage")
        }

        self._lock = threading.Lock()
        self._event_cond = threading.Condition(self._lock)
        self._stats = dict.fromkeys(_STAT_KEYS, 0)
        self._events: list[LinkEvent] = []
        self._internal_errors: list[BaseException] = []
        self._pending_truncations: collections.deque[int] = collections.deque()

        self._thread: threading.Thread | None = None
        self._thread_ident: int | None = None
        self._ready = threading.Event()
        self._startup_error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._port: int | None = None
        self._stopped = False

        # Loop-side state; only touched from the loop thread once started.
        self._lsock: socket.socket | None = None
        # Accepted sockets not yet owned by a transport, and the tasks serving
        # them: tracked so stop() can close every socket, however early it is.
        self._raw_socks: set[socket.socket] = set()
        self._serve_tasks: set[asyncio.Task[None]] = set()
        self._stop_event: asyncio.Event | None = None
        self._flow_event: asyncio.Event | None = None
        self._conns: set[_Conn] = set()
        self._stopping = False
        self._t0 = 0.0
        self._shared_up = _Pacer()
        self._shared_down = _Pacer()
        self._schedule_tasks: list[asyncio.Task[None]] = []
        self._schedule_runs = 0
        self._outage = _Period(self._now, self._call_at, self._outage_began, self._outage_ended)
        self._stall = _Period(self._now, self._call_at, self._stall_began, self._stall_ended)

    # -- lifecycle --------------------------------------------------------------

    def start(self) -> BadLink:
        """Start listening in a background thread; return once connections are accepted."""
        if self._thread is not None:
            raise RuntimeError("BadLink already started")
        self._thread = threading.Thread(
            target=self._thread_main, name=f"BadLink->{self.target[1]}", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(CONTROL_TIMEOUT_S):
            raise RuntimeError("BadLink did not start in time")
        if self._startup_error is not None:
            self._thread.join(CONTROL_TIMEOUT_S)
            raise self._startup_error
        return self

    def stop(self) -> None:
        """Reset every connection, stop listening and join the thread. Idempotent."""
        thread = self._thread
        if thread is None or self._stopped:
            return
        self._stopped = True
        # stop() may race a start() that was interrupted (Ctrl-C): let the loop come
        # up first, so it can be told to stop rather than left running.
        self._ready.wait(CONTROL_TIMEOUT_S)
        loop = self._loop
        if loop is not None and self._stop_event is not None and thread.is_alive():
            stop_event = self._stop_event
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        thread.join(CONTROL_TIMEOUT_S)
        if thread.is_alive():
            raise RuntimeError("BadLink thread did not stop")

    def __enter__(self) -> BadLink:
        if self._thread is None:
            self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = f"127.0.0.1:{self._port}" if self._port else "not started"
        return (
            f"<BadLink {where} -> {self.target[0]}:{self.target[1]} profile={self._profile.name!r}>"
        )

    # -- properties ----------------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the proxy listens on."""
        if self._port is None:
            raise RuntimeError("BadLink not started")
        return self._port

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) the proxy listens on."""
        return (self.listen[0], self.port)

    @property
    def url(self) -> str:
        """``http://host:port`` of the proxy, for HTTP clients."""
        return f"http://{self.listen[0]}:{self.port}"

    @property
    def profile(self) -> Profile:
        """The current profile."""
        return self._profile

    @property
    def stats(self) -> dict[str, int]:
        """Snapshot of the counters.

        ``bytes_up``/``bytes_down``: payload bytes handed to the server/client (what
        crossed the emulated link; bytes lost in flight to a drop are not counted);
        ``connections``: client connections forwarded; ``drops``: drop events
        (scheduled drops and cut_all() calls); ``resets``: connections the emulator
        reset for any reason (drops, outages, refusals); ``truncations``: responses cut;
        ``stalls``/``outages``: periods begun; ``refused``: connections reset on
        arrival during an outage; ``errors``: connections ended because a peer reset;
        ``target_errors``: connections reset because the target was unreachable.
        """
        with self._lock:
            return dict(self._stats)

    @property
    def events(self) -> list[LinkEvent]:
        """Snapshot of the fault events so far, oldest first."""
        with self._lock:
            return list(self._events)

    @property
    def internal_errors(self) -> list[BaseException]:
        """Unexpected (non-socket) exceptions raised inside the proxy: bugs. Should stay empty."""
        with self._lock:
            return list(self._internal_errors)

    @property
    def open_connections(self) -> int:
        """Number of connections currently being forwarded."""
        return self._call(lambda: len(self._conns))

    # -- control -----------------------------------------------------------------

    def reset_stats(self) -> None:
        """Zero all counters and forget past events."""
        with self._lock:
            self._stats = dict.fromkeys(_STAT_KEYS, 0)
            self._events.clear()

    def set_profile(self, profile: Profile) -> None:
        """Change link conditions now.  Schedules restart from now with the new profile;
        a stall or outage that is in progress runs to its end."""
        if self._loop is None:
            self._profile = profile
            return
        self._call(self._apply_profile, profile)

    def outage(self, seconds: float | None) -> None:
        """Take the link down now for ``seconds`` (``None`` = until :meth:`restore`)."""
        if seconds is not None and seconds < 0:
            raise ValueError("seconds must be >= 0 or None")
        self._call(self._outage.force, seconds)

    def restore(self) -> None:
        """End any outage or stall now."""

        def _restore() -> None:
            self._outage.release_all()
            self._stall.release_all()

        self._call(_restore)

    def stall(self, seconds: float) -> None:
        """Stop all bytes for ``seconds`` while keeping connections open."""
        if seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._call(self._stall.force, seconds)

    def cut_all(self) -> int:
        """Reset every open connection now (counts as a drop). Returns how many."""
        return self._call(lambda: self._drop(scheduled_at=None))

    def truncate_next_response(self, after_bytes: int) -> None:
        """Cut the next downstream response after ``after_bytes`` bytes (headers included).

        A response starts with the first downstream bytes that follow upstream bytes
        on a connection, i.e. the server's answer to the next request.  The client
        receives exactly ``after_bytes`` bytes and then a FIN (so it sees an incomplete
        body rather than a reset); the server side is reset.  Calling this N times
        truncates the next N responses.
        """
        if after_bytes < 0:
            raise ValueError("after_bytes must be >= 0")
        if self._loop is None:
            self._pending_truncations.append(after_bytes)
            return
        self._call(lambda: self._pending_truncations.append(after_bytes))

    def wait_event(self, kind: str, count: int = 1, timeout: float = 10.0) -> bool:
        """Block until at least ``count`` events of ``kind`` were logged; False on timeout."""
        with self._event_cond:
            return self._event_cond.wait_for(
                lambda: sum(1 for e in self._events if e.kind == kind) >= count, timeout
            )

    # -- thread / loop plumbing -----------------------------------------------------

    def _thread_main(self) -> None:
        self._thread_ident = threading.get_ident()
        try:
            with asyncio.Runner() as runner:
                runner.run(self._main())
        except BaseException as exc:  # surfaced to start() or logged
            if not self._ready.is_set():
                self._startup_error = exc
            else:
                _log.error("BadLink loop failed", exc_info=exc)
                with self._lock:
                    self._internal_errors.append(exc)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        self._flow_event = asyncio.Event()
        self._flow_event.set()
        self._t0 = loop.time()
        self._lsock = socket.create_server(self.listen, backlog=128)
        self._lsock.setblocking(False)
        self._port = self._lsock.getsockname()[1]
        self._loop = loop
        try:
            loop.add_reader(self._lsock, self._on_acceptable)
            self._start_schedules()
            self._ready.set()
            await self._stop_event.wait()
        finally:
            await self._shutdown()

    def _on_acceptable(self) -> None:
        """Accept pending connections (reader callback of the listening socket).

        A plain callback rather than asyncio.start_server() or sock_accept(): both
        can lose an accepted socket when stop() cancels the task that would have
        received it, leaving a client connected to nothing.  Here every accepted
        socket is registered before anything else can run.
        """
        lsock = self._lsock
        if lsock is None or self._stopping:
            return
        loop = self._require_loop()
        for _ in range(64):  # bounded so a connection storm cannot starve the loop
            try:
                sock, _ = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                # Out of file descriptors or similar: pause accepting instead of spinning.
                _log.warning("BadLink accept failed: %s", exc)
                loop.remove_reader(lsock)
                loop.call_later(0.1, self._resume_accepting)
                return
            sock.setblocking(False)
            self._raw_socks.add(sock)
            task = loop.create_task(self._serve(sock))
            self._serve_tasks.add(task)
            task.add_done_callback(self._serve_tasks.discard)

    def _resume_accepting(self) -> None:
        if self._lsock is not None and not self._stopping:
            self._require_loop().add_reader(self._lsock, self._on_acceptable)

    async def _serve(self, sock: socket.socket) -> None:
        """Serve one accepted socket: refuse it during an outage, else proxy it."""
        owned = False  # True once an asyncio transport owns (and will close) the socket
        try:
            if self._stopping:
                return
            if self._outage.active:
                # Outage: the link is down, so this connection never gets anywhere.
                self._count("refused", "resets")
                return
            reader, writer = await asyncio.open_connection(sock=sock, limit=READ_LIMIT)
            owned = True
            self._raw_socks.discard(sock)
            await _Conn(self, reader, writer).run()
        finally:
            if not owned:
                self._raw_socks.discard(sock)
                _reset_socket(sock)

    async def _shutdown(self) -> None:
        """Stop accepting, reset every connection and wait until all sockets are closed."""
        self._stopping = True
        for task in self._schedule_tasks:
            task.cancel()
        for period in (self._outage, self._stall):
            period._cancel_timer()
        self._flow.set()  # release anything waiting on a stall so it can finish
        if self._lsock is not None:
            loop = self._require_loop()
            loop.remove_reader(self._lsock)
            self._lsock.close()
        conns = list(self._conns)
        for conn in conns:
            conn.reset()
        # Serve tasks that have no connection yet (not started, or connecting) are
        # cancelled outright; the others were cancelled by reset() and clean up.
        owned = {conn.task for conn in conns}
        for task in list(self._serve_tasks):
            if task not in owned:
                task.cancel()
        pending = [*self._schedule_tasks, *self._serve_tasks]
        await asyncio.gather(*pending, return_exceptions=True)
        for sock in list(self._raw_socks):  # tasks cancelled before they ever ran
            _reset_socket(sock)
        self._raw_socks.clear()

    def _require_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            raise RuntimeError("BadLink not started")
        return self._loop

    @property
    def _flow(self) -> asyncio.Event:
        """Set while bytes may flow; cleared during a stall."""
        assert self._flow_event is not None
        return self._flow_event

    def _call(self, fn: Callable[..., _T], *args: Any) -> _T:
        """Run ``fn`` on the loop thread and return its result (thread-safe)."""
        loop = self._require_loop()
        if self._stopped or self._thread is None or not self._thread.is_alive():
            raise RuntimeError("BadLink is stopped")
        if threading.get_ident() == self._thread_ident:
            return fn(*args)
        fut: concurrent.futures.Future[_T] = concurrent.futures.Future()

        def runner() -> None:
            try:
                fut.set_result(fn(*args))
            except BaseException as exc:  # re-raised in the caller
                fut.set_exception(exc)

        loop.call_soon_threadsafe(runner)
        return fut.result(CONTROL_TIMEOUT_S)

    def _count(self, *keys: str, n: int = 1) -> None:
        with self._lock:
            for key in keys:
                self._stats[key] += n

    def _now(self) -> float:
        """Link time: seconds since start() on the loop's monotonic clock."""
        return self._require_loop().time() - self._t0

    def _call_at(self, at: float, fn: Callable[..., object], *args: Any) -> asyncio.TimerHandle:
        """Schedule ``fn`` at link time ``at``."""
        return self._require_loop().call_at(self._t0 + at, fn, *args)

    def _log(self, kind: str, *, scheduled: bool, affected: int, at: float | None = None) -> None:
        """Record an event at link time ``at`` (default: now)."""
        when = self._now() if at is None else at
        with self._event_cond:
            self._events.append(LinkEvent(round(when, 6), kind, scheduled, affected))
            self._event_cond.notify_all()

    def _note_unexpected(self, exc: BaseException) -> None:
        """Keep exceptions that are not plain socket errors: they are proxy bugs."""
        excs = exc.exceptions if isinstance(exc, BaseExceptionGroup) else (exc,)
        for e in excs:
            if not isinstance(e, OSError | EOFError | asyncio.IncompleteReadError):
                _log.error("BadLink internal error", exc_info=e)
                with self._lock:
                    self._internal_errors.append(e)

    # -- faults (loop thread only; times are link times) -------------------------

    def _reset_all(self) -> int:
        n = sum(1 for conn in list(self._conns) if conn.reset())
        self._count("resets", n=n)
        return n

    def _drop(self, scheduled_at: float | None) -> int:
        n = self._reset_all()
        self._count("drops")
        self._log("drop", scheduled=scheduled_at is not None, affected=n, at=scheduled_at)
        return n

    def _outage_began(self, at: float | None, scheduled: bool) -> None:
        self._count("outages")
        n = self._reset_all()  # the link is gone: so is every connection over it
        self._log("outage_start", scheduled=scheduled, affected=n, at=at)

    def _outage_ended(self, at: float | None, scheduled: bool) -> None:
        self._log("outage_end", scheduled=scheduled, affected=0, at=at)

    def _stall_began(self, at: float | None, scheduled: bool) -> None:
        self._flow.clear()
        self._count("stalls")
        self._log("stall_start", scheduled=scheduled, affected=0, at=at)

    def _stall_ended(self, at: float | None, scheduled: bool) -> None:
        self._flow.set()
        self._log("stall_end", scheduled=scheduled, affected=0, at=at)

    def _end_later(self, period: _Period, source: str, at: float) -> None:
        """Release ``source``'s hold on ``period`` at link time ``at`` (now if past)."""
        if at <= self._now():
            period.release(source, at)
        else:
            self._call_at(at, period.release, source, at)

    def _apply_profile(self, profile: Profile) -> None:
        self._profile = profile
        for task in self._schedule_tasks:
            task.cancel()
        self._start_schedules(base=self._now())

    def _start_schedules(self, base: float = 0.0) -> None:
        """Start one schedule task per enabled kind of event, counting from ``base``."""
        loop = self._require_loop()
        p = self._profile
        specs: list[tuple[str, float | None, float | None]] = [
            ("drop", p.drop_every_s, None),
            ("stall", p.stall_every_s, p.stall_for_s),
            ("outage", p.outage_every_s, p.outage_for_s),
        ]
        self._schedule_tasks = [
            loop.create_task(self._schedule(kind, every, duration, p.intervals, base))
            for kind, every, duration in specs
            if every is not None
        ]

    async def _schedule(
        self, kind: str, every: float, duration: float | None, dist: str, base: float
    ) -> None:
        """Fire ``kind`` events forever at seeded intervals.

        Times are accumulated on the *scheduled* link-time line (not the actual
        wake-up time), so the logged schedule depends only on the seed, the profile
        and ``base``, never on how late the loop happened to wake up.
        """
        loop = self._require_loop()
        rng = self._rngs[kind]
        # A source name unique to this run, so that a run cancelled by set_profile()
        # can finish its period without ending one begun by its successor.
        self._schedule_runs += 1
        source = f"{kind}-schedule-{self._schedule_runs}"
        t = base
        while True:
            gap = (
                rng.expovariate(1.0 / every)
                if dist == "exponential"
                else rng.uniform(0.5 * every, 1.5 * every)
            )
            t += gap
            await _sleep_until(loop, self._t0 + t)
            if kind == "drop":
                self._drop(scheduled_at=t)
                continue
            assert duration is not None
            period = self._stall if kind == "stall" else self._outage
            period.hold(source, t)
            try:
                t += duration
                await _sleep_until(loop, self._t0 + t)
            finally:
                # Also when cancelled by set_profile(): a period in progress ends on
                # time rather than being abandoned (or lasting forever).
                if not self._stopping:
                    self._end_later(period, source, t)


# -- command line ------------------------------------------------------------------


def _parse_hostport(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return (host or "127.0.0.1", int(port))


def main(argv: list[str] | None = None) -> int:
    """Run a BadLink from the command line until Ctrl-C, then print its stats."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.badlink",
        description="Loopback TCP proxy emulating a bad network link.",
    )
    parser.add_argument("--target", type=_parse_hostport, required=True, help="server HOST:PORT")
    parser.add_argument(
        "--listen", type=_parse_hostport, default=("127.0.0.1", 0), help="HOST:PORT to listen on"
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="village-2g")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--up-bps", type=int, help="override the profile's upstream rate")
    parser.add_argument("--down-bps", type=int, help="override the profile's downstream rate")
    parser.add_argument("--latency-ms", type=float, help="override the profile's one-way latency")
    parser.add_argument(
        "--per-connection", action="store_true", help="bandwidth per connection, not shared"
    )
    parser.add_argument(
        "--stats-every", type=float, default=0.0, help="print stats every N seconds"
    )
    args = parser.parse_args(argv)

    profile = PROFILES[args.profile]
    overrides = {
        k: v
        for k, v in (
            ("up_bps", args.up_bps),
            ("down_bps", args.down_bps),
            ("latency_ms", args.latency_ms),
        )
        if v is not None
    }
    if overrides:
        profile = dataclasses.replace(profile, **overrides)

    # SIGTERM should shut down as cleanly as Ctrl-C does, so stats still get printed.
    def _on_sigterm(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _on_sigterm)
    link = BadLink(
        args.target,
        profile,
        args.seed,
        listen=args.listen,
        shared_bandwidth=not args.per_connection,
    )
    # Everything after construction sits in the try: Ctrl-C may arrive at any point,
    # and the stats must still be printed and the link stopped cleanly.
    try:
        link.start()
        print(
            f"badlink: {link.address[0]}:{link.port} -> {args.target[0]}:{args.target[1]} "
            f"profile={profile.name} seed={args.seed} {profile}",
            flush=True,
        )
        idle = threading.Event()
        while True:
            # Event.wait() is interruptible by Ctrl-C on POSIX.
            idle.wait(args.stats_every if args.stats_every > 0 else None)
            if args.stats_every > 0:
                print(json.dumps(link.stats), flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C while stopping is ignored so the shutdown is not cut short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        link.stop()
        summary = {"stats": link.stats, "events": [e._asdict() for e in link.events]}
        print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
