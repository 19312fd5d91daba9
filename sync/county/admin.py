"""County administration: devices, account edits and grid assignments, the taxonomy's versions,
and the audit of every administrative action (issue 18).

Each function takes the :class:`~sync.county.service.County` and changes the database in one
transaction; ``gridroom-county device|user|taxonomy`` (:mod:`sync.county.cli`) are thin over
them. Account changes bump the ``reference`` counter, so devices fetch the accounts again at
their next sync; a scope that changes with them (new grids, another township) changes the
device's scope id, and the device drops what left its scope (``docs/sync-protocol.md``).
A taxonomy import bumps the ``taxonomy`` counter, which every server process compares per
request (:meth:`County.refresh_taxonomy`), so no process keeps applying an old version.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import protocol
from ..model.clock import new_id
from ..model.records import DivisionLevel, Role
from ..model.taxonomy import Taxonomy
from . import accounts as acc
from .core import write_taxonomy
from .db import Tx

if TYPE_CHECKING:
    from .service import County

DAY_MS = 86_400_000
#: The taxonomy file's format marker (``gridroom-county taxonomy export``).
TAXONOMY_FORMAT = "gridroom-taxonomy/1"
#: ``admin_audit.actor`` of a change made with ``gridroom-county`` on the server's console.
CONSOLE = "console"

_UNSET: Any = object()


def audit(tx: Tx, at: int, actor: str, action: str, target: str, detail: Mapping[str, Any]) -> None:
    tx.execute(
        "INSERT INTO admin_audit (id, at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
        [new_id(), at, actor, action, target, json.dumps(dict(detail), ensure_ascii=False)],
    )


def audit_log(county: County, limit: int = 100) -> list[dict[str, Any]]:
    with county.db.read() as tx:
        rows = tx.rows(
            "SELECT at, actor, action, target, detail FROM admin_audit ORDER BY at DESC, id "
            "LIMIT ?",
            [limit],
        )
    return [
        {"at": int(r[0]), "actor": r[1], "action": r[2], "target": r[3], "detail": json.loads(r[4])}
        for r in rows
    ]


# -- devices -------------------------------------------------------------------------------------


def devices(county: County, *, stale_days: int | None = None) -> list[dict[str, Any]]:
    """Every enrolled device, with what it last reported; ``stale_days``: only those not synced
    for that many days (a revoked device is never stale: it is not expected to sync)."""
    now = county.clock()
    with county.db.read() as tx:
        rows = tx.rows(
            "SELECT id, code, township_code, name, enrolled_at, last_seen, last_sync, outbox, "
            "app_version, clock_offset_ms, revoked_at, revoked_by FROM devices ORDER BY code"
        )
        logins: dict[str, list[str]] = {}
        for device_id, login in tx.rows(
            "SELECT da.device_id, a.login FROM device_accounts da "
            "JOIN accounts a ON a.id = da.account_id ORDER BY a.login"
        ):
            logins.setdefault(str(device_id), []).append(str(login))
    out = []
    for r in rows:
        last_sync = None if r[6] is None else int(r[6])
        # A device enrolled but never synced counts from its enrolment.
        since = last_sync if last_sync is not None else int(r[4])
        days = max(0, (now - since) // DAY_MS)
        revoked_at = None if r[10] is None else int(r[10])
        item = {
            "id": str(r[0]),
            "code": str(r[1]),
            "township": str(r[2]),
            "name": str(r[3]),
            "accounts": logins.get(str(r[0]), []),
            "enrolled_at": int(r[4]),
            "last_seen": int(r[5]),
            "last_sync": last_sync,
            "days_since_sync": days,
            "outbox": None if r[7] is None else int(r[7]),
            "app_version": r[8],
            "clock_offset_ms": None if r[9] is None else int(r[9]),
            "revoked_at": revoked_at,
            "revoked_by": r[11],
        }
        if stale_days is not None and (revoked_at is not None or days < stale_days):
            continue
        out.append(item)
    return out


def _device_row(tx: Tx, ident: str) -> tuple[Any, ...]:
    row = tx.one(
        "SELECT id, code, township_code, revoked_at FROM devices WHERE id = ? OR code = ?",
        [ident, ident.upper()],
    )
    if row is None:
        raise ValueError(f"no enrolled device has the id or code {ident}")
    return row


def revoke_device(county: County, ident: str, *, by: str = CONSOLE) -> dict[str, Any]:
    """Revoke a device (by id or its 4-letter code): every token it holds stops working at the
    next request, it cannot sign in again, and ``revoked_at`` dates the revocation for bundle
    signatures. Revoking twice keeps the first date."""
    now = county.clock()
    with county.db.write(ordered=False) as tx:
        device_id, code, township, revoked_at = _device_row(tx, ident)
        if revoked_at is None:
            revoked_at = now
            tx.execute(
                "UPDATE devices SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                [now, by, device_id],
            )
            audit(tx, now, by, "device.revoke", str(code), {"device_id": device_id})
        tx.execute("UPDATE tokens SET revoked = 1 WHERE device_id = ?", [device_id])
    return {"id": device_id, "code": code, "township": township, "revoked_at": int(revoked_at)}


def revoked_devices(county: County) -> list[dict[str, Any]]:
    """(id, revoked_at) of every revoked device: what a bundle verifier checks signatures
    against (a signature made after ``revoked_at`` is not trusted)."""
    with county.db.read() as tx:
        rows = tx.rows(
            "SELECT id, code, revoked_at FROM devices WHERE revoked_at IS NOT NULL ORDER BY id"
        )
    return [{"id": r[0], "code": r[1], "revoked_at": int(r[2])} for r in rows]


# -- accounts ------------------------------------------------------------------------------------


def check_account(
    tx: Tx,
    county_code: str,
    *,
    role: Role,
    township: str | None,
    department: str | None,
    grids: Sequence[str],
) -> None:
    """The rules every account obeys, on add and on every edit: a role valid for its level
    (a county admin belongs to no township, a grid worker to one, with grids of that township
    only), a department account names a known department, a township is a township."""
    if role == Role.COUNTY_ADMIN and township is not None:
        raise ValueError("a county admin belongs to no township")
    if role == Role.GRID_WORKER and township is None:
        raise ValueError("a grid worker belongs to a township (--township)")
    if role == Role.GRID_WORKER and not grids:
        raise ValueError("a grid worker needs at least one grid (--grids)")
    if role != Role.GRID_WORKER and grids:
        raise ValueError(f"only grid workers have grids; a {role.value} account has none")
    if role == Role.DEPARTMENT and not department:
        raise ValueError("a department account needs its department code (--department)")
    if role != Role.DEPARTMENT and department:
        raise ValueError(f"only department accounts name a department, not a {role.value}")
    if township is not None:
        level = tx.scalar("SELECT level FROM divisions WHERE code = ?", [township])
        if level != DivisionLevel.TOWNSHIP.value:
            raise ValueError(f"{township} is not a township of county {county_code}")
    for g in grids:
        owner = tx.scalar("SELECT township_code FROM grids WHERE code = ?", [g])
        if owner is None:
            raise ValueError(f"there is no grid {g} in county {county_code}")
        if township is not None and owner != township:
            raise ValueError(
                f"grid {g} is not a grid of township {township} (it belongs to {owner})"
            )
    if department and not tx.scalar("SELECT 1 FROM departments WHERE code = ?", [department]):
        raise ValueError(f"unknown department {department}")


def edit_user(
    county: County,
    login: str,
    *,
    name: str | None = None,
    role: Role | None = None,
    township: str | None = _UNSET,
    department: str | None = _UNSET,
    grids: Sequence[str] | None = None,
    by: str = CONSOLE,
) -> acc.Account:
    """Change an account's display name, role, township, department or grids (each optional;
    ``township=None`` makes it a county-level account). The result is checked as a whole by
    :func:`check_account`; nothing changes when it fails. A change of township or role revokes
    the account's tokens: a device enrolled to the old township cannot hold the new one."""
    now = county.clock()
    with county.db.write(ordered=False) as tx:
        old = acc.load_account(tx, login=login)
        if old is None:
            raise ValueError(f"no account named {login}")
        new_name = old.name if name is None else name.strip()
        if not new_name:
            raise ValueError("a display name cannot be empty")
        new_role = old.role if role is None else role
        new_township = old.township_code if township is _UNSET else (township or None)
        new_department = old.department_code if department is _UNSET else (department or None)
        new_grids = list(old.grid_codes) if grids is None else list(dict.fromkeys(grids))
        if new_role != Role.GRID_WORKER and grids is None:
            new_grids = []  # a grid worker made an operator leaves their grids behind
        if new_role != Role.DEPARTMENT and department is _UNSET:
            new_department = None
        check_account(
            tx,
            county.county,
            role=new_role,
            township=new_township,
            department=new_department,
            grids=new_grids,
        )
        changes = {
            k: [a, b]
            for k, a, b in (
                ("name", old.name, new_name),
                ("role", old.role.value, new_role.value),
                ("township", old.township_code, new_township),
                ("department", old.department_code, new_department),
                ("grids", list(old.grid_codes), new_grids),
            )
            if a != b
        }
        if changes:
            tx.execute(
                "UPDATE accounts SET name = ?, role = ?, township_code = ?, department_code = ?, "
                "grid_codes = ?, updated_at = ? WHERE id = ?",
                [
                    new_name,
                    new_role.value,
                    new_township,
                    new_department,
                    json.dumps(new_grids),
                    now,
                    old.id,
                ],
            )
            if "township" in changes or "role" in changes:
                tx.execute("UPDATE tokens SET revoked = 1 WHERE account_id = ?", [old.id])
            audit(tx, now, by, "account.edit", login, changes)
            tx.bump("reference")
        account = acc.load_account(tx, account_id=old.id)
    assert account is not None
    return account


