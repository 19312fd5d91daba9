"""The sync bundle file: what a device and its county exchange on a USB stick when there is no
link at all (``docs/sync-protocol.md``, section 18). Both sides import this module.

A bundle is signed by its sender and encrypted for its one recipient:

- **Keys.** Each party has an Ed25519 key (signing) and an X25519 key (receiving). A device
  makes its pair at enrolment and registers the public halves with the county in the sign-in
  request; the county's public halves come back in the sign-in answer.
- **Encryption.** The sender makes a fresh X25519 key for each bundle; the content key is
  HKDF-SHA256 over the X25519 shared secret, with a random salt and the SHA-256 of the header
  as info (so the header cannot be swapped onto another body). The plaintext is sealed with
  AES-256-GCM in chunks of 1 MiB; each chunk's nonce is its index, and its associated data is
  its index and whether it is the last, so chunks cannot be reordered, dropped or cut short.
- **Signature.** Ed25519 over a SHA-512 digest of everything before it (magic, header, every
  sealed chunk): a verifier checks it before decrypting anything.

Layout::

    MAGIC (16 bytes) | u32 header length | header JSON (UTF-8)
    { u8 last | u32 length | sealed chunk } ... (the last one has last = 1)
    Ed25519 signature (64 bytes) | end of file

The plaintext inside is a sequence of *parts*: ``u32 length | JSON`` followed by ``size`` raw
bytes when the JSON has a ``size`` (an attachment's bytes).

A bundle is written to ``FILE.part``, flushed and fsync'd, then renamed to ``FILE``: a stick
that is full or pulled out mid-write leaves no file that looks whole.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"GRIDROOM-BUNDLE1"
FORMAT = "gridroom-bundle/1"
CHUNK = 1 << 20
HEADER_MAX = 64 * 1024
SIG_BYTES = 64
_SIG_CONTEXT = b"gridroom-bundle/1 signature\x00"
_KEY_CONTEXT = b"gridroom-bundle/1 key\x00"
_SEALED_MAX = CHUNK + 16

#: ``progress(done_bytes, total_bytes)``; returning False cancels.
Progress = Callable[[int, int], Any]


class BundleError(Exception):
    """A bundle that cannot be written or is refused; ``message`` says why in plain words."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class Cancelled(BundleError):
    def __init__(self) -> None:
        super().__init__("cancelled", "Cancelled: no bundle was written.")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, size: int, what: str) -> bytes:
    try:
        raw = base64.b64decode(str(text).encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise BundleError("bad_key", f"{what} is not base64") from None
    if len(raw) != size:
        raise BundleError("bad_key", f"{what} is not {size} bytes")
    return raw


def _raw(key: Any) -> bytes:
    return bytes(key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


@dataclass(frozen=True)
class KeyPair:
    """A party's two private keys: Ed25519 to sign, X25519 to receive."""

    sign: Ed25519PrivateKey
    box: X25519PrivateKey

    @classmethod
    def generate(cls) -> KeyPair:
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    def to_bytes(self) -> bytes:
        fmt = (serialization.Encoding.Raw, serialization.PrivateFormat.Raw)
        none = serialization.NoEncryption()
        return self.sign.private_bytes(*fmt, none) + self.box.private_bytes(*fmt, none)

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyPair:
        if len(data) != 64:
            raise BundleError("bad_key", "a key pair is 64 bytes")
        return cls(
            Ed25519PrivateKey.from_private_bytes(data[:32]),
            X25519PrivateKey.from_private_bytes(data[32:]),
        )

    def public(self) -> dict[str, str]:
        """The wire form of the public halves: ``{"sign": b64, "box": b64}``."""
        return {"sign": b64(_raw(self.sign.public_key())), "box": b64(_raw(self.box.public_key()))}


def public_keys(wire: Any) -> tuple[Ed25519PublicKey, X25519PublicKey]:
    """Parse ``{"sign", "box"}`` (raw 32-byte keys, base64); BundleError when malformed."""
    if not isinstance(wire, dict):
        raise BundleError("bad_key", "the public keys are not an object")
    return (
        Ed25519PublicKey.from_public_bytes(unb64(wire.get("sign"), 32, "the signing key")),
        X25519PublicKey.from_public_bytes(unb64(wire.get("box"), 32, "the receiving key")),
    )


def _content_key(shared: bytes, salt: bytes, header: bytes) -> AESGCM:
    info = _KEY_CONTEXT + hashlib.sha256(header).digest()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(shared)
    return AESGCM(key)


def _aad(index: int, last: bool) -> bytes:
    return struct.pack(">BQ", int(last), index)


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


# -- writing -------------------------------------------------------------------------------------


class BundleWriter:
    """Write one bundle: ``part()``/``write()`` the plaintext, then ``finish()`` (or ``abort()``).

    The file appears under its name only when ``finish`` has fsync'd it whole."""

    def __init__(
        self,
        path: Path | str,
        header: dict[str, Any],
        *,
        signer: Ed25519PrivateKey,
        recipient: X25519PublicKey,
        progress: Progress | None = None,
        total: int = 0,
    ) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".part")
        eph = X25519PrivateKey.generate()
        salt = os.urandom(16)
        header = {
            **header,
            "format": FORMAT,
            "eph": b64(_raw(eph.public_key())),
            "salt": b64(salt),
            "chunk": CHUNK,
        }
        self.header = header
        head = json.dumps(header, ensure_ascii=False, sort_keys=True).encode()
        self._aead = _content_key(eph.exchange(recipient), salt, head)
        self._signer = signer
        self._digest = hashlib.sha512()
        self._buf = bytearray()
        self._index = 0
        self._done = 0
        self._total = total
        self._progress = progress
        self._fh: BinaryIO | None = None
        try:
            self._fh = self.tmp.open("wb")
        except OSError as exc:
            raise BundleError(
                "write_failed",
                f"The bundle cannot be written to {self.path.parent} ({exc.strerror or exc}): "
                "is the stick there, and writable? Nothing was changed on this computer.",
            ) from None
        self._out(MAGIC + struct.pack(">I", len(head)) + head)

    def _out(self, data: bytes) -> None:
        assert self._fh is not None
        try:
            self._fh.write(data)
        except OSError as exc:
            self.abort()
            raise BundleError(
                "write_failed",
                f"The bundle could not be written to {self.path.parent} ({exc.strerror or exc}): "
                "is the stick full or removed? Nothing was changed on this computer.",
            ) from None
        self._digest.update(data)

    def _seal(self, last: bool) -> None:
        data = bytes(self._buf[:CHUNK])
        del self._buf[:CHUNK]
        sealed = self._aead.encrypt(_nonce(self._index), data, _aad(self._index, last))
        self._out(struct.pack(">BI", int(last), len(sealed)) + sealed)
        self._index += 1

    def write(self, data: bytes) -> None:
        self._buf += data
        while len(self._buf) > CHUNK:
            self._seal(last=False)
        self._done += len(data)
        if self._progress is not None and self._progress(self._done, self._total) is False:
            self.abort()
            raise Cancelled()

    def part(self, meta: dict[str, Any], body: bytes | Iterator[bytes] = b"") -> None:
        """One part: its JSON, then its ``meta["size"]`` bytes (given whole or as chunks)."""
        text = json.dumps(meta, ensure_ascii=False, sort_keys=True).encode()
        self.write(struct.pack(">I", len(text)) + text)
        chunks = [body] if isinstance(body, bytes) else body
        sent = 0
        for chunk in chunks:
            sent += len(chunk)
            self.write(chunk)
        if sent != int(meta.get("size") or 0):
            self.abort()
            raise BundleError("changed", "A file changed while it was being written; try again.")

    def finish(self) -> Path:
        from .store.engine import fsync_dir

        self._seal(last=True)
        assert self._fh is not None
        signature = self._signer.sign(_SIG_CONTEXT + self._digest.digest())
        try:
            self._fh.write(signature)
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
            self._fh = None
            os.replace(self.tmp, self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            self.abort()
            raise BundleError(
                "write_failed",
                f"The bundle could not be written to {self.path.parent} ({exc.strerror or exc}): "
                "is the stick full or removed? Nothing was changed on this computer.",
            ) from None
        return self.path

    def abort(self) -> None:
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
        with contextlib.suppress(OSError):
            self.tmp.unlink()


# -- reading -------------------------------------------------------------------------------------


def _cut(path: Path) -> BundleError:
    return BundleError(
        "truncated",
        f"{path.name} is incomplete: it ends before the bundle does (was the stick removed or "
        "full while it was written?). Nothing was applied; export it again.",
    )


def _tampered(path: Path) -> BundleError:
    return BundleError(
        "tampered",
        f"{path.name} has been changed since it was made (its signature does not match). "
        "Nothing was applied; export it again.",
    )


def read_header(path: Path | str) -> dict[str, Any]:
    """The bundle's header (unverified: check the signature with :func:`verify` before trusting
    anything else than which keys to check it with)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head, _ = _head(fh, path)
    except FileNotFoundError:
        raise BundleError("not_found", f"There is no file {path}.") from None
    except OSError as exc:
        raise BundleError("unreadable", f"{path} cannot be read ({exc.strerror or exc}).") from None
    return head


def _head(fh: BinaryIO, path: Path) -> tuple[dict[str, Any], bytes]:
    magic = fh.read(len(MAGIC))
    if magic != MAGIC:
        if len(magic) < len(MAGIC) and MAGIC.startswith(magic) and magic:
            raise _cut(path)
        raise BundleError("not_a_bundle", f"{path.name} is not a Gridroom sync bundle.")
    size_b = fh.read(4)
    if len(size_b) < 4:
        raise _cut(path)
    (size,) = struct.unpack(">I", size_b)
    if size > HEADER_MAX:
        raise BundleError("not_a_bundle", f"{path.name} is not a Gridroom sync bundle.")
    raw = fh.read(size)
    if len(raw) < size:
        raise _cut(path)
    try:
        head = json.loads(raw)
    except ValueError:
        raise _tampered(path) from None
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise BundleError(
            "not_a_bundle", f"{path.name} is a bundle of another format; update Gridroom."
        )
    return head, magic + size_b + raw


def _records(fh: BinaryIO, path: Path) -> Iterator[tuple[bytes, bytes, bool]]:
    """(record bytes as written, sealed chunk, last) for each chunk record."""
    while True:
        top = fh.read(5)
        if len(top) < 5:
            raise _cut(path)
        last, size = struct.unpack(">BI", top)
        if last not in (0, 1) or size > _SEALED_MAX:
            raise _tampered(path)
        sealed = fh.read(size)
        if len(sealed) < size:
            raise _cut(path)
        yield top + sealed, sealed, bool(last)
        if last:
            return


def verify(path: Path | str, signer: Ed25519PublicKey) -> None:
    """Check the whole file against ``signer``'s signature; BundleError in plain words."""
    path = Path(path)
    with path.open("rb") as fh:
        _head_doc, head_bytes = _head(fh, path)
        digest = hashlib.sha512(head_bytes)
        for record, _sealed, _last in _records(fh, path):
            digest.update(record)
        signature = fh.read(SIG_BYTES)
        if len(signature) < SIG_BYTES:
            raise _cut(path)
        if fh.read(1):
            raise _tampered(path)
    try:
        signer.verify(signature, _SIG_CONTEXT + digest.digest())
    except InvalidSignature:
        raise _tampered(path) from None


class _Plain:
    """The decrypted plaintext of a verified bundle, read as a stream."""

    def __init__(self, fh: BinaryIO, path: Path, aead: AESGCM) -> None:
        self._records = _records(fh, path)
        self._path = path
        self._aead = aead
        self._buf = bytearray()
        self._index = 0
        self._ended = False

    def _more(self) -> bool:
        if self._ended:
            return False
        _record, sealed, last = next(self._records)
        try:
            data = self._aead.decrypt(_nonce(self._index), sealed, _aad(self._index, last))
        except InvalidTag:
            raise _tampered(self._path) from None
        self._index += 1
        self._ended = last
        self._buf += data
        return True

    def read(self, n: int) -> bytes:
        while len(self._buf) < n:
            if not self._more():
                raise _tampered(self._path)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def at_end(self) -> bool:
        while not self._buf:
            if not self._more():
                return True
        return False


def parts(
    path: Path | str, recipient: X25519PrivateKey, *, blob_chunk: int = CHUNK
) -> Iterator[tuple[dict[str, Any], Iterator[bytes]]]:
    """Decrypt a *verified* bundle: each part's JSON and an iterator over its bytes (consume it
    before asking for the next part)."""
    path = Path(path)
    with path.open("rb") as fh:
        head, head_bytes = _head(fh, path)
        try:
            eph = X25519PublicKey.from_public_bytes(unb64(head.get("eph"), 32, "eph"))
            salt = unb64(head.get("salt"), 16, "salt")
        except BundleError:
            raise _tampered(path) from None
        aead = _content_key(recipient.exchange(eph), salt, head_bytes[len(MAGIC) + 4 :])
        plain = _Plain(fh, path, aead)
        while not plain.at_end():
            (size,) = struct.unpack(">I", plain.read(4))
            try:
                meta = json.loads(plain.read(size))
            except ValueError:
                raise _tampered(path) from None
            if not isinstance(meta, dict):
                raise _tampered(path)
            left = int(meta.get("size") or 0)

            def body(left: int = left) -> Iterator[bytes]:
                while left > 0:
                    piece = plain.read(min(left, blob_chunk))
                    left -= len(piece)
                    yield piece

            it = body()
            yield meta, it
            for _ in it:  # whatever the caller did not read
                pass
