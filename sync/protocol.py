"""The sync protocol's wire format: one module that the client and the county both import.

Everything that crosses the wire is JSON (UTF-8, gzip'd when large) built and checked here:
timeline entries, attachment metadata, visits, reference data, error bodies, checksums and the
clock arithmetic. The normative description is ``docs/sync-protocol.md``; this module is its
executable half. It imports nothing beyond the standard library and ``sync.model``, so a thin
client (or another team's adapter) can reuse it without the server's dependencies.

Validation raises :class:`WireError` with a stable ``code`` and a plain-English message; the
county turns one bad item into a per-item rejection (quarantined on the device) rather than
failing the whole request.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import re
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .model.clock import HlcStamp, Millis
from .model.records import (
    Action,
    Actor,
    Attachment,
    Department,
    Entry,
    Grid,
    GridKind,
    Role,
    SignOff,
    Staff,
    StaffRole,
    Visit,
    VisitItem,
)
from .model.taxonomy import Category, Deadline, Taxonomy

# -- versions and headers ----------------------------------------------------------------------

#: The protocol version this build speaks. Bumped only for incompatible changes; additive
#: changes (new optional fields, new endpoints) keep the number and rely on must-ignore.
PROTOCOL_VERSION = 1
#: Versions a server of this build accepts.
SUPPORTED_VERSIONS = (1,)
#: Request and response header carrying the protocol version.
PROTOCOL_HEADER = "Gridroom-Protocol"
#: Request header carrying a push's idempotency key (the batch id).
IDEMPOTENCY_HEADER = "Idempotency-Key"
#: The server's clock (ms) when a request reached it, and when it sent the reply: with the
#: device's send and receive times they give the clock offset NTP-style (section 10).
ARRIVAL_HEADER = "Gridroom-Server-Arrival"
REPLY_HEADER = "Gridroom-Server-Reply"
#: Media type of every JSON body.
JSON_TYPE = "application/json"
#: Media type of attachment bytes.
BLOB_TYPE = "application/octet-stream"

# -- endpoints ---------------------------------------------------------------------------------

HEALTH = "/v1/health"
LOGIN = "/v1/login"
LOGOUT = "/v1/logout"
SESSION = "/v1/session"
SYNC = "/v1/sync"
REFERENCE = "/v1/reference"
SNAPSHOT = "/v1/snapshot"
BLOB = "/v1/blobs/{sha256}"
BLOB_STATUS = "/v1/blobs/{sha256}/status"
BLOB_PROOF = "/v1/blobs/{sha256}/proof"
#: The township relay (section 19): at the county, a device's certificate, and for a relay its
#: township's revoked devices and the forwarding of a device's push batch; at a relay, opening a
#: session with a certificate.
RELAY_CERTIFICATE = "/v1/relay/certificate"
RELAY_REVOKED = "/v1/relay/revoked"
RELAY_FORWARD = "/v1/relay/forward"
RELAY_CHALLENGE = "/v1/relay/challenge"
RELAY_SESSION = "/v1/relay/session"

#: Every endpoint of the county as (method, path); docs/sync-protocol.md documents each (a
#: relay serves the sync endpoints and RELAY_CHALLENGE / RELAY_SESSION, section 19).
ENDPOINTS = (
    ("GET", HEALTH),
    ("POST", LOGIN),
    ("POST", LOGOUT),
    ("GET", SESSION),
    ("POST", SYNC),
    ("GET", REFERENCE),
    ("POST", SNAPSHOT),
    ("GET", BLOB_STATUS),
    ("POST", BLOB_PROOF),
    ("PUT", BLOB),
    ("GET", BLOB),
    ("GET", RELAY_CERTIFICATE),
    ("GET", RELAY_REVOKED),
    ("POST", RELAY_FORWARD),
)

# -- limits ------------------------------------------------------------------------------------

#: Uncompressed JSON bytes a client puts in one push batch. Timeline JSON gzips about 7:1, so
#: this is ~36 kB on the wire: about 4.5 s of a 64 kbit/s village uplink, short enough to get
#: through between two drops of a 2G link (one every ~30 s), long enough that the round trip
#: (0.6 s) is not much of the time. Measured on village-2g (docs/benchmarks.md): 128,000 made
#: 1,000 new cases 5 round trips and 1.42× the link's floor; 256,000 makes them 3.
BATCH_BYTES = 256_000
#: Uncompressed JSON bytes a client asks for per pull page (the server caps it at PAGE_MAX):
#: ~60 kB gzip'd, about 4 s of a 128 kbit/s downlink. 256,000 made a township's first pull 11
#: round trips and 1.52× the link's floor; a page lost to a drop costs ~2 s more this way.
PAGE_BYTES = 512_000
PAGE_MAX = 1_000_000
#: Attachment chunk size: 32 KiB is about 4 s at 64 kbit/s.
CHUNK_BYTES = 32 * 1024
#: Largest chunk the server accepts in one request.
CHUNK_MAX = 1024 * 1024
#: Largest attachment accepted (a phone photo is 1–8 MB).
ATTACHMENT_MAX = 50 * 1024 * 1024
#: Proof of possession (docs/sync-protocol.md, section 11): a challenge asks for this many
#: byte ranges of this length at random places of the file (a file of at most their sum is
#: asked for whole). 8 KiB of unpredictable places: a device that knows only a file's sha256 and
#: size cannot answer, and the county reads 8 KiB per proof, however large the file (a device
#: cannot make it read 50 MiB per request), in about the same time whether it has the file or not.
PROOF_RANGES = 16
PROOF_RANGE_BYTES = 512
#: How long a challenge may be answered.
CHALLENGE_TTL_MS = 15 * 60_000
#: Largest request body the server accepts, compressed and after decompression. The server
#: counts the bytes as they arrive (a chunked body has no Content-Length to trust) and stops
#: reading at the limit with 413 ``too_large``.
BODY_MAX = 8 * 1024 * 1024
BODY_MAX_DECOMPRESSED = 16 * 1024 * 1024
#: Largest body of a request that carries no token (sign-in, health), also after decompression:
#: a sign-in is a few hundred bytes, and nobody unknown gets to make the server read megabytes.
PUBLIC_BODY_MAX = 4 * 1024
#: Longest password and login name a sign-in may carry (characters).
PASSWORD_MAX = 1024
LOGIN_MAX = 64
#: Deepest nesting of arrays and objects a JSON body may have (the protocol's own bodies are
#: five levels deep; a timeline payload a few more).
JSON_DEPTH_MAX = 32
#: Largest JSON payload of one timeline entry.
PAYLOAD_MAX = 64 * 1024
#: Items in one push request.
PUSH_ITEMS_MAX = 2_000
#: How far in the future (by the server's clock) a stamp may be before the server clamps it.
MAX_FUTURE_MS = 60_000
#: A measured offset smaller than this is noise (round-trip jitter): the device keeps its clock.
OFFSET_NOISE_MS = 2_000
#: 2025-01-01T00:00:00Z. A server_time earlier than this cannot be right (no Gridroom existed):
#: a device does not adopt it, and a county server whose own clock reads earlier applies no push
#: (it would clamp every stamp to that date).
CLOCK_FLOOR_MS = 1_735_689_600_000
#: JSON bodies of at least this many bytes are gzip'd: all of them. Besides saving bytes, the
#: gzip trailer's CRC-32 is the integrity check of every JSON body: on plain HTTP a byte damaged
#: on the way (a broken middlebox) otherwise changes a value silently — a digit of a title, of a
#: cursor, of the server's clock — where a damaged gzip stream fails to decode and the answer is
#: simply fetched again. (Was 1,000: the fault campaign found such damaged small answers stored.)
GZIP_MIN = 0

# -- errors ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorKind:
    """A request-level error: its HTTP status, whether retrying the same request may help."""

    code: str
    status: int
    retry: bool
    meaning: str


#: Request-level errors (the whole request failed). Per-item rejections use REJECT_CODES.
ERRORS: dict[str, ErrorKind] = {
    e.code: e
    for e in (
        ErrorKind("bad_request", 400, False, "the body is not what this endpoint expects"),
        ErrorKind("unauthorized", 401, False, "no token, or the token is unknown or revoked"),
        ErrorKind("bad_credentials", 401, False, "wrong account name or password"),
        ErrorKind(
            "device_revoked", 401, False, "county IT revoked this device; it must be re-enrolled"
        ),
        ErrorKind("account_disabled", 403, False, "the account has been disabled"),
        ErrorKind("forbidden", 403, False, "the account's role may not do this"),
        ErrorKind("out_of_scope", 403, False, "the record is outside the device's scope"),
        ErrorKind("wrong_device", 403, False, "the device is enrolled to another township"),
        ErrorKind("not_found", 404, False, "no such record, or not visible in this scope"),
        ErrorKind("method_not_allowed", 405, False, "the endpoint does not take this method"),
        ErrorKind(
            "offset_mismatch",
            409,
            False,
            "an attachment chunk does not start where the "
            "server's copy ends; the body says where to resume",
        ),
        ErrorKind("id_clash", 409, False, "an id already names a different record"),
        ErrorKind("too_large", 413, False, "the body or attachment exceeds the limits"),
        ErrorKind("bad_checksum", 422, False, "an uploaded attachment does not match its sha256"),
        ErrorKind(
            "protocol_version",
            426,
            False,
            "the client speaks a protocol version this server does not",
        ),
        ErrorKind("throttled", 429, True, "too many failed logins; wait Retry-After seconds"),
        ErrorKind("server_error", 500, True, "a fault on the server; retry later"),
        ErrorKind(
            "server_clock",
            500,
            False,
            "the server's own clock is wrong (before CLOCK_FLOOR_MS); it applies nothing",
        ),
        ErrorKind("unavailable", 503, True, "the server is busy or starting; retry later"),
    )
}

#: Per-item rejection codes in a push result: the item is quarantined on the device.
REJECT_CODES: dict[str, str] = {
    "malformed": "the item is not well-formed (a field is missing or of the wrong type)",
    "unknown_actor": "the entry names an account the county does not know",
    "actor_disabled": "the entry's account has been disabled",
    "role_mismatch": "the entry claims a role its account does not have",
    "role_not_allowed": "the account's role may not take this action",
    "actor_not_on_device": "the account never signed in on the pushing device",
    "out_of_scope": "the case or place is outside the account's or device's scope",
    "unknown_case": "the county has no such case (its report was not accepted)",
    "unknown_place": "the grid, village or township is unknown or inconsistent",
    "invalid": "the report cannot open a case (no title, unknown category …)",
    "case_exists": "an opening entry (report) names a case that already exists",
    "unknown_assignee": "a dispatch names a department or grid that may not take the case",
    "not_your_task": "the entry is about a sub-task assigned to another unit",
    "not_allowed": "the account may not do this for this case (a county-level report …)",
    "id_clash": "the id already names a different record",
}


class WireError(ValueError):
    """A body or item that does not follow the protocol; ``str()`` is a plain sentence."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The JSON body of every non-2xx response."""
    kind = ERRORS.get(code)
    body: dict[str, Any] = {
        "code": code,
        "message": message,
        "retry": bool(kind.retry) if kind else False,
    }
    body.update(extra)
    return {"error": body}


