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
from ..model.clock import Millis
from ..model.records import (
    Action,
    AssigneeKind,
    Entry,
)
from ..model.workflow import OPENING, ROLES, check
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
            for raw in lists["entries"]:
                results.append(self._push_entry(tx, session, raw, cases, server_now, device_offset))
            self._settle_cases(tx, session, cases)
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
        server_now: Millis,
        device_offset: int,
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
            actor_keys = acc.scope_keys(actor, session.device.township)
            case = self._case(tx, e.case_id, cases)
            if e.action in OPENING:
                place = self._place(tx, e.payload)
                keys = acc.place_keys(place[0], {place[2] or ""})
                if case is not None:
                    keys = set(case.keys) | keys
                self._in_scope(keys, session, actor_keys, "the case's place")
                reason = check(None, e.action, actor.actor(), e.payload, at=e.at, rules=self.rules)
                if reason is not None:
                    raise Reject("invalid", f"the report cannot open a case: {reason}")
                if case is None:
                    case = CaseWork(e.case_id, False, set())
                    cases[e.case_id] = case
            else:
                if case is None:
                    raise Reject(
                        "unknown_case",
                        "the county has no such case (was its report refused? see quarantine)",
                    )
                self._in_scope(case.keys, session, actor_keys, "the case")
                if e.action == Action.EDIT:
                    self._check_move(tx, session, actor_keys, case, e)
            clamped = protocol.clamp_stamp(
                e.at, e.hlc, server_now=server_now, device_offset=device_offset
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
            case.new.append(e)
            if e.action in OPENING and not case.existed:
                # Known for scope checks of the entries that follow in this batch.
                place = self._place(tx, e.payload)
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

    @staticmethod
    def _in_scope(keys: set[str], session: Session, actor_keys: frozenset[str], what: str) -> None:
        if not keys & session.keys:
            raise Reject("out_of_scope", f"{what} is outside this device's scope")
        if not keys & actor_keys:
            raise Reject("out_of_scope", f"{what} is outside the acting account's scope")

    def _place(self, tx: Tx, fields: Mapping[str, Any]) -> tuple[str, str | None, str | None]:
        """(township, village, grid) of a case's place, checked against the county's data."""
        grid, village, township = (
            fields.get("grid_id"),
            fields.get("village_code"),
            fields.get("township_code"),
        )
        for name, value in (
            ("grid_id", grid),
            ("village_code", village),
            ("township_code", township),
        ):
            if value is not None and not isinstance(value, str):
                raise Reject("malformed", f"{name} must be text")
        if grid:
            row = tx.one("SELECT village_code, township_code FROM grids WHERE code = ?", [grid])
            if row is None:
                raise Reject("unknown_place", f"the county knows no grid {grid}")
            if village and village != row[0]:
                raise Reject("unknown_place", f"grid {grid} is not in village {village}")
            village = str(row[0])
        if village:
            row = tx.one(
                "SELECT parent_code FROM divisions WHERE code = ? AND level = 'village'", [village]
            )
            if row is None:
                raise Reject("unknown_place", f"the county knows no village {village}")
            if township and township != row[0]:
                raise Reject("unknown_place", f"village {village} is not in township {township}")
            township = str(row[0])
        if not township:
            raise Reject("unknown_place", "a case needs a township, village or grid")
        if not tx.scalar(
            "SELECT 1 FROM divisions WHERE code = ? AND level = 'township'", [township]
        ):
            raise Reject("unknown_place", f"{township} is not a township of this county")
        return str(township), village or None, grid or None

    def _check_move(
        self, tx: Tx, session: Session, actor_keys: frozenset[str], case: CaseWork, e: Entry
    ) -> None:
        """An edit of the place must keep the case where this device and account may see it."""
        changes = e.payload.get("fields")
        if not isinstance(changes, Mapping):
            return
        place_fields = {"grid_id", "village_code", "township_code"} & set(changes)
        if not place_fields:
            return
        current = self._project(tx, case.id, case.new)
        fields = dict(current.fields) if current is not None else {}
        for name in place_fields:
            change = changes[name]
            value = change.get("value") if isinstance(change, Mapping) else None
            if value is None:
                fields.pop(name, None)
            else:
                fields[name] = value
        # A grid moved to another village drags the village (and township) along.
        if "grid_id" in place_fields and "village_code" not in place_fields:
            fields.pop("village_code", None)
            fields.pop("township_code", None)
        if "village_code" in place_fields and "township_code" not in place_fields:
            fields.pop("township_code", None)
        township, _, grid = self._place(tx, fields)
        keys = acc.place_keys(township, {grid or ""})
        try:
            self._in_scope(keys, session, actor_keys, "the new place")
        except Reject as rej:
            raise Reject("out_of_scope", f"this edit moves the case out of scope: {rej}") from None

    def _settle_cases(self, tx: Tx, session: Session, cases: dict[str, CaseWork]) -> None:
        """Re-project every case the batch touched; record the changes for pull."""
        for case in cases.values():
            if not case.new:
                continue
            state = self._project(tx, case.id)
            if state is None:  # pragma: no cover - openings are validated before insertion
                continue
            fields = state.fields
            try:
                township, village, grid = self._place(tx, fields)
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
