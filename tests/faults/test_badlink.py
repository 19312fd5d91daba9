"""Behavioural tests of the bad-link emulator (:mod:`tests.support.badlink`).

Everything here runs real sockets on 127.0.0.1: a tiny line-protocol TCP server, an
``http.server`` and the proxy under test, each in its own thread.  Timing assertions
use lower bounds (physics: a paced link cannot be faster than its rate) and generous
ratios, never tight upper bounds, because the machines running this are shared.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import http.client
import http.server
import json
import os
import random
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.badlink import PROFILES, BadLink, LinkEvent, Profile

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Fraction of the theoretical minimum duration a paced transfer must take.  Below
#: 1.0 only to absorb the emulator's small token-bucket burst and clock granularity.
MIN_FRACTION = 0.9


# -- test servers ---------------------------------------------------------------------


class _QuietThreadingTCPServer(socketserver.ThreadingTCPServer):
    """A threading TCP server that does not print tracebacks for reset peers.

    Resets are the point of these tests, so the handlers see them all the time.
    """

    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class _LineProtocolHandler(socketserver.StreamRequestHandler):
    """Commands, one per connection, as the first line sent by the client.

    ``echo``     echo everything until EOF;
    ``send N``   send N pattern bytes, half-close, then wait for the client to close;
    ``recv N``   read exactly N bytes, answer ``got N`` and close.
    """

    def handle(self) -> None:
        cmd = self.rfile.readline().decode().split()
        if not cmd:
            return
        # Read through rfile only: readline() may already have buffered what follows.
        if cmd[0] == "echo":
            while data := self.rfile.read1(65536):
                self.request.sendall(data)
        elif cmd[0] == "send":
            self.request.sendall(pattern(int(cmd[1])))
            self.request.shutdown(socket.SHUT_WR)
            while self.rfile.read1(65536):
                pass
        elif cmd[0] == "recv":
            left = int(cmd[1])
            while left > 0:
                data = self.rfile.read1(min(left, 65536))
                if not data:
                    return
                left -= len(data)
            self.wfile.write(f"got {cmd[1]}\n".encode())


class _HTTPHandler(http.server.BaseHTTPRequestHandler):
    """``GET /bytes/N`` returns N pattern bytes; ``POST /upload`` returns the body size."""

    protocol_version = "HTTP/1.1"  # keep-alive, like the real county server

    def do_GET(self) -> None:
        if not self.path.startswith("/bytes/"):
            self.send_error(404)
            return
        body = pattern(int(self.path.rsplit("/", 1)[1]))
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", "0"))
        got = len(self.rfile.read(n))
        body = f"{got}".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _QuietHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def pattern(n: int) -> bytes:
    """``n`` bytes of a non-repeating-looking but reproducible pattern."""
    return random.Random(n).randbytes(n)


@pytest.fixture(scope="module")
def tcp_target() -> Iterator[tuple[str, int]]:
    server = _QuietThreadingTCPServer(("127.0.0.1", 0), _LineProtocolHandler)
    thread = threading.Thread(target=server.serve_forever, name="test-tcp-server", daemon=True)
    thread.start()
    try:
        yield ("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def http_target() -> Iterator[tuple[str, int]]:
    server = _QuietHTTPServer(("127.0.0.1", 0), _HTTPHandler)
    thread = threading.Thread(target=server.serve_forever, name="test-http-server", daemon=True)
    thread.start()
    try:
        yield ("127.0.0.1", server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


MakeLink = Callable[..., BadLink]


@pytest.fixture
def make_link() -> Iterator[MakeLink]:
    """Factory of started links that are stopped (and checked for bugs) afterwards."""
    links: list[BadLink] = []

    def factory(target: tuple[str, int], profile: Profile, seed: int = 1, **kw: Any) -> BadLink:
        link = BadLink(target=target, profile=profile, seed=seed, **kw)
        link.start()
        links.append(link)
        return link

    yield factory
    for link in links:
        link.stop()
    for link in links:
        assert link.internal_errors == [], link.internal_errors


# -- client helpers -------------------------------------------------------------------


def connect(link: BadLink, command: str) -> socket.socket:
    """Open a raw connection through ``link`` and send the line-protocol command."""
    sock = socket.create_connection(("127.0.0.1", link.port), timeout=20)
    try:
        sock.sendall(command.encode() + b"\n")
    except OSError:
        sock.close()  # e.g. reset on arrival: do not leak the socket (ResourceWarning)
        raise
    return sock


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        data = sock.recv(n - len(buf))
        if not data:
            raise EOFError(f"EOF after {len(buf)} of {n} bytes")
        buf += data
    return bytes(buf)


def timed_download(link: BadLink, n: int) -> tuple[bytes, float, float]:
    """Download ``n`` bytes; return (data, seconds to first byte, first→last byte seconds)."""
    start = time.monotonic()
    with connect(link, f"send {n}") as sock:
        chunks: list[bytes] = []
        first = last = 0.0
        while data := sock.recv(65536):
            last = time.monotonic()
            if not chunks:
                first = last
            chunks.append(data)
    return b"".join(chunks), first - start, last - first


def assert_reset_on_arrival(link: BadLink) -> None:
    """A new connection through ``link`` is reset right away.

    The kernel completes the handshake before the proxy can reset it, so the reset
    shows up in connect(), send() or recv() depending on timing: all are resets.
    """
    with pytest.raises((ConnectionResetError, BrokenPipeError)), connect(link, "echo") as sock:
        sock.recv(10)


def session() -> requests.Session:
    """A requests session that ignores proxy environment variables (loopback only)."""
    s = requests.Session()
    s.trust_env = False
    return s


def tx_seconds(nbytes: int, bps: int) -> float:
    return nbytes * 8 / bps


# -- profiles -------------------------------------------------------------------------


def test_named_profiles() -> None:
    assert {"village-2g", "township-dsl", "outage", "perfect"} <= set(PROFILES)
    v = PROFILES["village-2g"]
    assert (v.up_bps, v.down_bps, v.latency_ms, v.rtt_ms) == (64_000, 128_000, 300.0, 600.0)
    assert v.drop_every_s == 30.0
    dsl = PROFILES["township-dsl"]
    assert dsl.rtt_ms == 40.0 and dsl.drop_every_s is None
    assert PROFILES["outage"].outage_for_s == 180.0
    perfect = PROFILES["perfect"]
    assert (perfect.up_bps, perfect.down_bps, perfect.latency_ms) == (None, None, 0.0)
    for name, profile in PROFILES.items():
        assert profile.name == name
    with pytest.raises(dataclasses.FrozenInstanceError):
        v.latency_ms = 1.0  # type: ignore[misc]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"up_bps": 0},
        {"down_bps": -5},
        {"latency_ms": -1},
        {"drop_every_s": 0},
        {"stall_every_s": 1.0},  # without stall_for_s
        {"outage_for_s": 1.0},  # without outage_every_s
        {"intervals": "gaussian"},
    ],
)
def test_profile_rejects_nonsense(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Profile("bad", **kwargs)


# -- transparency and accounting ------------------------------------------------------


def test_perfect_link_is_transparent_and_counts_bytes_exactly(
    make_link: MakeLink, tcp_target: tuple[str, int]
) -> None:
    link = make_link(tcp_target, PROFILES["perfect"])
    payload = random.Random(5).randbytes(300_000)
    with connect(link, "echo") as sock:
        # Send from a thread: a 300 kB echo would deadlock if we sent it all before reading.
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        echoed = recv_exactly(sock, len(payload))
        sender.join()
    assert echoed == payload
    stats = link.stats
    assert stats["bytes_up"] == len(b"echo\n") + len(payload)
    assert stats["bytes_down"] == len(payload)
    assert stats["connections"] == 1
    assert stats["drops"] == stats["resets"] == stats["truncations"] == 0
    link.reset_stats()
    assert set(link.stats.values()) == {0}


def test_byte_order_and_content_survive_shaping_and_latency(
    make_link: MakeLink, tcp_target: tuple[str, int]
) -> None:
    link = make_link(
        tcp_target, Profile("fast-ish", up_bps=8_000_000, down_bps=8_000_000, latency_ms=5)
    )
    payload = random.Random(6).randbytes(120_000)
    with connect(link, "echo") as sock:
        sender = threading.Thread(target=sock.sendall, args=(payload,))
        sender.start()
        echoed = recv_exactly(sock, len(payload))
        sender.join()
    assert echoed == payload
    assert link.stats["bytes_down"] == len(payload)


# -- bandwidth ------------------------------------------------------------------------


@pytest.mark.slow
def test_downstream_rate_is_honest(make_link: MakeLink, tcp_target: tuple[str, int]) -> None:
    bps = 128_000
    n = 24_000  # 1.5 s at 128 kbit/s
    link = make_link(tcp_target, Profile("down-128k", down_bps=bps))
    data, _, first_to_last = timed_download(link, n)
    assert data == pattern(n)
    # The first chunk (<= one MSS) arrives before the clock starts.
    minimum = tx_seconds(n - 1460, bps)
    assert first_to_last >= MIN_FRACTION * minimum, (first_to_last, minimum)
    # Not pathologically slow either: at least half the configured rate.
    assert first_to_last <= 2 * tx_seconds(n, bps), (first_to_last, minimum)
    assert link.stats["bytes_down"] == n


@pytest.mark.slow
def test_upstream_and_downstream_are_independent(
    make_link: MakeLink, tcp_target: tuple[str, int]
) -> None:
    up_bps, down_bps = 64_000, 2_000_000
    link = make_link(tcp_target, Profile("asym", up_bps=up_bps, down_bps=down_bps))
    up_n, down_n = 12_000, 48_000  # 1.5 s up; 0.19 s down (6 s if it were coupled to up)

    def upload() -> float:
        start = time.monotonic()
        with connect(link, f"recv {up_n}") as sock:
            sock.sendall(pattern(up_n))
            reply = sock.makefile("rb").readline()
        assert reply == f"got {up_n}\n".encode()
        return time.monotonic() - start

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        up_future = pool.submit(upload)
        down_future = pool.submit(timed_download, link, down_n)
        up_elapsed = up_future.result(30)
        data, _, down_elapsed = down_future.result(30)
    assert data == pattern(down_n)
    assert up_elapsed >= MIN_FRACTION * tx_seconds(up_n, up_bps), up_elapsed
    # The download ran alongside the slow upload but at its own rate: far below the
    # 6 s it would take at the upstream rate.
    assert down_elapsed < tx_seconds(down_n, up_bps) / 2, down_elapsed


@pytest.mark.slow
def test_bandwidth_is_one_shared_pipe_by_default(
    make_link: MakeLink, tcp_target: tuple[str, int]
) -> None:
    bps, n = 128_000, 12_000
    profile = Profile("down-128k", down_bps=bps)

    def two_parallel_downloads(link: BadLink) -> float:
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda _: timed_download(link, n)[0], range(2)))
        assert results == [pattern(n)] * 2
        return time.monotonic() - start

    shared = two_parallel_downloads(make_link(tcp_target, profile))
    separate = two_parallel_downloads(make_link(tcp_target, profile, shared_bandwidth=False))
    # Shared: 24 kB through one 128 kbit/s pipe; separate: 12 kB through each of two.
    assert shared >= MIN_FRACTION * tx_seconds(2 * n - 2 * 1460, bps), shared
    assert shared / separate >= 1.4, (shared, separate)


@pytest.mark.slow
def test_set_profile_changes_conditions_on_the_fly(
    make_link: MakeLink, tcp_target: tuple[str, int]
) -> None:
    link = make_link(tcp_target, PROFILES["perfect"])
    n = 16_000
    _, _, fast = timed_download(link, n)
    link.set_profile(Profile("down-128k", down_bps=128_000))
    assert link.profile.name == "down-128k"
    _, _, slow = timed_download(link, n)
    assert slow >= MIN_FRACTION * tx_seconds(n - 1460, 128_000), slow
    assert slow > 5 * fast, (slow, fast)


# -- latency --------------------------------------------------------------------------


@pytest.mark.slow
def test_latency_adds_round_trips(make_link: MakeLink, http_target: tuple[str, int]) -> None:
    one_way = 0.15
    rtt = 2 * one_way
    link = make_link(http_target, Profile("rtt-300", latency_ms=one_way * 1000))
    with session() as s:
        start = time.monotonic()
        r1 = s.get(link.url + "/bytes/100", timeout=20)
        new_conn = time.monotonic() - start
        start = time.monotonic()
        r2 = s.get(link.url + "/bytes/100", timeout=20)
        reused = time.monotonic() - start
    assert r1.content == r2.content == pattern(100)
    assert link.stats["connections"] == 1  # the second request reused the connection
    # A request/response costs one RTT; a new connection also pays the handshake RTT.
    assert reused >= MIN_FRACTION * rtt, reused
    assert new_conn >= MIN_FRACTION * 2 * rtt, new_conn


@pytest.mark.slow
def test_village_2g_request_costs_handshake_rtt_and_serialisation(
    make_link: MakeLink, http_target: tuple[str, int]
) -> None:
    profile = PROFILES["village-2g"]
    assert profile.down_bps is not None
    n = 8_000
    # Seed 1's first scheduled drop is at ~15.5 s, long after this test ends.
    link = make_link(http_target, profile, seed=1)
    with session() as s:
        start = time.monotonic()
        response = s.get(link.url + f"/bytes/{n}", timeout=30)
        elapsed = time.monotonic() - start
    assert response.content == pattern(n)
    assert link.stats["drops"] == 0
    minimum = 2 * profile.rtt_ms / 1000 + tx_seconds(n, profile.down_bps)
    assert elapsed >= MIN_FRACTION * minimum, (elapsed, minimum)
    assert link.stats["bytes_down"] > n  # body plus HTTP headers


# -- faults ---------------------------------------------------------------------------


def test_cut_all_resets_open_connections(make_link: MakeLink, tcp_target: tuple[str, int]) -> None:
    link = make_link(tcp_target, PROFILES["perfect"])
    with connect(link, "echo") as a, connect(link, "echo") as b:
        for sock in (a, b):
            sock.sendall(b"ping")
            assert recv_exactly(sock, 4) == b"ping"
        assert link.cut_all() == 2
        for sock in (a, b):
            with pytest.raises(ConnectionResetError):
                sock.recv(10)
    stats = link.stats
    assert (stats["drops"], stats["resets"]) == (1, 2)
    assert [(e.kind, e.scheduled, e.affected) for e in link.events] == [("drop", False, 2)]


@pytest.mark.slow
def test_cut_all_breaks_an_http_download_in_flight(
    make_link: MakeLink, http_target: tuple[str, int]
) -> None:
    link = make_link(http_target, Profile("down-64k", down_bps=64_000))
    n = 40_000  # 5 s at 64 kbit/s: certainly still running when we cut
    with (
        session() as s,
        s.get(link.url + f"/bytes/{n}", stream=True, timeout=20) as response,
    ):
        chunks = response.iter_content(1024)
        assert len(next(chunks)) == 1024
        link.cut_all()
        with pytest.raises(requests.exceptions.ChunkedEncodingError) as excinfo:
            for _ in chunks:
                pass
    assert "reset" in repr(excinfo.value).lower()


def test_truncate_next_response_gives_an_incomplete_body(
    make_link: MakeLink, http_target: tuple[str, int]
) -> None:
    link = make_link(http_target, PROFILES["perfect"])
    url = link.url + "/bytes/50000"
    with session() as s:
        assert s.get(url, timeout=20).content == pattern(50_000)  # keep-alive connection
        link.truncate_next_response(1000)
        with pytest.raises(requests.exceptions.ChunkedEncodingError) as excinfo:
            s.get(url, timeout=20)
        assert "IncompleteRead" in repr(excinfo.value)
        assert s.get(url, timeout=20).content == pattern(50_000)  # one-shot
    stats = link.stats
    assert stats["truncations"] == 1
    assert stats["bytes_down"] < 2 * 50_000 + 1000 + 1000  # two bodies, 1000 B, headers

    # With http.client we can see exactly what arrived: 1000 bytes on the wire.
    link.reset_stats()
    link.truncate_next_response(1000)
    conn = http.client.HTTPConnection("127.0.0.1", link.port, timeout=20)
    try:
        conn.request("GET", "/bytes/50000")
        response = conn.getresponse()
        with pytest.raises(http.client.IncompleteRead) as incomplete:
            response.read()
        header_bytes = 1000 - len(incomplete.value.partial)
        assert 0 < header_bytes < 300
        assert incomplete.value.partial == pattern(50_000)[: len(incomplete.value.partial)]
        response.close()
    finally:
        conn.close()
    assert link.stats["bytes_down"] == 1000
    assert [e.kind for e in link.events] == ["truncation"]


def test_outage_resets_and_refuses_until_restore(
    make_link: MakeLink, tcp_target: tuple[str, int], http_target: tuple[str, int]
) -> None:
    link = make_link(tcp_target, PROFILES["perfect"])
    with connect(link, "echo") as sock:
        sock.sendall(b"ping")
        assert recv_exactly(sock, 4) == b"ping"
        link.outage(None)
        with pytest.raises(ConnectionResetError):
            sock.recv(10)
    assert_reset_on_arrival(link)
    link.restore()
    with connect(link, "echo") as sock:
        sock.sendall(b"back")
        assert recv_exactly(sock, 4) == b"back"
    stats = link.stats
    assert (stats["outages"], stats["refused"], stats["resets"]) == (1, 1, 2)
    assert [e.kind for e in link.events] == ["outage_start", "outage_end"]

    # The same through HTTP, with a timed outage that ends by itself.
    web = make_link(http_target, PROFILES["perfect"])
    with session() as s:
        web.outage(0.5)
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(web.url + "/bytes/10", timeout=20)
        assert web.wait_event("outage_end", timeout=10)
        assert s.get(web.url + "/bytes/10", timeout=20).content == pattern(10)


def test_scheduled_outages(make_link: MakeLink, http_target: tuple[str, int]) -> None:
    profile = Profile("flappy", outage_every_s=0.2, outage_for_s=1.0, intervals="uniform")
    link = make_link(http_target, profile, seed=3)
    assert link.wait_event("outage_start", timeout=10)
    with session() as s:
        # 1 s of outage is ample time for this request to be refused.
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(link.url + "/bytes/10", timeout=20)
        link.set_profile(PROFILES["perfect"])  # no further outages; this one runs out
        assert link.wait_event("outage_end", timeout=10)
        assert s.get(link.url + "/bytes/10", timeout=20).content == pattern(10)
    events = link.events
    assert [e.kind for e in events] == ["outage_start", "outage_end"]
    start, end = events
    assert start.scheduled and end.scheduled
    assert 0.1 <= start.at <= 0.3  # uniform in [0.5, 1.5] x 0.2 s
    assert end.at == pytest.approx(start.at + 1.0)


def test_drops_happen_on_schedule(make_link: MakeLink, tcp_target: tuple[str, int]) -> None:
    profile = Profile("droppy", drop_every_s=0.25)
    started = time.monotonic()  # before start(), so before the link's clock starts
    link = make_link(tcp_target, profile, seed=7)
    with connect(link, "echo") as sock, pytest.raises(ConnectionResetError):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            sock.sendall(b"x")
            assert recv_exactly(sock, 1) == b"x"
    assert link.wait_event("drop", 3, timeout=20)
    elapsed = time.monotonic() - started
    drops = [e for e in link.events if e.kind == "drop"]
    assert all(e.scheduled for e in drops)
    assert drops[0].affected == 1  # our echo connection
    assert link.stats["drops"] >= 3 and link.stats["resets"] >= 1
    times = [e.at for e in drops]
    assert times == sorted(times)
    assert elapsed >= times[2]  # drops never fire before their scheduled time


def test_schedules_are_deterministic_per_seed(
    make_link: MakeLink, tcp_target: tuple[str, int]
) -> None:
    profile = Profile("chaos", drop_every_s=0.1, stall_every_s=0.1, stall_for_s=0.05)
    links = [make_link(tcp_target, profile, seed=s) for s in (42, 42, 43)]
    for link in links:
        assert link.wait_event("drop", 4, timeout=20)
        assert link.wait_event("stall_end", 3, timeout=20)

    def schedule(link: BadLink, kind: str, count: int) -> list[LinkEvent]:
        return [e for e in link.events if e.kind == kind][:count]

    for kind, count in (("drop", 4), ("stall_start", 3), ("stall_end", 3)):
        a, b, c = (schedule(link, kind, count) for link in links)
        assert a == b, kind
        assert a != c, kind


def test_stall_stops_bytes_but_keeps_the_connection(
    make_link: MakeLink, tcp_target: tuple[str, int]
) -> None:
    link = make_link(tcp_target, PROFILES["perfect"])
    with connect(link, "echo") as sock:
        sock.sendall(b"before")
        assert recv_exactly(sock, 6) == b"before"
        link.stall(0.6)
        start = time.monotonic()
        sock.sendall(b"during")
        assert recv_exactly(sock, 6) == b"during"
        assert time.monotonic() - start >= MIN_FRACTION * 0.6
        sock.sendall(b"after")
        assert recv_exactly(sock, 5) == b"after"
    stats = link.stats
    assert (stats["stalls"], stats["resets"], stats["errors"]) == (1, 0, 0)
    assert [e.kind for e in link.events] == ["stall_start", "stall_end"]


def test_unreachable_target_resets_the_client(make_link: MakeLink) -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        dead_port = placeholder.getsockname()[1]  # bound but not listening: refuses
        link = make_link(("127.0.0.1", dead_port), PROFILES["perfect"])
        assert_reset_on_arrival(link)
    assert link.stats["target_errors"] == 1


# -- lifecycle ------------------------------------------------------------------------


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_stop_leaks_no_threads_or_sockets(tcp_target: tuple[str, int]) -> None:
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    with BadLink(target=tcp_target, profile=PROFILES["village-2g"], seed=1) as link:
        assert link.url == f"http://127.0.0.1:{link.port}"
        with connect(link, "echo") as sock:
            sock.sendall(b"hi")
            assert recv_exactly(sock, 2) == b"hi"
            idle = connect(link, "echo")  # left open: stop() must cut it
    with idle, pytest.raises(ConnectionResetError):
        idle.recv(10)
    assert link.internal_errors == []
    assert not [t for t in threading.enumerate() if t.name.startswith("BadLink")]
    assert not [t for t in threading.enumerate() if t not in threads_before and not t.daemon]
    # The test server's handler threads close their ends asynchronously; wait for them.
    deadline = time.monotonic() + 10
    while _open_fds() > fds_before and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _open_fds() <= fds_before
    link.stop()  # idempotent
    with pytest.raises(RuntimeError):
        link.cut_all()


def test_start_fails_loudly_on_a_busy_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        link = BadLink(target=("127.0.0.1", 9), listen=("127.0.0.1", port))
        with pytest.raises(OSError):
            link.start()
        link.stop()


@pytest.mark.slow
def test_cli_runs_until_interrupted_and_prints_stats(tcp_target: tuple[str, int]) -> None:
    cmd = [
        sys.executable,
        "-W",
        "error",
        "-m",
        "tests.support.badlink",
        "--target",
        f"{tcp_target[0]}:{tcp_target[1]}",
        "--listen",
        "127.0.0.1:0",
        "--profile",
        "perfect",
        "--seed",
        "1",
    ]
    with subprocess.Popen(
        cmd, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            banner = proc.stdout.readline()
            assert banner.startswith("badlink: 127.0.0.1:"), banner
            port = int(banner.split()[1].rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
                sock.sendall(b"echo\nhello")
                assert recv_exactly(sock, 5) == b"hello"
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["stats"]["bytes_down"] == 5
    assert summary["stats"]["connections"] == 1
