"""Pushes: each record judged on its own (wire form, actor, role, scope, place), the batch
applied in one transaction with its answer stored under its idempotency key, and the changes
recorded for everyone whose scope they meet.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from .. import protocol
from ..model import scope
from ..model.clock import HlcStamp, Millis
from ..model.records import (
    AssigneeKind,
    Entry,
)
from ..model.workflow import OPENING, ROLES, CaseState, check
from . import accounts as acc
from . import files
from .core import (
    ApiError,
    CaseWork,
    CountyBase,
    Reject,
    Session,
    article,
    json_text,
    same_but_stamp,
    township_from_keys,
)
from .db import Tx

#: How long the answers of applied batches are kept for replays.
BATCH_KEEP_MS = 30 * 24 * 3600_000


def _plain(result: Mapping[str, Any]) -> bool:
    """A result that only says "applied, as sent": left out of a quiet answer."""
    return result.get("status") == "applied" and "stamp" not in result and "upload" not in result


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
        for name in ("entries", "attachments", "visits"):
            items = batch.get(name) or []
            if not isinstance(items, list):
                raise ApiError("bad_request", f"push.{name} must be a list")
            lists[name] = items
        if sum(len(v) for v in lists.values()) > protocol.PUSH_ITEMS_MAX:
            raise ApiError("too_large", f"a push carries at most {protocol.PUSH_ITEMS_MAX} items")
        with self.db.write() as tx:
            stored = tx.scalar(
                "SELECT response FROM batches WHERE device_id = ? AND batch_id = ?",
                [session.device.id, batch_id],
            )
            if stored is not None:
                answer = json.loads(str(stored))
                answer["replayed"] = True
                return dict(answer)
            results: list[dict[str, Any]] = []
            cases: dict[str, CaseWork] = {}
            ref = self._reference(tx)
            # The last stamp stored for each device in this push: a clamped stamp sorts after it.
            stamps: dict[str, str] = {}
            for raw in lists["entries"]:
                results.append(
                    self._push_entry(
                        tx, session, raw, cases, ref, server_now, device_offset, stamps
                    )
                )
            self._settle_cases(tx, session, cases, ref)
            for raw in lists["attachments"]:
                results.append(self._push_attachment(tx, session, raw))
            for raw in lists["visits"]:
                results.append(self._push_visit(tx, session, raw))
            answer = {"batch_id": batch_id, "results": results}
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
        return answer

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
    ) -> dict[str, Any]:
        item_id = raw.get("id") if isinstance(raw, Mapping) else None
        result: dict[str, Any] = {"kind": "entry", "id": str(item_id)}
        try:
            try:
                e = protocol.entry_from_wire(raw)
            except protocol.WireError as exc:
                raise Reject("malformed", exc.message) from None
            existing = self._entry(tx, e.id)
            if existing is not None:
                if protocol.same_entry(existing, e) or same_but_stamp(existing, e):
                    result["status"] = "duplicate"
                    if existing.hlc != e.hlc or existing.at != e.at:
                        result["stamp"] = {"at": existing.at, "hlc": existing.hlc}
                    return result
                raise Reject("id_clash", "another entry with this id already exists")
            actor = self._actor(tx, session, e)
            try:
                actor_keys = acc.scope_keys(actor, session.device.township)
            except acc.ScopeError as exc:
                raise Reject("out_of_scope", str(exc)) from None
            case = self._case(tx, e.case_id, cases)
            view = None if case is None else self._view(tx, case)
            refusal = scope.check_entry(
                view,
                e.action,
                actor.actor(),
                e.payload,
                ref=ref,
                mine=actor_keys,
                device_keys=session.keys,
                visible=lambda other: self._visible(tx, other, session.keys, actor_keys, cases),
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
            seq = tx.next_seq()
            tx.execute(
                "INSERT INTO entries (id, case_id, action, actor_id, role, at, hlc, payload, "
                "device_id, h, seq, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                    seq,
                    server_now,
                ],
            )
            stamps[stamper] = max(e.hlc, stamps.get(stamper, e.hlc))
            case.new.append(e)
            case.state = None  # projected again when a later entry of the batch needs it
            if e.action in OPENING and not case.existed:
                # Known for scope checks of the entries that follow in this batch.
                place = self._place(ref, e.payload)
                case.keys = acc.place_keys(place[0], {place[2] or ""})
            result["status"] = "applied"
            result["seq"] = seq
        except Reject as rej:
            result.update(status="rejected", code=rej.code, reason=rej.reason)
        return result

    def _actor(self, tx: Tx, session: Session, e: Entry) -> acc.Account:
        """The account an entry names, if this device may speak for it and its role fits."""
        actor = acc.load_account(tx, account_id=e.actor_id)
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
        if actor.id != session.account.id and not tx.scalar(
            "SELECT 1 FROM device_accounts WHERE device_id = ? AND account_id = ?",
            [session.device.id, actor.id],
        ):
            raise Reject(
                "actor_not_on_device",
                f"{actor.login} never signed in on this device; entries in their name are not "
                "accepted from it",
            )
        return actor

    def _reference(self, tx: Tx) -> scope.Reference:
        """The county's places and departments, loaded once per version of the reference data
        (a push asks once, not per entry): the names in every pushed entry are checked
        against it."""
        version = str(tx.scalar("SELECT value FROM counters WHERE name = 'reference'", default=0))
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
        return cached[1]

    def _view(self, tx: Tx, case: CaseWork) -> scope.CaseView:
        """The case as the scope check sees it: its keys now, its state only if a rule asks."""

        def state() -> CaseState | None:
            if case.state is None:
                case.state = self._project(tx, case.id, case.new)
            return case.state

        def entry_ids() -> list[str]:
            stored = tx.rows("SELECT id FROM entries WHERE case_id = ?", [case.id])
            return [str(r[0]) for r in stored] + [e.id for e in case.new]

        return scope.CaseView(case.keys, state, entry_ids)

    def _visible(
        self,
        tx: Tx,
        case_id: str,
        device_keys: frozenset[str],
        actor_keys: frozenset[str],
        cases: dict[str, CaseWork],
    ) -> bool:
        """Whether another case named in an entry (a merge's ``into``) is within reach."""
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
        self, tx: Tx, session: Session, cases: dict[str, CaseWork], ref: scope.Reference
    ) -> None:
        """Re-project every case the batch touched; record the changes for pull."""
        for case in cases.values():
            if not case.new:
                continue
            state = self._project(tx, case.id)
            if state is None:  # pragma: no cover - openings are validated before insertion
                continue
            fields = state.fields
            try:
                township, village, grid = self._place(ref, fields)
            except Reject:
                # An edit merged from elsewhere left an inconsistent place: keep the old keys.
                township, village, grid = township_from_keys(case.keys), None, None
            task_grids = {t.assignee for t in state.tasks if t.kind == AssigneeKind.GRID}
            keys = acc.place_keys(township, {grid or "", *task_grids})
            seq = tx.next_seq()
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
                seq,
            ]
            if case.existed:
                tx.execute(
                    "UPDATE cases SET county_code = ?, township_code = ?, village_code = ?, "
                    "grid_code = ?, case_no = ?, title = ?, status = ?, level = ?, conflicts = ?,"
                    " reported_at = ?, updated_seq = ? WHERE id = ?",
                    [*values, case.id],
                )
            else:
                tx.execute(
                    "INSERT INTO cases (county_code, township_code, village_code, grid_code, "
                    "case_no, title, status, level, conflicts, reported_at, updated_seq, id) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [*values, case.id],
                )
            tx.execute("DELETE FROM case_keys WHERE case_id = ?", [case.id])
            tx.executemany(
                "INSERT INTO case_keys (case_id, key) VALUES (?, ?)",
                [(case.id, k) for k in sorted(keys)],
            )
            old = case.keys if case.existed else set()
            everyone = keys | old
            for e in case.new:
                entry_seq = tx.scalar("SELECT seq FROM entries WHERE id = ?", [e.id])
                self._change(tx, int(entry_seq), "entry", e.id, session.device.id, everyone)
            if case.existed:
                if keys - old:
                    # Newly visible to some devices: they need the whole case, not this step.
                    self._change(tx, seq, "case", case.id, session.device.id, keys - old)
                    seq = tx.next_seq()
                if old - keys:
                    self._change(tx, seq, "leave", case.id, session.device.id, old - keys)
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
                keys = {
                    str(r[0])
                    for r in tx.rows("SELECT key FROM case_keys WHERE case_id = ?", [a.case_id])
                }
                if not keys:
                    raise Reject("unknown_case", "the county has no such case")
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

    def _push_visit(self, tx: Tx, session: Session, raw: Any) -> dict[str, Any]:
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
            keys = acc.place_keys(str(township), {v.grid_id})
            if not keys & session.keys:
                raise Reject("out_of_scope", "the grid is outside this device's scope")
            staff_township = tx.scalar("SELECT township_code FROM staff WHERE id = ?", [v.staff_id])
            if staff_township is not None and str(staff_township) != str(township):
                # The county's staff of another township: their name is not this device's to use.
                raise Reject("out_of_scope", "the staff member works in another township")
            row = tx.one(
                "SELECT grid_code, staff_id, kind, at, household, content, device_id "
                "FROM visits WHERE id = ?",
                [v.id],
            )
            values = [v.grid_id, str(township), v.staff_id, v.kind, v.at, v.household, v.content]
            if row is not None and tuple(row[:6]) == (
                v.grid_id,
                v.staff_id,
                v.kind,
                v.at,
                v.household,
                v.content,
            ):
                result["status"] = "duplicate"
                return result
            if row is not None and str(row[6]) != session.device.id:
                raise Reject("id_clash", "this visit was recorded on another device")
            seq = tx.next_seq()
            tx.execute(
                "INSERT INTO visits (grid_code, township_code, staff_id, kind, at, household, "
                "content, device_id, seq, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET grid_code = excluded.grid_code, "
                "township_code = excluded.township_code, staff_id = excluded.staff_id, "
                "kind = excluded.kind, at = excluded.at, household = excluded.household, "
                "content = excluded.content, seq = excluded.seq",
                [*values, session.device.id, seq, v.id],
            )
            self._change(tx, seq, "visit", v.id, session.device.id, keys)
            result["status"] = "applied"
        except Reject as rej:
            result.update(status="rejected", code=rej.code, reason=rej.reason)
        return result
