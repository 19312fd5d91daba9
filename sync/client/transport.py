"""HTTP to the county platform, built for village links: persistent connections, gzip bodies,
timeouts, and retries with exponential backoff and jitter.

One retry policy, in one place: :meth:`Transport.request` retries a refused or dropped
connection, a timeout, a response cut off mid-body and a 502/503/504 answer, with exponential
backoff and full jitter (a server's ``Retry-After`` wins when longer), at most ``attempts``
times. urllib3 itself retries nothing (``Retry(0)``): two layers used to multiply, and one
request made 20 connection attempts to a refused port.

Every transport also has a **deadline** (``deadline`` seconds, the ``sync_deadline_s`` setting):
the time it spends in requests without a successful answer. Each attempt's connect and read
timeouts are cut to what is left of it, and no retry starts that could not finish within it; a
success starts it afresh, so a long sync that makes progress is never cut, while a dead link
(refused, or a black hole that accepts and never answers) is reported as offline within the
deadline. The sync service makes one transport per sync, so this is the deadline per sync.

Every request the client retries is idempotent by construction (pushes carry their batch id,
chunks their offset), so a retry never applies anything twice.

``verify=`` is passed on every request: ``requests`` ignores ``Session.verify`` when
``REQUESTS_CA_BUNDLE`` is set in the environment, which would silently swap the county's CA.
"""

from __future__ import annotations

import json
import random
import socket
import sys
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.util.retry import Retry

from .. import protocol
from ..model.clock import ClockSample

USER_AGENT = "Gridroom/0.1 (+sync protocol 1)"
#: Seconds a transport keeps trying without a successful answer (see the module doc).
DEADLINE_S = 75.0
#: An attempt with less time than this left of the deadline is not started.
MIN_ATTEMPT_S = 0.5