# -- taxonomy ------------------------------------------------------------------------------------


def taxonomy_version(tx: Tx) -> int:
    return int(tx.scalar("SELECT value FROM counters WHERE name = 'taxonomy'", default=1))


def export_taxonomy(county: County) -> dict[str, Any]:
    """The taxonomy in force, as the file ``taxonomy import`` takes back."""
    with county.db.read() as tx:
        version = taxonomy_version(tx)
        taxonomy = county._load_taxonomy(tx)
    return {
        "format": TAXONOMY_FORMAT,
        "county": county.county,
        "version": version,
        "categories": protocol.taxonomy_to_wire(taxonomy),
    }


def parse_taxonomy(data: Any) -> Taxonomy:
    """A taxonomy file's categories, checked, or ValueError saying what is wrong in plain
    words (which category, which field)."""
    if not isinstance(data, dict):
        raise ValueError('a taxonomy file is a JSON object with a "categories" list')
    fmt = data.get("format", TAXONOMY_FORMAT)
    if fmt != TAXONOMY_FORMAT:
        raise ValueError(f"this file's format is {fmt!r}; this server reads {TAXONOMY_FORMAT!r}")
    items = data.get("categories")
    if not isinstance(items, list) or not items:
        raise ValueError('the file has no "categories" list (or it is empty)')
    seen: set[str] = set()
    for i, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"category number {i} is not a JSON object")
        code = item.get("code")
        if not isinstance(code, str) or not code.isdigit():
            raise ValueError(f'category number {i} needs a "code" of digits, e.g. "0101"')
        if code in seen:
            raise ValueError(f"category {code} appears twice")
        seen.add(code)
        parent = item.get("parent")
        if parent is None and len(code) != 2:
            raise ValueError(f"category {code}: a major category (大类) has a 2-digit code")
        if parent is not None and (not isinstance(parent, str) or not code.startswith(parent)):
            raise ValueError(f"category {code}: a minor category's code starts with its parent's")
        for which in ("normal", "urgent"):
            d = item.get(which)
            if not isinstance(d, dict):
                raise ValueError(f"category {code}: the {which} deadline is missing")
            for key, value in d.items():
                if value is not None and (
                    isinstance(value, bool) or not isinstance(value, int) or value <= 0
                ):
                    raise ValueError(
                        f"category {code}: {which} {key} must be a whole number above 0"
                    )
    try:
        taxonomy = protocol.taxonomy_from_wire(items)
    except protocol.WireError as exc:
        raise ValueError(f"the taxonomy is not valid: {exc}") from None
    for c in taxonomy:
        if c.parent is not None and taxonomy[c.parent].parent is not None:
            raise ValueError(f"category {c.code}: only two levels (大类/小类) are allowed")
    return taxonomy


