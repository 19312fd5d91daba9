"""What every part of the county platform's logic shares: request errors, per-item rejections,
sessions, and :class:`CountyBase` — the database, the clock and the rules, with the timeline
and scope look-ups that pushing, pulling and file transfer all use.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import protocol
from ..model import scope
from ..model.clock import Millis
from ..model.records import (
    Action,
    Entry,
    GridKind,
    Role,
    StaffRole,
)
from ..model.taxonomy import Taxonomy, default_taxonomy
from ..model.workflow import CaseState, Rules, project
from . import accounts as acc
from .db import Database, Tx


class ApiError(Exception):
    """A request-level refusal: a code from :data:`protocol.ERRORS` and a plain sentence."""

    def __init__(
        self, code: str, message: str, *, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}
        self.extra = extra

    @property
    def status(self) -> int:
        kind = protocol.ERRORS.get(self.code)
        return kind.status if kind else 400


class Reject(Exception):
    """A per-item rejection inside a push: quarantined on the device, the rest flows on."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Device:
    id: str
    code: str
    township: str


@dataclass(frozen=True)
class Session:
    """An authenticated request: who, on which device, seeing which scope keys."""

    account: acc.Account
    device: Device
    keys: frozenset[str]
    token_hash: str

    @property
    def scope_id(self) -> str:
        return protocol.scope_id(self.keys)

    def scope(self) -> dict[str, Any]:
        return {"id": self.scope_id, "keys": sorted(self.keys), "township": self.device.township}


@dataclass
class CaseWork:
    id: str
    existed: bool
    keys: set[str]
    new: list[Entry] = field(default_factory=list)
    #: The projection the scope check asked for, until the batch adds an entry to the case.
    state: CaseState | None = None
    #: The case's level in the ``cases`` index when loaded (current until the batch adds an
    #: entry): the authority rule reads it instead of projecting.
    level: int | None = None


def json_text(value: Any) -> str:
    return protocol.dumps(value).decode()