# -- bodies ------------------------------------------------------------------------------------


def dumps(value: Any) -> bytes:
    """Canonical compact JSON (UTF-8, Chinese kept as is: 3 bytes a character, not 6)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def json_size(value: Any) -> int:
    return len(dumps(value))


def encode_body(value: Any) -> tuple[bytes, dict[str, str]]:
    """A JSON request body, gzip'd (see GZIP_MIN), and the headers that describe it."""
    raw = dumps(value)
    headers = {"Content-Type": JSON_TYPE}
    if len(raw) >= GZIP_MIN:
        raw = gzip.compress(raw, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return raw, headers


class Inflater:
    """Streaming gzip decompression that refuses to inflate past ``limit`` bytes (a zip bomb):
    feed it the compressed body piece by piece as it arrives, never holding more than the limit.
    """

    def __init__(self, limit: int = BODY_MAX_DECOMPRESSED) -> None:
        self.limit = limit
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._out = bytearray()

    def feed(self, data: bytes) -> None:
        try:
            while data:
                room = self.limit + 1 - len(self._out)
                self._out += self._inflater.decompress(data, room)
                if len(self._out) > self.limit:
                    raise WireError("too_large", f"the body inflates past {self.limit:,} bytes")
                data = self._inflater.unconsumed_tail
        except zlib.error as exc:
            raise WireError("bad_request", f"the gzip body is damaged ({exc})") from None

    @property
    def size(self) -> int:
        """Decompressed bytes so far."""
        return len(self._out)

    def finish(self) -> bytes:
        """The whole decompressed body; a gzip stream cut short is refused."""
        if not self._inflater.eof:
            raise WireError("bad_request", "the gzip body is cut short")
        return bytes(self._out)


def gunzip(data: bytes, limit: int = BODY_MAX_DECOMPRESSED) -> bytes:
    """Decompress a gzip body, refusing one that inflates past ``limit`` (a zip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise WireError("bad_request", f"the gzip body is damaged ({exc})") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise WireError("too_large", f"the body inflates past {limit:,} bytes")
    return out


def decode_json(data: bytes, *, max_depth: int = JSON_DEPTH_MAX) -> Any:
    """Parse a JSON body: strict UTF-8, no lone surrogates (``"\\ud800"`` is valid JSON but no
    text: it cannot be stored or sent on), at most ``max_depth`` levels of nesting."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WireError(
            "bad_request", f"the body is not UTF-8 text (byte {exc.start} is not valid)"
        ) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise WireError("bad_request", f"the body nests deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise WireError("bad_request", f"the body is not valid JSON ({exc})") from None
    check_json_text(value, max_depth=max_depth)
    return value


def check_json_text(value: Any, *, max_depth: int = JSON_DEPTH_MAX) -> None:
    """Refuse a decoded JSON value nested past ``max_depth`` or holding a lone surrogate."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            _check_text(item)
        elif isinstance(item, dict | list):
            if depth > max_depth:
                raise WireError("bad_request", f"the body nests deeper than {max_depth} levels")
            if isinstance(item, dict):
                for key, child in item.items():
                    _check_text(key)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in item)


def _check_text(text: str) -> None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise WireError(
                "bad_request",
                f"the body holds a lone surrogate (\\u{ord(text[exc.start]):04x}), which is "
                "not a character",
            ) from None


# -- field checks ------------------------------------------------------------------------------

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: A challenge nonce: 32 random bytes, URL-safe base64 without padding (43 characters).
NONCE_PATTERN = r"^[A-Za-z0-9_-]{43}$"
_NONCE = re.compile(NONCE_PATTERN)
#: A proof: HMAC-SHA256 in lowercase hex.
PROOF_PATTERN = r"^[0-9a-f]{64}$"
_HLC = re.compile(r"^\d{13}\.\d{4,}\.[A-Za-z0-9_-]{1,32}$")
_MILLIS_MAX = 2**53


def _req(d: Mapping[str, Any], key: str, what: str) -> Any:
    if not isinstance(d, Mapping):
        raise WireError("malformed", f"a {what} must be a JSON object")
    if key not in d or d[key] is None:
        raise WireError("malformed", f"a {what} needs {key!r}")
    return d[key]


def _str(d: Mapping[str, Any], key: str, what: str, *, max_len: int = 10_000) -> str:
    value = _req(d, key, what)
    if not isinstance(value, str):
        raise WireError("malformed", f"{what} {key!r} must be text")
    if len(value) > max_len:
        raise WireError("malformed", f"{what} {key!r} is longer than {max_len} characters")
    if "\x00" in value:
        raise WireError("malformed", f"{what} {key!r} holds a NUL character (\\u0000)")
    return value


def _no_nul(value: Any, what: str) -> None:
    """Refuse a NUL character anywhere in a JSON value's texts (keys included): no name, title or
    note means one, and PostgreSQL cannot store it."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise WireError("malformed", f"{what} holds a NUL character (\\u0000)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _opt_str(d: Mapping[str, Any], key: str, what: str, *, max_len: int = 10_000) -> str | None:
    if d.get(key) is None:
        return None
    return _str(d, key, what, max_len=max_len)


def _id(d: Mapping[str, Any], key: str, what: str) -> str:
    value = _str(d, key, what, max_len=64)
    if not _ID.match(value):
        raise WireError("malformed", f"{what} {key!r} is not a valid id: {value!r}")
    return value


def _millis(d: Mapping[str, Any], key: str, what: str) -> Millis:
    value = _req(d, key, what)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < _MILLIS_MAX:
        raise WireError("malformed", f"{what} {key!r} must be milliseconds since 1970 (UTC)")
    return value


def _int(d: Mapping[str, Any], key: str, what: str, *, lo: int = 0, hi: int = 2**62) -> int:
    value = _req(d, key, what)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise WireError("malformed", f"{what} {key!r} must be a whole number {lo}–{hi}")
    return value


def _enum(enum: Any, d: Mapping[str, Any], key: str, what: str) -> Any:
    value = _req(d, key, what)
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise WireError(
            "malformed", f"{what} {key!r} is {value!r}; expected one of {allowed}"
        ) from None


def check_sha256(value: str) -> str:
    if not isinstance(value, str) or not _SHA256.match(value):
        raise WireError("malformed", "a sha256 is 64 lowercase hexadecimal digits")
    return value


def proof_ranges(size: int, draw: Callable[[int], int]) -> list[tuple[int, int]]:
    """The (offset, length) ranges a challenge over a file of ``size`` bytes asks for:
    the whole file when it is small, else :data:`PROOF_RANGES` ranges at offsets from ``draw``
    (the server passes ``secrets.randbelow``), sorted."""
    whole = PROOF_RANGES * PROOF_RANGE_BYTES
    if size <= whole:
        return [(0, size)]
    room = size - PROOF_RANGE_BYTES + 1
    return sorted((draw(room), PROOF_RANGE_BYTES) for _ in range(PROOF_RANGES))


def check_challenge(value: Any, size: int) -> tuple[str, list[tuple[int, int]]] | None:
    """(nonce, ranges) of a status answer's ``challenge`` over a file of ``size`` bytes, or
    None when there is none or it is not one this client can answer (it then uploads)."""
    if not isinstance(value, Mapping):
        return None
    nonce, ranges = value.get("nonce"), value.get("ranges")
    if not isinstance(nonce, str) or not _NONCE.match(nonce) or not isinstance(ranges, list):
        return None
    out: list[tuple[int, int]] = []
    total = 0
    for r in ranges[: PROOF_RANGES + 1]:
        if (
            not isinstance(r, list)
            or len(r) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in r)
        ):
            return None
        offset, length = r
        if offset < 0 or length < 0 or offset + length > size:
            return None
        total += length
        out.append((offset, length))
    if not out or len(out) > PROOF_RANGES or total > PROOF_RANGES * PROOF_RANGE_BYTES:
        return None
    return nonce, out


