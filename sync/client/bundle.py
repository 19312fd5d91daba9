"""Sync bundles on the device (protocol section 18): when there is no link at all, the outbox
goes to the county on a USB stick, and the county's answer comes back the same way.

:func:`export_bundle` writes what the county has not acknowledged — every outbox record, in
push batches recorded *in flight* under their batch ids exactly as an online sync would send
them (an online sync after the export sends the same batches under the same ids, so whichever
arrives first is applied and the other changes nothing) — plus the bytes of the attachments
waiting to go, and the device's pull cursor. Signed with the device key, encrypted for the
county.

:func:`import_return` applies the county's return bundle: the push answers clear the outbox as
an online push answer does (a batch no longer in flight — answered online, or by an earlier
import — is skipped), and the pulled pages go through the store's pull path with their cursor,
only when the device's cursor is still the one the bundle was made from.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .. import bundlefile, protocol
from ..bundlefile import BundleError, KeyPair
from ..model.clock import new_id
from ..store import attachments, keys, replica
from ..store.store import Store

#: sync_state rows (written here, not through replica.set_state's list of keys).
COUNTY_KEYS = "bundle_county_keys"
COUNTY = "bundle_county"

Progress = Callable[[int, int], Any]


def remember_county_keys(store: Store, login_answer: dict[str, Any]) -> None:
    """Keep the county's public bundle keys from a sign-in (or sync) answer; absent: a county
    that knows no bundles."""
    wire = login_answer.get("bundle_keys")
    try:
        bundlefile.public_keys(wire)
    except BundleError:
        return
    # A sync answer names no county: the device's township code starts with it.
    county = str(login_answer.get("county") or replica.state(store).get("township", "")[:6])
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO sync_state (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [
                (COUNTY_KEYS, json.dumps(wire, sort_keys=True)),
                (COUNTY, county),
            ],
        )


def keys_to_register(store: Store) -> dict[str, str] | None:
    """For a sync request: the device's public bundle keys when the county may not have them
    yet (a store enrolled before bundles: the pair is made and kept now), else None."""
    st = replica.state(store)
    try:
        secret = keys.device_key(store.path)
    except Exception:  # a locked or plaintext store: no bundles, the sync goes on
        return None
    if secret and st.get(COUNTY_KEYS):
        return None
    pair = KeyPair.from_bytes(secret) if secret else KeyPair.generate()
    if not secret:
        try:
            keys.keep_device_key(store.path, pair.to_bytes())
        except Exception:
            return None
    return pair.public()


def _not_ready() -> BundleError:
    return BundleError(
        "not_ready",
        "This computer has no bundle key yet: sign in once while online (gridroom login, or "
        "the app's sign-in), then make the bundle.",
    )


def _keys(store: Store) -> tuple[KeyPair, dict[str, Any], str]:
    st = replica.state(store)
    try:
        wire = json.loads(st.get(COUNTY_KEYS) or "null")
        bundlefile.public_keys(wire)
    except (ValueError, BundleError):
        raise _not_ready() from None
    secret = keys.device_key(store.path)
    if not secret:
        raise _not_ready()
    return KeyPair.from_bytes(secret), wire, st.get(COUNTY) or ""


@dataclass
class ExportResult:
    path: str
    bundle_id: str
    batches: int = 0
    records: int = 0
    files: int = 0
    file_bytes: int = 0
    bytes: int = 0
    cursor: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _batches(store: Store, max_bytes: int) -> list[replica.Batch]:
    """Every outbox record in push batches: those in flight already, then new ones, recorded
    in flight (in one transaction) so an online sync sends them under the same ids."""
    out: list[replica.Batch] = []
    covered: set[int] = set()
    for batch_id, seqs_text in store.read(
        "SELECT batch_id, seqs FROM sync_inflight ORDER BY batch_id"
    ):
        seqs = list(json.loads(seqs_text))
        batch = replica.Batch(str(batch_id), seqs)
        marks = ",".join("?" * len(seqs))
        rows = (
            store.read(
                f"SELECT seq, entity, entity_id FROM outbox WHERE seq IN ({marks}) ORDER BY seq",
                seqs,
            )
            if seqs
            else []
        )
        _add(store, batch, rows)
        covered.update(seqs)
        if batch.items:
            out.append(batch)
    new: list[replica.Batch] = []
    batch = replica.Batch(new_id(), [])
    used = protocol.json_size(batch.wire())
    last = 0
    while True:
        rows = store.read(
            "SELECT seq, entity, entity_id FROM outbox WHERE seq > ? ORDER BY seq LIMIT 500",
            [last],
        )
        if not rows:
            break
        last = rows[-1][0]
        for row in rows:
            if row[0] in covered:
                continue
            size = _add(store, batch, [row], probe=True)
            if batch.items and used + size > max_bytes:
                new.append(batch)
                batch = replica.Batch(new_id(), [])
                used = protocol.json_size(batch.wire())
            used += _add(store, batch, [row])
    if batch.items:
        new.append(batch)
    if new:
        with store.write() as conn:
            for b in new:
                b.seqs = sorted(s for seqs in b.items.values() for s in seqs)
                conn.execute(
                    "INSERT INTO sync_inflight (batch_id, seqs, created_at) VALUES (?, ?, ?)",
                    [b.batch_id, json.dumps(b.seqs), store.now()],
                )
    return out + new


def _add(store: Store, batch: replica.Batch, rows: Any, *, probe: bool = False) -> int:
    """Add outbox rows to ``batch`` (the wire size added); ``probe``: only measure one row."""
    added = 0
    for seq, entity, entity_id in rows:
        kind = replica.WIRE_KIND.get(entity)
        if kind is None:
            continue
        key = (kind, entity_id)
        if key in batch.items:
            if not probe:
                batch.items[key].append(seq)
            continue
        try:
            item, case_id = replica._load_item(store, entity, entity_id)
        except KeyError:
            continue  # the record is gone: an online sync drops its row
        size = protocol.json_size(item) + 1
        if probe:
            return size
        added += size
        batch.items[key] = [seq]
        if case_id is not None:
            batch.case_of[key] = case_id
        batch.lists()[kind].append(item)
    return added


def default_name(store: Store) -> str:
    code = store.meta("device_code") or store.device_id[:8]
    stamp = dt.datetime.now(dt.UTC).astimezone().strftime("%Y%m%d-%H%M%S")
    return f"gridroom-{code}-{stamp}.bundle"


def export_bundle(
    store: Store,
    out: Path | str,
    *,
    progress: Progress | None = None,
    batch_bytes: int = protocol.BATCH_BYTES,
) -> ExportResult:
    """Write this device's bundle to ``out`` (a file, or a folder to put it in); ``progress``
    (done, total bytes) may return False to cancel: no bundle is left, nothing is lost."""
    pair, county_wire, county = _keys(store)
    _sign_pub, box_pub = bundlefile.public_keys(county_wire)
    target = Path(out)
    if target.is_dir():
        target = target / default_name(store)
    st = replica.state(store)
    batches = _batches(store, batch_bytes)
    wanted: dict[str, int] = {}
    for b in batches:
        for a in b.attachments:
            wanted[str(a["sha256"])] = int(a["size"])
    for sha, size in replica.pending_blobs(store, "up"):
        wanted[sha] = size
    present = {sha: size for sha, size in wanted.items() if attachments.blob_exists(store, sha)}
    manifest = {
        "part": "manifest",
        "batches": [b.wire() for b in batches],
        "cursor": int(st.get("cursor") or 0),
        "scope_id": st.get("scope_id") or "",
        "reference_version": st.get("reference_version") or "",
        "files": [{"sha256": s, "size": n} for s, n in sorted(present.items())],
        # Photos this device waits to download: the county may send them back on the stick.
        "downloads": [sha for sha, _size in replica.pending_blobs(store, "down")],
    }
    header = {
        "kind": "device",
        "county": county,
        "device_id": store.device_id,
        "device_code": store.meta("device_code") or "",
        "account_id": st.get("account_id") or "",
        "bundle_id": new_id(),
        "created_at": store.now(),
    }
    total = protocol.json_size(manifest) + sum(present.values())
    writer = bundlefile.BundleWriter(
        target, header, signer=pair.sign, recipient=box_pub, progress=progress, total=total
    )
    result = ExportResult(str(target), str(header["bundle_id"]), cursor=int(st.get("cursor") or 0))
    try:
        writer.part(manifest)
        for sha, size in sorted(present.items()):
            with attachments.open_blob(store, sha) as blob:
                writer.part({"part": "file", "sha256": sha, "size": size}, blob.chunks())
            result.files += 1
            result.file_bytes += size
        writer.finish()
    except BaseException:
        writer.abort()
        raise
    result.batches = len(batches)
    result.records = sum(len(b) for b in batches)
    result.bytes = target.stat().st_size
    return result


@dataclass
class ReturnResult:
    bundle_id: str
    acknowledged_batches: int = 0
    skipped_batches: int = 0
    pushed: int = 0
    duplicates: int = 0
    quarantined: int = 0
    files_held: int = 0
    #: photos the county sent back on the stick, stored here
    files_received: int = 0
    pulled_entries: int = 0
    pulled_attachments: int = 0
    pulled_visits: int = 0
    removed_cases: int = 0
    pull_applied: bool = False
    reference_updated: bool = False
    cursor: int = 0
    waiting: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _inflight(store: Store, batch_id: str) -> replica.Batch | None:
    rows = store.read("SELECT seqs FROM sync_inflight WHERE batch_id = ?", [batch_id])
    if not rows:
        return None
    seqs = list(json.loads(rows[0][0]))
    batch = replica.Batch(batch_id, seqs)
    if seqs:
        marks = ",".join("?" * len(seqs))
        _add(
            store,
            batch,
            store.read(
                f"SELECT seq, entity, entity_id FROM outbox WHERE seq IN ({marks}) ORDER BY seq",
                seqs,
            ),
        )
    return batch


def import_return(store: Store, path: Path | str) -> ReturnResult:
    """Apply the county's return bundle at ``path``, exactly once however often imported."""
    path = Path(path)
    head = bundlefile.read_header(path)
    if head.get("kind") != "return":
        raise BundleError(
            "wrong_kind",
            f"{path.name} is a bundle this computer made for the county, not the county's "
            "answer. Nothing was applied.",
        )
    pair, county_wire, county = _keys(store)
    if str(head.get("device_id")) != store.device_id:
        raise BundleError(
            "wrong_device",
            f"{path.name} is the county's answer to another computer, not this one. Nothing "
            "was applied.",
        )
    if county and str(head.get("county")) != county:
        raise BundleError(
            "foreign_county",
            f"{path.name} comes from county {head.get('county')}, not {county}. Nothing was "
            "applied.",
        )
    sign_pub, _box = bundlefile.public_keys(county_wire)
    bundlefile.verify(path, sign_pub)
    result = ReturnResult(str(head.get("bundle_id") or ""))
    content: dict[str, Any] | None = None
    for meta, chunks in bundlefile.parts(path, pair.box):
        if meta.get("part") == "return" and content is None:
            content = meta
            _apply(store, content, result)
        elif meta.get("part") == "file" and content is not None:
            _receive(store, meta, chunks, result)
    if content is None:
        raise BundleError("tampered", f"{path.name} holds no answer. Nothing was applied.")
    result.cursor = replica.cursor(store)
    result.waiting = replica.waiting(store)
    return result


