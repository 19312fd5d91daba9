"""Pushes: each record judged on its own (wire form, actor, role, scope, place), the batch
applied in one transaction with its answer stored under its idempotency key, and the changes
recorded for everyone whose scope they meet.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from .. import protocol
from ..model import scope
from ..model.clock import HlcStamp, Millis
from ..model.records import (
    AssigneeKind,
    Entry,
)
from ..model.workflow import OPENING, ROLES, CaseState, check, project
from . import accounts as acc
from . import files
from .core import (
    ApiError,
    CaseWork,
    CountyBase,
    Reject,
    Session,
    article,
    entry_from_row,
    json_text,
    same_but_stamp,
    township_from_keys,
)
from .db import Tx

#: One line per push at INFO (not shown at the default level): what it cost, for the benchmark.
stats_log = logging.getLogger("gridroom.county.push")

#: How long the answers of applied batches are kept for replays.
BATCH_KEEP_MS = 30 * 24 * 3600_000


def _plain(result: Mapping[str, Any]) -> bool:
    """A result that only says "applied, as sent": left out of a quiet answer."""
    return result.get("status") == "applied" and "stamp" not in result and "upload" not in result


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value)


def _chunks(values: list[str], size: int = 500) -> list[list[str]]:
    """IN lists of at most ``size`` values (SQLite caps a statement's parameters)."""
    return [values[i : i + size] for i in range(0, len(values), size)]


@dataclasses.dataclass
class _Plan:
    """What a batch's entries write, judged before the writers' lock is taken; change
    numbers are local (0, 1, …) until :meth:`PushMixin._write_plan` reserves them."""

    #: the change number the county had reached when judging began
    head: int
    #: the version of the reference data the entries were judged against
    ref_version: str = ""
    results: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    entry_ids: list[str] = dataclasses.field(default_factory=list)
    #: entries of this batch the county already holds, by id
    stored: dict[str, Entry] = dataclasses.field(default_factory=dict)
    #: entries this batch applies, by id, and their local numbers
    pending: dict[str, Entry] = dataclasses.field(default_factory=dict)
    numbers: dict[str, int] = dataclasses.field(default_factory=dict)
    entries: list[tuple[Entry, int]] = dataclasses.field(default_factory=list)
    #: (existed, case id, row values with a local number last)
    case_rows: list[tuple[bool, str, list[Any]]] = dataclasses.field(default_factory=list)
    case_keys: dict[str, set[str]] = dataclasses.field(default_factory=dict)
    #: (local number, kind, ref, keys)
    changes: list[tuple[int, str, str, set[str]]] = dataclasses.field(default_factory=list)
    #: every case whose stored state the judgement read
    read_cases: set[str] = dataclasses.field(default_factory=set)
    accounts: dict[str, acc.Account | None] = dataclasses.field(default_factory=dict)
    on_device: dict[str, bool] = dataclasses.field(default_factory=dict)
    received_at: int = 0
    count: int = 0

    def take(self) -> int:
        self.count += 1
        return self.count - 1


class PushMixin(CountyBase):
    """Applying push batches (part of :class:`~sync.county.service.County`)."""

    def push(
        self,
        session: Session,
        batch: Mapping[str, Any],
        *,
        server_now: Millis,
        device_offset: int = 0,
    ) -> dict[str, Any]:
        """Apply one push batch in one transaction; a replayed batch gets its first answer."""
        if not isinstance(batch, Mapping):
            raise ApiError("bad_request", "push must be a JSON object")
        batch_id = batch.get("batch_id")
        if not isinstance(batch_id, str) or not protocol._ID.match(batch_id):
            raise ApiError("bad_request", "a push needs a batch_id (its idempotency key)")
        lists = {}
        for name in ("entries", "attachments", "visits", "signoffs"):
            items = batch.get(name) or []
            if not isinstance(items, list):
                raise ApiError("bad_request", f"push.{name} must be a list")
            lists[name] = items
        if sum(len(v) for v in lists.values()) > protocol.PUSH_ITEMS_MAX:
            raise ApiError("too_large", f"a push carries at most {protocol.PUSH_ITEMS_MAX} items")
        started = time.monotonic()
        # Not ordered: the entries are judged before the writers' lock is taken (see _plan), so
        # pushes of different townships judge at the same time and queue only to write.
        with self.db.write(ordered=False) as tx:
            replay = self._stored_answer(tx, session, batch_id)
            if replay is not None:
                return replay
            version, ref = self._reference(tx)
            plan = self._plan(tx, session, lists["entries"], ref, server_now, device_offset)
            plan.ref_version = version
            rejudged = False
            # The writers' lock (the counter row), held from here to the commit: the change
            # numbers commit in the order they were taken, so a pull never passes a change that
            # commits a moment later with a lower number.
            tx.lock_seq()
            if tx.dialect != "sqlite":
                # SQLite took the write lock at BEGIN: nothing could change under the plan.
                replay = self._stored_answer(tx, session, batch_id)
                if replay is not None:
                    return replay
                if self._stale(tx, plan):
                    rejudged = True
                    version, ref = self._reference(tx)  # it may be what changed
                    plan = self._plan(tx, session, lists["entries"], ref, server_now, device_offset)
                    plan.ref_version = version
            self._write_plan(tx, session, plan)
            results: list[dict[str, Any]] = list(plan.results)
            # Visits before attachments: a visit's photos name the visit of the same batch.
            for raw in lists["visits"]:
                results.append(self._push_visit(tx, session, raw, ref))
            for raw in lists["attachments"]:
                results.append(self._push_attachment(tx, session, raw))
            for raw in lists["signoffs"]:
                results.append(self._push_signoff(tx, session, raw, ref))
            answer: dict[str, Any] = {"batch_id": batch_id, "results": results}
            if batch.get("quiet") is True:
                # Only what the device must act on: on a 2G downlink, 1,000 "applied" lines
                # are ~20 kB (1.4 s) that say nothing an absent line does not.
                answer = {
                    "batch_id": batch_id,
                    "quiet": True,
                    "applied": sum(1 for r in results if _plain(r)),
                    "results": [r for r in results if not _plain(r)],
                }
            tx.execute(
                "INSERT INTO batches (device_id, batch_id, response, created_at) "
                "VALUES (?, ?, ?, ?)",
                [session.device.id, batch_id, json_text(answer), server_now],
            )
            tx.execute(
                "DELETE FROM batches WHERE device_id = ? AND created_at < ?",
                [session.device.id, server_now - BATCH_KEEP_MS],
            )
        stats_log.info(
            "county push: items=%d statements=%d calls=%d ms=%d rejudged=%d",
            sum(len(v) for v in lists.values()),
            tx.statements,
            tx.calls,
            round((time.monotonic() - started) * 1000),
            rejudged,
        )
        return answer

    @staticmethod
    def _stored_answer(tx: Tx, session: Session, batch_id: str) -> dict[str, Any] | None:
        stored = tx.scalar(
            "SELECT response FROM batches WHERE device_id = ? AND batch_id = ?",
            [session.device.id, batch_id],
        )
        if stored is None:
            return None
        answer = json.loads(str(stored))
        answer["replayed"] = True
        return dict(answer)

    # -- judging a batch's entries (reads only) ----------------------------------------------------

    def _plan(
        self,
        tx: Tx,
        session: Session,
        raws: list[Any],
        ref: scope.Reference,
        server_now: Millis,
        device_offset: int,
    ) -> _Plan:
        """Judge every entry of a batch and work out what it writes, reading in sets (the
        entries, cases and keys the batch names, each in one query) and writing nothing:
        the change numbers are local (0, 1, …) until :meth:`_write_plan` reserves them."""
        plan = _Plan(head=int(tx.scalar("SELECT value FROM counters WHERE name = 'seq'") or 0))
        plan.received_at = server_now
        ids = sorted({str(r["id"]) for r in raws if isinstance(r, Mapping) and _text(r.get("id"))})
        case_ids = sorted(
            {str(r["case_id"]) for r in raws if isinstance(r, Mapping) and _text(r.get("case_id"))}
        )
        plan.entry_ids = ids
        for part in _chunks(ids):
            for row in tx.rows(
                "SELECT id, case_id, action, actor_id, role, at, hlc, payload FROM entries "
                f"WHERE id IN ({tx.marks(len(part))})",
                part,
            ):
                plan.stored[str(row[0])] = entry_from_row(row)
        cases: dict[str, CaseWork] = {}
        self._load_cases(tx, case_ids, cases, plan)
        stamps: dict[str, str] = {}
        for raw in raws:
            plan.results.append(
                self._push_entry(
                    tx, session, raw, cases, ref, server_now, device_offset, stamps, plan
                )
            )
        self._settle_cases(tx, session, cases, ref, plan)
        return plan

    def _load_cases(
        self, tx: Tx, case_ids: list[str], cases: dict[str, CaseWork], plan: _Plan
    ) -> None:
        """The cases a batch names that the county has, with their keys: two queries."""
        plan.read_cases.update(case_ids)
        for part in _chunks(case_ids):
            marks = tx.marks(len(part))
            for case_id, level in tx.rows(
                f"SELECT id, level FROM cases WHERE id IN ({marks})", part
            ):
                cases[str(case_id)] = CaseWork(
                    str(case_id), True, set(), level=None if level is None else int(level)
                )
            for case_id, key in tx.rows(
                f"SELECT case_id, key FROM case_keys WHERE case_id IN ({marks})", part
            ):
                if str(case_id) in cases:
                    cases[str(case_id)].keys.add(str(key))

    def _stale(self, tx: Tx, plan: _Plan) -> bool:
        """Whether a push that committed while this one was judged touched what it read: an
        entry of a case it read, one of its own entry ids, or the reference data. Then it is
        judged again, under the lock (rare: devices of one township seldom touch one case at
        the same moment)."""
        if self._reference_version(tx) != plan.ref_version:
            return True
        if int(tx.scalar("SELECT value FROM counters WHERE name = 'seq'") or 0) == plan.head:
            return False
        cases = sorted(plan.read_cases)
        for part in _chunks(cases):
            if tx.scalar(
                f"SELECT 1 FROM entries WHERE seq > ? AND case_id IN ({tx.marks(len(part))}) "
                "LIMIT 1",
                [plan.head, *part],
            ):
                return True
        for part in _chunks(plan.entry_ids):
            if tx.scalar(
                f"SELECT 1 FROM entries WHERE seq > ? AND id IN ({tx.marks(len(part))}) LIMIT 1",
                [plan.head, *part],
            ):
                return True
        return False

    def _write_plan(self, tx: Tx, session: Session, plan: _Plan) -> None:
        """Reserve the plan's change numbers (the lock is held) and write it, a statement per
        table with all its rows (psycopg pipelines them: one round trip per table)."""
        if not plan.count:
            return
        base = tx.next_seq(plan.count)
        for r in plan.results:
            if "seq" in r:
                r["seq"] += base
        tx.executemany(
            "INSERT INTO entries (id, case_id, action, actor_id, role, at, hlc, payload, "
            "device_id, h, seq, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    e.id,
                    e.case_id,
                    e.action.value,
                    e.actor_id,
                    e.role.value,
                    e.at,
                    e.hlc,
                    json_text(e.payload),
                    session.device.id,
                    protocol.item_hash(e.id),
                    base + n,
                    plan.received_at,
                ]
                for e, n in plan.entries
            ],
        )
        updated = [(case_id, values) for existed, case_id, values in plan.case_rows if existed]
        added = [(case_id, values) for existed, case_id, values in plan.case_rows if not existed]
        tx.executemany(
            "UPDATE cases SET county_code = ?, township_code = ?, village_code = ?, "
            "grid_code = ?, case_no = ?, title = ?, status = ?, level = ?, conflicts = ?,"
            " reported_at = ?, updated_seq = ? WHERE id = ?",
            [[*values[:-1], base + values[-1], case_id] for case_id, values in updated],
        )
        tx.executemany(
            "INSERT INTO cases (county_code, township_code, village_code, grid_code, "
            "case_no, title, status, level, conflicts, reported_at, updated_seq, id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[*values[:-1], base + values[-1], case_id] for case_id, values in added],
        )
        tx.executemany(
            "DELETE FROM case_keys WHERE case_id = ?", [[case_id] for case_id, _ in updated]
        )
        tx.executemany(
            "INSERT INTO case_keys (case_id, key) VALUES (?, ?)",
            [(case_id, k) for case_id, keys in plan.case_keys.items() for k in sorted(keys)],
        )
        tx.executemany(
            "INSERT INTO changes (seq, kind, ref, origin) VALUES (?, ?, ?, ?)",
            [(base + n, kind, ref, session.device.id) for n, kind, ref, _ in plan.changes],
        )
        tx.executemany(
            "INSERT INTO change_keys (key, seq) VALUES (?, ?)",
            [(k, base + n) for n, _, _, keys in plan.changes for k in sorted(keys)],
        )

    def _push_entry(
        self,
        tx: Tx,
        session: Session,
        raw: Any,
        cases: dict[str, CaseWork],
        ref: scope.Reference,
        server_now: Millis,
        device_offset: int,
        stamps: dict[str, str],
        plan: _Plan,
    ) -> dict[str, Any]:
        item_id = raw.get("id") if isinstance(raw, Mapping) else None
        result: dict[str, Any] = {"kind": "entry", "id": str(item_id)}
        try:
            try:
                e = protocol.entry_from_wire(raw)
            except protocol.WireError as exc:
                raise Reject("malformed", exc.message) from None
            existing = plan.stored.get(e.id) or plan.pending.get(e.id)
            if existing is not None:
                if protocol.same_entry(existing, e) or same_but_stamp(existing, e):
                    result["status"] = "duplicate"
                    if existing.hlc != e.hlc or existing.at != e.at:
                        result["stamp"] = {"at": existing.at, "hlc": existing.hlc}
                    return result
                raise Reject("id_clash", "another entry with this id already exists")
            actor = self._actor(tx, session, e, plan)
            try:
                actor_keys = acc.scope_keys(actor, session.device.township)
            except acc.ScopeError as exc:
                raise Reject("out_of_scope", str(exc)) from None
            case = cases.get(e.case_id)
            view = None if case is None else self._view(tx, case)
            refusal = scope.check_entry(
                view,
                e.action,
                actor.actor(),
                e.payload,
                ref=ref,
                mine=actor_keys,
                device_keys=session.keys,
                visible=lambda other: self._visible(
                    tx, other, session.keys, actor_keys, cases, plan
                ),
            )
            if refusal is not None:
                raise Reject(refusal.code, refusal.reason)
            if e.action in OPENING:
                reason = check(None, e.action, actor.actor(), e.payload, at=e.at, rules=self.rules)
                if reason is not None:
                    raise Reject("invalid", f"the report cannot open a case: {reason}")
                case = CaseWork(e.case_id, False, set())
                cases[e.case_id] = case
            assert case is not None
            stamper = HlcStamp.decode(e.hlc).device
            clamped = protocol.clamp_stamp(
                e.at,
                e.hlc,
                server_now=server_now,
                device_offset=device_offset,
                after=stamps.get(stamper),
            )
            if clamped is not None:
                e = dataclasses.replace(e, at=clamped[0], hlc=clamped[1])
                result["stamp"] = {"at": e.at, "hlc": e.hlc}
            number = plan.take()
            plan.entries.append((e, number))
            plan.pending[e.id] = e
            plan.numbers[e.id] = number
            stamps[stamper] = max(e.hlc, stamps.get(stamper, e.hlc))
            case.new.append(e)
            case.state = None  # projected again when a later entry of the batch needs it
            if e.action in OPENING and not case.existed:
                # Known for scope checks of the entries that follow in this batch.
                place = self._place(ref, e.payload)
                case.keys = acc.place_keys(place[0], {place[2] or ""})
            result["status"] = "applied"
            result["seq"] = number  # local until the numbers are reserved
        except Reject as rej:
            result.update(status="rejected", code=rej.code, reason=rej.reason)
        return result

    def _actor(self, tx: Tx, session: Session, e: Entry, plan: _Plan) -> acc.Account:
        """The account an entry names, if this device may speak for it and its role fits
        (each account looked up once per batch)."""
        if e.actor_id not in plan.accounts:
            plan.accounts[e.actor_id] = acc.load_account(tx, account_id=e.actor_id)
        actor = plan.accounts[e.actor_id]
        if actor is None:
            raise Reject("unknown_actor", f"no county account has the id {e.actor_id}")
        if actor.disabled:
            raise Reject("actor_disabled", f"the account {actor.login} has been disabled")
        if actor.role != e.role:
            raise Reject(
                "role_mismatch",
                f"the entry says {actor.login} acted as {e.role.value}, but the account is a "
                f"{actor.role.value}",
            )
        if actor.role not in ROLES[e.action]:
            raise Reject(
                "role_not_allowed",
                f"{article(actor.role.value)} {actor.role.value} may not "
                f"{e.action.value.replace('_', ' ')} a case",
            )
        if actor.id != session.account.id and actor.id not in plan.on_device:
            plan.on_device[actor.id] = bool(
                tx.scalar(
                    "SELECT 1 FROM device_accounts WHERE device_id = ? AND account_id = ?",
                    [session.device.id, actor.id],
                )
            )
        if actor.id != session.account.id and not plan.on_device[actor.id]:
            raise Reject(
                "actor_not_on_device",
                f"{actor.login} never signed in on this device; entries in their name are not "
                "accepted from it",
            )
        return actor

    def _reference(self, tx: Tx) -> tuple[str, scope.Reference]:
        """The county's places and departments and their version, loaded once per version of
        the reference data (a push asks once, not per entry): the names in every pushed entry
        are checked against it."""
        version = self._reference_version(tx)
        cached = getattr(self, "_reference_cache", None)
        if cached is None or cached[0] != version:
            villages = {
                str(r[0]): str(r[1])
                for r in tx.rows("SELECT code, parent_code FROM divisions WHERE level = 'village'")
            }
            townships = frozenset(
                str(r[0]) for r in tx.rows("SELECT code FROM divisions WHERE level = 'township'")
            )
            grids = {str(r[0]): str(r[1]) for r in tx.rows("SELECT code, village_code FROM grids")}
            departments = frozenset(str(r[0]) for r in tx.rows("SELECT code FROM departments"))
            county_departments = frozenset(
                str(r[0]) for r in tx.rows("SELECT code FROM departments WHERE level = 'county'")
            )
            cached = (
                version,
                scope.Reference(grids, villages, townships, departments, county_departments),
            )
            self._reference_cache = cached
        return cached

    @staticmethod
    def _reference_version(tx: Tx) -> str:
        return str(tx.scalar("SELECT value FROM counters WHERE name = 'reference'", default=0))

    def _view(self, tx: Tx, case: CaseWork) -> scope.CaseView:
        """The case as the scope check sees it: its keys now, its state only if a rule asks."""

        def state() -> CaseState | None:
            if case.state is None:
                case.state = self._project(tx, case.id, case.new)
            return case.state

        def entry_ids() -> list[str]:
            stored = tx.rows("SELECT id FROM entries WHERE case_id = ?", [case.id])
            return [str(r[0]) for r in stored] + [e.id for e in case.new]

        # The stored level is current only while the batch has added nothing to the case.
        level = case.level if not case.new else None
        return scope.CaseView(case.keys, state, entry_ids, level)

    def _visible(
        self,
        tx: Tx,
        case_id: str,
        device_keys: frozenset[str],
        actor_keys: frozenset[str],
        cases: dict[str, CaseWork],
        plan: _Plan,
    ) -> bool:
        """Whether another case named in an entry (a merge's ``into``) is within reach."""
        plan.read_cases.add(case_id)
        other = cases.get(case_id)
        keys = (
            other.keys
            if other is not None
            else {
                str(r[0]) for r in tx.rows("SELECT key FROM case_keys WHERE case_id = ?", [case_id])
            }
        )
        return bool(keys & device_keys) and bool(keys & actor_keys)

    @staticmethod
    def _place(
        ref: scope.Reference, fields: Mapping[str, Any]
    ) -> tuple[str, str | None, str | None]:
        """(township, village, grid) of a case's place, checked against the county's data."""
        place = ref.place(fields)
        if isinstance(place, scope.Refusal):
            raise Reject(place.code, place.reason)
        return place.township, place.village, place.grid

    def _settle_cases(
        self,
        tx: Tx,
        session: Session,
        cases: dict[str, CaseWork],
        ref: scope.Reference,
        plan: _Plan,
    ) -> None:
        """Re-project every case the batch touched; plan its row, keys and the changes for
        pull. The stored timelines of the cases that existed come in one query."""
        touched = [c for c in cases.values() if c.new]
        stored: dict[str, list[Entry]] = {c.id: [] for c in touched if c.existed}
        for part in _chunks(sorted(stored)):
            for row in tx.rows(
                "SELECT id, case_id, action, actor_id, role, at, hlc, payload FROM entries "
                f"WHERE case_id IN ({tx.marks(len(part))}) ORDER BY seq",
                part,
            ):
                stored[str(row[1])].append(entry_from_row(row))
        for case in touched:
            # The county's order: the stored entries by number, then this batch's (numbered
            # after them); only the first report counts.
            timeline = scope.one_report([*stored.get(case.id, []), *case.new])
            try:
                state = project(timeline, self.rules)
            except ValueError:  # pragma: no cover - openings are validated before insertion
                continue
            fields = state.fields
            try:
                township, village, grid = self._place(ref, fields)
            except Reject:
                # An edit merged from elsewhere left an inconsistent place: keep the old keys.
                township, village, grid = township_from_keys(case.keys), None, None
            task_grids = {t.assignee for t in state.tasks if t.kind == AssigneeKind.GRID}
            keys = acc.place_keys(township, {grid or "", *task_grids})
            number = plan.take()
            values = [
                self.county,
                township,
                village,
                grid,
                state.case_no,
                str(fields.get("title") or ""),
                state.status.value,
                int(state.level),
                len(state.conflicts) + len(state.field_conflicts),
                state.reported_at,
                number,
            ]
            plan.case_rows.append((case.existed, case.id, values))
            plan.case_keys[case.id] = set(keys)
            old = case.keys if case.existed else set()
            everyone = keys | old
            for e in case.new:
                plan.changes.append((plan.numbers[e.id], "entry", e.id, everyone))
            if case.existed:
                if keys - old:
                    # Newly visible to some devices: they need the whole case, not this step.
                    plan.changes.append((number, "case", case.id, keys - old))
                    number = plan.take()
                if old - keys:
                    plan.changes.append((number, "leave", case.id, old - keys))
            case.keys = keys
            case.existed = True
            case.new = []

    def _push_attachment(self, tx: Tx, session: Session, raw: Any) -> dict[str, Any]:
        item_id = raw.get("id") if isinstance(raw, Mapping) else None
        result: dict[str, Any] = {"kind": "attachment", "id": str(item_id)}
        try:
            try:
                a = protocol.attachment_from_wire(raw)
            except protocol.WireError as exc:
                raise Reject("malformed", exc.message) from None
            row = tx.one("SELECT case_id, sha256, size FROM attachments WHERE id = ?", [a.id])
            if row is not None:
                if (row[0], row[1], int(row[2])) != (a.case_id, a.sha256, a.size):
                    raise Reject("id_clash", "another attachment with this id already exists")
                result["status"] = "duplicate"
            else:
                keys = self._owner_keys(tx, a.case_id)
                if not keys:
                    raise Reject("unknown_case", "the county has no such case or visit")
                if not keys & session.keys:
                    raise Reject("out_of_scope", "the case is outside this device's scope")
                # Only a file this device holds (uploaded, or proved it has) makes a proven
                # attachment; anything else waits for its bytes or a proof. Nothing here
                # depends on whether the file exists elsewhere in the county.
                proven = files.reference(tx, session.device.id, a.sha256, a.size)
                seq = tx.next_seq()
                tx.execute(
                    "INSERT INTO attachments (id, case_id, entry_id, sha256, name, mime, size, "
                    "created_at, device_id, seq, proven) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        a.id,
                        a.case_id,
                        a.entry_id,
                        a.sha256,
                        a.name,
                        a.mime,
                        a.size,
                        a.created_at,
                        session.device.id,
                        seq,
                        int(proven),
                    ],
                )
                self._change(tx, seq, "attachment", a.id, session.device.id, keys)
                result["status"] = "applied"
            result["upload"] = files.upload_state(tx, session.device.id, a.sha256)
        except Reject as rej:
            result.update(status="rejected", code=rej.code, reason=rej.reason)
        return result

    def _push_visit(
        self, tx: Tx, session: Session, raw: Any, ref: scope.Reference
    ) -> dict[str, Any]:
        item_id = raw.get("id") if isinstance(raw, Mapping) else None
        result: dict[str, Any] = {"kind": "visit", "id": str(item_id)}
        try:
            try:
                v = protocol.visit_from_wire(raw)
            except protocol.WireError as exc:
                raise Reject("malformed", exc.message) from None
            township = tx.scalar("SELECT township_code FROM grids WHERE code = ?", [v.grid_id])
            if township is None:
                raise Reject("unknown_place", f"the county knows no grid {v.grid_id}")
            recorder = acc.load_account(tx, account_id=v.staff_id)
            refusal = scope.check_visit(
                v.grid_id,
                v.kind,
                v.subject_kind,
                None if recorder is None else recorder.actor(),
                ref=ref,
                mine=session.keys,
            )
            if refusal is not None:
                reason = refusal.reason.replace("the acting account's", "this device's")
                raise Reject(refusal.code, reason)
            if (
                recorder is not None
                and recorder.id != session.account.id
                and not tx.scalar(
                    "SELECT 1 FROM device_accounts WHERE device_id = ? AND account_id = ?",
                    [session.device.id, recorder.id],
                )
            ):
                raise Reject(
                    "actor_not_on_device",
                    f"{recorder.login} never signed in on this device; visits in their name are "
                    "not accepted from it",
                )
            staff_township = tx.scalar("SELECT township_code FROM staff WHERE id = ?", [v.staff_id])
            if staff_township is not None and str(staff_township) != str(township):
                # The county's staff of another township: their name is not this device's to use.
                raise Reject("out_of_scope", "the staff member works in another township")
            keys = scope.visit_keys(str(township), v.grid_id)
            row = tx.one(
                "SELECT grid_code, staff_id, kind, at, household, content, subject_kind, "
                "subject_id, people, items, checked, location, device_id "
                "FROM visits WHERE id = ?",
                [v.id],
            )
            wire = protocol.visit_to_wire(v)
            values = [
                v.grid_id,
                v.staff_id,
                v.kind,
                v.at,
                v.household,
                v.content,
                v.subject_kind,
                v.subject_id,
                json_text(wire["people"]),
                json_text(wire["items"]),
                v.checked,
                v.location,
            ]
            if row is not None and tuple(row[:12]) == tuple(values):
                result["status"] = "duplicate"
                return result
            if row is not None and str(row[12]) != session.device.id:
                raise Reject("id_clash", "this visit was recorded on another device")
            if row is not None:
                old = self._owner_keys(tx, v.id)
                if not old & session.keys:
                    raise Reject("id_clash", "this visit was recorded on another device")
            seq = tx.next_seq()
            columns = [
                "grid_code",
                "staff_id",
                "kind",
                "at",
                "household",
                "content",
                "subject_kind",
                "subject_id",
                "people",
                "items",
                "checked",
                "location",
            ]
            tx.execute(
                f"INSERT INTO visits ({', '.join(columns)}, township_code, device_id, seq, id) "
                f"VALUES ({', '.join('?' * (len(columns) + 4))}) ON CONFLICT (id) DO UPDATE SET "
                + ", ".join(f"{c} = excluded.{c}" for c in [*columns, "township_code", "seq"]),
                [*values, str(township), session.device.id, seq, v.id],
            )
            self._change(tx, seq, "visit", v.id, session.device.id, keys)
            result["status"] = "applied"
        except Reject as rej:
            result.update(status="rejected", code=rej.code, reason=rej.reason)
        return result

    def _push_signoff(
        self, tx: Tx, session: Session, raw: Any, ref: scope.Reference
    ) -> dict[str, Any]:
        """A supervisor's sign-off of a worker's 工作台账: by an account this device may speak
        for, of a worker of the same township, within the device's scope (immutable)."""
        item_id = raw.get("id") if isinstance(raw, Mapping) else None
        result: dict[str, Any] = {"kind": "signoff", "id": str(item_id)}
        try:
            try:
                so = protocol.signoff_from_wire(raw)
            except protocol.WireError as exc:
                raise Reject("malformed", exc.message) from None
            row = tx.one(
                "SELECT worker_id, signer_id, period, first_day, at FROM ledger_signoffs "
                "WHERE id = ?",
                [so.id],
            )
            if row is not None:
                if tuple(row) != (so.worker_id, so.signer_id, so.period, so.first_day, so.at):
                    raise Reject("id_clash", "another sign-off with this id already exists")
                result["status"] = "duplicate"
                return result
            signer = acc.load_account(tx, account_id=so.signer_id)
            if signer is None:
                raise Reject("unknown_actor", f"no county account has the id {so.signer_id}")
            if signer.disabled:
                raise Reject("actor_disabled", f"the account {signer.login} has been disabled")
            if signer.id != session.account.id and not tx.scalar(
                "SELECT 1 FROM device_accounts WHERE device_id = ? AND account_id = ?",
                [session.device.id, signer.id],
            ):
                raise Reject(
                    "actor_not_on_device",
                    f"{signer.login} never signed in on this device; sign-offs in their name are "
                    "not accepted from it",
                )
            try:
                mine = acc.scope_keys(signer, session.device.township)
            except acc.ScopeError as exc:
                raise Reject("out_of_scope", str(exc)) from None
            worker = acc.load_account(tx, account_id=so.worker_id)
            refusal = scope.check_signoff(
                None if worker is None else worker.actor(),
                signer.actor(),
                so.township_code,
                so.period,
                so.first_day,
                ref=ref,
                mine=mine,
                device_keys=session.keys,
            )
            if refusal is not None:
                raise Reject(refusal.code, refusal.reason)
            assert worker is not None
            keys = scope.signoff_keys(so.township_code, worker.grid_codes)
            seq = tx.next_seq()
            tx.execute(
                "INSERT INTO ledger_signoffs (id, worker_id, township_code, period, first_day, "
                "signer_id, at, remarks, counts, device_id, seq) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    so.id,
                    so.worker_id,
                    so.township_code,
                    so.period,
                    so.first_day,
                    so.signer_id,
                    so.at,
                    so.remarks,
                    json_text(so.counts),
                    session.device.id,
                    seq,
                ],
            )
            self._change(tx, seq, "signoff", so.id, session.device.id, keys)
            result["status"] = "applied"
        except Reject as rej:
            result.update(status="rejected", code=rej.code, reason=rej.reason)
        return result