def blob_proof(nonce: str, sha256: str, size: int, pieces: Iterable[bytes]) -> str:
    """The answer to a challenge: HMAC-SHA256 keyed by the nonce over a label, the file's
    sha256 and size, and the bytes of the asked ranges in the order asked (hex)."""
    mac = hmac.new(nonce.encode("ascii"), digestmod=hashlib.sha256)
    mac.update(f"gridroom-blob-proof\0{sha256}\0{size}\0".encode("ascii"))
    for piece in pieces:
        mac.update(piece)
    return mac.hexdigest()


def check_hlc(value: Any) -> str:
    if not isinstance(value, str) or not _HLC.match(value):
        raise WireError("malformed", f"{value!r} is not a hybrid-clock stamp (wall.counter.device)")
    return value


# -- timeline entries --------------------------------------------------------------------------


def entry_to_wire(e: Entry) -> dict[str, Any]:
    return {
        "id": e.id,
        "case_id": e.case_id,
        "action": e.action.value,
        "actor_id": e.actor_id,
        "role": e.role.value,
        "at": e.at,
        "hlc": e.hlc,
        "payload": e.payload,
    }


def entry_from_wire(d: Mapping[str, Any]) -> Entry:
    what = "timeline entry"
    payload = d.get("payload", {}) if isinstance(d, Mapping) else None
    if not isinstance(payload, dict):
        raise WireError("malformed", "a timeline entry's payload must be a JSON object")
    if json_size(payload) > PAYLOAD_MAX:
        raise WireError("malformed", f"a timeline entry's payload exceeds {PAYLOAD_MAX:,} bytes")
    _no_nul(payload, "a timeline entry's payload")
    return Entry(
        id=_id(d, "id", what),
        case_id=_id(d, "case_id", what),
        action=_enum(Action, d, "action", what),
        actor_id=_id(d, "actor_id", what),
        role=_enum(Role, d, "role", what),
        at=_millis(d, "at", what),
        hlc=check_hlc(_req(d, "hlc", what)),
        payload=payload,
    )


