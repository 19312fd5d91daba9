"""A small threaded TCP proxy on 127.0.0.1 for the fault tests: switchable target, optional TLS
termination, and a mode that flips one byte in the body of the next HTTP responses.

:class:`tests.support.badlink.BadLink` emulates the *link* (bandwidth, latency, drops, cuts,
truncation); this proxy adds what it does not: corrupted bytes (a broken middlebox), a target
that can be swapped while a device stays enrolled to one address (the county, then a bad
server, then the county again), and a real TLS endpoint in front of a plain-HTTP server.

Everything is real sockets; nothing here knows about Gridroom beyond "HTTP/1.1 responses start
with headers that end in a blank line".
"""

from __future__ import annotations

import contextlib
import random
import re
import socket
import ssl
import threading
from typing import Any

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)
_BUFFER = 64 * 1024


class _Flip:
    """Corrupt one response: hold its headers back until they are whole, then XOR one byte of
    its body — a random one, or the first byte of ``pattern`` (the whole body is held back to
    find it; when a compressed body does not show it, a random byte)."""

    def __init__(
        self, rng: random.Random, log: list[str], pattern: bytes | None = None, xor: int = 0
    ) -> None:
        self.rng = rng
        self.log = log
        self.pattern = pattern
        self.xor = xor
        self.head = b""
        self.head_out = b""
        self.body = bytearray()  # held back (pattern mode)
        self.what = ""
        self.length = 0
        self.offset: int | None = None  # body offset of the byte to flip (random mode)
        self.seen = 0  # body bytes passed on so far (random mode)
        self.done = False

    def feed(self, data: bytes) -> bytes:
        """Take one read of the response stream; return what to pass on now."""
        if self.done:
            return data
        if self.offset is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return b""  # hold the headers back until they are complete
            self.head_out, data = self.head[: end + 4], self.head[end + 4 :]
            found = _CONTENT_LENGTH.search(self.head[: end + 2])
            self.length = int(found.group(1)) if found else len(data)
            if self.length <= 0:
                self.done = True
                return self.head_out + data
            self.offset = self.rng.randrange(self.length)
            status = self.head.split(b"\r\n", 1)[0].decode("latin-1")
            media = re.search(rb"\r\ncontent-(?:type|encoding):\s*([^\r]*)", self.head, re.I)
            self.what = f"{status} [{media.group(1).decode('latin-1') if media else '?'}]"
            if self.pattern is None:
                return self.head_out + self._stream(data)
            self.body += data
        elif self.pattern is None:
            return self._stream(data)
        else:
            self.body += data
        if len(self.body) < self.length:
            return b""
        at = bytes(self.body).find(self.pattern)
        self._flip(self.body, at if at >= 0 else self.offset)
        return self.head_out + bytes(self.body)

    def _stream(self, data: bytes) -> bytes:
        assert self.offset is not None
        chunk = bytearray(data)
        at = self.offset - self.seen
        if 0 <= at < len(chunk):
            self._flip(chunk, at)
        self.seen += len(chunk)
        return bytes(chunk)

    def _flip(self, buf: bytearray, at: int) -> None:
        before = bytes(buf[max(0, at - 12) : at + 12])
        buf[at] ^= self.xor or self.rng.randrange(1, 256)
        after = bytes(buf[max(0, at - 12) : at + 12])
        self.log.append(f"{self.what} byte {at}/{self.length}: {before!r} -> {after!r}")
        self.done = True


class _Connection:
    """One client connection and its upstream twin, pumped by two threads."""

    def __init__(self, proxy: TcpProxy, client: socket.socket, upstream: socket.socket) -> None:
        self.proxy = proxy
        self.client = client
        self.upstream = upstream
        self.request_seen = False
        self.flip: _Flip | None = None
        self.lock = threading.Lock()
        self.closed = False

    def start(self) -> None:
        for target, name in ((self._up, "up"), (self._down, "down")):
            t = threading.Thread(target=target, name=f"proxy-{name}", daemon=True)
            self.proxy._threads.append(t)
            t.start()

    def _up(self) -> None:
        try:
            while True:
                data = self.client.recv(_BUFFER)
                if not data:
                    break
                self.request_seen = True
                self.upstream.sendall(data)
            with contextlib.suppress(OSError):
                self.upstream.shutdown(socket.SHUT_WR)
        except (OSError, ssl.SSLError):
            self.close()

    def _down(self) -> None:
        try:
            while True:
                data = self.upstream.recv(_BUFFER)
                if not data:
                    break
                if self.request_seen:
                    # The first bytes after a request: a new response begins.
                    self.request_seen = False
                    self.flip = self.proxy._take_flip()
                if self.flip is not None:
                    data = self.flip.feed(data)
                    if self.flip.done:
                        self.flip = None
                if data:
                    self.client.sendall(data)
        except (OSError, ssl.SSLError):
            pass
        self.close()

    def close(self) -> None:
        with self.lock:
            if self.closed:
                return
            self.closed = True
        for s in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()
        self.proxy._forget(self)


