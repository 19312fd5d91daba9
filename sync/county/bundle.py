"""Sync bundles on the county side (protocol section 18): import a device's bundle, write its
return bundle.

An import checks, before anything is applied: the file is a bundle for this county, from a
device the county enrolled and has not revoked, signed by that device's registered key, whole
and unaltered. Then it applies the bundle's push batches through :meth:`County.push` — the very
path of an online sync, under the same batch ids, so a batch that arrived online first (or an
earlier import of the same bundle) is answered from the stored answer and changes nothing —
stores the attachment bytes through :meth:`County.put_chunk` (so the device *holds* them, as if
it had uploaded them), and pulls what the device's scope has since its cursor through
:meth:`County.sync`. The return bundle carries the push answers and those pages, signed by the
county and encrypted for the device.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import bundlefile, protocol
from ..bundlefile import BundleError, KeyPair
from ..model.clock import new_id
from . import accounts as acc
from . import files
from .core import ApiError, Device, Session, json_text
from .db import Tx

#: Where the county's own bundle key pair is kept (``meta``; hex of the 64 private bytes).
META_KEY = "bundle_key_pair"


def check_device_keys(wire: Mapping[str, Any]) -> None:
    """Refuse malformed device keys in a sign-in request (``bad_request``)."""
    try:
        bundlefile.public_keys(dict(wire))
    except (BundleError, ValueError) as exc:
        raise ApiError("bad_request", f"device_keys: {exc}") from None


def register_device_keys(tx: Tx, device_id: str, wire: Mapping[str, Any] | None) -> None:
    """Record a device's public bundle keys on its row (each sign-in may renew them)."""
    if not wire:
        return
    tx.execute(
        "UPDATE devices SET sign_key = ?, box_key = ? WHERE id = ?",
        [str(wire["sign"]), str(wire["box"]), device_id],
    )


def register_at_sync(county: Any, session: Session, wire: Mapping[str, Any]) -> dict[str, str]:
    """A device enrolled before bundles registers its keys with a sync (``device_keys``);
    the answer's ``bundle_keys`` are the county's."""
    check_device_keys(wire)
    with county.db.write(ordered=False) as tx:
        register_device_keys(tx, session.device.id, wire)
        return county_keys(tx).public()


def county_keys(tx: Tx) -> KeyPair:
    """The county's bundle key pair, made on first use (inside a write transaction)."""
    stored = tx.get_meta(META_KEY)
    if stored:
        return KeyPair.from_bytes(bytes.fromhex(stored))
    pair = KeyPair.generate()
    tx.set_meta(META_KEY, pair.to_bytes().hex())
    return pair


@dataclass
class ImportResult:
    bundle_id: str
    device_id: str
    device_code: str
    batches: int = 0
    replayed_batches: int = 0
    applied: int = 0
    rejected: int = 0
    files: int = 0
    file_bytes: int = 0
    pulled: int = 0
    #: photos the return bundle carries to the device
    files_out: int = 0
    file_bytes_out: int = 0
    already_imported: bool = False
    return_path: str = ""
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _columns(tx: Tx, table: str) -> set[str]:
    if tx.dialect == "sqlite":
        return {str(r[1]) for r in tx.rows(f"PRAGMA table_info({table})")}
    return {
        str(r[0])
        for r in tx.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
        )
    }


def _refuse(code: str, message: str) -> BundleError:
    return BundleError(code, message + " Nothing was applied.")