class CountyBase:
    """The state and look-ups shared by :class:`~sync.county.service.County`'s parts."""

    db: Database
    clock: Callable[[], Millis]
    county: str
    taxonomy: Taxonomy
    rules: Rules

    def _entry(self, tx: Tx, entry_id: str) -> Entry | None:
        row = tx.one(
            "SELECT id, case_id, action, actor_id, role, at, hlc, payload FROM entries "
            "WHERE id = ?",
            [entry_id],
        )
        return None if row is None else entry_from_row(row)

    def _timeline(self, tx: Tx, case_id: str) -> list[Entry]:
        """A case's entries in the order the county applied them, with one report: the first
        applied (a second one, stored before the county refused them, never counts)."""
        rows = tx.rows(
            "SELECT id, case_id, action, actor_id, role, at, hlc, payload FROM entries "
            "WHERE case_id = ? ORDER BY seq",
            [case_id],
        )
        return scope.one_report(entry_from_row(r) for r in rows)

    def _project(self, tx: Tx, case_id: str, extra: Sequence[Entry] = ()) -> CaseState | None:
        entries = {e.id: e for e in self._timeline(tx, case_id)}
        for e in extra:
            entries.setdefault(e.id, e)
        try:
            return project(entries.values(), self.rules) if entries else None
        except ValueError:
            return None

    def _case(self, tx: Tx, case_id: str, cases: dict[str, CaseWork]) -> CaseWork | None:
        if case_id in cases:
            return cases[case_id]
        if not tx.scalar("SELECT 1 FROM cases WHERE id = ?", [case_id]):
            return None
        keys = {
            str(r[0]) for r in tx.rows("SELECT key FROM case_keys WHERE case_id = ?", [case_id])
        }
        case = CaseWork(case_id, True, keys)
        cases[case_id] = case
        return case

    @staticmethod
    def _change(tx: Tx, seq: int, kind: str, ref: str, origin: str, keys: Iterable[str]) -> None:
        tx.execute(
            "INSERT INTO changes (seq, kind, ref, origin) VALUES (?, ?, ?, ?)",
            [seq, kind, ref, origin],
        )
        tx.executemany(
            "INSERT INTO change_keys (key, seq) VALUES (?, ?)", [(k, seq) for k in sorted(keys)]
        )

    @staticmethod
    def _owner_keys(tx: Tx, owner_id: str) -> set[str]:
        """The keys of what an attachment belongs to: a case, or a visit (a visit's photos are
        filed under the visit's id)."""
        keys = {
            str(r[0]) for r in tx.rows("SELECT key FROM case_keys WHERE case_id = ?", [owner_id])
        }
        if keys:
            return keys
        row = tx.one("SELECT township_code, grid_code FROM visits WHERE id = ?", [owner_id])
        if row is None:
            return set()
        return scope.visit_keys(str(row[0]), str(row[1]))

    def _case_body(self, tx: Tx, case_id: str) -> dict[str, Any]:
        entries = sorted(self._timeline(tx, case_id), key=lambda e: e.sort_key)
        rows = tx.rows(
            "SELECT a.id, a.case_id, a.entry_id, a.sha256, a.name, a.mime, a.size, a.created_at,"
            " a.proven FROM attachments a WHERE a.case_id = ? AND a.proven = 1 ORDER BY a.id",
            [case_id],
        )
        return {
            "entries": [protocol.entry_to_wire(e) for e in entries],
            "attachments": [attachment_item(r) for r in rows],
        }

    def _visible_cases_sql(self, tx: Tx, session: Session) -> tuple[str, list[str]]:
        keys = sorted(session.keys)
        return (
            f"SELECT case_id FROM case_keys WHERE key IN ({tx.marks(len(keys))})",
            keys,
        )

    @staticmethod
    def _visible_visits_sql(tx: Tx, session: Session) -> tuple[str, list[str]]:
        """The ids of the visits in the caller's scope (their photos are readable)."""
        parts, args = [], []
        for prefix, column in (("c:", "county_code"), ("t:", "township_code"), ("g:", "grid_code")):
            values = sorted(k[2:] for k in session.keys if k.startswith(prefix))
            if values:
                parts.append(f"{column} IN ({tx.marks(len(values))})")
                args.extend(values)
        if not parts:
            return "SELECT id FROM visits WHERE 1 = 0", []
        where = " OR ".join(parts).replace("county_code", "substr(township_code, 1, 6)")
        return f"SELECT id FROM visits WHERE {where}", args

    @staticmethod
    def _load_taxonomy(tx: Tx) -> Taxonomy:
        rows = tx.rows("SELECT body FROM categories ORDER BY code")
        if not rows:
            return default_taxonomy()
        return protocol.taxonomy_from_wire([json.loads(str(r[0])) for r in rows])


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def entry_from_row(row: Sequence[Any]) -> Entry:
    return Entry(
        str(row[0]),
        str(row[1]),
        Action(str(row[2])),
        str(row[3]),
        Role(str(row[4])),
        int(row[5]),
        str(row[6]),
        json.loads(str(row[7])),
    )


def same_but_stamp(stored: Entry, sent: Entry) -> bool:
    """A replay of an entry the county clamped: everything equal except at/hlc."""
    return dataclasses.replace(stored, at=sent.at, hlc=sent.hlc) == sent


def attachment_item(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "attachment": {
            "id": row[0],
            "case_id": row[1],
            "entry_id": row[2],
            "sha256": row[3],
            "name": row[4],
            "mime": row[5],
            "size": int(row[6]),
            "created_at": int(row[7]),
        },
        # Only proven attachments are sent (their device holds the complete file).
        "complete": bool(row[8]),
    }


def township_from_keys(keys: Iterable[str]) -> str:
    for k in keys:
        if k.startswith("t:"):
            return k[2:]
    raise ValueError("a case without a township key")


def grid_kind(value: Any) -> GridKind:
    return GridKind(str(value))


def staff_role(value: Any) -> StaffRole:
    return StaffRole(str(value))


def write_taxonomy(tx: Tx, taxonomy: Taxonomy) -> None:
    tx.execute("DELETE FROM categories")
    tx.executemany(
        "INSERT INTO categories (code, body) VALUES (?, ?)",
        [(c["code"], json_text(c)) for c in protocol.taxonomy_to_wire(taxonomy)],
    )