class TransportError(Exception):
    """A request that did not succeed, in plain words.

    ``code`` is the server's error code (see ``protocol.ERRORS``) or, for failures on the way,
    ``offline`` / ``timeout`` / ``tls`` / ``damaged`` (answers fail their gzip check) /
    ``captive_portal`` (a sign-in page answered for the county) / ``bad_response`` (an answer
    that is not the protocol's); ``reached`` says whether the server answered at all (the
    device is online but something is wrong).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        reached: bool = False,
        body: Mapping[str, Any] | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.reached = reached
        self.body = dict(body or {})
        self.retry_after = retry_after


@dataclass
class Reply:
    status: int
    headers: Mapping[str, str]
    content: bytes
    #: the device's clock when the request was sent and when the answer came (for the offset)
    sent_at: int
    received_at: int

    def clock_sample(self, server_time: int | None = None) -> ClockSample | None:
        """This round trip's measurement of the device's clock error: NTP-style from the
        server's arrival and reply stamps (``Gridroom-Server-Arrival`` / ``-Reply``), else —
        a server that does not send them — from ``server_time`` read anywhere inside the round
        trip; None when there is neither."""
        arrival = _stamp(self.headers.get(protocol.ARRIVAL_HEADER))
        reply = _stamp(self.headers.get(protocol.REPLY_HEADER))
        if arrival is not None and reply is not None and reply >= arrival:
            return ClockSample.ntp(self.sent_at, arrival, reply, self.received_at)
        if server_time is not None:
            return ClockSample.cristian(self.sent_at, self.received_at, server_time)
        return None

    def json(self) -> Any:
        try:
            return json.loads(self.content.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TransportError(
                "bad_response", f"The server's answer is not valid JSON ({exc}).", reached=True
            ) from None

    def object(self, what: str) -> dict[str, Any]:
        """The answer as a JSON object, or :func:`not_protocol` (a list, a number …)."""
        value = self.json()
        if not isinstance(value, dict):
            raise not_protocol(f"{what} is not a JSON object")
        return value


def not_protocol(what: str) -> TransportError:
    """An answer that parses but is not what the protocol answers (another server, a broken
    adapter): said plainly instead of failing somewhere deep in the client."""
    return TransportError(
        "bad_response",
        f"The server's answer does not follow the Gridroom sync protocol ({what}): check that "
        "the server address is the county's Gridroom platform.",
        reached=True,
    )


class Transport:
    """One persistent HTTP session with the county; close it with :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_file: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 60.0,
        attempts: int = 5,
        backoff: float = 0.5,
        backoff_max: float = 30.0,
        deadline: float | None = DEADLINE_S,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], int] | None = None,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"the server URL must start with https:// (got {base_url!r})")
        self.base_url = base_url.rstrip("/")
        self.verify: bool | str = ca_file or True
        self.timeout = (connect_timeout, read_timeout)
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._wall = wall or (lambda: time.time_ns() // 1_000_000)
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        #: seconds without a successful answer after which the transport stops trying
        self.deadline = deadline if deadline and deadline > 0 else None
        #: seconds spent in requests since the last successful answer, and when this one began
        self._quiet = 0.0
        self._began = monotonic()
        self.session = requests.Session()
        # urllib3 retries nothing: request() is the one retry policy (see the module doc).
        retry = Retry(total=0, connect=0, read=0, redirect=0, status=0, raise_on_status=False)
        self._link = _LinkTimeouts()
        adapter = _LinkAdapter(self._link, max_retries=retry, pool_connections=1, pool_maxsize=4)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(
            {
                "User-Agent": USER_AGENT,
                "Accept-Encoding": "gzip",
                protocol.PROTOCOL_HEADER: str(protocol.PROTOCOL_VERSION),
            }
        )
        #: Counters for the sync report: requests answered, bytes on the wire each way.
        self.round_trips = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.retries = 0
        #: request body bytes sent again (retried attempts): what a cut costs twice
        self.bytes_resent = 0
        #: the last answered request: body bytes sent and seconds from sending to the whole
        #: answer (the sync sizes its next push batch by the rate they make)
        self.last_sent = 0
        self.last_seconds = 0.0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        ok: tuple[int, ...] = (200,),
        retry: bool = True,
    ) -> Reply:
        """Send one request (retrying breaks with backoff and jitter); raise TransportError
        unless the status is in ``ok``."""
        self._began = self._monotonic()
        try:
            reply = self._send(method, path, token, json_body, data, headers, params, ok, retry)
        except BaseException:
            self._quiet += self._monotonic() - self._began
            raise
        self._quiet = 0.0  # progress: the deadline starts afresh
        return reply

    def _send(
        self,
        method: str,
        path: str,
        token: str | None,
        json_body: Any,
        data: bytes | None,
        headers: Mapping[str, str] | None,
        params: Mapping[str, Any] | None,
        ok: tuple[int, ...],
        retry: bool,
    ) -> Reply:
        send_headers = dict(headers or {})
        body = data
        if json_body is not None:
            body, extra = protocol.encode_body(json_body)
            send_headers.update(extra)
        if token:
            send_headers["Authorization"] = f"Bearer {token}"
        url = self.base_url + path
        last: TransportError | None = None
        malformed = 0
        out_of_time = False
        for attempt in range(self.attempts if retry else 1):
            if attempt:
                delay = self._delay(attempt, last)
                if self._left() - delay < MIN_ATTEMPT_S:
                    out_of_time = True  # no time for another attempt within the deadline
                    break
                self.retries += 1
                self.bytes_resent += len(body or b"")
                self._sleep(delay)
            timeout = self._timeouts()
            if timeout is None:
                out_of_time = True
                break
            sent_at = self._wall()
            clock = self._monotonic()
            self._link.send = timeout[1]
            try:
                response = self.session.request(
                    method,
                    url,
                    data=body,
                    headers=send_headers,
                    params=params,
                    timeout=timeout,
                    verify=self.verify,
                    allow_redirects=False,
                )
                content = response.content  # reads the whole body: a cut shows up here
            except requests.exceptions.SSLError as exc:
                raise TransportError(
                    "tls",
                    f"The server's certificate was not accepted ({_short(exc)}). Check the "
                    "server address and the CA certificate setting.",
                ) from None
            except requests.exceptions.Timeout as exc:
                last = TransportError(
                    "timeout", f"The server did not answer in time ({_short(exc)})."
                )
                continue
            except requests.exceptions.ContentDecodingError as exc:
                # The gzip check failed: bytes were damaged on the way. Ask again.
                last = TransportError(
                    "damaged",
                    f"The server's answers arrive damaged ({_short(exc)}); something on the "
                    "way changes them.",
                    reached=True,
                )
                continue
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.ChunkedEncodingError,
            ) as exc:
                last = TransportError("offline", f"Cannot reach the server ({_short(exc)}).")
                continue
            received_at = self._wall()
            if not _framed(response):
                # Headers or body cut short on the way (the link dropped mid-answer).
                last = TransportError("offline", "The server's answer was cut off on the way.")
                continue
            portal = _portal(self.base_url, response)
            if portal is not None:
                # Not the county: a Wi-Fi or hotel sign-in page answers in its place.
                raise portal
            if not _parses(response, content):
                # Framed, yet not JSON: a damaged answer (asked again once) or not our server.
                malformed += 1
                last = TransportError(
                    "bad_response",
                    "The server's answer is not valid JSON: check that the server address "
                    "is the county's Gridroom platform.",
                    status=response.status_code,
                    reached=True,
                )
                if malformed < 2:
                    continue
                raise last
            self.round_trips += 1
            self.last_sent = len(body or b"")
            self.last_seconds = self._monotonic() - clock
            self.bytes_up += len(body or b"") + _header_bytes(send_headers)
            self.bytes_down += _wire_bytes(response, content)
            reply = Reply(response.status_code, response.headers, content, sent_at, received_at)
            if response.status_code in ok:
                return reply
            if 300 <= response.status_code < 400:
                where = response.headers.get("Location", "another address")
                raise TransportError(
                    "bad_response",
                    f"The server sends us to {where}: set the server address to that.",
                    status=response.status_code,
                    reached=True,
                )
            error = _error(reply)
            if error.body.get("retry") is False:
                raise error  # the server says repeating it cannot help (its clock is wrong …)
            if error.code in ("server_error", "unavailable") or response.status_code >= 500:
                last = error
                continue
            raise error
        if last is None:
            raise TransportError(
                "offline", f"Cannot reach the server within {self._deadline_words()}."
            )
        if out_of_time:
            last.message = (
                f"{last.message.rstrip('.')}. Gave up after {self._deadline_words()} of trying "
                "(the sync deadline); the next sync tries again."
            )
            last.args = (last.message,)
        raise last

    def _left(self) -> float:
        """Seconds left of the deadline (infinite without one)."""
        if self.deadline is None:
            return float("inf")
        return self.deadline - (self._quiet + self._monotonic() - self._began)

    def _timeouts(self) -> tuple[float, float] | None:
        """This attempt's (connect, read) timeouts, cut to the deadline; None when spent."""
        left = self._left()
        if left < MIN_ATTEMPT_S:
            return None
        return (min(self.timeout[0], left), min(self.timeout[1], left))

    def _deadline_words(self) -> str:
        return f"{self.deadline:g} s" if self.deadline is not None else "the time allowed"

    def _delay(self, attempt: int, last: TransportError | None) -> float:
        """Exponential backoff with full jitter; a server's Retry-After wins when longer."""
        cap = min(self.backoff_max, self.backoff * (2 ** (attempt - 1)))
        delay = self._rng.uniform(0, cap)
        if last is not None and last.retry_after:
            delay = max(delay, min(last.retry_after, self.backoff_max))
        return delay

    def get_json(self, path: str, *, token: str | None = None, **kw: Any) -> dict[str, Any]:
        """GET a JSON object (every JSON answer of the protocol is one)."""
        return self.request("GET", path, token=token, **kw).object(f"the answer to {path}")

    def post_json(self, path: str, body: Any, *, token: str | None = None, **kw: Any) -> Reply:
        return self.request("POST", path, token=token, json_body=body, **kw)