def import_taxonomy(
    county: County, data: Any, *, by: str = CONSOLE, note: str = ""
) -> dict[str, Any]:
    """Replace the taxonomy with a checked new version; the old one stays in the history.

    A category that cases use cannot be removed (their deadlines and reports name it); its
    name and deadlines can change. What a change does to open cases: docs/deploy.md."""
    taxonomy = parse_taxonomy(data)
    now = county.clock()
    with county.db.write(ordered=False) as tx:
        current = county._load_taxonomy(tx)
        used = _used_categories(tx, {c.code for c in current} - {c.code for c in taxonomy})
        if used:
            raise ValueError(
                f"categories {', '.join(used)} are used by cases and cannot be removed; "
                "keep them (rename them if they should no longer be chosen)"
            )
        version = taxonomy_version(tx)
        if not tx.scalar("SELECT 1 FROM taxonomy_versions WHERE version = ?", [version]):
            # The version in force before the first import, kept so the history is whole.
            tx.execute(
                "INSERT INTO taxonomy_versions (version, body, imported_at, imported_by, note) "
                "VALUES (?, ?, ?, ?, ?)",
                [version, _body(current), 0, "init", "the taxonomy before the first import"],
            )
        version = tx.bump("taxonomy")
        write_taxonomy(tx, taxonomy)
        tx.execute(
            "INSERT INTO taxonomy_versions (version, body, imported_at, imported_by, note) "
            "VALUES (?, ?, ?, ?, ?)",
            [version, _body(taxonomy), now, by, note],
        )
        audit(tx, now, by, "taxonomy.import", str(version), {"categories": len(taxonomy)})
        tx.bump("reference")
    return {"version": version, "categories": len(taxonomy)}