class TcpProxy:
    """Forward connections on 127.0.0.1 to ``target``; see the module docstring.

    ``ssl_context``: a server-side context; the proxy then speaks TLS to clients and plain TCP
    to the target (a TLS-terminating front, as a county's reverse proxy is).
    """

    def __init__(
        self,
        target: tuple[str, int],
        *,
        ssl_context: ssl.SSLContext | None = None,
        seed: int = 0,
    ) -> None:
        self.target = target
        self.ssl_context = ssl_context
        self.rng = random.Random(f"proxy:{seed}")
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._conns: set[_Connection] = set()
        self._lock = threading.Lock()
        self._flips = 0
        self._pattern: tuple[bytes | None, int] = (None, 0)
        #: what each flip hit (status line, media type, offset, bytes around it)
        self.flipped: list[str] = []
        self.stats = {"connections": 0, "flips": 0, "refused": 0, "tls_failures": 0}

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        self._listener = listener
        t = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._threads.append(t)
        t.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for conn in list(self._conns):
            conn.close()
        for t in self._threads:
            t.join(5)
        self._threads.clear()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._listener is not None, "proxy not started"
        return int(self._listener.getsockname()[1])

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    # -- control ------------------------------------------------------------------------------

    def set_target(self, target: tuple[str, int]) -> None:
        """Send new connections elsewhere and cut the open ones (a different server now)."""
        self.target = target
        self.cut_all()

    def cut_all(self) -> None:
        for conn in list(self._conns):
            conn.close()

    def flip_next_responses(
        self, count: int = 1, *, pattern: bytes | None = None, xor: int = 0
    ) -> None:
        """Corrupt one byte in the body of each of the next ``count`` responses: a random one,
        or the first byte of ``pattern`` where the body holds it (XOR'd with ``xor``, e.g. 1
        turns the ASCII digit 7 into 6: the answer stays valid JSON, only a value changes)."""
        with self._lock:
            self._flips += count
            self._pattern = (pattern, xor)

    def cancel_flips(self) -> int:
        """Forget flips that no response took yet; returns how many."""
        with self._lock:
            left, self._flips = self._flips, 0
        return left

    @property
    def pending_flips(self) -> int:
        with self._lock:
            return self._flips

    def _take_flip(self) -> _Flip | None:
        with self._lock:
            if self._flips <= 0:
                return None
            self._flips -= 1
            self.stats["flips"] += 1
        return _Flip(self.rng, self.flipped, *self._pattern)

    # -- plumbing -----------------------------------------------------------------------------

    def _accept(self) -> None:
        while True:
            listener = self._listener
            if listener is None:
                return
            try:
                client, _ = listener.accept()
            except OSError:
                return
            t = threading.Thread(target=self._open, args=(client,), daemon=True)
            # Forget finished threads: a long campaign opens thousands of connections.
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _open(self, client: socket.socket) -> None:
        if self.ssl_context is not None:
            try:
                client.settimeout(10)
                wrapped: Any = self.ssl_context.wrap_socket(client, server_side=True)
                wrapped.settimeout(None)
                client = wrapped
            except (OSError, ssl.SSLError):
                self.stats["tls_failures"] += 1
                with contextlib.suppress(OSError):
                    client.close()
                return
        try:
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
        except OSError:
            self.stats["refused"] += 1
            with contextlib.suppress(OSError):
                client.close()
            return
        conn = _Connection(self, client, upstream)
        with self._lock:
            self._conns.add(conn)
            self.stats["connections"] += 1
        conn.start()

    def _forget(self, conn: _Connection) -> None:
        with self._lock:
            self._conns.discard(conn)