#: Linux's TCP_RTO_MAX_MS socket option (kernel 6.15 and later) and the value we give it.
TCP_RTO_MAX_MS = 44
RTO_MAX_MS = 5_000


def _socket_options() -> list[tuple[int, int, int]]:
    """urllib3's socket options (TCP_NODELAY), plus a cap on TCP's retransmission backoff
    where the kernel has one.

    After an outage TCP retransmits on an exponentially backed-off timer: on a 2G link with
    seconds of queueing in the modem the timer is already 2-4 s, so a 20 s outage is followed
    by up to 20-40 s more of silence before TCP tries again, and a request's read timeout runs
    out on a link that is back. Capped at 5 s, TCP notices the link is back within 5 s; the
    cost is one small packet every 5 s while the link is out."""
    options = list(HTTPConnection.default_socket_options)
    global _RTO_PROBED
    if _RTO_PROBED is None:
        _RTO_PROBED = False
        if hasattr(socket, "IPPROTO_TCP") and sys.platform.startswith("linux"):
            try:
                with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                    probe.setsockopt(socket.IPPROTO_TCP, TCP_RTO_MAX_MS, RTO_MAX_MS)
                _RTO_PROBED = True
            except OSError:
                pass  # an older kernel: TCP's own backoff
    if _RTO_PROBED:
        options.append((socket.IPPROTO_TCP, TCP_RTO_MAX_MS, RTO_MAX_MS))
    return options


