"""The store's side of sync with the county: what to send, what came back, what is stuck.

``sync.client`` drives the conversation; this module does every read and write of the local
store it needs, each in one transaction, so a crash between any two steps loses nothing:

* :func:`next_batch` reads the outbox in byte-bounded batches and records the batch *in flight*
  (its idempotency key and outbox rows) before it is sent; after a crash the same batch goes
  again under the same key.
* :func:`finish_batch` takes the county's answer: sent rows leave the outbox, rejected records
  go to quarantine with the reason, stamps the county clamped are rewritten.
* :func:`apply_page` merges one pulled page (entries as a set union, attachments, visits, cases
  leaving scope) *and* the new cursor in one transaction.
* :func:`quarantined`, :func:`retry`, :func:`discard` and :func:`conflicts` are what the sync
  page shows a person; :func:`checksums` detects drift per village.

It reaches into :class:`~sync.store.store.Store` internals (``_append``, ``_timeline``,
``_save_projection``) on purpose: it is part of the store package, and pulled entries must be
merged inside the same transaction as the cursor that covers them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import protocol
from ..geo.geostore import KINDS as GEO_KINDS
from ..geo.geostore import replace_shapes
from ..geo.shapes import Outline, ShapeError, from_geojson, polygonal
from ..model.clock import HybridClock, Millis, new_id
from ..model.records import Action, Entry, Role
from ..model.workflow import OPENING, project
from . import attachments, fieldwork
from .store import Store

#: Outbox entity names and their names on the wire.
WIRE_KIND = {
    "case_event": "entry",
    "attachment": "attachment",
    "visit": "visit",
    "signoff": "signoff",
}
OUTBOX_ENTITY = {v: k for k, v in WIRE_KIND.items()}

#: Keys of ``sync_state``.
STATE_KEYS = (
    "server_url",
    "account_id",
    "account_login",
    "account_name",
    "account_role",
    "township",
    "cursor",
    "reference_version",
    "geometry_version",
    "scope_id",
    "last_attempt",
    "last_success",
    "last_error",
    "last_error_code",
    "last_verify",
    "online",
    # The township relay (sync.client.route): the relay last synced with, its cursor, the
    # county's certificate for this device and when it was issued, and the last route taken.
    "relay_id",
    "relay_cursor",
    "relay_cert",
    "relay_cert_at",
    "route",
)

HISTORY_KEEP = 200


# -- state ---------------------------------------------------------------------------------------


def state(store: Store) -> dict[str, str]:
    """Everything ``sync_state`` holds (cursor, peer, last success …)."""
    return dict(store.read("SELECT key, value FROM sync_state"))


def set_state(store: Store, values: Mapping[str, Any], conn: Any | None = None) -> None:
    """Set sync state keys, inside the caller's transaction when it passes ``conn``."""
    if conn is None:
        with store.write() as c:
            set_state(store, values, c)
        return
    unknown = set(values) - set(STATE_KEYS)
    if unknown:
        raise KeyError(f"unknown sync state keys: {sorted(unknown)}")
    conn.executemany(
        "INSERT INTO sync_state (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [(k, "" if v is None else str(v)) for k, v in values.items()],
    )


def cursor(store: Store) -> int:
    return int(state(store).get("cursor") or 0)


def enroll(
    store: Store,
    *,
    device_id: str,
    device_code: str,
    township: str,
    server_url: str,
    account: Mapping[str, Any],
) -> None:
    """Record the county's enrolment of this store: its device code (case numbers stay unique
    in the county), the server and the account signed in."""
    if store.scope != township:
        raise ValueError(
            f"this store holds {store.scope}, but the device is enrolled to {township}"
        )
    with store.write() as conn:
        meta = {"device_code": device_code, "device_id": device_id, "server_url": server_url}
        store.set_meta(meta, conn)
        old = dict(conn.execute("SELECT key, value FROM sync_state").fetchall())
        values = {
            "server_url": server_url,
            "township": township,
            "account_id": account.get("id", ""),
            "account_login": account.get("login", ""),
            "account_name": account.get("name", ""),
            "account_role": account.get("role", ""),
        }
        if old.get("server_url") not in (None, server_url):
            # Another county server: its change sequence means nothing here.
            values.update(cursor="0", reference_version="", geometry_version="", scope_id="")
        set_state(store, values, conn)
    store.hlc.device = device_code


# -- the clock -----------------------------------------------------------------------------------


def clock_offset(store: Store) -> int:
    return int(store.meta("clock_offset_ms") or 0)


def set_clock_offset(store: Store, offset_ms: int) -> bool:
    """Adopt the county's measurement of this device's clock error; True if it changed.

    A measurement within round-trip noise of the current offset changes nothing, so the clock
    does not jitter from one sync to the next; an offset within noise of zero is zero.
    """
    current = clock_offset(store)
    if abs(offset_ms - current) < protocol.OFFSET_NOISE_MS:
        return False
    if abs(offset_ms) < protocol.OFFSET_NOISE_MS:
        offset_ms = 0
    store.set_meta({"clock_offset_ms": str(offset_ms)})
    raw = store.raw_clock
    store.now = (lambda: raw() + offset_ms) if offset_ms else raw
    return True


