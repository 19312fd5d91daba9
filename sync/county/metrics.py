"""What a load balancer and a monitoring system ask of the county server.

* ``GET /healthz`` — liveness: the process answers. Never touches the database, so a slow or
  restarting PostgreSQL does not get healthy server processes killed.
* ``GET /readyz`` — readiness: the database answers a query and its schema is the one this
  server expects. 503 with the reason in plain words otherwise, so a balancer sends devices to
  another process (or none) instead of letting them time out.
* ``GET /metrics`` — Prometheus text exposition (``prometheus-client``): requests by route and
  status, latency, requests in flight (the queue), pushed items by result, replayed batches,
  pulled items, errors by code. Only for the addresses county IT names (``serve
  --metrics-from``, loopback by default): the figures say nothing secret, but they are nobody
  else's business and a scrape costs the server work.

``serve --workers N`` runs N processes; each counts its own and ``prometheus-client``'s
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``serve``) sums them at a scrape, so
one scrape through any worker sees the whole server.
"""

from __future__ import annotations

import ipaddress
import json
import os
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: What ``serve`` sets for several workers (and tests may set): where the processes' counts meet.
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: The paths these endpoints live at (outside /v1: they are not part of the sync protocol).
HEALTHZ, READYZ, METRICS = "/healthz", "/readyz", "/metrics"

#: Latency buckets in seconds: a no-op sync on loopback is milliseconds, a 2G push of a full
#: batch tens of seconds; the client gives up at 60 s.
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 60, 120)

#: An error body is small; more than this is not one of ours and is not read for its code.
_ERROR_PEEK = 4096

LOOPBACK = ("127.0.0.0/8", "::1/128")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(cidrs: Iterable[str]) -> tuple[Network, ...]:
    """``--metrics-from`` values as networks (a bare address is a one-address network)."""
    out = []
    for text in cidrs:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"--metrics-from: {text!r} is not an address or network (e.g. 10.2.0.0/16)"
            ) from None
    return tuple(out)


class Metrics:
    """The server's counters, in a registry of their own (one per app, so tests can run several
    apps in one process without their figures mixing)."""

    def __init__(self, allowed: Iterable[str] = LOOPBACK) -> None:
        self.allowed = networks(allowed)
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "gridroom_http_requests",
            "HTTP requests answered, by method, route and status code.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "gridroom_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route.",
            ["route"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "gridroom_http_requests_in_flight",
            "Requests being read, worked on or answered right now (the queue).",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.errors = Counter(
            "gridroom_errors",
            "Error answers, by the error code of the protocol (docs/sync-protocol.md).",
            ["code"],
            registry=r,
        )
        self.pushed = Counter(
            "gridroom_push_items",
            "Pushed items (entries, attachments, visits), by the result the county gave.",
            ["result"],
            registry=r,
        )
        self.batches = Counter(
            "gridroom_push_batches",
            "Push batches, by whether they were new or replays answered from the stored reply.",
            ["kind"],
            registry=r,
        )
        self.pulled = Counter(
            "gridroom_pull_items", "Changes sent to devices in pull pages.", registry=r
        )
        self.pulls = Counter("gridroom_pulls", "Pull pages served.", registry=r)

    def allows(self, client: tuple[str, int] | None) -> bool:
        if client is None:
            return False
        try:
            address = ipaddress.ip_address(client[0])
        except ValueError:
            return False
        return any(address in net for net in self.allowed)

    def observe_sync(self, answer: Mapping[str, Any]) -> None:
        """Count what one ``POST /v1/sync`` did, from its answer."""
        push = answer.get("push")
        if isinstance(push, Mapping):
            self.batches.labels("replayed" if push.get("replayed") else "new").inc()
            if not push.get("replayed"):  # a replay was counted when it was applied
                applied = push.get("applied")
                if isinstance(applied, int) and applied:
                    self.pushed.labels("applied").inc(applied)
                for result in push.get("results") or ():
                    status = result.get("status") if isinstance(result, Mapping) else None
                    self.pushed.labels(str(status or "unknown")).inc()
        pull = answer.get("pull")
        if isinstance(pull, Mapping):
            self.pulls.inc()
            items = pull.get("items")
            if isinstance(items, list) and items:
                self.pulled.inc(len(items))

    def exposition(self) -> bytes:
        """The text a Prometheus scrape reads: this process's, or every worker's."""
        if os.environ.get(MULTIPROC_ENV):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return bytes(generate_latest(registry))
        return bytes(generate_latest(self.registry))


class Measure:
    """ASGI middleware that counts every HTTP request: route (the path template, never the
    path, so a blob's hash does not become a label of its own), status, latency, the error
    code of an error answer, and how many are in flight."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Callable[[], Iterable[Any]]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes

    def _route(self, scope: Scope) -> str:
        """The path template the request matched, e.g. ``/v1/blobs/{sha256}``."""
        for route in self.routes():
            if route.matches(scope)[0] == Match.FULL:
                return str(route.path)
        return "(unrouted)"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        m = self.metrics
        started = time.perf_counter()
        status = 0
        error_body = bytearray()
        peeking = gzipped = False

        counted = False

        def count() -> None:
            # Before the answer's last byte goes out, so a client that has its answer (and
            # then scrapes) always finds it counted; in ``finally`` for a request never answered.
            nonlocal counted
            if counted:
                return
            counted = True
            m.in_flight.dec()
            label = self._route(scope)
            method = scope.get("method", "")
            # A label only from a short list: a client choosing its own method (or path) must
            # not be able to grow the server's memory one new label at a time.
            method = method if method in _METHODS else "OTHER"
            m.requests.labels(method, label, str(status or 0)).inc()
            m.latency.labels(label).observe(time.perf_counter() - started)
            if status >= 400:
                m.errors.labels(_error_code(bytes(error_body), status, gzipped)).inc()

        async def watched(message: Message) -> None:
            nonlocal status, peeking, gzipped
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = dict(message.get("headers") or ())
                peeking = status >= 400 and headers.get(b"content-type", b"").startswith(
                    b"application/json"
                )
                gzipped = headers.get(b"content-encoding") == b"gzip"
            elif message["type"] == "http.response.body":
                if peeking and len(error_body) < _ERROR_PEEK:
                    error_body.extend(message.get("body", b"")[: _ERROR_PEEK - len(error_body)])
                if not message.get("more_body", False):
                    count()
            await send(message)

        m.in_flight.inc()
        try:
            await self.app(scope, receive, watched)
        finally:
            count()


def _error_code(body: bytes, status: int, gzipped: bool = False) -> str:
    """The protocol error code of an error answer (``{"error": {"code": …}}``), else the
    status class, so a label can never be a stranger's free text."""
    try:
        if gzipped:
            body = zlib.decompressobj(wbits=31).decompress(body, _ERROR_PEEK)
        code = json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError, zlib.error):
        code = None
    if isinstance(code, str) and code.isascii() and code.replace("_", "").isalnum():
        return code[:40]
    return f"http_{status // 100}xx" if status else "no_answer"


CONTENT_TYPE = CONTENT_TYPE_LATEST

__all__ = [
    "CONTENT_TYPE",
    "HEALTHZ",
    "LOOPBACK",
    "METRICS",
    "MULTIPROC_ENV",
    "READYZ",
    "Measure",
    "Metrics",
    "networks",
]
