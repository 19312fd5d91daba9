"""The county platform's HTTP API (ASGI, FastAPI): the protocol's endpoints over :class:`County`.

Bodies are JSON, gzip'd both ways when large (requests through :class:`RequestLimits`,
responses through Starlette's GZip middleware); every error is ``{"error": {code, message,
retry}}`` with the status from :data:`sync.protocol.ERRORS`. FastAPI publishes the OpenAPI
description at ``/openapi.json``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Body, Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import protocol
from . import accounts as acc
from . import metrics as metrics_mod
from .db import MIGRATIONS, Database, DatabaseError
from .service import ApiError, County, Session

log = logging.getLogger("gridroom.county")

SERVER_VERSION = "0.1.0"


def _limits(scope: Scope, headers: dict[bytes, bytes]) -> tuple[int, int]:
    """The most bytes a request may send on the wire, and after decompression."""
    path = scope.get("path", "")
    bearer = headers.get(b"authorization", b"").startswith(b"Bearer ")
    if path in _PUBLIC_PATHS or not bearer:
        # Nobody known yet: sign-in, health, or a request that will be refused unauthorised.
        return protocol.PUBLIC_BODY_MAX, protocol.PUBLIC_BODY_MAX
    if scope.get("method") == "PUT" and _BLOB_PATH.fullmatch(path):
        return protocol.CHUNK_MAX, protocol.CHUNK_MAX
    return protocol.BODY_MAX, protocol.BODY_MAX_DECOMPRESSED


_PUBLIC_PATHS = frozenset({protocol.HEALTH, protocol.LOGIN})
_BLOB_PATH = re.compile(re.escape(protocol.BLOB).replace(re.escape("{sha256}"), "[^/]*"))


class RequestLimits:
    """ASGI middleware: the limits a request body meets before any route reads it.

    It counts the body's bytes as they arrive — a chunked body has no ``Content-Length`` to
    trust — and stops reading at the limit with 413 (a request that carries no token: a few KB;
    an attachment chunk: :data:`~sync.protocol.CHUNK_MAX`; any other: ``BODY_MAX``). A
    ``Content-Encoding: gzip`` body is inflated as it arrives with a cap on the decompressed
    bytes, so a gzip bomb stops at the limit too. A JSON body that is not UTF-8, nests too deep or
    holds a lone surrogate is refused with 400. Every refusal is in the protocol's error shape.

    A body past the few KB anyone may send is read on only once ``authenticate`` accepted the
    request's token: a made-up ``Bearer`` header gets 401, not 8 MiB of the server's memory.
    """

    def __init__(
        self,
        app: ASGIApp,
        authenticate: Callable[[str | None], object] | None = None,
        chunk_room: Callable[[Any, str, int], int | None] | None = None,
    ) -> None:
        self.app = app
        self.authenticate = authenticate
        #: (session, sha256, offset) → the bytes an attachment chunk may still carry (its
        #: declared size less the offset), or None: the per-request limit of a blob upload.
        self.chunk_room = chunk_room

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        wire_max, body_max = _limits(scope, headers)
        length = headers.get(b"content-length")
        if length is not None and not length.strip().isdigit():
            await _send_error(send, "bad_request", "Content-Length is not a number", close=True)
            return
        blob_upload = scope.get("method") == "PUT" and _BLOB_PATH.fullmatch(scope.get("path", ""))
        limited = self.chunk_room is not None and self.authenticate is not None
        if blob_upload and limited and wire_max == protocol.CHUNK_MAX:
            # A chunk stops at the file's declared size, before any of its body is read.
            room = await self._chunk_room(scope, headers, send)
            if room is False:
                return
            if isinstance(room, int) and room < wire_max:
                if length is not None and int(length) > room:
                    await _send_error(send, "too_large", _past_size(room), close=True)
                    return
                wire_max = body_max = room
        if length is not None and int(length) > wire_max:
            await _send_error(send, "too_large", _too_large(wire_max), close=True)
            return
        encoding = headers.get(b"content-encoding", b"").decode("latin-1").strip().lower()
        if encoding not in ("", "identity", "gzip", "x-gzip"):
            await _send_error(
                send,
                "bad_request",
                f"Content-Encoding {encoding!r}: only gzip is accepted",
                close=True,
            )
            return
        inflater = protocol.Inflater(body_max) if encoding in ("gzip", "x-gzip") else None
        body = bytearray()
        received = 0
        admitted = wire_max <= protocol.PUBLIC_BODY_MAX or self.authenticate is None
        if not admitted and length is not None and int(length) > protocol.PUBLIC_BODY_MAX:
            if not await self._admit(headers, send):
                return
            admitted = True
        try:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    return
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > wire_max:
                    await _send_error(send, "too_large", _too_large(wire_max), close=True)
                    return
                if inflater is not None:
                    inflater.feed(chunk)
                else:
                    body += chunk
                inflated = inflater.size if inflater is not None else received
                if not admitted and max(received, inflated) > protocol.PUBLIC_BODY_MAX:
                    if not await self._admit(headers, send):
                        return
                    admitted = True
                if not message.get("more_body"):
                    break
            raw = inflater.finish() if inflater is not None else bytes(body)
        except protocol.WireError as exc:
            await _send_error(send, exc.code, exc.message, close=True)
            return
        del body
        if raw and not _BLOB_PATH.fullmatch(scope.get("path", "")):
            try:
                protocol.decode_json(raw)
            except protocol.WireError as exc:
                await _send_error(send, exc.code, exc.message)
                return
        new_headers = [
            (k, v) for k, v in scope["headers"] if k not in (b"content-encoding", b"content-length")
        ]
        new_headers.append((b"content-length", str(len(raw)).encode()))
        scope = dict(scope, headers=new_headers)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        await self.app(scope, replay, send)

    async def _chunk_room(
        self, scope: Scope, headers: dict[bytes, bytes], send: Send
    ) -> int | bool | None:
        """The bytes this blob chunk may carry (None: no limit known here, the route decides);
        False when the token is refused (the refusal has been sent)."""
        assert self.authenticate is not None and self.chunk_room is not None
        sha256 = scope.get("path", "").rstrip("/").rsplit("/", 1)[-1]
        query = dict(
            p.split("=", 1)
            for p in scope.get("query_string", b"").decode("latin-1").split("&")
            if "=" in p
        )
        offset = query.get("offset", "")
        if not offset.isdigit() or not re.fullmatch(r"[0-9a-f]{64}", sha256):
            return None  # the route refuses it in its own words
        header = headers.get(b"authorization", b"").decode("latin-1")
        try:
            session = await run_in_threadpool(self.authenticate, header)
            return await run_in_threadpool(self.chunk_room, session, sha256, int(offset))
        except ApiError as exc:
            await _send_error(send, exc.code, exc.message, close=True)
            return False
        except DatabaseError as exc:
            log.error("database: %s", exc)
            await _send_error(
                send, "unavailable", "The county database is unavailable; retry later.", close=True
            )
            return False

    async def _admit(self, headers: dict[bytes, bytes], send: Send) -> bool:
        """Whether the request's token is good; if not, the refusal has been sent."""
        assert self.authenticate is not None
        header = headers.get(b"authorization", b"").decode("latin-1")
        try:
            await run_in_threadpool(self.authenticate, header)
        except ApiError as exc:
            await _send_error(send, exc.code, exc.message, close=True)
            return False
        except DatabaseError as exc:
            log.error("database: %s", exc)
            await _send_error(
                send, "unavailable", "The county database is unavailable; retry later.", close=True
            )
            return False
        return True