def refresh_clock(store: Store) -> None:
    """Bring another open :class:`Store` on the same file up to date after a sync ran on a
    different one (the desktop syncs on its own connection): adopt the stored clock offset,
    and move the hybrid clock past every stamp now in the timeline, so the next local step
    orders after what was just pulled."""
    rows = store.read("SELECT value FROM meta WHERE key = 'clock_offset_ms'")
    offset = int(rows[0][0]) if rows else 0
    raw = store.raw_clock
    store.now = (lambda: raw() + offset) if offset else raw
    store._meta["clock_offset_ms"] = str(offset)
    device = store.read("SELECT value FROM meta WHERE key = 'device_code'")
    if device:
        store._meta["device_code"] = device[0][0]
        store.hlc.device = device[0][0]
    limit = store.now() + protocol.MAX_FUTURE_MS
    if store.hlc.now().wall > limit:
        reset_hlc(store)
        return
    top = store.read("SELECT max(hlc) FROM case_events WHERE hlc <= ?", [f"{limit:013d}.~"])
    if top and top[0][0]:
        store.hlc.observe(top[0][0])


def reset_hlc(store: Store) -> bool:
    """Pull the hybrid clock back from the future after the county clamped our stamps.

    An HLC never runs backwards by itself, so one that ran ahead with a wrong wall clock would
    stamp every later entry in the future. Restart it from the latest stamp that is not in the
    future. True when it had to.
    """
    limit = store.now() + protocol.MAX_FUTURE_MS
    if store.hlc.now().wall <= limit:
        return False
    bound = f"{limit:013d}.~"
    rows = store.read("SELECT max(hlc) FROM case_events WHERE hlc <= ?", [bound])
    clock = HybridClock(store.device_code or "LOCAL", wall=lambda: store.now())
    if rows and rows[0][0]:
        clock.observe(rows[0][0])
    store.hlc = clock
    store.set_meta({"hlc": clock.now().encode()})
    return True


# -- push ----------------------------------------------------------------------------------------


@dataclass
class Batch:
    """One push request's worth of the outbox, with its idempotency key."""

    batch_id: str
    seqs: list[int]
    entries: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    signoffs: list[dict[str, Any]] = field(default_factory=list)
    #: (wire kind, id) → the outbox rows it covers (a visit edited twice has two).
    items: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    #: outbox rows whose record no longer exists (nothing to send)
    gone: list[int] = field(default_factory=list)
    #: case id of each entry and attachment, for quarantine rows
    case_of: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the batch's JSON size before gzip (the sync sizes the next batch by it)
    json_bytes: int = 0

    def wire(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "entries": self.entries,
            "attachments": self.attachments,
            "visits": self.visits,
            **({"signoffs": self.signoffs} if self.signoffs else {}),
            # Ask the county to list only what was not plainly applied (protocol 6.2).
            "quiet": True,
        }

    def __len__(self) -> int:
        return len(self.items)

    def lists(self) -> dict[str, list[dict[str, Any]]]:
        """Each wire kind's list of items."""
        return {
            "entry": self.entries,
            "attachment": self.attachments,
            "visit": self.visits,
            "signoff": self.signoffs,
        }


def _load_item(store: Store, entity: str, entity_id: str) -> tuple[dict[str, Any], str | None]:
    """The wire form of one outbox record and its case id; KeyError if it is gone."""
    if entity == "case_event":
        rows = store.read(
            "SELECT e.id, c.id, e.action, e.actor, e.role, e.at, e.hlc, e.payload "
            "FROM case_events e JOIN cases c ON c.rowid = e.case_rowid WHERE e.id = ?",
            [entity_id],
        )
        if not rows:
            raise KeyError(entity_id)
        r = rows[0]
        entry = Entry(r[0], r[1], Action(r[2]), r[3], Role(r[4]), r[5], r[6], json.loads(r[7]))
        return protocol.entry_to_wire(entry), r[1]
    if entity == "attachment":
        rows = store.read(
            "SELECT id, case_id, entry_id, sha256, name, mime, size, created_at "
            "FROM attachments WHERE id = ?",
            [entity_id],
        )
        if not rows:
            raise KeyError(entity_id)
        r = rows[0]
        return {
            "id": r[0],
            "case_id": r[1],
            "entry_id": r[2],
            "sha256": r[3],
            "name": r[4],
            "mime": r[5],
            "size": r[6],
            "created_at": r[7],
        }, r[1]
    if entity == "visit":
        v = fieldwork.visit(store, entity_id)
        if v is None:
            raise KeyError(entity_id)
        return protocol.visit_to_wire(v), None
    if entity == "signoff":
        s = fieldwork.signoff(store, entity_id)
        if s is None:
            raise KeyError(entity_id)
        return protocol.signoff_to_wire(s), None
    raise KeyError(f"unknown outbox entity {entity!r}")


def _fill(store: Store, batch: Batch, rows: Iterable[tuple[int, str, str]], budget: int) -> bool:
    """Add outbox rows to ``batch`` until ``budget`` bytes; False when the budget stopped it."""
    used = protocol.json_size(batch.wire())
    for seq, entity, entity_id in rows:
        kind = WIRE_KIND.get(entity)
        if kind is None:
            batch.gone.append(seq)
            continue
        key = (kind, entity_id)
        if key in batch.items:
            batch.items[key].append(seq)
            continue
        try:
            item, case_id = _load_item(store, entity, entity_id)
        except KeyError:
            batch.gone.append(seq)
            continue
        size = protocol.json_size(item) + 1
        if batch.items and (used + size > budget or len(batch.items) >= protocol.PUSH_ITEMS_MAX):
            return False
        used += size
        batch.json_bytes = used
        batch.items[key] = [seq]
        if case_id is not None:
            batch.case_of[key] = case_id
        batch.lists()[kind].append(item)
    return True


