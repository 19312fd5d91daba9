"""Pulls: pages of changes after a cursor, bounded in bytes and filtered by scope; per-village
checksums; village snapshots for drift repair; reference data.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .. import protocol
from ..model.records import (
    Entry,
    Grid,
    Staff,
)
from . import accounts as acc
from . import geometry
from .core import (
    ApiError,
    CountyBase,
    Session,
    attachment_item,
    entry_from_row,
    grid_kind,
    staff_role,
)
from .db import Tx
from .weights import load as load_weights

PULL_ROWS = 200
SNAPSHOT_CASES = 100


class PullMixin(CountyBase):
    """Serving changes to devices (part of :class:`~sync.county.service.County`)."""

    def _pull(
        self, tx: Tx, session: Session, cursor: int, page_bytes: int, want_checksum: bool
    ) -> dict[str, Any]:
        head = int(tx.scalar("SELECT value FROM counters WHERE name = 'seq'", default=0))
        reset = False
        if cursor < 0 or cursor > head:
            # A cursor from another server, or from before this database was restored.
            cursor, reset = 0, True
        keys = sorted(session.keys)
        items: list[dict[str, Any]] = []
        used = 0
        last = cursor
        more = False
        while keys and not more:
            rows = tx.rows(
                "SELECT DISTINCT c.seq, c.kind, c.ref, c.origin FROM change_keys k "
                "JOIN changes c ON c.seq = k.seq "
                f"WHERE k.key IN ({tx.marks(len(keys))}) AND k.seq > ? ORDER BY c.seq LIMIT ?",
                [*keys, last, PULL_ROWS],
            )
            if not rows:
                break
            wanted = [str(r[2]) for r in rows if r[1] == "entry"]
            prefetched = self._entries_by_id(tx, wanted)
            for seq, kind, ref, origin in rows:
                if origin == session.device.id and kind != "leave":
                    last = int(seq)  # the device has its own changes already
                    continue
                item = self._pull_item(tx, session, str(kind), str(ref), prefetched)
                if item is None:
                    last = int(seq)
                    continue
                item["seq"] = int(seq)
                size = protocol.json_size(item)
                if items and used + size > page_bytes:
                    more = True
                    break
                items.append(item)
                used += size
                last = int(seq)
        page: dict[str, Any] = {
            "items": items,
            "cursor": last if more else head,
            "more": more,
            "reset": reset,
        }
        if want_checksum and not more:
            page["checksums"] = self._checksums(tx, session)
        return page

    def _entries_by_id(self, tx: Tx, ids: Sequence[str]) -> dict[str, Entry]:
        out: dict[str, Entry] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            for row in tx.rows(
                "SELECT id, case_id, action, actor_id, role, at, hlc, payload FROM entries "
                f"WHERE id IN ({tx.marks(len(part))})",
                part,
            ):
                out[str(row[0])] = entry_from_row(row)
        return out

    def _pull_item(
        self, tx: Tx, session: Session, kind: str, ref: str, prefetched: dict[str, Entry]
    ) -> dict[str, Any] | None:
        if kind == "entry":
            e = prefetched.get(ref) or self._entry(tx, ref)
            return None if e is None else {"kind": "entry", "entry": protocol.entry_to_wire(e)}
        if kind == "case":
            return {"kind": "case", "case_id": ref, **self._case_body(tx, ref)}
        if kind == "attachment":
            row = tx.one(
                "SELECT a.id, a.case_id, a.entry_id, a.sha256, a.name, a.mime, a.size, "
                "a.created_at, a.proven FROM attachments a WHERE a.id = ? AND a.proven = 1",
                [ref],
            )
            if row is None:
                # Not proven (yet): its device has not shown it has the file. It is sent when
                # it is proven (a change of its own), and never if it is not.
                return None
            return {"kind": "attachment", **attachment_item(row)}
        if kind == "visit":
            row = tx.one(
                "SELECT id, grid_code, staff_id, kind, at, household, content, subject_kind, "
                "subject_id, people, items, checked, location FROM visits WHERE id = ?",
                [ref],
            )
            if row is None:
                return None
            names = [
                "id",
                "grid_id",
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
            visit = dict(zip(names, row, strict=True))
            visit["people"] = json.loads(str(visit["people"] or "[]"))
            visit["items"] = json.loads(str(visit["items"] or "[]"))
            return {"kind": "visit", "visit": visit}
        if kind == "signoff":
            row = tx.one(
                "SELECT id, worker_id, township_code, period, first_day, signer_id, at, remarks, "
                "counts FROM ledger_signoffs WHERE id = ?",
                [ref],
            )
            if row is None:
                return None
            columns = "id worker_id township_code period first_day signer_id at remarks counts"
            signoff = dict(zip(columns.split(), row, strict=True))
            signoff["counts"] = json.loads(str(signoff["counts"] or "{}"))
            return {"kind": "signoff", "signoff": signoff}
        if kind == "leave":
            keys = {
                str(r[0]) for r in tx.rows("SELECT key FROM case_keys WHERE case_id = ?", [ref])
            }
            if keys & session.keys:
                return None  # still visible through another key
            return {"kind": "leave", "case_id": ref}
        return None

    def _checksums(self, tx: Tx, session: Session) -> dict[str, list[int]]:
        if not session.keys:
            return {}
        visible, args = self._visible_cases_sql(tx, session)
        rows = tx.rows(
            "SELECT coalesce(c.village_code, ''), count(*), sum(e.h) FROM entries e "
            f"JOIN cases c ON c.id = e.case_id WHERE c.id IN ({visible}) "
            "GROUP BY coalesce(c.village_code, '')",
            args,
        )
        return {str(r[0]): [int(r[1]), int(r[2] or 0)] for r in rows}

    def snapshot(
        self,
        session: Session,
        village: str,
        after: str | None,
        page_bytes: int = protocol.PAGE_BYTES,
    ) -> dict[str, Any]:
        """Every case of one village this device may see, paged by case id: the drift repair."""
        if not isinstance(village, str):
            raise ApiError("bad_request", "village_code must be text ('' for cases without one)")
        page_bytes = min(max(int(page_bytes), 1), protocol.PAGE_MAX)
        with self.db.read() as tx:
            if not session.keys:
                return {"village_code": village, "cases": [], "next": None, "done": True}
            visible, args = self._visible_cases_sql(tx, session)
            where = (
                "c.village_code = ?"
                if village
                else ("(c.village_code IS NULL OR c.village_code = '')")
            )
            vargs = [village] if village else []
            rows = tx.rows(
                f"SELECT c.id FROM cases c WHERE {where} AND c.id IN ({visible}) AND c.id > ? "
                "ORDER BY c.id LIMIT ?",
                [*vargs, *args, after or "", SNAPSHOT_CASES + 1],
            )
            cases: list[dict[str, Any]] = []
            used = 0
            done = True
            last = after
            for i, (case_id,) in enumerate(rows):
                if i == SNAPSHOT_CASES:
                    done = False
                    break
                body = {"case_id": str(case_id), **self._case_body(tx, str(case_id))}
                size = protocol.json_size(body)
                if cases and used + size > page_bytes:
                    done = False
                    break
                cases.append(body)
                used += size
                last = str(case_id)
        return {
            "village_code": village,
            "cases": cases,
            "next": None if done else last,
            "done": done,
        }

    def reference(self, session: Session, have_geometry: str | None = None) -> dict[str, Any]:
        """The device's reference data; its township's outlines unless it says it has this
        geometry version already (``have_geometry``)."""
        township = session.device.township
        county_device = len(township) == 6
        with self.db.read() as tx:
            version = str(
                tx.scalar("SELECT value FROM counters WHERE name = 'reference'", default=0)
            )
            where, args = ("1 = 1", []) if county_device else ("township_code = ?", [township])
            grids = [
                protocol.grid_to_wire(
                    Grid(
                        str(r[0]),
                        str(r[0]),
                        str(r[1]),
                        str(r[2]),
                        grid_kind(r[3]),
                        int(r[4]),
                        int(r[5]),
                        r[6],
                    )
                )
                for r in tx.rows(
                    "SELECT code, name, village_code, kind, households, population, "
                    f"dedicated_to FROM grids WHERE {where} ORDER BY code",
                    args,
                )
            ]
            staff = [
                protocol.staff_to_wire(
                    Staff(str(r[0]), str(r[1]), staff_role(r[2]), str(r[3]), r[4], r[5])
                )
                for r in tx.rows(
                    "SELECT id, name, role, phone, grid_code, department_code FROM staff "
                    f"WHERE {where} OR township_code IS NULL ORDER BY id",
                    args,
                )
            ]
            accounts = [
                acc.account_from_row(r)
                for r in tx.rows(
                    f"SELECT {acc.ACCOUNT_COLUMNS} FROM accounts "
                    f"WHERE {where} OR township_code IS NULL ORDER BY login",
                    args,
                )
            ]
            departments = [
                {"code": str(r[0]), "name": str(r[1]), "level": str(r[2])}
                for r in tx.rows("SELECT code, name, level FROM departments ORDER BY code")
            ]
            taxonomy = self._load_taxonomy(tx)
            assessment_weights = load_weights(tx)
            geo_version = str(geometry.geometry_version(tx))
            shapes = None if have_geometry == geo_version else geometry.shapes_for(tx, township)
        return {
            "version": version,
            "township": township,
            "synthetic": True,
            "grids": grids,
            "departments": departments,
            "staff": staff,
            "accounts": [
                {**protocol.account_to_wire(a.actor()), "disabled": a.disabled} for a in accounts
            ],
            "taxonomy": protocol.taxonomy_to_wire(taxonomy),
            "assessment_weights": assessment_weights,
            "geometry_version": geo_version,
            # None: the device has this version already (it asked with ?geometry=).
            "shapes": shapes,
        }