def _too_large(limit: int) -> str:
    return f"The request body exceeds {limit:,} bytes; the server stopped reading it."


def _past_size(room: int) -> str:
    return (
        f"The chunk runs past the file's declared size (at most {room:,} more bytes); the "
        "server did not read it."
    )


async def _send_error(send: Send, code: str, message: str, *, close: bool = False) -> None:
    """Answer with the protocol's error body; ``close``: the request body was not read to its
    end, so the connection cannot carry another request."""
    extra = {"supported": list(protocol.SUPPORTED_VERSIONS)} if code == "protocol_version" else {}
    body = protocol.dumps(protocol.error_body(code, message, **extra))
    status = protocol.ERRORS[code].status if code in protocol.ERRORS else 400
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ProtocolVersion:
    """ASGI middleware: refuse a protocol version this server does not speak (426), and label
    every response with the version it speaks."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = dict(scope.get("headers") or []).get(PROTOCOL_HEADER_BYTES)
        if wanted is not None:
            text = wanted.decode("latin-1").strip()
            if not text.isdigit() or int(text) not in protocol.SUPPORTED_VERSIONS:
                supported = ", ".join(map(str, protocol.SUPPORTED_VERSIONS))
                await _send_error(
                    send,
                    "protocol_version",
                    f"This server speaks protocol {supported}, not {text}; update Gridroom.",
                )
                return

        async def labelled(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *message.get("headers", []),
                    (PROTOCOL_HEADER_BYTES, str(protocol.PROTOCOL_VERSION).encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, labelled)


PROTOCOL_HEADER_BYTES = protocol.PROTOCOL_HEADER.lower().encode()
ARRIVAL_HEADER_BYTES = protocol.ARRIVAL_HEADER.lower().encode()
REPLY_HEADER_BYTES = protocol.REPLY_HEADER.lower().encode()


class ServerClock:
    """ASGI middleware, the outermost: stamp the server's clock when a request arrives (before
    its body is read or any handler waits for anything) and when its reply starts, in the
    ``Gridroom-Server-Arrival`` and ``Gridroom-Server-Reply`` headers. A device measures its
    clock offset from these and its own send and receive times, so a slow request (a big push,
    a busy database) does not skew it (docs/sync-protocol.md, section 10)."""

    def __init__(self, app: ASGIApp, clock: Callable[[], int]) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrival = str(int(self.clock())).encode()

        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    *message.get("headers", []),
                    (ARRIVAL_HEADER_BYTES, arrival),
                    (REPLY_HEADER_BYTES, str(int(self.clock())).encode()),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, stamped)


def _session(request: Request, authorization: Annotated[str | None, Header()] = None) -> Session:
    """Every endpoint but health and login: the caller's session, checked now."""
    county: County = request.app.state.county
    return county.authenticate(authorization)