def next_batch(store: Store, max_bytes: int = protocol.BATCH_BYTES) -> Batch | None:
    """The next push batch, recorded as in flight; the same one again after a crash. None when
    the outbox is empty."""
    inflight = store.read("SELECT batch_id, seqs FROM sync_inflight LIMIT 1")
    if inflight:
        batch_id, seqs = inflight[0][0], json.loads(inflight[0][1])
        batch = Batch(batch_id, list(seqs))
        marks = ",".join("?" * len(seqs))
        rows = (
            store.read(
                f"SELECT seq, entity, entity_id FROM outbox WHERE seq IN ({marks}) ORDER BY seq",
                seqs,
            )
            if seqs
            else []
        )
        # Replay exactly what was sent: the budget does not apply to a batch already sent.
        _fill(store, batch, rows, budget=1 << 62)
        if batch.items:
            return batch
        with store.write() as conn:
            conn.execute("DELETE FROM sync_inflight")
            _drop_gone(conn, batch.gone)
    batch = Batch(new_id(), [])
    last = 0
    while True:
        rows = store.read(
            "SELECT seq, entity, entity_id FROM outbox WHERE seq > ? ORDER BY seq LIMIT 500",
            [last],
        )
        if not rows or not _fill(store, batch, rows, max_bytes):
            break  # the outbox is read, or the batch is full
        last = rows[-1][0]
    if not batch.items:
        if batch.gone:
            with store.write() as conn:
                _drop_gone(conn, batch.gone)
        return None
    batch.seqs = sorted(s for seqs in batch.items.values() for s in seqs)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO sync_inflight (batch_id, seqs, created_at) VALUES (?, ?, ?)",
            [batch.batch_id, json.dumps(batch.seqs), store.now()],
        )
    return batch


def _drop_gone(conn: Any, seqs: Sequence[int]) -> None:
    conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])


@dataclass
class PushOutcome:
    applied: int = 0
    duplicates: int = 0
    rejected: list[tuple[str, str, str, str]] = field(default_factory=list)  # kind, id, code, why
    restamped: int = 0
    unanswered: int = 0


def finish_batch(store: Store, batch: Batch, answer: Mapping[str, Any]) -> PushOutcome:
    """Record the county's answer to a batch, in one transaction."""
    results = {
        (str(r.get("kind")), str(r.get("id"))): r
        for r in answer.get("results", [])
        if isinstance(r, Mapping)
    }
    out = PushOutcome()
    touched: set[str] = set()
    now = store.now()
    # A quiet answer (the county understood "quiet") leaves out what was plainly applied.
    plain: Mapping[str, Any] | None = {"status": "applied"} if answer.get("quiet") is True else None
    with store.write() as conn:
        for key, seqs in batch.items.items():
            r = results.get(key, plain)
            if r is None:
                out.unanswered += 1  # stays in the outbox and goes with the next batch
                continue
            kind, item_id = key
            entity = OUTBOX_ENTITY[kind]
            conn.executemany("DELETE FROM outbox WHERE seq = ?", [(s,) for s in seqs])
            status = r.get("status")
            if status in ("applied", "duplicate"):
                if status == "applied":
                    out.applied += 1
                else:
                    out.duplicates += 1
                conn.execute(
                    "DELETE FROM quarantine WHERE entity = ? AND entity_id = ?", [entity, item_id]
                )
                stamp = r.get("stamp")
                if kind == "entry" and isinstance(stamp, Mapping):
                    conn.execute(
                        "UPDATE case_events SET at = ?, hlc = ? WHERE id = ?",
                        [int(stamp["at"]), protocol.check_hlc(stamp["hlc"]), item_id],
                    )
                    out.restamped += 1
                    touched.add(batch.case_of[key])
                if kind == "attachment":
                    upload = r.get("upload") or {}
                    if not upload.get("complete"):
                        row = conn.execute(
                            "SELECT sha256, size FROM attachments WHERE id = ?", [item_id]
                        ).fetchone()
                        if row is not None:
                            queue_blob(conn, row[0], "up", int(row[1]), now)
            else:
                code = str(r.get("code") or "rejected")
                reason = str(r.get("reason") or protocol.REJECT_CODES.get(code, code))
                conn.execute(
                    "INSERT INTO quarantine (entity, entity_id, case_id, code, reason, batch_id,"
                    " quarantined_at, attempts) VALUES (?, ?, ?, ?, ?, ?, ?, 1) "
                    "ON CONFLICT(entity, entity_id) DO UPDATE SET code = excluded.code, "
                    "reason = excluded.reason, batch_id = excluded.batch_id, "
                    "quarantined_at = excluded.quarantined_at, attempts = attempts + 1, "
                    "retrying = 0",
                    [entity, item_id, batch.case_of.get(key), code, reason, batch.batch_id, now],
                )
                out.rejected.append((kind, item_id, code, reason))
        _drop_gone(conn, batch.gone)
        conn.execute("DELETE FROM sync_inflight WHERE batch_id = ?", [batch.batch_id])
        for case_id in touched:
            _reproject(store, conn, case_id)
    return out