def same_entry(a: Entry, b: Entry) -> bool:
    """Whether two entries with one id are the same record (a replay) or a clash."""
    return entry_to_wire(a) == entry_to_wire(b)


# -- attachments and visits --------------------------------------------------------------------


def attachment_to_wire(a: Attachment) -> dict[str, Any]:
    return {
        "id": a.id,
        "case_id": a.case_id,
        "entry_id": a.entry_id,
        "sha256": a.sha256,
        "name": a.name,
        "mime": a.mime,
        "size": a.size,
        "created_at": a.created_at,
    }


def attachment_from_wire(d: Mapping[str, Any]) -> Attachment:
    what = "attachment"
    entry_id = d.get("entry_id") if isinstance(d, Mapping) else None
    if entry_id is not None:
        entry_id = _id(d, "entry_id", what)
    return Attachment(
        id=_id(d, "id", what),
        case_id=_id(d, "case_id", what),
        sha256=check_sha256(_req(d, "sha256", what)),
        name=_str(d, "name", what, max_len=255),
        mime=_str(d, "mime", what, max_len=100),
        size=_int(d, "size", what, hi=ATTACHMENT_MAX),
        created_at=_millis(d, "created_at", what),
        entry_id=entry_id,
    )


#: Limits of a visit's parts on the wire.
VISIT_PEOPLE_MAX = 50
VISIT_ITEMS_MAX = 50


