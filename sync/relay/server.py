"""The relay's HTTP server: the sync protocol's endpoints over :class:`Relay`, on the township LAN.

Built on the standard library (``http.server``, ``ssl``) on purpose: the command-room PC runs
the desktop app's own bundle, which carries no web framework. HTTP/1.1 keep-alive, JSON bodies
gzip'd both ways (a request body is inflated with the protocol's caps, so a gzip bomb stops at
the limit), every error in the protocol's shape, the clock headers of section 10 on every
answer, and TLS when given a certificate and key (``relay_tls_cert`` / ``relay_tls_key``).

A LAN discovery probe answers on UDP (:func:`serve_discovery`): a laptop without a preset relay
address broadcasts ``GRIDROOM-RELAY?<township>`` and the relay of that township answers with its
URL. The answer only says where to connect; whom to trust is settled by the county's
certificates, not by who answered.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from .. import protocol, relaycert
from ..client.transport import TransportError
from ..store import attachments, replica
from .core import ApiError, Relay
from .upstream import Upstream

log = logging.getLogger("gridroom.relay")

DISCOVERY_PORT = 8767
DISCOVERY_ASK = b"GRIDROOM-RELAY?"
DISCOVERY_ANSWER = b"GRIDROOM-RELAY!"

_BLOB = re.compile(r"/v1/blobs/([0-9a-f]{64})")
_BLOB_STATUS = re.compile(r"/v1/blobs/([0-9a-f]{64})/status")
_RANGE = re.compile(r"\s*bytes=(\d+)-(\d*)\s*")


class RelayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], relay: Relay, upstream: Upstream) -> None:
        super().__init__(address, Handler)
        self.relay = relay
        self.upstream = upstream

    @property
    def url(self) -> str:
        host, port = str(self.server_address[0]), int(self.server_address[1])
        scheme = "https" if isinstance(self.socket, ssl.SSLSocket) else "http"
        return f"{scheme}://{host}:{port}"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RelayServer

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)

    # -- plumbing ----------------------------------------------------------------------------------

    def _arrival(self) -> None:
        self.arrival = self.server.relay.store.now()

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header(protocol.PROTOCOL_HEADER, str(protocol.PROTOCOL_VERSION))
        self.send_header(protocol.ARRIVAL_HEADER, str(getattr(self, "arrival", 0)))
        self.send_header(protocol.REPLY_HEADER, str(self.server.relay.store.now()))
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any, *, close: bool = False) -> None:
        body = protocol.dumps(value)
        extra: dict[str, str] = {}
        if "gzip" in (self.headers.get("Accept-Encoding") or ""):
            body = gzip.compress(body, compresslevel=6, mtime=0)
            extra["Content-Encoding"] = "gzip"
        if close:
            extra["Connection"] = "close"
            self.close_connection = True
        self._send(status, body, protocol.JSON_TYPE, extra)

    def _error(self, code: str, message: str, *, close: bool = False, **extra: Any) -> None:
        kind = protocol.ERRORS.get(code)
        self._json(
            kind.status if kind else 400, protocol.error_body(code, message, **extra), close=close
        )

    def _body(self) -> Any:
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            if self.command in ("POST", "PUT"):
                raise ApiError("bad_request", "A request body needs a Content-Length.")
            return None
        size = int(length)
        if size > protocol.BODY_MAX:
            raise ApiError("too_large", f"The request body exceeds {protocol.BODY_MAX:,} bytes.")
        raw = self.rfile.read(size)
        if (self.headers.get("Content-Encoding") or "").strip().lower() in ("gzip", "x-gzip"):
            try:
                raw = protocol.gunzip(raw, protocol.BODY_MAX_DECOMPRESSED)
            except protocol.WireError as exc:
                raise ApiError(exc.code, exc.message) from None
        if not raw:
            return None
        try:
            return protocol.decode_json(raw)
        except protocol.WireError as exc:
            raise ApiError(exc.code, exc.message) from None

    def _dispatch(self) -> None:
        self._arrival()
        version = self.headers.get(protocol.PROTOCOL_HEADER)
        if version is not None and (
            not version.strip().isdigit() or int(version) not in protocol.SUPPORTED_VERSIONS
        ):
            self._error(
                "protocol_version",
                f"This relay speaks protocol 1, not {version}.",
                supported=list(protocol.SUPPORTED_VERSIONS),
            )
            return
        try:
            self._route(urlsplit(self.path).path)
        except ApiError as exc:
            self._error(exc.code, exc.message, close=exc.code == "too_large", **exc.extra)
        except TransportError as exc:
            self._error("unavailable", exc.message)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a fault here must not take the relay down
            log.exception("relay request failed")
            self._error("server_error", "The relay failed; retry later.")

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    # -- the endpoints ---------------------------------------------------------------------------

    def _route(self, path: str) -> None:
        relay = self.server.relay
        method = self.command
        body = (
            self._body()
            if method in ("POST", "PUT") and not path.startswith("/v1/blobs/")
            else None
        )
        if method == "GET" and path == protocol.HEALTH:
            self._json(
                200,
                {
                    "status": "ok",
                    "relay": relay.relay_id,
                    "county": relay.county,
                    "township": relay.township,
                    "protocol": list(protocol.SUPPORTED_VERSIONS),
                    "county_reachable": not self.server.upstream.down,
                    "server_time": relay.store.now(),
                },
            )
            return
        if method == "POST" and path == relaycert.CHALLENGE:
            self._json(200, relay.challenge())
            return
        if method == "POST" and path == relaycert.SESSION:
            if not isinstance(body, dict):
                raise ApiError("bad_request", "A relay session is asked for with a JSON object.")
            self._json(200, relay.open_session(body))
            return
        session = relay.authenticate(self.headers.get("Authorization"))
        if method == "GET" and path == protocol.SESSION:
            self._json(200, relay.session_info(session))
        elif method == "POST" and path == protocol.SYNC:
            if not isinstance(body, dict):
                raise ApiError("bad_request", "The sync request is a JSON object.")
            push = body.get("push")
            key = self.headers.get(protocol.IDEMPOTENCY_HEADER)
            if isinstance(push, dict) and key not in (None, push.get("batch_id")):
                raise ApiError("id_clash", "The Idempotency-Key header names another batch.")
            self._json(200, relay.sync(session, body))
        elif method == "GET" and path == protocol.REFERENCE:
            self._json(200, self.server.upstream.reference())
        elif method == "GET" and (m := _BLOB_STATUS.fullmatch(path)):
            sha, size = self._servable(m.group(1), session.keys)
            self._json(200, {"sha256": sha, "size": size, "received": size, "complete": True})
        elif method == "GET" and (m := _BLOB.fullmatch(path)):
            self._blob(*self._servable(m.group(1), session.keys))
        elif path.startswith("/v1/blobs/") or path == protocol.SNAPSHOT:
            # Uploads go to the county itself (the device keeps them queued); a relay holds no
            # checksums, so it is never asked for a snapshot.
            raise ApiError(
                "not_found",
                "This relay does not take attachment uploads; they go "
                "to the county when it is back.",
            )
        else:
            raise ApiError("not_found", "There is no such endpoint on this relay.")

    def _servable(self, sha256: str, keys: frozenset[str]) -> tuple[str, int]:
        """A file the device may download from the relay: the relay holds it, and a proven
        attachment (one that came from the county) of a case in the device's scope names it."""
        relay = self.server.relay
        ref = relay.store.reference()
        for case_id, size in relay.store.read(
            "SELECT case_id, size FROM attachments WHERE sha256 = ? AND local = 0", [sha256]
        ):
            state = relay.store.case(case_id)
            if state is None:
                continue
            from ..model import scope as scope_rules

            if scope_rules.view_of(state, ref).keys & keys and replica.blob_exists(
                relay.store, sha256
            ):
                return sha256, int(size)
        raise ApiError("not_found", "No such file here, or not in this device's scope.")

    def _blob(self, sha256: str, size: int) -> None:
        data = attachments.read_blob(self.server.relay.store, sha256)
        if data is None:
            raise ApiError("not_found", "No such file here.")
        found = _RANGE.fullmatch(self.headers.get("Range") or "")
        extra = {"Accept-Ranges": "bytes"}
        if found:
            start = int(found.group(1))
            end = int(found.group(2)) if found.group(2) else len(data) - 1
            part = data[start : end + 1]
            extra["Content-Range"] = f"bytes {start}-{start + len(part) - 1}/{len(data)}"
            self._send(206, part, protocol.BLOB_TYPE, extra)
        else:
            self._send(200, data, protocol.BLOB_TYPE, extra)


def make_server(
    relay: Relay,
    upstream: Upstream,
    host: str,
    port: int,
    *,
    tls_cert: str | None = None,
    tls_key: str | None = None,
) -> RelayServer:
    server = RelayServer((host, port), relay, upstream)
    if tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(tls_cert, tls_key or None)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    return server


def serve_discovery(relay: Relay, url: str, port: int = DISCOVERY_PORT) -> threading.Thread:
    """Answer LAN probes for this relay's township with its URL (a daemon thread)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("", port))

    def run() -> None:
        while True:
            try:
                data, peer = sock.recvfrom(512)
            except OSError:
                return
            if data.startswith(DISCOVERY_ASK) and data[len(DISCOVERY_ASK) :].decode(
                "ascii", "replace"
            ).strip() in ("", relay.township):
                answer = {"relay": relay.relay_id, "township": relay.township, "url": url}
                sock.sendto(DISCOVERY_ANSWER + json.dumps(answer).encode(), peer)

    thread = threading.Thread(target=run, name="relay-discovery", daemon=True)
    thread.start()
    return thread