def abandon_batch(store: Store, batch: Batch) -> None:
    """Forget the in-flight marker (the server refused the whole request for good); the rows
    stay in the outbox."""
    with store.write() as conn:
        conn.execute("DELETE FROM sync_inflight WHERE batch_id = ?", [batch.batch_id])


def waiting(store: Store) -> dict[str, int]:
    """What is waiting to go: changed records and attachment uploads."""
    changes = store.read("SELECT count(*) FROM (SELECT DISTINCT entity, entity_id FROM outbox)")
    uploads = store.read("SELECT count(*) FROM sync_blobs WHERE direction = 'up'")
    downloads = store.read("SELECT count(*) FROM sync_blobs WHERE direction = 'down'")
    return {
        "changes": int(changes[0][0]),
        "uploads": int(uploads[0][0]),
        "downloads": int(downloads[0][0]),
    }


# -- pull ----------------------------------------------------------------------------------------


@dataclass
class PullOutcome:
    entries: int = 0
    attachments: int = 0
    visits: int = 0
    signoffs: int = 0
    removed: int = 0
    kept: int = 0  # cases that left scope but hold unsent local changes
    problems: list[str] = field(default_factory=list)


def apply_page(
    store: Store,
    items: Sequence[Mapping[str, Any]],
    *,
    new_cursor: int | None = None,
    state_values: Mapping[str, Any] | None = None,
) -> PullOutcome:
    """Merge one pulled page and store the new cursor, in one local transaction."""
    out = PullOutcome()
    entries: list[Entry] = []
    attachments: list[tuple[dict[str, Any], bool]] = []
    visits: list[dict[str, Any]] = []
    signoffs: list[dict[str, Any]] = []
    leaving: list[str] = []
    for item in items:
        kind = item.get("kind")
        try:
            if kind == "entry":
                entries.append(protocol.entry_from_wire(item["entry"]))
            elif kind == "case":
                entries.extend(protocol.entry_from_wire(e) for e in item.get("entries", []))
                attachments.extend(
                    (a["attachment"], bool(a.get("complete"))) for a in item.get("attachments", [])
                )
            elif kind == "attachment":
                attachments.append((item["attachment"], bool(item.get("complete"))))
            elif kind == "visit":
                visits.append(item["visit"])
            elif kind == "signoff":
                signoffs.append(item["signoff"])
            elif kind == "leave":
                leaving.append(str(item["case_id"]))
            # Unknown kinds come from a newer server: ignored, as the protocol says.
        except (KeyError, TypeError, protocol.WireError) as exc:
            out.problems.append(f"ignored a malformed {kind} from the server: {exc}")
    now = store.now()
    with store.write() as conn:
        for e in entries:
            store.hlc.observe(e.hlc)
        if entries:
            before = conn.execute("SELECT count(*) FROM case_events").fetchone()[0]
            store._append(conn, entries, local=False, refused=out.problems)
            out.entries = conn.execute("SELECT count(*) FROM case_events").fetchone()[0] - before
        for wire, complete in attachments:
            try:
                a = protocol.attachment_from_wire(wire)
            except protocol.WireError as exc:
                out.problems.append(f"ignored a malformed attachment from the server: {exc}")
                continue
            cur = conn.execute(
                "INSERT OR IGNORE INTO attachments (id, case_id, entry_id, sha256, name, mime, "
                "size, created_at, local) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                [a.id, a.case_id, a.entry_id, a.sha256, a.name, a.mime, a.size, a.created_at],
            )
            out.attachments += cur.rowcount
            if complete and not blob_exists(store, a.sha256):
                queue_blob(conn, a.sha256, "down", a.size, now)
        for wire in visits:
            try:
                v = protocol.visit_from_wire(wire)
            except protocol.WireError as exc:
                out.problems.append(f"ignored a malformed visit from the server: {exc}")
                continue
            if conn.execute("SELECT 1 FROM grids WHERE code = ?", [v.grid_id]).fetchone() is None:
                out.problems.append(f"visit {v.id} names grid {v.grid_id}, unknown here")
                continue
            columns = fieldwork.VISIT_COLUMNS.split(", ")
            conn.execute(
                f"INSERT INTO visits ({fieldwork.VISIT_COLUMNS}, local) VALUES "
                f"({', '.join('?' * len(columns))}, 0) ON CONFLICT(id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
                + ", local = 0",
                fieldwork.visit_values(v),
            )
            out.visits += 1
        for wire in signoffs:
            try:
                so = protocol.signoff_from_wire(wire)
            except protocol.WireError as exc:
                out.problems.append(f"ignored a malformed ledger sign-off from the server: {exc}")
                continue
            fieldwork.put_signoff(conn, so, local=False)
            out.signoffs += 1
        for case_id in leaving:
            if _has_unsent(conn, case_id):
                out.kept += 1
            elif _remove_case(conn, case_id):
                out.removed += 1
        values = dict(state_values or {})
        if new_cursor is not None:
            values["cursor"] = new_cursor
        if values:
            set_state(store, values, conn)
    return out


def _has_unsent(conn: Any, case_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM case_events e JOIN cases c ON c.rowid = e.case_rowid WHERE c.id = ? AND "
        "(e.id IN (SELECT entity_id FROM outbox WHERE entity = 'case_event') OR "
        "e.id IN (SELECT entity_id FROM quarantine WHERE entity = 'case_event')) LIMIT 1",
        [case_id],
    ).fetchone()
    if row is not None:
        return True
    row = conn.execute(
        "SELECT 1 FROM attachments a WHERE a.case_id = ? AND "
        "(a.id IN (SELECT entity_id FROM outbox WHERE entity = 'attachment') OR "
        "a.id IN (SELECT entity_id FROM quarantine WHERE entity = 'attachment')) LIMIT 1",
        [case_id],
    ).fetchone()
    return row is not None