def visit_to_wire(v: Visit) -> dict[str, Any]:
    return {
        "id": v.id,
        "grid_id": v.grid_id,
        "staff_id": v.staff_id,
        "kind": v.kind,
        "at": v.at,
        "household": v.household,
        "content": v.content,
        "subject_kind": v.subject_kind,
        "subject_id": v.subject_id,
        "people": list(v.people),
        "items": [{"id": i.id, "text": i.text} for i in v.items],
        "checked": v.checked,
        "location": v.location,
    }


def _texts(d: Mapping[str, Any], key: str, what: str, *, most: int, max_len: int) -> list[Any]:
    value = d.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise WireError("malformed", f"{what} {key!r} must be a list")
    if len(value) > most:
        raise WireError("malformed", f"{what} {key!r} holds more than {most} items")
    return value


def visit_from_wire(d: Mapping[str, Any]) -> Visit:
    """A visit; the parts added with field work (subject, people, items, checked, location)
    are optional, so an older device's visit still reads."""
    what = "visit"
    kind = _str(d, "kind", what, max_len=10)
    if kind not in ("visit", "patrol"):
        raise WireError("malformed", f"a visit's kind is 'visit' or 'patrol', not {kind!r}")
    people = []
    for p in _texts(d, "people", what, most=VISIT_PEOPLE_MAX, max_len=100):
        if not isinstance(p, str) or len(p) > 100 or "\x00" in p:
            raise WireError("malformed", "a visit's people are names (text of 100 characters)")
        people.append(p)
    items = []
    for raw in _texts(d, "items", what, most=VISIT_ITEMS_MAX, max_len=2000):
        items.append(
            VisitItem(_id(raw, "id", "visit item"), _str(raw, "text", "visit item", max_len=2000))
        )
    if len({i.id for i in items}) != len(items):
        raise WireError("malformed", "each of a visit's items has an id of its own")
    subject_kind = _opt_str(d, "subject_kind", what, max_len=20) or ""
    if subject_kind not in ("household", "organisation", "place", ""):
        raise WireError("malformed", f"a visit's subject_kind is not {subject_kind!r}")
    location = _opt_str(d, "location", what, max_len=64) or ""
    if location:
        check_location(location)
    return Visit(
        id=_id(d, "id", what),
        grid_id=_id(d, "grid_id", what),
        staff_id=_str(d, "staff_id", what, max_len=64),
        kind=kind,
        at=_millis(d, "at", what),
        household=str(d.get("household") or "")[:200],
        content=_str(d, "content", what, max_len=20_000),
        subject_kind=subject_kind,
        subject_id=_opt_str(d, "subject_id", what, max_len=64) or "",
        people=tuple(people),
        items=tuple(items),
        checked=_opt_str(d, "checked", what, max_len=2000) or "",
        location=location,
    )