Auth = Annotated[Session, Depends(_session)]


def _byte_range(
    range_: Annotated[
        str | None,
        Header(
            alias="Range",
            description="bytes=N-M or bytes=N- (one range); any other value is ignored and the "
            "whole file sent, as RFC 9110 allows",
        ),
    ] = None,
) -> str | None:
    """The ``Range`` header when it names one byte range; otherwise none (RFC 9110 section
    14.2: a server may ignore a Range it does not support, and answers the whole file)."""
    if range_ is None or not _RANGE.fullmatch(range_):
        return None
    return range_


_RANGE = re.compile(r"\s*bytes=\d+-\d*\s*")


# -- request bodies (documented in the OpenAPI description) ---------------------------------------


_ID_PATTERN = protocol._ID.pattern
#: Text without NUL characters (PostgreSQL cannot hold one; no name or code means one).
_TEXT = r"^[^\x00]*$"
_SHA256_PATTERN = protocol._SHA256.pattern
#: The largest whole number a request member may hold: 2**53 - 1, the largest every JSON
#: reader (a double) holds exactly; a change sequence number or a page budget never comes near.
_INT_MAX = 2**53 - 1

Sha256 = Annotated[
    str,
    Path(pattern=_SHA256_PATTERN, description="the file's SHA-256: 64 lowercase hex digits"),
]


def _whole_float(value: Any) -> Any:
    # JSON Schema counts 1.0 as an integer; Python's json reads it as a float.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


#: Whole numbers 0 … 2**53 - 1 (and 1 …): 3 or 3.0, never "3", true or 3.5.
Count = Annotated[int, Field(ge=0, le=_INT_MAX), Strict(), BeforeValidator(_whole_float)]
Positive = Annotated[int, Field(ge=1, le=_INT_MAX), Strict(), BeforeValidator(_whole_float)]


class _Request(BaseModel):
    """A request body: its members' types are checked as written (``0`` is no ``false``,
    ``1.0`` no whole number); members this version does not know are ignored."""

    model_config = ConfigDict(strict=True)


class DeviceKeys(_Request):
    """A device's sync-bundle public keys: raw 32-byte keys, base64 (protocol section 18)."""

    sign: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="Ed25519, verifies its bundles")
    box: str = Field(pattern=r"^[A-Za-z0-9+/]{43}=$", description="X25519, receives return bundles")


