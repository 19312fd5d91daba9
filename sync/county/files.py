"""Attachment bytes on the county side: resumable chunked uploads verified against their
sha256, ranged downloads, all authorised by the scope of the cases that use the file.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import protocol
from .core import (
    ApiError,
    CountyBase,
    Session,
)
from .db import Tx


class FilesMixin(CountyBase):
    """Attachment transfer (part of :class:`~sync.county.service.County`)."""

    def _blob(self, tx: Tx, session: Session, sha256: str) -> tuple[int, int, bool]:
        protocol.check_sha256(sha256)
        if not session.keys:
            raise ApiError("not_found", "No such attachment in this device's scope.")
        visible, args = self._visible_cases_sql(tx, session)
        row = tx.one(
            "SELECT b.size, b.received, b.complete FROM blobs b WHERE b.sha256 = ? AND EXISTS "
            f"(SELECT 1 FROM attachments a WHERE a.sha256 = b.sha256 AND a.case_id IN ({visible}))",
            [sha256, *args],
        )
        if row is None:
            raise ApiError("not_found", "No such attachment in this device's scope.")
        return int(row[0]), int(row[1]), bool(row[2])

    def blob_status(self, session: Session, sha256: str) -> dict[str, Any]:
        with self.db.read() as tx:
            size, received, complete = self._blob(tx, session, sha256)
        return {"sha256": sha256, "size": size, "received": received, "complete": complete}

    def put_chunk(self, session: Session, sha256: str, offset: int, data: bytes) -> dict[str, Any]:
        """Append one chunk at ``offset``; the last one completes and verifies the file."""
        if len(data) > protocol.CHUNK_MAX:
            raise ApiError("too_large", f"a chunk is at most {protocol.CHUNK_MAX:,} bytes")
        bad = False
        with self.db.write() as tx:
            size, received, complete = self._blob(tx, session, sha256)
            if complete:
                return {"sha256": sha256, "size": size, "received": size, "complete": True}
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
                "INSERT INTO blob_chunks (sha256, pos, data) VALUES (?, ?, ?)",
                [sha256, offset, data],
            )
            received += len(data)
            if received == size:
                digest = hashlib.sha256()
                for (chunk,) in tx.rows(
                    "SELECT data FROM blob_chunks WHERE sha256 = ? ORDER BY pos", [sha256]
                ):
                    digest.update(bytes(chunk))
                if digest.hexdigest() != sha256:
                    tx.execute("DELETE FROM blob_chunks WHERE sha256 = ?", [sha256])
                    tx.execute("UPDATE blobs SET received = 0 WHERE sha256 = ?", [sha256])
                    bad = True
                else:
                    complete = True
                    tx.execute(
                        "UPDATE blobs SET received = ?, complete = 1 WHERE sha256 = ?",
                        [received, sha256],
                    )
                    # Devices that pulled the metadata early learn the file can be fetched now.
                    for attachment_id, case_id in tx.rows(
                        "SELECT id, case_id FROM attachments WHERE sha256 = ?", [sha256]
                    ):
                        keys = [
                            str(r[0])
                            for r in tx.rows(
                                "SELECT key FROM case_keys WHERE case_id = ?", [case_id]
                            )
                        ]
                        self._change(
                            tx,
                            tx.next_seq(),
                            "attachment",
                            str(attachment_id),
                            session.device.id,
                            keys,
                        )
            else:
                tx.execute("UPDATE blobs SET received = ? WHERE sha256 = ?", [received, sha256])
        if bad:
            raise ApiError(
                "bad_checksum",
                "The uploaded bytes do not match the attachment's sha256; upload it again "
                "from the start.",
                received=0,
            )
        return {"sha256": sha256, "size": size, "received": received, "complete": complete}

    def get_blob(
        self, session: Session, sha256: str, start: int = 0, end: int | None = None
    ) -> tuple[bytes, int]:
        """Bytes ``start..end`` (inclusive) of a complete attachment, and its total size."""
        with self.db.read() as tx:
            size, _, complete = self._blob(tx, session, sha256)
            if not complete:
                raise ApiError("not_found", "This attachment has not finished uploading yet.")
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