def check_location(text: str) -> tuple[float, float]:
    """``"lon,lat"`` in degrees, checked (a location read from a photo or typed)."""
    try:
        lon_text, lat_text = text.split(",")
        lon, lat = float(lon_text), float(lat_text)
    except ValueError:
        raise WireError("malformed", f"a location is 'lon,lat' in degrees, not {text!r}") from None
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise WireError("malformed", f"the location {text!r} is not on the earth")
    return lon, lat


def signoff_to_wire(s: SignOff) -> dict[str, Any]:
    return {
        "id": s.id,
        "worker_id": s.worker_id,
        "township_code": s.township_code,
        "period": s.period,
        "first_day": s.first_day,
        "signer_id": s.signer_id,
        "at": s.at,
        "remarks": s.remarks,
        "counts": dict(s.counts),
    }


def signoff_from_wire(d: Mapping[str, Any]) -> SignOff:
    what = "ledger sign-off"
    raw = d.get("counts") if isinstance(d, Mapping) else None
    counts: dict[str, int] = {}
    if raw is not None:
        if not isinstance(raw, Mapping) or len(raw) > 50:
            raise WireError("malformed", "a sign-off's counts are an object of 50 numbers at most")
        for k in raw:
            if not isinstance(k, str) or len(k) > 40:
                raise WireError("malformed", "a sign-off's counts are named by short texts")
            counts[k] = _int(raw, k, what)
    return SignOff(
        id=_id(d, "id", what),
        worker_id=_id(d, "worker_id", what),
        township_code=_str(d, "township_code", what, max_len=12),
        period=_str(d, "period", what, max_len=10),
        first_day=_str(d, "first_day", what, max_len=10),
        signer_id=_id(d, "signer_id", what),
        at=_millis(d, "at", what),
        remarks=_opt_str(d, "remarks", what, max_len=2000) or "",
        counts=counts,
    )