class LoginRequest(_Request):
    """Sign in and enrol this device (first sign-in) to a township."""

    login: str = Field(
        max_length=protocol.LOGIN_MAX,
        pattern=_TEXT,
        description="account name, e.g. 330825102-op",
    )
    password: str = Field(max_length=protocol.PASSWORD_MAX)
    device_id: str = Field(
        pattern=_ID_PATTERN,
        max_length=64,
        description="the device's own id (UUIDv7), stable for its store",
    )
    device_name: str = Field(
        "", max_length=100, pattern=_TEXT, description="a name people recognise, e.g. 指挥室-1"
    )
    township: str | None = Field(
        None,
        max_length=12,
        pattern=_TEXT,
        description="for county-level accounts: enrol the device to this township",
    )
    client_version: str | None = Field(None, max_length=100, pattern=_TEXT)
    device_keys: DeviceKeys | None = Field(
        None, description="the public halves of the device's sync-bundle keys (optional)"
    )


class PushBatch(_Request):
    """Records the device created; each is validated on its own (rejected ones are listed)."""

    batch_id: str = Field(
        pattern=_ID_PATTERN,
        max_length=64,
        description="idempotency key: a replay gets the first answer",
    )
    entries: list[dict[str, Any]] = Field(default_factory=list)
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    visits: list[dict[str, Any]] = Field(default_factory=list)
    signoffs: list[dict[str, Any]] = Field(
        default_factory=list, description="supervisors' 工作台账 sign-offs"
    )
    quiet: bool = Field(
        False,
        description="answer only the items that were not plainly applied (the rest were)",
    )


class SyncRequest(_Request):
    """One round trip: push (optional), then pull one page from ``cursor``."""

    device_time: Count | None = Field(None, description="the device's wall clock (UTC ms)")
    cursor: Count = Field(0, description="the last change sequence number the device holds")
    page_bytes: Positive | None = Field(None, description="budget of the pull page (JSON bytes)")
    checksum: bool = Field(False, description="ask for per-village checksums at the end")
    outbox: Count | None = Field(
        None, description="records waiting in the device's outbox (shown to county IT)"
    )
    app_version: str | None = Field(
        None, max_length=40, pattern=_TEXT, description="the device's Gridroom version"
    )
    push: PushBatch | None = None
    device_keys: DeviceKeys | None = Field(
        None, description="register the device's sync-bundle public keys (devices enrolled before)"
    )
    reference_version: str | None = Field(
        None,
        max_length=64,
        pattern=_TEXT,
        description="the reference data version the device holds ('' for none): when it is "
        "not the current one, the answer carries the reference data too",
    )


class SnapshotRequest(_Request):
    """Re-pull one village in full (drift repair), paged by case id."""

    village_code: str = Field(
        max_length=64,
        pattern=_TEXT,
        description="village code, or '' for cases without a village",
    )
    after: str | None = Field(
        None, max_length=200, pattern=_TEXT, description="the `next` of the previous page"
    )
    page_bytes: Positive | None = None


class ErrorDetail(BaseModel):
    """What went wrong; extra members (``received``, ``retry_after``, ``supported``) give
    details."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="a code from docs/sync-protocol.md section 13")
    message: str = Field(description="a plain English sentence a device may show")
    retry: bool = Field(description="whether repeating the same request later may succeed")


class ErrorBody(BaseModel):
    """Every non-2xx answer."""

    error: ErrorDetail


def _errors(*codes: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses for these error codes (and those every endpoint may answer)."""
    by_status: dict[int, list[str]] = {}
    for code in (*codes, *_ALWAYS):
        kind = protocol.ERRORS[code]
        names = by_status.setdefault(kind.status, [])
        if code not in names:
            names.append(code)
    return {
        status: {
            "model": ErrorBody,
            "description": "; ".join(f"`{c}`: {protocol.ERRORS[c].meaning}" for c in names),
        }
        for status, names in sorted(by_status.items())
    }


#: What any request may be answered, whatever the endpoint.
_ALWAYS = ("bad_request", "too_large", "protocol_version", "server_error", "unavailable")
#: What any request that needs a token may be answered.
_AUTH = ("unauthorized", "account_disabled", "wrong_device")