def import_bundle(county: Any, path: Path | str, out: Path | str) -> ImportResult:
    """Verify and apply one device bundle; write the return bundle to ``out``."""
    path = Path(path)
    head = bundlefile.read_header(path)
    if head.get("kind") != "device":
        raise _refuse(
            "wrong_kind",
            f"{path.name} is a return bundle (for a device), not one a device made for the county.",
        )
    if str(head.get("county")) != county.county:
        raise _refuse(
            "foreign_county",
            f"{path.name} was made for county {head.get('county')}, not this county "
            f"({county.county}).",
        )
    device_id = str(head.get("device_id") or "")
    bundle_id = str(head.get("bundle_id") or "")
    account_id = str(head.get("account_id") or "")
    if not protocol._ID.match(bundle_id) or not protocol._ID.match(device_id):
        raise _refuse("tampered", f"{path.name} has no valid bundle or device id.")
    with county.db.write(ordered=False) as tx:
        own = county_keys(tx)
        revocable = "revoked_at" in _columns(tx, "devices")
        row = tx.one(
            "SELECT id, code, township_code, sign_key, box_key"
            + (", revoked_at" if revocable else "")
            + " FROM devices WHERE id = ?",
            [device_id],
        )
        if row is None:
            raise _refuse(
                "unknown_device",
                f"{path.name} comes from a device this county never enrolled ({device_id}).",
            )
        device = Device(str(row[0]), str(row[1]), str(row[2]))
        if revocable and row[5] is not None:
            raise _refuse(
                "device_revoked",
                f"{path.name} comes from device {device.code}, which the county has revoked.",
            )
        if not row[3] or not row[4]:
            raise _refuse(
                "no_device_key",
                f"Device {device.code} has registered no bundle key: sign in on it once while "
                "online, then export again.",
            )
        sign_pub, box_pub = bundlefile.public_keys({"sign": row[3], "box": row[4]})
        account = acc.load_account(tx, account_id=account_id) if account_id else None
        signed_in = account is not None and tx.scalar(
            "SELECT 1 FROM device_accounts WHERE device_id = ? AND account_id = ?",
            [device.id, account.id],
        )
        seen = tx.one(
            "SELECT imported_at, acks FROM bundle_imports WHERE bundle_id = ? AND device_id = ?",
            [bundle_id, device.id],
        )
    # The signature covers the header and every sealed byte: nothing is read further, and
    # nothing applied, before it checks out.
    bundlefile.verify(path, sign_pub)
    if account is None or not signed_in:
        raise _refuse(
            "unknown_account",
            f"{path.name} names an account that never signed in on device {device.code}.",
        )
    if account.disabled:
        raise _refuse("account_disabled", f"The account {account.login} has been disabled.")
    try:
        keys = acc.scope_keys(account, device.township)
    except acc.ScopeError as exc:
        raise _refuse("wrong_device", f"Not on this device: {exc}.") from None
    session = Session(account, device, keys, f"bundle:{bundle_id}")
    result = ImportResult(bundle_id, device.id, device.code)
    manifest: dict[str, Any] | None = None
    acks: list[dict[str, Any]] = []
    now = county.clock()
    for meta, body in bundlefile.parts(path, own.box):
        if meta.get("part") == "manifest":
            manifest = meta
            batches = meta.get("batches") or []
            result.batches = len(batches)
            if seen is not None:
                result.already_imported = True
                acks = json.loads(str(seen[1]))
                continue
            for batch in batches:
                try:
                    answer = county.push(session, batch, server_now=now)
                except ApiError as exc:
                    answer = {
                        "batch_id": str(batch.get("batch_id")),
                        "error": {"code": exc.code, "message": exc.message},
                    }
                    result.problems.append(f"batch {batch.get('batch_id')}: {exc.message}")
                acks.append(answer)
        elif meta.get("part") == "file" and manifest is not None:
            got = _receive_file(county, session, meta, body)
            if got:
                result.files += 1
                result.file_bytes += got
    if manifest is None:
        raise _refuse("tampered", f"{path.name} holds no manifest.")
    for answer in acks:
        if answer.get("replayed") or result.already_imported:
            # Applied before (online, or by an earlier import): this import changed nothing.
            result.replayed_batches += 1
            continue
        result.applied += int(answer.get("applied") or 0) + sum(
            1 for r in answer.get("results") or [] if r.get("status") == "applied"
        )
        result.rejected += sum(
            1 for r in answer.get("results") or [] if r.get("status") == "rejected"
        )
    if seen is None:
        with county.db.write(ordered=False) as tx:
            tx.execute(
                "INSERT INTO bundle_imports (bundle_id, device_id, imported_at, acks) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (bundle_id) DO NOTHING",
                [bundle_id, device.id, now, json_text(acks)],
            )
    reply = _reply(county, session, manifest, acks)
    result.pulled = sum(len(p["items"]) for p in reply["pages"])
    header = {
        "kind": "return",
        "county": county.county,
        "device_id": device.id,
        "bundle_id": new_id(),
        "reply_to": bundle_id,
        "created_at": county.clock(),
    }
    sending = _files_for(county, session, manifest, reply["pages"])
    writer = bundlefile.BundleWriter(out, header, signer=own.sign, recipient=box_pub)
    try:
        writer.part({"part": "return", **reply})
        for sha, size in sending:
            writer.part(
                {"part": "file", "sha256": sha, "size": size}, _read(county, session, sha, size)
            )
            result.files_out += 1
            result.file_bytes_out += size
        result.return_path = str(writer.finish())
    except BaseException:
        writer.abort()
        raise
    return result


