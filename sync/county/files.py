"""Attachment bytes on the county side: proof of possession, resumable chunked uploads verified
against their sha256, ranged downloads.

Files are content-addressed, so knowing a file's sha256 and size must not be enough to get it.
A device *holds* a file once it has shown it has the bytes — it uploaded all of them through
its own chunks, or it answered a challenge over them (``POST /v1/blobs/{sha}/proof``) — and only
an attachment whose device holds its file is *proven*. A file can be downloaded only through a
proven attachment of a case in the caller's scope.

Whatever a device is told about a file it does not hold depends only on its own records (its
claim: the size it announced, the bytes it uploaded itself), never on whether the file exists
elsewhere in the county: status, chunk, proof and download answers are the same for "another
township has it" and "nobody has it", and take about the same time (a proof reads the same
number of small ranges either way).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from .. import protocol
from .core import (
    ApiError,
    CountyBase,
    Reject,
    Session,
)
from .db import Tx

#: The one answer for a file the caller may not see (it may not exist, or exist elsewhere).
NOT_FOUND = "No such attachment in this device's scope."
#: A challenge is issued again when less than this is left of its time.
CHALLENGE_MARGIN_MS = 60_000


def held_size(tx: Tx, device_id: str, sha256: str) -> int | None:
    """The size of a file this device holds (uploaded or proved), else None."""
    size = tx.scalar(
        "SELECT b.size FROM blob_holders h JOIN blobs b ON b.sha256 = h.sha256 "
        "WHERE h.sha256 = ? AND h.device_id = ? AND b.complete = 1",
        [sha256, device_id],
    )
    return None if size is None else int(size)


def claim_of(tx: Tx, device_id: str, sha256: str) -> tuple[int, int] | None:
    """(announced size, bytes this device uploaded) of a file it references but does not
    hold yet, else None."""
    row = tx.one(
        "SELECT size, received FROM blob_uploads WHERE sha256 = ? AND device_id = ?",
        [sha256, device_id],
    )
    return None if row is None else (int(row[0]), int(row[1]))


def reference(tx: Tx, device_id: str, sha256: str, size: int) -> bool:
    """Let this device name the file in a new attachment: True if it holds the file (the
    attachment is proven at once), else False, with a claim recorded that it settles by
    uploading the bytes or proving it has them. Raises :class:`Reject` when the size
    contradicts what this device itself said or uploaded (nothing about other devices)."""
    held = held_size(tx, device_id, sha256)
    if held is not None:
        if held != size:
            raise Reject(
                "malformed",
                f"this device uploaded the file with this sha256 as {held:,} bytes, not {size:,}",
            )
        return True
    claim = claim_of(tx, device_id, sha256)
    if claim is not None:
        if claim[0] != size:
            raise Reject(
                "malformed",
                f"this device announced the file with this sha256 as {claim[0]:,} bytes, "
                f"not {size:,}",
            )
        return False
    tx.execute(
        "INSERT INTO blob_uploads (sha256, device_id, size, received) VALUES (?, ?, ?, 0)",
        [sha256, device_id, size],
    )
    return False


def upload_state(tx: Tx, device_id: str, sha256: str) -> dict[str, Any]:
    """The ``upload`` member of a push result: where this device's copy of the file stands."""
    held = held_size(tx, device_id, sha256)
    if held is not None:
        return {"received": held, "complete": True}
    claim = claim_of(tx, device_id, sha256)
    return {"received": claim[1] if claim else 0, "complete": False}


def _done(sha256: str, size: int) -> dict[str, Any]:
    return {"sha256": sha256, "size": size, "received": size, "complete": True}