_RTO_PROBED: bool | None = None


class _LinkTimeouts:
    """The socket timeout while a request is being sent (this attempt's read timeout)."""

    send: float | None = None


def _sending(timeouts: _LinkTimeouts, base: type[HTTPConnection]) -> type[HTTPConnection]:
    """``base`` sending its request under ``timeouts.send`` instead of the connect timeout.

    urllib3 sends a request with the *connect* timeout on the socket (10 s) and switches to the
    read timeout only to wait for the answer. On a village link an outage of 20 s in the middle
    of an upload then kills a connection TCP would have carried through (it retransmits when the
    link comes back), and the whole batch went again on a new one. The connect timeout still
    bounds the connecting itself."""

    class Sending(base):  # type: ignore[valid-type, misc]
        def __init__(self, *args: Any, **kw: Any) -> None:
            kw["socket_options"] = _socket_options()
            super().__init__(*args, **kw)

        def request(
            self, method: str, url: str, body: Any = None, headers: Any = None, **kw: Any
        ) -> None:
            if self.sock is None:
                self.connect()  # under the connect timeout, as urllib3 would
            if timeouts.send is not None and self.sock is not None:
                self.sock.settimeout(timeouts.send)
            super().request(method, url, body=body, headers=headers, **kw)

    return Sending


