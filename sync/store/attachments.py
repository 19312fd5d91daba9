"""Photos attached to cases: content-addressed files beside the database, metadata in SQLite.

A photo's bytes live once, named by their sha256, in a folder next to the store file::

    township.db.files/ab/abcdef0123…          the photo as received
    township.db.files/thumbs/ab/abcdef0123….jpg   a small JPEG for lists

The ``attachments`` table holds the metadata row (case, name, type, size, hash); the outbox
trigger on that table records the row for sync in the same transaction. The file is written and
fsync'd *before* the row commits, so a row never points at bytes that a power cut lost; a file
without a row (a crash in between) is harmless and is reused by the next attempt.

Only images are accepted: a file that Pillow cannot decode completely (a corrupt JPEG, a text
file renamed ``.jpg``, a file that vanished) is refused with :class:`AttachmentError`, whose
``reason`` says which of those it was, before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from ..model.clock import new_id
from ..model.records import Action, Actor, Attachment
from ..model.workflow import ROLES
from .engine import fsync_dir
from .errors import StoreError
from .store import Store

#: The largest photo accepted (phone cameras write 3–12 MB).
MAX_BYTES = 30 * 1024 * 1024
#: Decoded pixels above this are refused (a "decompression bomb" would exhaust memory).
MAX_PIXELS = 80_000_000
#: Longest side of a thumbnail, in pixels.
THUMB_SIZE = 320
#: Formats a phone or a scanner produces that every Gridroom can show.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")


class AttachmentError(StoreError):
    """A photo that cannot be attached, in plain words; ``reason`` says why, for translation.

    Reasons: ``missing`` (no such file), ``unreadable`` (the file cannot be read),
    ``empty``, ``too_large``, ``not_image`` (not a picture, or damaged), ``no_case``,
    ``not_allowed``.
    """

    code = "bad_attachment"

    def __init__(self, message: str, *, reason: str, name: str = "", path: Any = None) -> None:
        super().__init__(message, path=path)
        self.reason = reason
        self.name = name


@dataclass(frozen=True, slots=True)
class Photo:
    """A photo read and checked, ready to attach: its bytes, name, type and hash."""

    data: bytes
    name: str
    mime: str
    sha256: str
    width: int
    height: int

    @property
    def size(self) -> int:
        return len(self.data)


def files_dir(store: Store) -> Path:
    """The folder beside the database that holds its attachments."""
    return store.path.with_name(store.path.name + ".files")


def blob_path(store: Store, sha256: str) -> Path:
    """Where the photo with this hash lives (it may not be there yet: not synced down)."""
    return files_dir(store) / sha256[:2] / sha256


def thumbnail_path(store: Store, sha256: str) -> Path:
    return files_dir(store) / "thumbs" / sha256[:2] / f"{sha256}.jpg"


def load_photo(source: Path | str | bytes, name: str | None = None) -> Photo:
    """Read ``source`` (a path or the bytes) and check that it is a whole, readable image.

    Raises :class:`AttachmentError` in plain words otherwise; nothing is written.
    """
    if isinstance(source, bytes | bytearray):
        data = bytes(source)
        label = name or "photo"
    else:
        path = Path(source)
        label = name or path.name
        try:
            # Size first, so a huge file is refused before it is read into memory.
            if path.stat().st_size > MAX_BYTES:
                raise _too_large(label, path)
            data = path.read_bytes()
        except FileNotFoundError:
            raise AttachmentError(
                f"The photo {label} is no longer there (was it moved or deleted?).",
                reason="missing",
                name=label,
                path=path,
            ) from None
        except OSError as exc:
            raise AttachmentError(
                f"The photo {label} cannot be read: {exc.strerror or exc}.",
                reason="unreadable",
                name=label,
                path=path,
            ) from exc
    if not data:
        raise AttachmentError(f"The photo {label} is an empty file.", reason="empty", name=label)
    if len(data) > MAX_BYTES:
        raise _too_large(label, None)
    fmt, width, height = _check_image(data, label)
    mime = Image.MIME.get(fmt, "application/octet-stream")
    return Photo(data, label, mime, hashlib.sha256(data).hexdigest(), width, height)


def _too_large(label: str, path: Path | None) -> AttachmentError:
    return AttachmentError(
        f"The photo {label} is larger than {MAX_BYTES // (1024 * 1024)} MB.",
        reason="too_large",
        name=label,
        path=path,
    )


def _check_image(data: bytes, label: str) -> tuple[str, int, int]:
    """(format, width, height) of a completely decodable image, or AttachmentError."""
    not_image = AttachmentError(
        f"{label} is not a photo Gridroom can read (it is damaged, or not an image at all).",
        reason="not_image",
        name=label,
    )
    with warnings.catch_warnings():
        # Pillow warns (and pytest turns warnings into errors) before it refuses a huge image.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as im:
                fmt = str(im.format or "")
                width, height = im.size
                if width * height > MAX_PIXELS:
                    raise _too_large(label, None)
                im.verify()  # structure and checksums, without decoding
            # verify() leaves the image unusable; a full decode catches truncated pixel data.
            with Image.open(io.BytesIO(data)) as im:
                im.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise _too_large(label, None) from None
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
            raise not_image from exc
    if fmt not in FORMATS:
        raise not_image
    return fmt, width, height


def make_thumbnail(data: bytes, size: int = THUMB_SIZE) -> bytes:
    """A small JPEG of an image, turned upright by its EXIF orientation."""
    with Image.open(io.BytesIO(data)) as im:
        upright = ImageOps.exif_transpose(im)
        upright.thumbnail((size, size))
        rgb = upright.convert("RGB")
        out = io.BytesIO()
        rgb.save(out, "JPEG", quality=80)
        return out.getvalue()


def _write_durably(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that it is whole on disk or absent, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)


def store_photo_file(store: Store, photo: Photo) -> Path:
    """Put the photo's bytes (and its thumbnail) in the content store; idempotent."""
    target = blob_path(store, photo.sha256)
    if not (target.exists() and target.stat().st_size == photo.size):
        try:
            _write_durably(target, photo.data)
        except OSError as exc:
            known = _classify_os(exc, store)
            raise known from exc
    thumb = thumbnail_path(store, photo.sha256)
    if not thumb.exists():
        try:
            _write_durably(thumb, make_thumbnail(photo.data))
        except OSError as exc:
            raise _classify_os(exc, store) from exc
    return target


