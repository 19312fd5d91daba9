"""The county platform's HTTP API (ASGI, FastAPI): the protocol's endpoints over :class:`County`.

Bodies are JSON, gzip'd both ways when large (requests through :class:`GunzipRequests`,
responses through Starlette's GZip middleware); every error is ``{"error": {code, message,
retry}}`` with the status from :data:`sync.protocol.ERRORS`. FastAPI publishes the OpenAPI
description at ``/openapi.json``.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import protocol
from .db import Database, DatabaseError
from .service import ApiError, County, Session

log = logging.getLogger("gridroom.county")

SERVER_VERSION = "0.1.0"


class GunzipRequests:
    """ASGI middleware: inflate ``Content-Encoding: gzip`` request bodies, within limits."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        encoding = headers.get(b"content-encoding", b"").decode("latin-1").strip().lower()
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > protocol.BODY_MAX:
            await _send_error(send, "too_large", f"the body exceeds {protocol.BODY_MAX:,} bytes")
            return
        if encoding not in ("gzip", "x-gzip"):
            await self.app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > protocol.BODY_MAX:
                await _send_error(send, "too_large", "the compressed body is too large")
                return
            if not message.get("more_body"):
                break
        try:
            raw = protocol.gunzip(bytes(body))
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


async def _send_error(send: Send, code: str, message: str) -> None:
    extra = {"supported": list(protocol.SUPPORTED_VERSIONS)} if code == "protocol_version" else {}
    body = protocol.dumps(protocol.error_body(code, message, **extra))
    status = protocol.ERRORS[code].status if code in protocol.ERRORS else 400
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
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


# -- request bodies (documented in the OpenAPI description) ---------------------------------------


class LoginRequest(BaseModel):
    """Sign in and enrol this device (first sign-in) to a township."""

    login: str = Field(description="account name, e.g. 330825102-op")
    password: str
    device_id: str = Field(description="the device's own id (UUIDv7), stable for its store")
    device_name: str = Field("", description="a name people recognise, e.g. 指挥室-1")
    township: str | None = Field(
        None, description="for county-level accounts: enrol the device to this township"
    )
    client_version: str | None = None


class PushBatch(BaseModel):
    """Records the device created; each is validated on its own (rejected ones are listed)."""

    batch_id: str = Field(description="idempotency key: a replay gets the first answer")
    entries: list[dict[str, Any]] = Field(default_factory=list)
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    visits: list[dict[str, Any]] = Field(default_factory=list)
    quiet: bool = Field(
        False,
        description="answer only the items that were not plainly applied (the rest were)",
    )


class SyncRequest(BaseModel):
    """One round trip: push (optional), then pull one page from ``cursor``."""

    device_time: int | None = Field(None, description="the device's wall clock (UTC ms)")
    cursor: int = Field(0, description="the last change sequence number the device holds")
    page_bytes: int | None = Field(None, description="budget of the pull page (JSON bytes)")
    checksum: bool = Field(False, description="ask for per-village checksums at the end")
    push: PushBatch | None = None


class SnapshotRequest(BaseModel):
    """Re-pull one village in full (drift repair), paged by case id."""

    village_code: str = Field(description="village code, or '' for cases without a village")
    after: str | None = Field(None, description="the `next` of the previous page")
    page_bytes: int | None = None


class BlobProof(BaseModel):
    """The answer to the challenge of a status answer: proves the device has the file."""

    nonce: str = Field(description="the challenge's nonce", pattern=protocol.NONCE_PATTERN)
    proof: str = Field(
        description="HMAC-SHA256 keyed by the nonce over the asked ranges (hex)",
        pattern=protocol.PROOF_PATTERN,
    )


# -- the app ---------------------------------------------------------------------------------------