def _remove_case(conn: Any, case_id: str) -> bool:
    """Remove a case and everything hanging off it from this device."""
    row = conn.execute("SELECT rowid FROM cases WHERE id = ?", [case_id]).fetchone()
    conn.execute("DELETE FROM attachments WHERE case_id = ?", [case_id])
    if row is None:
        return False
    rowid = int(row[0])
    conn.execute("DELETE FROM case_search WHERE rowid = ?", [rowid])
    conn.execute("DELETE FROM case_events WHERE case_rowid = ?", [rowid])
    conn.execute("DELETE FROM case_tasks WHERE case_rowid = ?", [rowid])
    conn.execute("DELETE FROM case_units WHERE case_rowid = ?", [rowid])
    conn.execute("DELETE FROM cases WHERE rowid = ?", [rowid])
    return True


def _reproject(store: Store, conn: Any, case_id: str) -> None:
    """Recompute a case's projection after its timeline changed under sync."""
    rowid = store._case_rowid(conn, case_id)
    entries = store._timeline(conn, case_id)
    if not entries:
        _remove_case(conn, case_id)
        return
    try:
        state_ = project(entries, store.rules)
    except ValueError:
        state_ = None  # no report left: shown as waiting for it
    store._save_projection(conn, case_id, rowid, state_, entries, entries)


# -- reference data ------------------------------------------------------------------------------


def apply_reference(store: Store, body: Mapping[str, Any]) -> dict[str, int]:
    """Store the county's reference data: departments, grids, staff, accounts, taxonomy,
    outlines (all checked before anything is written)."""
    shapes = body.get("shapes")
    outlines = shapes_from_wire(shapes) if shapes is not None else None
    departments = [protocol.department_from_wire(d) for d in body.get("departments", [])]
    grids = [protocol.grid_from_wire(g) for g in body.get("grids", [])]
    known = {d.code for d in store.divisions()}
    grids = [g for g in grids if g.village_code in known]
    staff = [protocol.staff_from_wire(s) for s in body.get("staff", [])]
    grid_codes = {g.code for g in grids} | {g.code for g in store.grids()}
    department_codes = {d.code for d in departments} | {d.code for d in store.departments()}
    staff = [
        s
        for s in staff
        if (s.grid_id is None or s.grid_id in grid_codes)
        and (s.department_code is None or s.department_code in department_codes)
    ]
    accounts = [protocol.account_from_wire(a) for a in body.get("accounts", [])]
    taxonomy = protocol.taxonomy_from_wire(body["taxonomy"]) if body.get("taxonomy") else None
    earlier = []
    for item in body.get("taxonomy_earlier") or []:
        until = item.get("until") if isinstance(item, dict) else None
        if isinstance(until, bool) or not isinstance(until, int):
            raise protocol.WireError("malformed", "an earlier taxonomy needs its `until` time")
        earlier.append((until, protocol.taxonomy_from_wire(item.get("categories"))))
    if departments:
        store.put_departments(departments)
    if grids:
        store.put_grids(grids, synthetic=bool(body.get("synthetic")))
    if staff:
        store.put_staff(staff, synthetic=bool(body.get("synthetic")))
    if accounts:
        store.put_accounts(accounts)
    if taxonomy is not None:
        store.set_taxonomy(taxonomy, earlier=earlier)
    if "assessment_weights" in body:
        _apply_weights(store, body["assessment_weights"])
    versions = {"reference_version": str(body.get("version", ""))}
    if outlines is not None:
        replace_shapes(store, outlines, source=COUNTY_SHAPES)
        versions["geometry_version"] = str(body.get("geometry_version") or "")
    # The versions last: a crash before this line fetches everything again next time.
    set_state(store, versions)
    return {
        "departments": len(departments),
        "grids": len(grids),
        "staff": len(staff),
        "accounts": len(accounts),
        "categories": len(taxonomy) if taxonomy is not None else 0,
    }


#: What ``shapes.source`` says of outlines that came from the county.
COUNTY_SHAPES = "county"


def shapes_from_wire(items: Any) -> list[tuple[Outline, bool]]:
    """The county's outlines from the reference answer, checked: (outline, synthetic) pairs."""
    if not isinstance(items, list):
        raise protocol.WireError("malformed", "`shapes` is not a list")
    out: list[tuple[Outline, bool]] = []
    for item in items:
        if not isinstance(item, dict):
            raise protocol.WireError("malformed", "an outline is not a JSON object")
        code, kind, name, text = (item.get(k) for k in ("code", "kind", "name", "geojson"))
        if not (isinstance(code, str) and isinstance(name, str) and isinstance(text, str)):
            raise protocol.WireError("malformed", "an outline needs code, name and geojson text")
        if kind not in GEO_KINDS:
            raise protocol.WireError("malformed", f"outline {code}: unknown kind {kind!r}")
        try:
            geometry = polygonal(from_geojson(text))
        except ShapeError as exc:
            raise protocol.WireError("malformed", f"outline {code}: {exc}") from None
        out.append((Outline(code, name, geometry, str(kind)), bool(item.get("synthetic"))))
    return out