def _classify_os(exc: OSError, store: Store) -> StoreError:
    from .errors import classify

    known = classify(exc, files_dir(store))
    if known is not None:
        return known
    return StoreError(
        f"The photo could not be saved in {files_dir(store)}: {exc.strerror or exc}.",
        path=files_dir(store),
    )


def add_attachment(
    store: Store,
    case_id: str,
    source: Path | str | bytes | Photo,
    name: str | None,
    actor: Actor,
    *,
    entry_id: str | None = None,
) -> Attachment:
    """Attach a photo to a case: the file first (fsync'd), then the row, in one transaction.

    The same picture attached twice to one case is stored once: the existing attachment is
    returned and nothing new is written. ``entry_id`` links the photo to the timeline step it
    documents (a report, a feedback). Anyone who may comment on a case may add a photo to it.
    """
    if actor.role not in ROLES[Action.COMMENT]:
        raise AttachmentError(
            f"A {actor.role.value} may not add photos to a case.", reason="not_allowed"
        )
    photo = source if isinstance(source, Photo) else load_photo(source, name)
    label = name or photo.name
    found = _find(store, case_id, photo.sha256)
    if found is not None:
        return found
    if not store.read("SELECT 1 FROM cases WHERE id = ?", [case_id]):
        raise AttachmentError(
            "There is no such case to attach the photo to.", reason="no_case", name=label
        )
    store_photo_file(store, photo)
    attachment = Attachment(
        id=new_id(),
        case_id=case_id,
        sha256=photo.sha256,
        name=label,
        mime=photo.mime,
        size=photo.size,
        created_at=store.now(),
        entry_id=entry_id,
    )
    with store.write() as conn:
        # Checked again under the write lock: another writer may have attached it meanwhile.
        again = conn.execute(
            "SELECT id FROM attachments WHERE case_id = ? AND sha256 = ?", [case_id, photo.sha256]
        ).fetchone()
        if again is None:
            conn.execute(
                "INSERT INTO attachments (id, case_id, entry_id, sha256, name, mime, size, "
                "created_at, local) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                [
                    attachment.id,
                    case_id,
                    entry_id,
                    attachment.sha256,
                    attachment.name,
                    attachment.mime,
                    attachment.size,
                    attachment.created_at,
                ],
            )
    if again is not None:
        existing = _find(store, case_id, photo.sha256)
        assert existing is not None
        return existing
    return attachment


_COLUMNS = "id, case_id, sha256, name, mime, size, created_at, entry_id"


def _row(r: tuple[Any, ...]) -> Attachment:
    return Attachment(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), r[7])


def _find(store: Store, case_id: str, sha256: str) -> Attachment | None:
    rows = store.read(
        f"SELECT {_COLUMNS} FROM attachments WHERE case_id = ? AND sha256 = ?",
        [case_id, sha256],
    )
    return _row(rows[0]) if rows else None


def attachments(store: Store, case_id: str) -> list[Attachment]:
    """A case's photos, oldest first."""
    rows = store.read(
        f"SELECT {_COLUMNS} FROM attachments WHERE case_id = ? ORDER BY created_at, id",
        [case_id],
    )
    return [_row(r) for r in rows]


def photo_bytes(store: Store, attachment: Attachment) -> bytes | None:
    """The photo's bytes, or None while the file has not arrived (synced metadata only)."""
    try:
        return blob_path(store, attachment.sha256).read_bytes()
    except FileNotFoundError:
        return None


def thumbnail_bytes(store: Store, attachment: Attachment) -> bytes | None:
    """The thumbnail JPEG, made again from the photo when it is missing; None without photo."""
    thumb = thumbnail_path(store, attachment.sha256)
    try:
        return thumb.read_bytes()
    except FileNotFoundError:
        pass
    data = photo_bytes(store, attachment)
    if data is None:
        return None
    try:
        small = make_thumbnail(data)
    except (UnidentifiedImageError, OSError, ValueError):
        return None  # a damaged file arrived by sync: listed, but without a picture
    with contextlib.suppress(OSError):
        _write_durably(thumb, small)  # a cache: failing to keep it costs only time
    return small