#: Photo bytes a return bundle carries at most (the rest download at the next online sync).
RETURN_FILES_MAX = 2 << 30


def _files_for(
    county: Any, session: Session, manifest: Mapping[str, Any], pages: list[dict[str, Any]]
) -> list[tuple[str, int]]:
    """The files the device may download (section 11) and lacks: those of the attachments
    pulled now, and those the device said it is waiting for; at most RETURN_FILES_MAX bytes."""
    wanted: list[str] = [str(x) for x in manifest.get("downloads") or []]
    for page in pages:
        for item in page.get("items") or []:
            found = [item.get("attachment"), *(item.get("attachments") or [])]
            for a in found:
                if isinstance(a, Mapping):
                    a = a.get("attachment", a)
                    if isinstance(a, Mapping) and a.get("sha256"):
                        wanted.append(str(a["sha256"]))
    out: list[tuple[str, int]] = []
    total = 0
    with county.db.read() as tx:
        for sha in dict.fromkeys(wanted):
            if files.held_size(tx, session.device.id, sha) is not None:
                continue  # the device has it (it sent it)
            size = county._readable(tx, session, sha)
            if size is None or total + size > RETURN_FILES_MAX:
                continue
            total += size
            out.append((sha, size))
    return out


def _read(county: Any, session: Session, sha: str, size: int) -> Any:
    for start in range(0, size, bundlefile.CHUNK):
        data, _total = county.get_blob(session, sha, start, min(start + bundlefile.CHUNK, size) - 1)
        yield data


def _receive_file(county: Any, session: Session, meta: Mapping[str, Any], body: Any) -> int:
    """Store one attachment file the bundle carries as this device's upload; the bytes stored."""
    sha = str(meta.get("sha256") or "")
    size = int(meta.get("size") or 0)
    try:
        protocol.check_sha256(sha)
    except protocol.WireError:
        return 0
    with county.db.read() as tx:
        held = files.held_size(tx, session.device.id, sha)
        claim = files.claim_of(tx, session.device.id, sha)
    if held is not None or claim is None or claim[0] != size:
        return 0  # held already (online, or an earlier import), or no attachment names it
    received = claim[1]
    pos = 0
    stored = 0
    for piece in body:
        start = max(received - pos, 0)
        pos += len(piece)
        for i in range(start, len(piece), protocol.CHUNK_MAX):
            part = piece[i : i + protocol.CHUNK_MAX]
            try:
                county.put_chunk(session, sha, received, part)
            except ApiError:
                return stored  # a mismatch: the device uploads it online later
            received += len(part)
            stored += len(part)
    return stored


def _reply(
    county: Any, session: Session, manifest: Mapping[str, Any], acks: list[dict[str, Any]]
) -> dict[str, Any]:
    """The return bundle's content: acknowledgements, then the pull from the device's cursor."""
    cursor = manifest.get("cursor") or 0
    if isinstance(cursor, bool) or not isinstance(cursor, int):
        cursor = 0
    base = cursor
    scope_id = str(manifest.get("scope_id") or "")
    reset_scope = bool(scope_id) and scope_id != session.scope_id
    if reset_scope:
        cursor = 0  # the device's scope changed: it gets its whole scope again
    pages: list[dict[str, Any]] = []
    version = ""
    for _ in range(100_000):
        answer = county.sync(session, {"cursor": cursor, "page_bytes": protocol.PAGE_MAX})
        page = answer["pull"]
        pages.append(page)
        version = str(answer.get("reference_version") or "")
        cursor = int(page["cursor"])
        if not page.get("more"):
            break
    reference = None
    if version and version != str(manifest.get("reference_version") or ""):
        reference = county.reference(session)
    held = []
    with county.db.read() as tx:
        for item in manifest.get("files") or []:
            sha = str(item.get("sha256") or "")
            if files.held_size(tx, session.device.id, sha) is not None:
                held.append(sha)
    return {
        "acks": acks,
        "base_cursor": base,
        "scope_reset": reset_scope,
        "pages": pages,
        "cursor": cursor,
        "scope": session.scope(),
        "reference_version": version,
        "reference": reference,
        "held": held,
        "server_time": county.clock(),
    }