def _apply_weights(store: Store, weights: Any) -> None:
    """Keep the county's 考核 scheme as sent (null: the county set none, defaults apply).

    Kept even when unusable, so that the 统计 page says what is wrong with the county's setting
    (and scores with the defaults) instead of silently using an older scheme."""
    with store.write() as conn:
        if weights is None:
            conn.execute("DELETE FROM meta WHERE key = 'assessment_weights'")
        else:
            text = json.dumps(weights, ensure_ascii=False, sort_keys=True)
            store.set_meta({"assessment_weights": text}, conn)


# -- quarantine ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarantined:
    """A record the county refused, waiting for a person: retry it or discard it."""

    entity: str  # case_event | attachment | visit
    entity_id: str
    case_id: str | None
    code: str
    reason: str
    quarantined_at: Millis
    attempts: int
    summary: str


def quarantined(store: Store) -> list[Quarantined]:
    rows = store.read(
        "SELECT q.entity, q.entity_id, q.case_id, q.code, q.reason, q.quarantined_at, "
        "q.attempts, e.action, c.title, c.case_no FROM quarantine q "
        "LEFT JOIN case_events e ON q.entity = 'case_event' AND e.id = q.entity_id "
        "LEFT JOIN cases c ON c.id = q.case_id WHERE q.retrying = 0 "
        "ORDER BY q.quarantined_at, q.entity_id"
    )
    out = []
    for r in rows:
        if r[0] == "case_event":
            summary = f"{r[7] or '?'} · {r[9] or ''} {r[8] or ''}".strip()
        else:
            summary = f"{r[0]} {r[1]}"
        out.append(Quarantined(r[0], r[1], r[2], r[3], r[4], r[5], r[6], summary))
    return out


def _related(conn: Any, entity: str, entity_id: str) -> list[tuple[str, str]]:
    """The quarantined records that stand or fall with this one: everything quarantined on the
    same case (entries after a refused report are refused because of it), in creation order."""
    row = conn.execute(
        "SELECT case_id FROM quarantine WHERE entity = ? AND entity_id = ?", [entity, entity_id]
    ).fetchone()
    if row is None:
        raise KeyError(f"{entity} {entity_id} is not in quarantine")
    case_id = row[0]
    if case_id is None:
        return [(entity, entity_id)]
    # Rows already being retried are in the outbox again; they are not sent twice.
    entries = conn.execute(
        "SELECT q.entity, q.entity_id FROM quarantine q JOIN case_events e ON e.id = q.entity_id "
        "WHERE q.case_id = ? AND q.entity = 'case_event' AND q.retrying = 0 ORDER BY e.seq",
        [case_id],
    ).fetchall()
    others = conn.execute(
        "SELECT entity, entity_id FROM quarantine WHERE case_id = ? AND entity != 'case_event' "
        "AND retrying = 0 ORDER BY entity_id",
        [case_id],
    ).fetchall()
    return [(r[0], r[1]) for r in [*entries, *others]]


def retry(store: Store, entity: str, entity_id: str) -> int:
    """Send a quarantined record again (with those on the same case); returns how many.

    The quarantine row stays (marked as retrying) so a second refusal counts its attempts."""
    with store.write() as conn:
        related = _related(conn, entity, entity_id)
        for ent, eid in related:
            conn.execute(
                "UPDATE quarantine SET retrying = 1 WHERE entity = ? AND entity_id = ?", [ent, eid]
            )
            conn.execute("INSERT INTO outbox (entity, entity_id) VALUES (?, ?)", [ent, eid])
    return len(related)


def discard(store: Store, entity: str, entity_id: str) -> int:
    """Give up a quarantined record for good: it is removed from this device. Discarding a
    refused report removes its case (nothing of it ever reached the county). Returns how many
    records went."""
    removed = 0
    with store.write() as conn:
        related = _related(conn, entity, entity_id)
        if entity == "case_event":
            row = conn.execute(
                "SELECT e.action, c.id FROM case_events e JOIN cases c ON c.rowid = e.case_rowid "
                "WHERE e.id = ?",
                [entity_id],
            ).fetchone()
            if row is not None and Action(row[0]) in OPENING and not _known_remotely(conn, row[1]):
                removed = _discard_case(conn, row[1])
                return removed
        targets = related if _is_root(conn, entity, entity_id) else [(entity, entity_id)]
        cases: set[str] = set()
        for ent, eid in targets:
            conn.execute("DELETE FROM quarantine WHERE entity = ? AND entity_id = ?", [ent, eid])
            conn.execute("DELETE FROM outbox WHERE entity = ? AND entity_id = ?", [ent, eid])
            if ent == "case_event":
                row = conn.execute(
                    "SELECT c.id FROM case_events e JOIN cases c ON c.rowid = e.case_rowid "
                    "WHERE e.id = ?",
                    [eid],
                ).fetchone()
                conn.execute("DELETE FROM case_events WHERE id = ?", [eid])
                if row is not None:
                    cases.add(row[0])
            elif ent == "attachment":
                sha = conn.execute("SELECT sha256 FROM attachments WHERE id = ?", [eid]).fetchone()
                conn.execute("DELETE FROM attachments WHERE id = ?", [eid])
                if sha is not None:
                    conn.execute(
                        "DELETE FROM sync_blobs WHERE sha256 = ? AND direction = 'up'", [sha[0]]
                    )
            elif ent == "visit":
                conn.execute("DELETE FROM visits WHERE id = ?", [eid])
            elif ent == "signoff":
                conn.execute("DELETE FROM ledger_signoffs WHERE id = ?", [eid])
            removed += 1
        for case_id in cases:
            _reproject(store, conn, case_id)
    return removed


