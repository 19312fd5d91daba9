"""Photos attached to cases: content-addressed files beside the database, metadata in SQLite.

A photo's bytes live once, named by their sha256, in a folder next to the store file::

    township.db.files/ab/abcdef0123…          the photo as received
    township.db.files/thumbs/ab/abcdef0123….jpg   a small JPEG for lists

The ``attachments`` table holds the metadata row (case, name, type, size, hash); the outbox
trigger on that table records the row for sync in the same transaction. The file is written and
fsync'd *before* the row commits, so a row never points at bytes that a power cut lost; a file
without a row (a crash in between) is harmless and is reused by the next attempt.

In an encrypted store (:mod:`.keys`) the files are encrypted too, so that a stolen laptop shows
neither the photos of residents and their homes nor which known photo it holds:

- each file is AES-256-GCM in records of :data:`RECORD` bytes (streamed; a big photo is never
  one block), under a key derived from the store key with HKDF; each record's nonce is random
  and its associated data binds it to its file name and place, so records cannot be swapped;
- a file's *name* is HMAC-SHA256 of its sha256 under a second derived key (``<hmac>.grb``):
  content addressing still works by the plaintext sha256 inside Gridroom (sync is unchanged),
  but knowing a photo's sha256 does not let anyone confirm that this disk holds it. What stays
  visible: how many photos there are and their sizes (to within a few bytes).

Callers never open these files themselves: :func:`read_blob`, :func:`open_blob` (upload reads
ranges) and :func:`receive_blob` (download appends and resumes) do, for plain and encrypted
stores alike. :func:`encrypt_files` converts the files of a store that was just encrypted.

Only images are accepted: a file that Pillow cannot decode completely (a corrupt JPEG, a text
file renamed ``.jpg``, a file that vanished) is refused with :class:`AttachmentError`, whose
``reason`` says which of those it was, before anything is written.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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


# -- encryption of the files ----------------------------------------------------------------

#: The first bytes of an encrypted attachment file.
MAGIC = b"GRB1"
#: Plaintext bytes per encrypted record.
RECORD = 64 * 1024
ENCRYPTED_SUFFIX = ".grb"
_TAG = 16
_NONCE = 12


@dataclass(frozen=True, slots=True)
class _Keys:
    data: bytes
    names: bytes


_KEYS: weakref.WeakKeyDictionary[Store, _Keys] = weakref.WeakKeyDictionary()


def _keys(store: Store) -> _Keys | None:
    """The attachment keys of an encrypted store (derived from its key), None when plain."""
    material = getattr(store, "key", None)
    if material is None:
        return None
    found = _KEYS.get(store)
    if found is None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        raw = material if isinstance(material, bytes) else str(material).encode("utf-8")

        def derive(info: bytes) -> bytes:
            return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(raw)

        found = _Keys(
            derive(b"gridroom attachments v1: data"), derive(b"gridroom attachments v1: names")
        )
        _KEYS[store] = found
    return found


def encrypted(store: Store) -> bool:
    """Whether this store's attachment files are (to be) encrypted."""
    return _keys(store) is not None


def _name(keys: _Keys, kind: str, sha256: str) -> str:
    return hmac.new(keys.names, f"{kind}:{sha256}".encode(), hashlib.sha256).hexdigest()


def _aad(name_id: str, index: int) -> bytes:
    return MAGIC + name_id.encode("ascii") + index.to_bytes(8, "big")


def _name_id(path: Path) -> str:
    return path.name.split(".", 1)[0]


def _legacy_blob_path(store: Store, sha256: str) -> Path:
    return files_dir(store) / sha256[:2] / sha256


def _legacy_thumbnail_path(store: Store, sha256: str) -> Path:
    return files_dir(store) / "thumbs" / sha256[:2] / f"{sha256}.jpg"


