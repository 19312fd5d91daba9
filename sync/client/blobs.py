"""Attachment bytes, both ways, in chunks that resume where a broken link left them.

Upload: ask the server how much it holds (``GET /v1/blobs/{sha}/status``); while nothing of
ours is up, answer its challenge (``POST /v1/blobs/{sha}/proof``) — the county may have the file
already, and then it is not sent again; then ``PUT`` chunks at that offset; a chunk the server
already has (our retry after a lost answer) is answered with ``offset_mismatch`` and the
server's count, and we continue from there. Download: fetch ranges into a ``.part`` beside the
final file, resume from what it holds, verify the sha256, then rename. The bytes are read from
and written to the local store only through :mod:`sync.store.attachments` (``open_blob`` /
``receive_blob``), which encrypts them in an encrypted store: what goes over the wire (and what
a proof is computed over) is the photo itself, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import protocol
from ..store import attachments
from ..store.attachments import IncomingBlob
from ..store.errors import classify
from ..store.store import Store
from .transport import Transport, TransportError, not_protocol

Progress = Callable[[int, int], bool]


class BlobError(Exception):
    """An attachment that cannot move now (missing locally, refused, damaged)."""


@dataclass
class Sent:
    """What one upload cost: chunk bytes sent, and whether a proof settled it instead."""

    bytes: int = 0
    proven: bool = False


def upload(
    transport: Transport,
    token: str,
    store: Store,
    sha256: str,
    size: int,
    *,
    chunk: int = protocol.CHUNK_BYTES,
) -> Sent:
    """Upload one attachment file, resuming; a file the county may have already is first
    proved with a challenge over a few ranges of it (~200 bytes instead of the file)."""
    try:
        blob = attachments.open_blob(store, sha256)
    except FileNotFoundError:
        raise BlobError(
            f"the file of attachment {sha256[:12]}… is missing on this device"
        ) from None
    with blob:
        if blob.size != size:
            raise BlobError(f"the file of attachment {sha256[:12]}… has the wrong size")
        return _send(transport, token, blob, sha256, size, chunk)


def _send(
    transport: Transport,
    token: str,
    blob: attachments.BlobReader,
    sha256: str,
    size: int,
    chunk: int,
) -> Sent:
    url = protocol.BLOB.format(sha256=sha256)
    status = transport.get_json(protocol.BLOB_STATUS.format(sha256=sha256), token=token)
    offset = _received(status)
    out = Sent()
    challenge = protocol.check_challenge(status.get("challenge"), size)
    if not status.get("complete") and offset == 0 and challenge is not None:
        # Nothing of ours is up yet: perhaps the county has the file already (attached to
        # another case, or from before this store was restored). A wrong guess costs one
        # round trip; a right one saves the whole file.
        nonce, ranges = challenge
        pieces = [_read_at(blob, o, n) for o, n in ranges]
        proof = protocol.blob_proof(nonce, sha256, size, pieces)
        status = transport.post_json(
            protocol.BLOB_PROOF.format(sha256=sha256),
            {"nonce": nonce, "proof": proof},
            token=token,
        ).object("the answer to a proof")
        offset = _received(status)
        out.proven = bool(status.get("complete"))
    while not status.get("complete"):
        data = blob.read_at(offset, chunk)
        if not data:
            raise BlobError(f"the server expects more of {sha256[:12]}… than the file holds")
        try:
            reply = transport.request(
                "PUT",
                url,
                token=token,
                data=data,
                params={"offset": offset},
                headers={"Content-Type": protocol.BLOB_TYPE},
            )
        except TransportError as exc:
            if exc.code in ("offset_mismatch", "bad_checksum"):
                # Our earlier try did arrive (or the server started over): resume there.
                offset = _received(exc.body)
                continue
            raise
        status = reply.object("the answer to a chunk upload")
        out.bytes += len(data)
        offset = _received(status)
    return out


def _read_at(blob: attachments.BlobReader, offset: int, length: int) -> bytes:
    data = blob.read_at(offset, length)
    if len(data) != length:
        raise BlobError("the attachment file is shorter than it should be")
    return data


def download(
    transport: Transport,
    token: str,
    store: Store,
    sha256: str,
    size: int,
    *,
    chunk: int = 4 * protocol.CHUNK_BYTES,
) -> int:
    """Download one attachment file, resuming a ``.part`` left by a broken link; returns the
    bytes received."""
    if attachments.blob_exists(store, sha256):
        return 0
    url = protocol.BLOB.format(sha256=sha256)
    incoming: IncomingBlob | None = None
    try:
        incoming = attachments.receive_blob(store, sha256)
        if incoming.have > size:
            incoming.restart()
        with incoming:
            got = _fetch(transport, token, url, incoming, size, chunk, sha256[:12])
            good = incoming.finish()
    except OSError as exc:
        # A full disk is the device's problem, said in the store's plain words (and the sync
        # stops there); the .part keeps what arrived, for the next sync to resume from.
        known = classify(exc, incoming.part if incoming else attachments.files_dir(store))
        if known is None:
            raise
        raise known from exc
    if not good:
        raise BlobError(f"attachment {sha256[:12]}… arrived damaged; it will be fetched again")
    return got


def _fetch(
    transport: Transport,
    token: str,
    url: str,
    incoming: IncomingBlob,
    size: int,
    chunk: int,
    label: str,
) -> int:
    """Append ranges to ``incoming`` until it holds ``size`` bytes; the bytes got."""
    got = 0
    have = incoming.have
    while have < size:
        end = min(have + chunk, size) - 1
        reply = transport.request(
            "GET", url, token=token, headers={"Range": f"bytes={have}-{end}"}, ok=(200, 206)
        )
        data = reply.content
        if reply.status == 200:
            # The server sent the whole file: keep only what we lack.
            data = data[have:]
        if not data:
            raise BlobError(f"the server sent no bytes of {label}…")
        incoming.append(data)
        have += len(data)
        got += len(data)
    incoming.flush()
    return got


def _received(status: dict[str, Any]) -> int:
    """Where the server's copy of a file ends, from a status or error body."""
    value = status.get("received", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise not_protocol("an attachment's 'received' is not a byte count")
    return value