# -- reference data (county → device) ----------------------------------------------------------


def grid_to_wire(g: Grid) -> dict[str, Any]:
    return {
        "code": g.code,
        "name": g.name,
        "village_code": g.village_code,
        "kind": g.kind.value,
        "households": g.households,
        "population": g.population,
        "dedicated_to": g.dedicated_to,
    }


def grid_from_wire(d: Mapping[str, Any]) -> Grid:
    what = "grid"
    code = _str(d, "code", what, max_len=32)
    return Grid(
        id=code,
        code=code,
        name=_str(d, "name", what, max_len=100),
        village_code=_str(d, "village_code", what, max_len=32),
        kind=_enum(GridKind, d, "kind", what),
        households=_int(d, "households", what),
        population=_int(d, "population", what),
        dedicated_to=_opt_str(d, "dedicated_to", what, max_len=100),
    )


def department_to_wire(dep: Department) -> dict[str, Any]:
    return {"code": dep.code, "name": dep.name, "level": "county" if dep.county else "township"}


def department_from_wire(d: Mapping[str, Any]) -> Department:
    # "level" (county / township) arrived with county departments; a server without it has none.
    return Department(
        _str(d, "code", "department", max_len=32),
        _str(d, "name", "department"),
        county=d.get("level") == "county",
    )


def staff_to_wire(s: Staff) -> dict[str, Any]:
    return {
        "id": s.id,
        "name": s.name,
        "role": s.role.value,
        "phone": s.phone,
        "grid_id": s.grid_id,
        "department_code": s.department_code,
    }


def staff_from_wire(d: Mapping[str, Any]) -> Staff:
    what = "staff member"
    return Staff(
        id=_id(d, "id", what),
        name=_str(d, "name", what, max_len=100),
        role=_enum(StaffRole, d, "role", what),
        phone=str(d.get("phone") or ""),
        grid_id=_opt_str(d, "grid_id", what, max_len=32),
        department_code=_opt_str(d, "department_code", what, max_len=32),
    )


def account_to_wire(a: Actor) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "role": a.role.value,
        "department_code": a.department_code,
        "grid_ids": list(a.grid_ids),
        "township": a.township,
    }


def account_from_wire(d: Mapping[str, Any]) -> Actor:
    what = "account"
    grids = d.get("grid_ids") or []
    if not isinstance(grids, list) or not all(isinstance(g, str) for g in grids):
        raise WireError("malformed", "an account's grid_ids must be a list of grid codes")
    return Actor(
        id=_id(d, "id", what),
        name=_str(d, "name", what, max_len=100),
        role=_enum(Role, d, "role", what),
        department_code=_opt_str(d, "department_code", what, max_len=32),
        grid_ids=tuple(grids),
        township=_opt_str(d, "township", what, max_len=32),
    )


def _deadline_to_wire(dl: Deadline) -> dict[str, Any]:
    return {
        "accept_hours": dl.accept_hours,
        "handle_days": dl.handle_days,
        "handle_hours": dl.handle_hours,
    }


def _deadline_from_wire(d: Any, what: str) -> Deadline:
    if not isinstance(d, Mapping):
        raise WireError("malformed", f"{what} must be a JSON object")
    try:
        return Deadline(
            accept_hours=_int(d, "accept_hours", what, hi=10_000),
            handle_days=None
            if d.get("handle_days") is None
            else _int(d, "handle_days", what, hi=1_000),
            handle_hours=None
            if d.get("handle_hours") is None
            else _int(d, "handle_hours", what, hi=100_000),
        )
    except ValueError as exc:
        if isinstance(exc, WireError):
            raise
        raise WireError("malformed", f"{what}: {exc}") from None