class _LinkAdapter(HTTPAdapter):
    """requests' adapter with connections that send under :class:`_LinkTimeouts`."""

    def __init__(self, timeouts: _LinkTimeouts, **kw: Any) -> None:
        http_conn = _sending(timeouts, HTTPConnection)
        https_conn = _sending(timeouts, HTTPSConnection)
        self._pools = {
            "http": type("LinkPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
            "https": type("LinkPoolTLS", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
        }
        super().__init__(**kw)

    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = self._pools


def _framed(response: requests.Response) -> bool:
    """Whether the answer says how long it is (Content-Length or chunked): our server always
    frames its answers, and urllib3 then enforces the length. A cut inside the headers leaves
    it nothing to enforce, which this catches."""
    headers = response.headers
    return "content-length" in headers or "chunked" in headers.get("transfer-encoding", "")


def _parses(response: requests.Response, content: bytes) -> bool:
    """Whether a JSON answer is JSON (other media types are not ours to judge here)."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return True
    try:
        json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return True


def _portal(base_url: str, response: requests.Response) -> TransportError | None:
    """A captive portal (the Wi-Fi or 4G hotspot's sign-in page) answering for the county.

    Nothing in the protocol answers with a web page, and the county never redirects to another
    host: either means the network, not the county, answered."""
    media = response.headers.get("content-type", "")
    status = response.status_code
    if 200 <= status < 300 and media.startswith("text/html"):
        return TransportError(
            "captive_portal",
            "The network answered with a web page instead of the county server: it probably "
            "wants a sign-in first (open any web page in a browser and sign in to the Wi-Fi or "
            "hotspot), then sync again.",
            status=status,
        )
    if 300 <= status < 400:
        where = response.headers.get("Location", "")
        target = urllib.parse.urlsplit(urllib.parse.urljoin(base_url + "/", where))
        if target.hostname and target.hostname != urllib.parse.urlsplit(base_url).hostname:
            return TransportError(
                "captive_portal",
                f"The network sends us to {where} instead of the county server: it probably "
                "wants a sign-in first (open a web page in a browser and sign in), then sync "
                "again. If county IT moved the server, set its new address.",
                status=status,
            )
    return None


def _stamp(header: str | None) -> int | None:
    """A millisecond stamp from a header, or None when absent or not a whole number."""
    if header is None:
        return None
    text = header.strip()
    return int(text) if text.isdigit() and len(text) <= 15 else None


def _short(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:197] + "…"


def _header_bytes(headers: Mapping[str, str]) -> int:
    return sum(len(k) + len(v) + 4 for k, v in headers.items()) + 40


def _wire_bytes(response: requests.Response, content: bytes) -> int:
    """Bytes the answer took on the wire (compressed), where urllib3 can tell."""
    raw = response.raw
    tell = getattr(raw, "tell", None)
    try:
        n = int(tell()) if tell is not None else 0
    except (OSError, ValueError, TypeError):
        n = 0
    return (n or len(content)) + sum(len(k) + len(v) + 4 for k, v in response.headers.items())


def _error(reply: Reply) -> TransportError:
    """The server's error body as a TransportError (plain words from the server); an answer
    without one (a reverse proxy's page, another server) gets a code from its status."""
    try:
        body = json.loads(reply.content.decode("utf-8"))
        err = body.get("error") if isinstance(body, dict) else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        err = None
    if isinstance(err, dict) and isinstance(err.get("message"), str):
        code = str(err.get("code") or "bad_response")
        message = err["message"]
    else:
        code, message = _status_error(reply.status)
        err = {}
    if reply.status == 426:
        # Whatever else it says: this server does not speak our version.
        code = "protocol_version"
        if "update Gridroom" not in message:
            message = (
                message.rstrip(".") + ". This Gridroom is too old for the server: update Gridroom."
            )
    retry_after = None
    header = reply.headers.get("Retry-After")
    if header and header.strip().isdigit():
        retry_after = float(header)
    return TransportError(
        code, message, status=reply.status, reached=True, body=err, retry_after=retry_after
    )


def _status_error(status: int) -> tuple[str, str]:
    """A code and a sentence for an error answer that carries no protocol error body."""
    if status == 426:
        return "protocol_version", "The server speaks a newer protocol: update Gridroom."
    if status == 401:
        return "unauthorized", "The server wants a sign-in (HTTP 401): sign in again."
    if status in (502, 503, 504):
        return "unavailable", f"The county server is not available (HTTP {status}); retry later."
    if status >= 500:
        return "server_error", f"The county server failed (HTTP {status}); retry later."
    if status == 404:
        return (
            "bad_response",
            "The server does not know this request (HTTP 404): check that the server address "
            "is the county's Gridroom platform.",
        )
    return "bad_response", f"The server answered HTTP {status} without an explanation."