def blob_path(store: Store, sha256: str) -> Path:
    """Where the photo with this hash lives (it may not be there yet: not synced down).

    Read and write it through :func:`read_blob`, :func:`open_blob`, :func:`receive_blob`: in an
    encrypted store it is named by an HMAC and holds ciphertext."""
    keys = _keys(store)
    if keys is None:
        return _legacy_blob_path(store, sha256)
    name = _name(keys, "blob", sha256)
    return files_dir(store) / name[:2] / (name + ENCRYPTED_SUFFIX)


def thumbnail_path(store: Store, sha256: str) -> Path:
    keys = _keys(store)
    if keys is None:
        return _legacy_thumbnail_path(store, sha256)
    name = _name(keys, "thumb", sha256)
    return files_dir(store) / "thumbs" / name[:2] / (name + ENCRYPTED_SUFFIX)


def _seal(keys: _Keys, name_id: str, index: int, data: bytes) -> bytes:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    nonce = os.urandom(_NONCE)
    sealed = AESGCM(keys.data).encrypt(nonce, data, _aad(name_id, index))
    return len(data).to_bytes(4, "big") + nonce + sealed


class BlobReader:
    """A stored attachment's plaintext, by ranges (``read_at``), plain or encrypted on disk."""

    def __init__(self, path: Path, keys: _Keys | None) -> None:
        self.path = path
        self._keys = keys
        self._fh: BinaryIO = path.open("rb")
        self._records: list[tuple[int, int, int]] = []  # (plain offset, file offset, length)
        self.complete_end = 0  # file offset after the last whole record
        try:
            if keys is None:
                self.size = os.fstat(self._fh.fileno()).st_size
            else:
                self.size = self._scan()
        except BaseException:
            self._fh.close()
            raise

    def _scan(self) -> int:
        fh = self._fh
        total = os.fstat(fh.fileno()).st_size
        head = fh.read(len(MAGIC))
        if head != MAGIC:
            if not head:  # an empty .part: nothing held yet
                self.complete_end = 0
                return 0
            raise _damaged(self.path)
        offset, plain = len(MAGIC), 0
        while offset + 4 <= total:
            fh.seek(offset)
            length = int.from_bytes(fh.read(4), "big")
            end = offset + 4 + _NONCE + length + _TAG
            if length == 0 or length > RECORD or end > total:
                break  # a record cut short (a download that broke mid-write)
            self._records.append((plain, offset, length))
            plain += length
            offset = end
        self.complete_end = offset
        return plain

    def _record(self, index: int) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        assert self._keys is not None
        _plain, offset, length = self._records[index]
        self._fh.seek(offset + 4)
        nonce = self._fh.read(_NONCE)
        sealed = self._fh.read(length + _TAG)
        try:
            return AESGCM(self._keys.data).decrypt(nonce, sealed, _aad(_name_id(self.path), index))
        except InvalidTag:
            raise _damaged(self.path) from None

    def read_at(self, offset: int, n: int) -> bytes:
        """Up to ``n`` plaintext bytes from ``offset`` (fewer at the end)."""
        if self._keys is None:
            self._fh.seek(offset)
            return self._fh.read(n)
        out = bytearray()
        end = min(offset + n, self.size)
        for index, (plain, _off, length) in enumerate(self._records):
            if plain + length <= offset:
                continue
            if plain >= end:
                break
            data = self._record(index)
            out += data[max(0, offset - plain) : end - plain]
        return bytes(out)

    def chunks(self) -> Any:
        """The plaintext, record by record (streaming: never the whole file in memory)."""
        if self._keys is None:
            self._fh.seek(0)
            yield from iter(lambda: self._fh.read(RECORD), b"")
            return
        for index in range(len(self._records)):
            yield self._record(index)

    def read_all(self) -> bytes:
        return b"".join(self.chunks())

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.chunks():
            digest.update(block)
        return digest.hexdigest()

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _damaged(path: Path) -> StoreError:
    from .errors import StoreCorrupt

    return StoreCorrupt(
        f"The attachment file {path.name} is damaged (or not from this store); it can be "
        "fetched again from the county.",
        path=path,
    )