class FilesMixin(CountyBase):
    """Attachment transfer (part of :class:`~sync.county.service.County`)."""

    def _readable(self, tx: Tx, session: Session, sha256: str) -> int | None:
        """The size of a file a proven attachment of a case (or visit) in the caller's scope
        names."""
        if not session.keys:
            return None
        visible, args = self._visible_cases_sql(tx, session)
        visits, visit_args = self._visible_visits_sql(tx, session)
        size = tx.scalar(
            "SELECT b.size FROM blobs b WHERE b.sha256 = ? AND b.complete = 1 AND EXISTS "
            "(SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256 AND a.proven = 1 "
            f"AND (a.case_id IN ({visible}) OR a.case_id IN ({visits})))",
            [sha256, *args, *visit_args],
        )
        return None if size is None else int(size)

    def blob_status(self, session: Session, sha256: str) -> dict[str, Any]:
        """Where this device's upload stands (with a challenge while it does not hold the
        file), or that a file in its scope can be downloaded."""
        protocol.check_sha256(sha256)
        with self.db.write(ordered=False) as tx:
            held = held_size(tx, session.device.id, sha256)
            if held is not None:
                return _done(sha256, held)
            claim = claim_of(tx, session.device.id, sha256)
            if claim is not None:
                size, received = claim
                return {
                    "sha256": sha256,
                    "size": size,
                    "received": received,
                    "complete": False,
                    "challenge": self._challenge(tx, session, sha256, size),
                }
            readable = self._readable(tx, session, sha256)
            if readable is None:
                raise ApiError("not_found", NOT_FOUND)
            return _done(sha256, readable)

    def _challenge(self, tx: Tx, session: Session, sha256: str, size: int) -> dict[str, Any]:
        """The open challenge of (device, file), made afresh when there is none or it is about
        to expire. Its ranges come from the size the device announced, never the county's."""
        now = self.clock()
        row = tx.one(
            "SELECT nonce, size, ranges, expires_at FROM blob_challenges "
            "WHERE sha256 = ? AND device_id = ?",
            [sha256, session.device.id],
        )
        if row is not None and int(row[1]) == size and int(row[3]) > now + CHALLENGE_MARGIN_MS:
            nonce, ranges, expires = str(row[0]), json.loads(str(row[2])), int(row[3])
        else:
            nonce = secrets.token_urlsafe(32)
            ranges = [list(r) for r in protocol.proof_ranges(size, secrets.randbelow)]
            expires = now + protocol.CHALLENGE_TTL_MS
            tx.execute(
                "INSERT INTO blob_challenges (sha256, device_id, nonce, size, ranges, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sha256, device_id) DO UPDATE SET "
                "nonce = excluded.nonce, size = excluded.size, ranges = excluded.ranges, "
                "expires_at = excluded.expires_at",
                [sha256, session.device.id, nonce, size, json.dumps(ranges), expires],
            )
        return {"nonce": nonce, "ranges": ranges, "expires_at": expires}

    def prove_blob(self, session: Session, sha256: str, nonce: str, proof: str) -> dict[str, Any]:
        """Check the answer to this device's challenge: right, the device holds the file
        (answered ``complete``) and need not upload it; wrong, expired or for a file the
        county does not have (the three look alike), the status of its own upload, which
        continues. A challenge is answered once."""
        protocol.check_sha256(sha256)
        if not re.fullmatch(protocol.NONCE_PATTERN, nonce) or not re.fullmatch(
            protocol.PROOF_PATTERN, proof
        ):
            raise ApiError(
                "bad_request",
                "a proof names the challenge's nonce and answers with 64 lowercase hex digits",
            )
        with self.db.write() as tx:
            held = held_size(tx, session.device.id, sha256)
            if held is not None:
                return _done(sha256, held)  # a retried proof whose answer was lost
            claim = claim_of(tx, session.device.id, sha256)
            if claim is None:
                raise ApiError("not_found", NOT_FOUND)
            size, received = claim
            row = tx.one(
                "SELECT nonce, size, ranges, expires_at FROM blob_challenges "
                "WHERE sha256 = ? AND device_id = ?",
                [sha256, session.device.id],
            )
            tx.execute(
                "DELETE FROM blob_challenges WHERE sha256 = ? AND device_id = ?",
                [sha256, session.device.id],
            )
            valid = (
                row is not None
                and hmac.compare_digest(str(row[0]), nonce)
                and int(row[1]) == size
                and int(row[3]) > self.clock()
            )
            asked = (
                [(int(o), int(n)) for o, n in json.loads(str(row[2]))]
                if row is not None
                else protocol.proof_ranges(size, secrets.randbelow)
            )
            pieces = _pieces(tx, sha256, size, asked)
            expected = protocol.blob_proof(nonce, sha256, size, pieces or [b""])
            if valid and pieces is not None and hmac.compare_digest(expected, proof):
                _grant(self, tx, session, sha256, size)
                return _done(sha256, size)
        return {"sha256": sha256, "size": size, "received": received, "complete": False}

    def chunk_room(self, session: Session, sha256: str, offset: int) -> int | None:
        """How many bytes a chunk at ``offset`` may carry: up to the file's declared size (so
        a chunk past it is refused before its body is read), or None when this device has no
        upload of the file under way (the route answers that)."""
        with self.db.read() as tx:
            claim = claim_of(tx, session.device.id, sha256)
        if claim is None:
            return None
        size, _received = claim
        return max(0, size - offset)

    def put_chunk(self, session: Session, sha256: str, offset: int, data: bytes) -> dict[str, Any]:
        """Append one chunk at ``offset`` to this device's upload; the last one completes and
        verifies the file, and the device then holds it."""
        protocol.check_sha256(sha256)
        if len(data) > protocol.CHUNK_MAX:
            raise ApiError("too_large", f"a chunk is at most {protocol.CHUNK_MAX:,} bytes")
        bad = False
        with self.db.write() as tx:
            device = session.device.id
            held = held_size(tx, device, sha256)
            if held is not None:
                return _done(sha256, held)
            claim = claim_of(tx, device, sha256)
            if claim is None:
                raise ApiError("not_found", NOT_FOUND)
            size, received = claim
            if offset != received:
                raise ApiError(
                    "offset_mismatch",
                    f"The server holds {received} bytes of this file; resume from there.",
                    received=received,
                )
            if not data:
                raise ApiError("bad_request", "an empty chunk")
            if received + len(data) > size:
                raise ApiError("too_large", "the chunk runs past the file's declared size")
            tx.execute(
                "INSERT INTO upload_chunks (sha256, device_id, pos, data) VALUES (?, ?, ?, ?)",
                [sha256, device, offset, data],
            )
            received += len(data)
            if received < size:
                tx.execute(
                    "UPDATE blob_uploads SET received = ? WHERE sha256 = ? AND device_id = ?",
                    [received, sha256, device],
                )
                return {"sha256": sha256, "size": size, "received": received, "complete": False}
            digest = hashlib.sha256()
            for (chunk,) in tx.rows(
                "SELECT data FROM upload_chunks WHERE sha256 = ? AND device_id = ? ORDER BY pos",
                [sha256, device],
            ):
                digest.update(bytes(chunk))
            if digest.hexdigest() != sha256:
                tx.execute(
                    "DELETE FROM upload_chunks WHERE sha256 = ? AND device_id = ?",
                    [sha256, device],
                )
                tx.execute(
                    "UPDATE blob_uploads SET received = 0 WHERE sha256 = ? AND device_id = ?",
                    [sha256, device],
                )
                bad = True
            else:
                if not tx.scalar("SELECT 1 FROM blobs WHERE sha256 = ? AND complete = 1", [sha256]):
                    # The county's first copy: the device's chunks become the file.
                    tx.execute("DELETE FROM blob_chunks WHERE sha256 = ?", [sha256])
                    tx.execute(
                        "INSERT INTO blob_chunks (sha256, pos, data) SELECT sha256, pos, data "
                        "FROM upload_chunks WHERE sha256 = ? AND device_id = ?",
                        [sha256, device],
                    )
                    tx.execute(
                        "INSERT INTO blobs (sha256, size, received, complete) VALUES (?, ?, ?, 1)"
                        " ON CONFLICT (sha256) DO UPDATE SET size = excluded.size, "
                        "received = excluded.received, complete = 1",
                        [sha256, size, size],
                    )
                _grant(self, tx, session, sha256, size)
        if bad:
            raise ApiError(
                "bad_checksum",
                "The uploaded bytes do not match the attachment's sha256; upload it again "
                "from the start.",
                received=0,
            )
        return _done(sha256, size)

    def get_blob(
        self, session: Session, sha256: str, start: int = 0, end: int | None = None
    ) -> tuple[bytes, int]:
        """Bytes ``start..end`` (inclusive) of a file that a proven attachment of a case in the
        caller's scope names, and its total size."""
        protocol.check_sha256(sha256)
        with self.db.read() as tx:
            size = self._readable(tx, session, sha256)
            if size is None:
                raise ApiError("not_found", NOT_FOUND)
            end = size - 1 if end is None else min(end, size - 1)
            if start < 0 or start > end:
                raise ApiError("bad_request", f"the range {start}-{end} is outside 0-{size - 1}")
            out = bytearray()
            for pos, data in tx.rows(
                "SELECT pos, data FROM blob_chunks WHERE sha256 = ? AND pos <= ? ORDER BY pos",
                [sha256, end],
            ):
                data = bytes(data)
                lo, hi = int(pos), int(pos) + len(data) - 1
                if hi < start:
                    continue
                out += data[max(start - lo, 0) : end - lo + 1]
        return bytes(out), size