def create_app(db_url: str, *, clock: Callable[[], int] | None = None) -> FastAPI:
    """The ASGI app for the county database at ``db_url`` (a file path or postgresql:// URL)."""
    db = Database(db_url)
    try:
        db.migrate()
        county = County(db, clock=clock) if clock else County(db)
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
    app.add_middleware(
        GZipMiddleware,
        minimum_size=protocol.GZIP_MIN,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, protocol.BLOB_TYPE),
    )
    app.add_middleware(GunzipRequests)
    app.add_middleware(ProtocolVersion)
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
            protocol.error_body("bad_request", f"The request body is not right: {problems}"),
            status_code=400,
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

    @app.get(protocol.HEALTH, tags=["service"])
    def health() -> dict[str, Any]:
        """Liveness and versions; no sign-in needed."""
        return {
            "status": "ok",
            "county": county.county,
            "server_version": SERVER_VERSION,
            "protocol": list(protocol.SUPPORTED_VERSIONS),
            "server_time": county.clock(),
        }

    @app.post(protocol.LOGIN, tags=["accounts"])
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
        )

    @app.post(protocol.LOGOUT, tags=["accounts"])
    def logout(auth: Auth) -> dict[str, Any]:
        """Revoke the token this request carries."""
        county.logout(auth)
        return {"status": "signed_out"}

    @app.get(protocol.SESSION, tags=["accounts"])
    def session_info(auth: Auth) -> dict[str, Any]:
        """Who the token belongs to, the device and its scope."""
        return county.session_info(auth)

    @app.post(protocol.SYNC, tags=["sync"])
    def sync(
        body: SyncRequest,
        auth: Auth,
        idempotency_key: Annotated[str | None, Header(alias=protocol.IDEMPOTENCY_HEADER)] = None,
    ) -> dict[str, Any]:
        """Push one batch (idempotent by its batch_id) and pull one page of changes."""
        data = body.model_dump()
        if body.push is not None and idempotency_key not in (None, body.push.batch_id):
            raise ApiError("bad_request", "the Idempotency-Key header differs from batch_id")
        return county.sync(auth, data)

    @app.get(protocol.REFERENCE, tags=["sync"])
    def reference(auth: Auth) -> dict[str, Any]:
        """Grids, departments, staff, accounts and the taxonomy for the device's township."""
        return county.reference(auth)

    @app.post(protocol.SNAPSHOT, tags=["sync"])
    def snapshot(body: SnapshotRequest, auth: Auth) -> dict[str, Any]:
        """Every visible case of one village, paged: the repair after a checksum mismatch."""
        return county.snapshot(
            auth, body.village_code, body.after, body.page_bytes or protocol.PAGE_BYTES
        )

    @app.get(protocol.BLOB_STATUS, tags=["attachments"])
    def blob_status(sha256: str, auth: Auth) -> dict[str, Any]:
        """Where this device's upload of a file resumes, with a challenge while it does not
        hold the file; or that a file in its scope can be downloaded."""
        return county.blob_status(auth, sha256)

    @app.post(protocol.BLOB_PROOF, tags=["attachments"])
    def prove_blob(sha256: str, body: BlobProof, auth: Auth) -> dict[str, Any]:
        """Answer this device's challenge over a file: proven, the device need not upload it
        (``complete``); otherwise the status of its own upload, which goes on."""
        return county.prove_blob(auth, sha256, body.nonce, body.proof)

    @app.put(protocol.BLOB, tags=["attachments"])
    def put_blob(
        sha256: str,
        auth: Auth,
        offset: Annotated[int, Query(ge=0, description="where this chunk starts")],
        data: Annotated[bytes, Body(media_type=protocol.BLOB_TYPE)],
    ) -> dict[str, Any]:
        """Upload one chunk of an attachment at ``offset`` (resumable)."""
        return county.put_chunk(auth, sha256, offset, data)

    @app.get(
        protocol.BLOB,
        tags=["attachments"],
        response_class=Response,
        responses={200: {"content": {protocol.BLOB_TYPE: {}}}, 206: {"description": "a range"}},
    )
    def get_blob(
        sha256: str,
        auth: Auth,
        range_: Annotated[str | None, Header(alias="Range")] = None,
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

    return app