def _locate(store: Store, sha256: str, thumb: bool = False) -> tuple[Path, _Keys | None] | None:
    """Where a file is and how to read it: the encrypted name first, then (in a store whose
    conversion is still under way) the plaintext name; None when neither exists."""
    keys = _keys(store)
    path = thumbnail_path(store, sha256) if thumb else blob_path(store, sha256)
    if path.exists():
        return path, keys
    if keys is not None:
        legacy = (
            _legacy_thumbnail_path(store, sha256) if thumb else _legacy_blob_path(store, sha256)
        )
        if legacy.exists():
            return legacy, None
    return None


def blob_exists(store: Store, sha256: str) -> bool:
    """Whether this store holds the file of the attachment with this hash."""
    return _locate(store, sha256) is not None


def open_blob(store: Store, sha256: str) -> BlobReader:
    """The stored file of an attachment, for reading ranges (upload); FileNotFoundError when it
    is not here."""
    found = _locate(store, sha256)
    if found is None:
        raise FileNotFoundError(str(blob_path(store, sha256)))
    return BlobReader(*found)


def read_blob(store: Store, sha256: str, *, thumb: bool = False) -> bytes | None:
    """The plaintext bytes of a stored photo (or its thumbnail), None when not here."""
    found = _locate(store, sha256, thumb)
    if found is None:
        return None
    try:
        with BlobReader(*found) as reader:
            return reader.read_all()
    except FileNotFoundError:
        return None


class IncomingBlob:
    """A photo arriving by sync: appended in pieces to ``<file>.part`` (encrypted as it comes in
    an encrypted store), resumable after a broken link, checked and renamed by :meth:`finish`."""

    def __init__(self, store: Store, sha256: str) -> None:
        self.sha256 = sha256
        self.final = blob_path(store, sha256)
        self.part = self.final.with_name(self.final.name + ".part")
        self._keys = _keys(store)
        self._name_id = _name_id(self.final)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self._records = 0
        self.have = 0
        if self.part.exists():
            if self._keys is None:
                self.have = self.part.stat().st_size
            else:
                try:
                    with BlobReader(self.part, self._keys) as reader:
                        self.have, end = reader.size, reader.complete_end
                        self._records = len(reader._records)
                except StoreError:
                    self.have, end = 0, 0
                with self.part.open("r+b") as fh:
                    fh.truncate(end)  # drop a record cut short
        self._fh: BinaryIO | None = None

    def restart(self) -> None:
        """Throw away what arrived so far."""
        self.close()
        with contextlib.suppress(FileNotFoundError):
            self.part.unlink()
        self.have = self._records = 0

    def _open(self) -> BinaryIO:
        if self._fh is None:
            self._fh = self.part.open("ab")
            if self._keys is not None and self._fh.tell() == 0:
                self._fh.write(MAGIC)
        return self._fh

    def append(self, data: bytes) -> None:
        fh = self._open()
        if self._keys is None:
            fh.write(data)
        else:
            for start in range(0, len(data), RECORD):
                piece = data[start : start + RECORD]
                fh.write(_seal(self._keys, self._name_id, self._records, piece))
                self._records += 1
        self.have += len(data)

    def flush(self) -> None:
        if self._fh is not None:
            self._fh.flush()
            os.fsync(self._fh.fileno())

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def finish(self) -> bool:
        """Check the bytes against the sha256 and put the file in its place; False (and the
        part deleted) when they do not match."""
        self.flush()
        self.close()
        try:
            with BlobReader(self.part, self._keys) as reader:
                good = reader.sha256() == self.sha256
        except (FileNotFoundError, StoreError):
            good = False
        if not good:
            with contextlib.suppress(FileNotFoundError):
                self.part.unlink()
            return False
        os.replace(self.part, self.final)
        fsync_dir(self.final.parent)
        return True

    def __enter__(self) -> IncomingBlob:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def receive_blob(store: Store, sha256: str) -> IncomingBlob:
    """Start (or resume) receiving the file of an attachment."""
    return IncomingBlob(store, sha256)