def _pieces(tx: Tx, sha256: str, size: int, ranges: list[tuple[int, int]]) -> list[bytes] | None:
    """The bytes of ``ranges`` of the county's complete copy of a file of ``size`` bytes, or
    None when it has none (of that size). Each range is read with ``substr`` (a proof reads
    ~8 KiB, not the chunks), and as many queries run when the file is absent."""
    layout = tx.rows(
        "SELECT c.pos, length(c.data) FROM blob_chunks c JOIN blobs b ON b.sha256 = c.sha256 "
        "WHERE c.sha256 = ? AND b.complete = 1 AND b.size = ? ORDER BY c.pos",
        [sha256, size],
    )
    chunks = [(int(p), int(n)) for p, n in layout]
    present = bool(chunks) and sum(n for _, n in chunks) == size
    out: list[bytes] = []
    for offset, length in ranges:
        piece = bytearray()
        for pos, n in chunks if present else [(-1, length)]:
            lo, hi = max(offset, pos), min(offset + length, pos + n)
            if lo >= hi and present:
                continue
            got = tx.scalar(
                "SELECT substr(data, ?, ?) FROM blob_chunks WHERE sha256 = ? AND pos = ?",
                [max(lo - pos, 0) + 1, max(hi - lo, 1), sha256, pos],
            )
            if got is not None:
                piece += bytes(got)
        out.append(bytes(piece))
    if not present or [len(p) for p in out] != [n for _, n in ranges]:
        return None
    return out


def _grant(county: CountyBase, tx: Tx, session: Session, sha256: str, size: int) -> None:
    """The device holds the file now: its claim is settled, and its attachments of the file are
    proven — recorded as changes, so devices that pulled them early learn they can fetch it."""
    device = session.device.id
    tx.execute(
        "INSERT INTO blob_holders (sha256, device_id, since) VALUES (?, ?, ?) "
        "ON CONFLICT (sha256, device_id) DO NOTHING",
        [sha256, device, county.clock()],
    )
    for table in ("blob_uploads", "upload_chunks", "blob_challenges"):
        tx.execute(f"DELETE FROM {table} WHERE sha256 = ? AND device_id = ?", [sha256, device])
    for attachment_id, case_id in tx.rows(
        "SELECT id, case_id FROM attachments "
        "WHERE sha256 = ? AND device_id = ? AND size = ? AND proven = 0 ORDER BY id",
        [sha256, device, size],
    ):
        tx.execute("UPDATE attachments SET proven = 1 WHERE id = ?", [attachment_id])
        keys = sorted(county._owner_keys(tx, str(case_id)))
        county._change(tx, tx.next_seq(), "attachment", str(attachment_id), device, keys)