def _is_root(conn: Any, entity: str, entity_id: str) -> bool:
    """Only an opening entry carries its dependants with it."""
    if entity != "case_event":
        return False
    row = conn.execute("SELECT action FROM case_events WHERE id = ?", [entity_id]).fetchone()
    return row is not None and Action(row[0]) in OPENING


def _known_remotely(conn: Any, case_id: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM case_events e JOIN cases c ON c.rowid = e.case_rowid "
        "WHERE c.id = ? AND e.local = 0 LIMIT 1",
        [case_id],
    ).fetchone()
    return row is not None


def _discard_case(conn: Any, case_id: str) -> int:
    ids = [
        r[0]
        for r in conn.execute(
            "SELECT e.id FROM case_events e JOIN cases c ON c.rowid = e.case_rowid WHERE c.id = ?",
            [case_id],
        ).fetchall()
    ]
    attachment_ids = [
        r[0] for r in conn.execute("SELECT id FROM attachments WHERE case_id = ?", [case_id])
    ]
    for eid in ids:
        conn.execute("DELETE FROM outbox WHERE entity = 'case_event' AND entity_id = ?", [eid])
    for aid in attachment_ids:
        conn.execute("DELETE FROM outbox WHERE entity = 'attachment' AND entity_id = ?", [aid])
    conn.execute("DELETE FROM quarantine WHERE case_id = ?", [case_id])
    _remove_case(conn, case_id)
    return len(ids) + len(attachment_ids)


# -- conflicts -----------------------------------------------------------------------------------


def conflicts(store: Store) -> list[dict[str, Any]]:
    """Cases whose merged timeline holds workflow or field conflicts, with both sides."""
    out = []
    for case_id, case_no, title in store.read(
        "SELECT id, case_no, title FROM cases WHERE conflicts > 0 ORDER BY updated_at DESC"
    ):
        state_ = store.case(case_id)
        if state_ is None:
            out.append(
                {
                    "case_id": case_id,
                    "case_no": case_no,
                    "title": title,
                    "workflow": [],
                    "fields": [],
                    "waiting_for_report": True,
                }
            )
            continue
        out.append(
            {
                "case_id": case_id,
                "case_no": case_no,
                "title": title,
                "workflow": [
                    {"entry_id": c.entry_id, "action": c.action.value, "reason": c.reason}
                    for c in state_.conflicts
                ],
                "fields": [
                    {
                        "field": c.field,
                        "winner_entry": c.winner_entry,
                        "winner_value": c.winner_value,
                        "loser_entry": c.loser_entry,
                        "loser_value": c.loser_value,
                    }
                    for c in state_.field_conflicts
                ],
                "waiting_for_report": False,
            }
        )
    return out


# -- drift ---------------------------------------------------------------------------------------


def checksums(store: Store) -> dict[str, tuple[int, int]]:
    """Per village, (count, sum of item hashes) of the timeline entries this device holds in
    common with the county: everything except what is still waiting to go or quarantined."""
    rows = store.read(
        "SELECT coalesce(c.village_code, ''), e.id FROM case_events e "
        "JOIN cases c ON c.rowid = e.case_rowid "
        "WHERE e.id NOT IN (SELECT entity_id FROM outbox WHERE entity = 'case_event') "
        "AND e.id NOT IN (SELECT entity_id FROM quarantine WHERE entity = 'case_event')"
    )
    sums: dict[str, list[int]] = {}
    for village, entry_id in rows:
        acc = sums.setdefault(village, [0, 0])
        acc[0] += 1
        acc[1] += protocol.item_hash(entry_id)
    return {k: (v[0], v[1]) for k, v in sums.items()}


def drifted(local: Mapping[str, tuple[int, int]], remote: Mapping[str, Any]) -> list[str]:
    """Villages whose checksums differ between this device and the county."""
    out = []
    for village in sorted(set(local) | set(remote)):
        theirs = remote.get(village)
        mine = local.get(village, (0, 0))
        theirs_t = (int(theirs[0]), int(theirs[1])) if theirs else (0, 0)
        if mine != theirs_t:
            out.append(village)
    return out


def prune_village(store: Store, village: str, present: set[str]) -> int:
    """After a village was pulled again in full: remove cases the county no longer shows this
    device there (left scope while we missed it), unless they hold unsent changes."""
    if village:
        rows = store.read("SELECT id FROM cases WHERE village_code = ?", [village])
    else:
        rows = store.read("SELECT id FROM cases WHERE village_code IS NULL OR village_code = ''")
    removed = 0
    with store.write() as conn:
        for (case_id,) in rows:
            if case_id in present or _has_unsent(conn, case_id):
                continue
            if _remove_case(conn, case_id):
                removed += 1
    return removed