def encrypt_files(store: Store, progress: Callable[[int, int, str], Any] | None = None) -> int:
    """Encrypt every plaintext attachment file of an encrypted store (after its conversion);
    each plaintext file is overwritten with zeros and deleted once its encrypted copy is on
    disk. Returns how many files were converted; a rerun after a crash carries on."""
    from .keys import _shred

    keys = _keys(store)
    folder = files_dir(store)
    if keys is None or not folder.is_dir():
        return 0
    plain = [
        p
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith(ENCRYPTED_SUFFIX) and not _is_encrypted_file(p)
    ]
    for done, path in enumerate(plain):
        if progress is not None:
            progress(done, len(plain), "photos")
        name = path.name
        in_thumbs = path.parent.parent.name == "thumbs"
        sha = name[: -len(".jpg")] if in_thumbs and name.endswith(".jpg") else name
        if len(sha) == 64 and all(c in "0123456789abcdef" for c in sha):
            target = thumbnail_path(store, sha) if in_thumbs else blob_path(store, sha)
            if not target.exists():
                with path.open("rb") as fh:
                    _write_file(target, iter(lambda: fh.read(RECORD), b""), keys)
        # What is not a photo or a thumbnail (a half-downloaded .part, a temporary file) is
        # plaintext too: it goes as well (a .part is fetched again).
        _shred(path)
    if progress is not None:
        progress(len(plain), len(plain), "photos")
    return len(plain)


def _is_encrypted_file(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(len(MAGIC)) == MAGIC and ENCRYPTED_SUFFIX in path.name


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


def _write_file(path: Path, chunks: Any, keys: _Keys | None) -> None:
    """Write the bytes ``chunks`` yields to ``path`` (encrypted under ``keys`` when given) so
    that the file is whole on disk or absent, never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as fh:
            if keys is None:
                for data in chunks:
                    fh.write(data)
            else:
                fh.write(MAGIC)
                index, name_id = 0, _name_id(path)
                for data in chunks:
                    for start in range(0, len(data), RECORD):
                        fh.write(_seal(keys, name_id, index, data[start : start + RECORD]))
                        index += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    fsync_dir(path.parent)


def _write_durably(store: Store, path: Path, data: bytes) -> None:
    _write_file(path, [data], _keys(store))


def store_photo_file(store: Store, photo: Photo) -> Path:
    """Put the photo's bytes (and its thumbnail) in the content store; idempotent."""
    target = blob_path(store, photo.sha256)
    keys = _keys(store)
    have = target.exists() and (keys is not None or target.stat().st_size == photo.size)
    if not have:
        try:
            _write_durably(store, target, photo.data)
        except OSError as exc:
            known = _classify_os(exc, store)
            raise known from exc
    thumb = thumbnail_path(store, photo.sha256)
    if not thumb.exists():
        try:
            _write_durably(store, thumb, make_thumbnail(photo.data))
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
    """The photo's bytes, or None while the file has not arrived (synced metadata only) or when
    its file is damaged."""
    try:
        return read_blob(store, attachment.sha256)
    except StoreError:
        return None


def thumbnail_bytes(store: Store, attachment: Attachment) -> bytes | None:
    """The thumbnail JPEG, made again from the photo when it is missing; None without photo."""
    thumb = thumbnail_path(store, attachment.sha256)
    with contextlib.suppress(StoreError):
        small = read_blob(store, attachment.sha256, thumb=True)
        if small is not None:
            return small
    data = photo_bytes(store, attachment)
    if data is None:
        return None
    try:
        small = make_thumbnail(data)
    except (UnidentifiedImageError, OSError, ValueError):
        return None  # a damaged file arrived by sync: listed, but without a picture
    with contextlib.suppress(OSError):
        _write_durably(store, thumb, small)  # a cache: failing to keep it costs only time
    return small