def _used_categories(tx: Tx, codes: set[str]) -> list[str]:
    """Which of ``codes`` a report or an edit of some case names (the cases table holds no
    category; the entries do)."""
    used = []
    for code in sorted(codes):
        for (payload,) in tx.rows(
            "SELECT payload FROM entries WHERE action IN ('report', 'self_handle', 'edit') "
            "AND payload LIKE ?",
            [f'%"{code}"%'],
        ):
            p = json.loads(str(payload))
            edited = (p.get("fields") or {}).get("category") or {}
            named = edited.get("value") if isinstance(edited, dict) else None
            if code in (p.get("category"), named):
                used.append(code)
                break
    return used


def earlier_taxonomies(tx: Tx) -> tuple[tuple[int, Taxonomy], ...]:
    """The versions before the one in force, oldest first, each with the time the next one
    replaced it: what :class:`~sync.model.workflow.Rules` takes a case's deadlines from."""
    rows = tx.rows(
        "SELECT version, imported_at, body FROM taxonomy_versions WHERE version <= ? "
        "ORDER BY version",
        [taxonomy_version(tx)],
    )
    return tuple(
        (int(nxt[1]), protocol.taxonomy_from_wire(json.loads(str(row[2]))))
        for row, nxt in itertools.pairwise(rows)
    )


def earlier_to_wire(earlier: Sequence[tuple[int, Taxonomy]]) -> list[dict[str, Any]]:
    return [{"until": until, "categories": protocol.taxonomy_to_wire(t)} for until, t in earlier]


def _body(taxonomy: Taxonomy) -> str:
    return json.dumps(protocol.taxonomy_to_wire(taxonomy), ensure_ascii=False)


def taxonomy_history(county: County) -> list[dict[str, Any]]:
    with county.db.read() as tx:
        rows = tx.rows(
            "SELECT version, imported_at, imported_by, note, body FROM taxonomy_versions "
            "ORDER BY version"
        )
    return [
        {
            "version": int(r[0]),
            "imported_at": int(r[1]),
            "imported_by": r[2],
            "note": r[3],
            "categories": len(json.loads(r[4])),
        }
        for r in rows
    ]