class BlobProof(_Request):
    """The answer to the challenge of a status answer: proves the device has the file."""

    nonce: str = Field(description="the challenge's nonce", pattern=protocol.NONCE_PATTERN)
    proof: str = Field(
        description="HMAC-SHA256 keyed by the nonce over the asked ranges (hex)",
        pattern=protocol.PROOF_PATTERN,
    )


# -- the app ---------------------------------------------------------------------------------------


def create_app(
    db_url: str,
    *,
    clock: Callable[[], int] | None = None,
    hash_slots: int = acc.HASH_SLOTS,
    metrics_from: Iterable[str] = metrics_mod.LOOPBACK,
) -> FastAPI:
    """The ASGI app for the county database at ``db_url`` (a file path or postgresql:// URL);
    ``hash_slots``: how many password hashes may run at once (see :class:`acc.HashSlots`);
    ``metrics_from``: the networks ``/metrics`` answers (:mod:`sync.county.metrics`)."""
    metrics = metrics_mod.Metrics(metrics_from)
    db = Database(db_url)
    try:
        db.migrate()
        if clock:
            county = County(db, clock=clock, hash_slots=hash_slots)
        else:
            county = County(db, hash_slots=hash_slots)
    except BaseException:
        db.close()
        raise

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            db.close()

    app = FastAPI(
        title="Gridroom county platform",
        version=SERVER_VERSION,
        summary="Reference implementation of the Gridroom sync protocol (docs/sync-protocol.md)",
        lifespan=lifespan,
    )
    app.state.county = county
    app.state.db = db
    app.state.metrics = metrics
    app.add_middleware(
        GZipMiddleware,
        minimum_size=protocol.GZIP_MIN,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, protocol.BLOB_TYPE),
    )
    app.add_middleware(
        RequestLimits, authenticate=county.authenticate, chunk_room=county.chunk_room
    )
    app.add_middleware(ProtocolVersion)
    app.add_middleware(metrics_mod.Measure, metrics=metrics, routes=lambda: app.router.routes)
    # Added last, so it runs first: the arrival stamp is taken before anything else happens.
    app.add_middleware(ServerClock, clock=county.clock)

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(
            protocol.error_body(exc.code, exc.message, **exc.extra),
            status_code=exc.status,
            headers=exc.headers,
        )

    @app.exception_handler(protocol.WireError)
    async def wire_error(_: Request, exc: protocol.WireError) -> JSONResponse:
        code = exc.code if exc.code in protocol.ERRORS else "bad_request"
        return JSONResponse(
            protocol.error_body(code, exc.message), status_code=protocol.ERRORS[code].status
        )

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()) if p != 'body')}: {e.get('msg')}"
            for e in exc.errors()
        )
        return JSONResponse(
            protocol.error_body("bad_request", f"The request is not right: {problems}"),
            status_code=400,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        # Starlette's own answers (no such path, wrong method, a body it cannot parse) in the
        # protocol's shape, like every other error.
        code = _HTTP_CODES.get(exc.status_code, "bad_request")
        headers = dict(getattr(exc, "headers", None) or {})
        if code == "method_not_allowed":
            # Starlette names the methods of the first route on the path only.
            methods = {
                m
                for route in app.router.routes
                if isinstance(route, APIRoute) and route.matches(request.scope)[0] != Match.NONE
                for m in route.methods or ()
            }
            headers["Allow"] = ", ".join(sorted(methods))
        message = {
            "not_found": "There is no such endpoint in this protocol.",
            "method_not_allowed": "This endpoint does not take that method.",
        }.get(code, f"The request is not right: {exc.detail}")
        return JSONResponse(
            protocol.error_body(code, message),
            status_code=protocol.ERRORS[code].status,
            headers=headers,
        )

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return JSONResponse(
            protocol.error_body("server_error", "The county server failed; retry later."),
            status_code=500,
        )

    @app.exception_handler(DatabaseError)
    async def database_error(_: Request, exc: DatabaseError) -> JSONResponse:
        log.error("database: %s", exc)
        return JSONResponse(
            protocol.error_body("unavailable", "The county database is unavailable; retry later."),
            status_code=503,
        )

    @app.get(metrics_mod.HEALTHZ, include_in_schema=False)
    def healthz() -> dict[str, Any]:
        """Liveness for a load balancer: the process answers (the database is not asked)."""
        return {"status": "ok"}

    @app.get(metrics_mod.READYZ, include_in_schema=False)
    async def readyz() -> JSONResponse:
        """Readiness: the database answers within 5 s with the schema this server expects."""

        def check() -> str | None:
            version = db.schema_version()
            if version != len(MIGRATIONS):
                return (
                    f"the county database has schema {version}, this server expects "
                    f"{len(MIGRATIONS)}: run gridroom-county init or update the server"
                )
            return None

        try:
            with anyio.fail_after(5):
                problem = await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
        except TimeoutError:
            problem = "the county database did not answer within 5 s"
        except Exception as exc:  # the database's own failures, whatever their kind
            problem = f"the county database is unavailable ({type(exc).__name__})"
        if problem:
            return JSONResponse({"status": "unavailable", "reason": problem}, status_code=503)
        return JSONResponse({"status": "ready", "schema": len(MIGRATIONS)})

    @app.get(metrics_mod.METRICS, include_in_schema=False)
    def prometheus(request: Request) -> Response:
        """Prometheus metrics, for the addresses ``serve --metrics-from`` names only."""
        if not metrics.allows(request.scope.get("client")):
            raise ApiError("forbidden", "Metrics are served only to the monitoring addresses.")
        return Response(metrics.exposition(), media_type=metrics_mod.CONTENT_TYPE)

    @app.get(protocol.HEALTH, tags=["service"], responses=_errors())
    def health() -> dict[str, Any]:
        """Liveness and versions; no sign-in needed."""
        return {
            "status": "ok",
            "county": county.county,
            "server_version": SERVER_VERSION,
            "protocol": list(protocol.SUPPORTED_VERSIONS),
            "server_time": county.clock(),
        }

    @app.post(
        protocol.LOGIN,
        tags=["accounts"],
        responses=_errors("bad_credentials", "account_disabled", "wrong_device", "throttled"),
    )
    def login(body: LoginRequest, request: Request) -> dict[str, Any]:
        """Sign in with a password; enrols the device on its first sign-in; returns a token."""
        address = request.client.host if request.client else ""
        return county.login(
            body.login,
            body.password,
            device_id=body.device_id,
            device_name=body.device_name,
            township=body.township,
            address=address,
            device_keys=body.device_keys.model_dump() if body.device_keys else None,
        )

    @app.post(protocol.LOGOUT, tags=["accounts"], responses=_errors(*_AUTH))
    def logout(auth: Auth) -> dict[str, Any]:
        """Revoke the token this request carries."""
        county.logout(auth)
        return {"status": "signed_out"}

    @app.get(protocol.SESSION, tags=["accounts"], responses=_errors(*_AUTH))
    def session_info(auth: Auth) -> dict[str, Any]:
        """Who the token belongs to, the device and its scope."""
        return county.session_info(auth)

    @app.post(
        protocol.SYNC,
        tags=["sync"],
        responses=_errors(*_AUTH, "forbidden", "id_clash", "server_clock"),
    )
    def sync(
        body: SyncRequest,
        auth: Auth,
        idempotency_key: Annotated[str | None, Header(alias=protocol.IDEMPOTENCY_HEADER)] = None,
    ) -> dict[str, Any]:
        """Push one batch (idempotent by its batch_id) and pull one page of changes."""
        data = body.model_dump()
        if body.push is not None and idempotency_key not in (None, body.push.batch_id):
            raise ApiError(
                "id_clash", "The Idempotency-Key header names another batch than batch_id."
            )
        answer = county.sync(auth, data)
        metrics.observe_sync(answer)
        return answer

    @app.get(protocol.REFERENCE, tags=["sync"], responses=_errors(*_AUTH))
    def reference(
        auth: Auth,
        geometry: Annotated[
            str | None,
            Query(
                max_length=32,
                description="the geometry version the device has: its outlines are not sent "
                "again (`shapes` is null) while the county's version is the same",
            ),
        ] = None,
    ) -> dict[str, Any]:
        """Grids, departments, staff, accounts, the taxonomy and the outlines (county,
        township, villages, grids) for the device's township."""
        return county.reference(auth, geometry)

    @app.post(
        protocol.SNAPSHOT, tags=["sync"], responses=_errors(*_AUTH, "out_of_scope", "not_found")
    )
    def snapshot(body: SnapshotRequest, auth: Auth) -> dict[str, Any]:
        """Every visible case of one village, paged: the repair after a checksum mismatch."""
        return county.snapshot(
            auth, body.village_code, body.after, body.page_bytes or protocol.PAGE_BYTES
        )

    @app.get(protocol.BLOB_STATUS, tags=["attachments"], responses=_errors(*_AUTH, "not_found"))
    def blob_status(sha256: Sha256, auth: Auth) -> dict[str, Any]:
        """Where this device's upload of a file resumes, with a challenge while it does not
        hold the file; or that a file in its scope can be downloaded."""
        return county.blob_status(auth, sha256)

    @app.post(
        protocol.BLOB_PROOF,
        tags=["attachments"],
        responses=_errors(*_AUTH, "not_found"),
    )
    def prove_blob(sha256: Sha256, body: BlobProof, auth: Auth) -> dict[str, Any]:
        """Answer this device's challenge over a file: proven, the device need not upload it
        (``complete``); otherwise the status of its own upload, which goes on."""
        return county.prove_blob(auth, sha256, body.nonce, body.proof)

    @app.put(
        protocol.BLOB,
        tags=["attachments"],
        responses=_errors(*_AUTH, "not_found", "offset_mismatch", "bad_checksum"),
    )
    def put_blob(
        sha256: Sha256,
        auth: Auth,
        offset: Annotated[int, Query(ge=0, description="where this chunk starts")],
        data: Annotated[
            bytes,
            Body(media_type=protocol.BLOB_TYPE, min_length=1, max_length=protocol.CHUNK_MAX),
        ],
    ) -> dict[str, Any]:
        """Upload one chunk of an attachment at ``offset`` (resumable)."""
        return county.put_chunk(auth, sha256, offset, data)

    @app.get(
        protocol.BLOB,
        tags=["attachments"],
        response_class=Response,
        responses={
            200: {"content": {protocol.BLOB_TYPE: {}}},
            206: {"description": "a range", "content": {protocol.BLOB_TYPE: {}}},
            **_errors(*_AUTH, "not_found"),
        },
    )
    def get_blob(
        sha256: Sha256,
        auth: Auth,
        range_: Annotated[str | None, Depends(_byte_range)],
    ) -> Response:
        """Download an attachment; ``Range: bytes=N-M`` resumes a broken download."""
        start, end = 0, None
        if range_:
            m = re.fullmatch(r"\s*bytes=(\d+)-(\d*)\s*", range_)
            if m is None:
                raise ApiError("bad_request", "only one 'bytes=N-M' range is supported")
            start = int(m.group(1))
            end = int(m.group(2)) if m.group(2) else None
        data, size = county.get_blob(auth, sha256, start, end)
        headers = {"Accept-Ranges": "bytes"}
        if range_:
            headers["Content-Range"] = f"bytes {start}-{start + len(data) - 1}/{size}"
            return Response(data, status_code=206, media_type=protocol.BLOB_TYPE, headers=headers)
        return Response(data, media_type=protocol.BLOB_TYPE, headers=headers)

    from .relay import install as install_relay

    install_relay(app)  # docs/sync-protocol.md, section 19

    fastapi_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _protocol_openapi(fastapi_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


#: Starlette's HTTP errors and the protocol code each is answered with.
_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def _protocol_openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """FastAPI documents a 422 with its own validation body for every endpoint with inputs; this
    server answers those as 400 ``bad_request`` in the protocol's shape (documented per route),
    so the 422 goes unless an endpoint documents a 422 of its own (``bad_checksum``)."""
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            unprocessable = responses.get("422", {})
            ref = (
                unprocessable.get("content", {})
                .get("application/json", {})
                .get("schema", {})
                .get("$ref", "")
            )
            if ref.endswith("/HTTPValidationError"):
                del responses["422"]
            for parameter in operation.get("parameters", []):
                # A header or query parameter is absent or a string, never JSON's null.
                param_schema = parameter.get("schema", {})
                variants = param_schema.get("anyOf")
                if parameter.get("in") in ("header", "query") and variants:
                    present = [v for v in variants if v != {"type": "null"}]
                    if len(present) == 1:
                        del param_schema["anyOf"]
                        param_schema.update(present[0])
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    return schema