def taxonomy_to_wire(t: Taxonomy) -> list[dict[str, Any]]:
    return [
        {
            "code": c.code,
            "name": c.name,
            "parent": c.parent,
            "normal": _deadline_to_wire(c.normal),
            "urgent": _deadline_to_wire(c.urgent),
        }
        for c in sorted(t, key=lambda c: c.code)
    ]


def taxonomy_from_wire(items: Any) -> Taxonomy:
    if not isinstance(items, list) or not items:
        raise WireError("malformed", "the taxonomy must be a non-empty list of categories")
    cats = []
    for d in items:
        code = _str(d, "code", "category", max_len=16)
        cats.append(
            Category(
                code=code,
                name=_str(d, "name", "category", max_len=100),
                parent=_opt_str(d, "parent", "category", max_len=16),
                normal=_deadline_from_wire(d.get("normal"), f"category {code} normal deadline"),
                urgent=_deadline_from_wire(d.get("urgent"), f"category {code} urgent deadline"),
            )
        )
    try:
        return Taxonomy(cats)
    except ValueError as exc:
        raise WireError("malformed", str(exc)) from None


# -- checksums ---------------------------------------------------------------------------------


def item_hash(item_id: str) -> int:
    """A record's contribution to a scope checksum: 31 bits of sha256(id).

    Sums of 31-bit values fit a signed 64-bit integer for billions of records, so both SQLite
    and PostgreSQL can keep or compute them with plain integer arithmetic.
    """
    return int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:4], "big") & 0x7FFFFFFF


def checksum(ids: Iterable[str]) -> tuple[int, int]:
    """(count, sum of item hashes) of a set of record ids: order-free and additive."""
    n = total = 0
    for i in ids:
        n += 1
        total += item_hash(i)
    return n, total


# -- the clock ---------------------------------------------------------------------------------


def measured_offset(sent_at: Millis, received_at: Millis, server_time: Millis) -> int:
    """The device clock's error, from one round trip (Cristian's algorithm): add it to the
    device's wall clock to get the server's. Accurate to half the round trip."""
    return server_time - (sent_at + received_at) // 2


def clamp_stamp(
    at: Millis, hlc: str, *, server_now: Millis, device_offset: int, after: str | None = None
) -> tuple[Millis, str] | None:
    """The county's correction of a stamp from the future, or None when it stands.

    A stamp whose counter is wider than 4 digits (older builds) is rewritten to its canonical
    text (see :mod:`sync.model.clock`), with ``at`` unchanged.

    A stamp later than ``server_now + MAX_FUTURE_MS`` comes from a device whose clock runs
    ahead. The county shifts it by the device's measured offset (which keeps the device's own
    entries in their order) and never lets it pass ``server_now``; the HLC's counter and the
    device part are kept, so ties still break the same way on every replica.

    A cap can squeeze several of a device's stamps onto ``server_now``, where their counters
    alone would order them, possibly backwards. ``after`` is the previous corrected stamp of the
    same device in this push (the caller walks a device's entries in their order): a corrected
    stamp that would not sort after it becomes its successor, so the device's own order stands.
    """
    stamp = HlcStamp.decode(hlc)
    limit = server_now + MAX_FUTURE_MS
    if at <= limit and stamp.wall <= limit:
        # An older build may send a counter of 5+ digits, which sorts wrongly as text: store
        # the same instant in canonical form (and the device adopts it as a restamp).
        return None if stamp.canonical(hlc) else (at, stamp.encode())
    new_at = at if at <= limit else min(max(at + device_offset, 0), server_now)
    wall = (
        stamp.wall if stamp.wall <= limit else min(max(stamp.wall + device_offset, 0), server_now)
    )
    fixed = HlcStamp(wall, stamp.counter, stamp.device)
    if after is not None:
        previous = HlcStamp.decode(after)
        if (fixed.wall, fixed.counter) <= (previous.wall, previous.counter):
            fixed = HlcStamp(previous.wall, previous.counter + 1, stamp.device)
    return new_at, fixed.encode()


# -- scope -------------------------------------------------------------------------------------


def county_of(code: str) -> str:
    """The county code (6 digits) of a township, village or grid code."""
    return code[:6]


def township_of(code: str) -> str | None:
    """The township code (9 digits) of a village (12) or grid (15) code."""
    return code[:9] if len(code) >= 12 else None


def scope_id(keys: Iterable[str]) -> str:
    """A short name for a set of scope keys; a device that sees it change re-pulls its scope."""
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:16]