def _apply(store: Store, content: dict[str, Any], result: ReturnResult) -> None:
    """The acknowledgements and the pulled pages of a verified return bundle."""
    for ack in content.get("acks") or []:
        batch = _inflight(store, str(ack.get("batch_id")))
        if batch is None:
            result.skipped_batches += 1  # answered already (online, or an earlier import)
            continue
        error = ack.get("error")
        if isinstance(error, dict):
            if error.get("code") in ("bad_request", "too_large"):
                replica.abandon_batch(store, batch)
            result.problems.append(str(error.get("message") or error.get("code")))
            continue
        out = replica.finish_batch(store, batch, ack)
        result.acknowledged_batches += 1
        result.pushed += out.applied
        result.duplicates += out.duplicates
        result.quarantined += len(out.rejected)
    for sha in content.get("held") or []:
        replica.blob_done(store, str(sha), "up")
        result.files_held += 1
    st = replica.state(store)
    cursor = int(st.get("cursor") or 0)
    scope = content.get("scope") or {}
    pages = content.get("pages") or []
    # Page k holds the changes after the cursor before it, up to its own: the pages go on from
    # wherever this device's cursor stands among them (a first import cut short resumes), and
    # not at all when the device's cursor is elsewhere (it synced online since).
    starts = [int(content.get("base_cursor") or 0)] + [int(p["cursor"]) for p in pages]
    if cursor in starts[:-1] or (cursor == starts[0] and not pages):
        first = len(starts) - 2 - starts[:-1][::-1].index(cursor) if pages else 0
        for i, page in enumerate(pages[first:], start=first):
            values = {"scope_id": scope.get("id")} if i == len(pages) - 1 else None
            out_page = replica.apply_page(
                store,
                page.get("items") or [],
                new_cursor=int(page["cursor"]),
                state_values=values,
            )
            result.pulled_entries += out_page.entries
            result.pulled_attachments += out_page.attachments
            result.pulled_visits += out_page.visits
            result.removed_cases += out_page.removed
            result.problems.extend(out_page.problems)
        result.pull_applied = True
        reference = content.get("reference")
        if isinstance(reference, dict) and str(reference.get("version")) != str(
            st.get("reference_version") or ""
        ):
            replica.apply_reference(store, reference)
            result.reference_updated = True
    else:
        result.problems.append(
            "This computer has synced since the bundle was made: the county's changes in the "
            "answer are older than what it has, and were left out (nothing is missing)."
        )


def _receive(store: Store, meta: dict[str, Any], chunks: Any, result: ReturnResult) -> None:
    """A photo the county sent back on the stick: stored (checked against its sha256) when
    this device is waiting for it."""
    sha = str(meta.get("sha256") or "")
    if sha not in {s for s, _n in replica.pending_blobs(store, "down")}:
        return
    incoming = attachments.receive_blob(store, sha)
    try:
        incoming.restart()
        for piece in chunks:
            incoming.append(piece)
        good = incoming.finish()
    finally:
        incoming.close()
    if good:
        replica.blob_done(store, sha, "down")
        result.files_received += 1