def requeue_missing(store: Store, village: str, server_ids: set[str]) -> int:
    """Queue again this device's own entries of a village that the county lacks (e.g. after a
    backup was restored on either side); the county ignores any it turns out to have."""
    clause = "c.village_code = ?" if village else "(c.village_code IS NULL OR c.village_code = '')"
    args = [village] if village else []
    with store.write() as conn:
        rows = conn.execute(
            "SELECT e.id FROM case_events e JOIN cases c ON c.rowid = e.case_rowid "
            f"WHERE {clause} AND e.local = 1 "
            "AND e.id NOT IN (SELECT entity_id FROM outbox WHERE entity = 'case_event') "
            "AND e.id NOT IN (SELECT entity_id FROM quarantine WHERE entity = 'case_event') "
            "ORDER BY e.seq",
            args,
        ).fetchall()
        missing = [(r[0],) for r in rows if r[0] not in server_ids]
        conn.executemany("INSERT INTO outbox (entity, entity_id) VALUES ('case_event', ?)", missing)
    return len(missing)


# -- attachment files ----------------------------------------------------------------------------


def blob_path(store: Store, sha256: str) -> Path:
    """Where attachment bytes live (the attachments module's content-addressed folder)."""
    return attachments.blob_path(store, sha256)


def blob_exists(store: Store, sha256: str) -> bool:
    """Whether the file of an attachment is here (plain or encrypted)."""
    return attachments.blob_exists(store, sha256)


def queue_blob(conn: Any, sha256: str, direction: str, size: int, now: Millis) -> None:
    conn.execute(
        "INSERT OR IGNORE INTO sync_blobs (sha256, direction, size, queued_at) VALUES (?, ?, ?, ?)",
        [sha256, direction, size, now],
    )


def pending_blobs(store: Store, direction: str) -> list[tuple[str, int]]:
    return [
        (r[0], int(r[1]))
        for r in store.read(
            "SELECT sha256, size FROM sync_blobs WHERE direction = ? ORDER BY queued_at, sha256",
            [direction],
        )
    ]


def blob_done(store: Store, sha256: str, direction: str) -> None:
    with store.write() as conn:
        conn.execute(
            "DELETE FROM sync_blobs WHERE sha256 = ? AND direction = ?", [sha256, direction]
        )


def blob_failed(store: Store, sha256: str, direction: str, error: str) -> None:
    with store.write() as conn:
        conn.execute(
            "UPDATE sync_blobs SET last_error = ? WHERE sha256 = ? AND direction = ?",
            [error, sha256, direction],
        )


# -- history -------------------------------------------------------------------------------------


def record_run(
    store: Store, *, started_at: Millis, status: str, summary: Mapping[str, Any]
) -> None:
    """Remember one sync run (the sync page lists them), and the state the status line shows."""
    now = store.now()
    values: dict[str, Any] = {"last_attempt": now}
    if status in ("ok", "partial"):
        values.update(last_success=now, last_error="", last_error_code="", online="1")
    else:
        values.update(
            last_error=summary.get("error") or status,
            last_error_code=summary.get("error_code") or "",
            online="1" if summary.get("reached_server") else "0",
        )
    with store.write() as conn:
        conn.execute(
            "INSERT INTO sync_history (started_at, finished_at, status, summary) "
            "VALUES (?, ?, ?, ?)",
            [started_at, now, status, json.dumps(summary, ensure_ascii=False, sort_keys=True)],
        )
        conn.execute(
            "DELETE FROM sync_history WHERE id <= (SELECT max(id) FROM sync_history) - ?",
            [HISTORY_KEEP],
        )
        set_state(store, values, conn)
        if status in ("ok", "partial"):
            # The desktop's status bar reads the last success from meta.
            store.set_meta({"last_sync_at": str(now)}, conn)


def history(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    rows = store.read(
        "SELECT started_at, finished_at, status, summary FROM sync_history "
        "ORDER BY id DESC LIMIT ?",
        [limit],
    )
    return [
        {"started_at": r[0], "finished_at": r[1], "status": r[2], "summary": json.loads(r[3])}
        for r in rows
    ]


# -- what waits to go (for the sync page) --------------------------------------------------------


def outbox_items(store: Store, limit: int = 500) -> list[dict[str, Any]]:
    """What waits to go, oldest first, one row per record (a record changed twice waits once),
    with what a person needs to recognise it: the case number and title, the step's action,
    the photo's name, the visit's household. At most ``limit`` rows (see :func:`waiting` for
    the count)."""
    rows = store.read(
        "SELECT o.entity, o.entity_id, min(o.created_at) AS queued, "
        "coalesce(ce.id, ca.id) AS case_id, coalesce(ce.case_no, ca.case_no) AS case_no, "
        "coalesce(ce.title, ca.title) AS title, e.action, e.actor, a.name, "
        "v.kind, v.household, v.at "
        "FROM outbox o "
        "LEFT JOIN case_events e ON o.entity = 'case_event' AND e.id = o.entity_id "
        "LEFT JOIN cases ce ON ce.rowid = e.case_rowid "
        "LEFT JOIN attachments a ON o.entity = 'attachment' AND a.id = o.entity_id "
        "LEFT JOIN cases ca ON ca.id = a.case_id "
        "LEFT JOIN visits v ON o.entity = 'visit' AND v.id = o.entity_id "
        "GROUP BY o.entity, o.entity_id ORDER BY min(o.seq) LIMIT ?",
        [limit],
    )
    keys = (
        "entity",
        "entity_id",
        "queued_at",
        "case_id",
        "case_no",
        "title",
        "action",
        "actor",
        "name",
        "visit_kind",
        "household",
        "visit_at",
    )
    return [dict(zip(keys, r, strict=True)) for r in rows]
