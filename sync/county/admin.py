"""County administration: devices, account edits and grid assignments, the taxonomy's versions,
and the audit of every administrative action (issue 18).

Each function takes the :class:`~sync.county.service.County` and changes the database in one
transaction; ``gridroom-county user|device|taxonomy|grid|audit`` (:mod:`sync.county.cli`) are
thin over them. Account changes bump the ``reference`` counter, so devices fetch the accounts
again at their next sync; a scope that changes with them (new grids, another township) changes
the device's scope id, and the device drops what left its scope (``docs/sync-protocol.md``).
A taxonomy import bumps the ``taxonomy`` counter, which every server process compares per
request (:meth:`County.refresh_taxonomy`), so no process keeps applying an old version.
Retired grids (split, merged, re-coded) stay in the grids table with their successors, so old
cases still name a grid that existed; ``grid_history`` keeps what happened.
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
    already: Sequence[str] = (),
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
    for g in grids:
        if g in already:
            continue  # kept after a merge or re-code: the old cases of it stay in view
        if tx.scalar("SELECT retired_at FROM grids WHERE code = ?", [g]) is not None:
            raise ValueError(f"grid {g} was retired (split, merged or re-coded); use its successor")
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
            already=old.grid_codes,
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
    other = data.get("county")
    if other not in (None, county.county):
        raise ValueError(
            f"this file is county {other}'s taxonomy; this database is county {county.county}'s "
            '(remove its "county" member to import it here on purpose)'
        )
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


# -- places --------------------------------------------------------------------------------------


def _grid(tx: Tx, code: str, *, live: bool = True) -> tuple[Any, ...]:
    row = tx.one(
        "SELECT code, name, village_code, township_code, kind, households, population, "
        "dedicated_to, retired_at FROM grids WHERE code = ?",
        [code],
    )
    if row is None:
        raise ValueError(f"there is no grid {code}")
    if live and row[8] is not None:
        raise ValueError(f"grid {code} was retired (split, merged or re-coded); use its successor")
    return row


def _new_grid(
    tx: Tx, code: str, name: str, village: str, kind: str, households: int, population: int
) -> None:
    if not (len(code) == 15 and code.isdigit() and code.startswith(village)):
        raise ValueError(
            f"a grid code is its village's 12-digit code and 3 more digits ({village}001), "
            f"not {code}"
        )
    if tx.scalar("SELECT 1 FROM grids WHERE code = ?", [code]):
        raise ValueError(f"grid {code} exists already (codes are never reused)")
    if not name.strip():
        raise ValueError(f"grid {code} needs a name (--name)")
    tx.execute(
        "INSERT INTO grids (code, name, village_code, township_code, kind, households, "
        "population, dedicated_to) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
        [code, name.strip(), village, village[:9], kind, households, population],
    )


def _grid_event(
    tx: Tx, now: int, action: str, old: Sequence[str], new: Sequence[str], detail: Mapping[str, Any]
) -> None:
    tx.execute(
        "INSERT INTO grid_history (id, at, action, old_codes, new_codes, detail) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            new_id(),
            now,
            action,
            json.dumps(list(old)),
            json.dumps(list(new)),
            json.dumps(dict(detail), ensure_ascii=False),
        ],
    )
    audit(tx, now, CONSOLE, f"grid.{action}", ",".join([*old, *new]), detail)
    tx.bump("reference")


def _retire(tx: Tx, now: int, old: Sequence[str], new: Sequence[str]) -> list[str]:
    """Retire ``old`` grids in favour of ``new``; a grid worker of a retired grid also gets
    the successor when there is one (a merge or a re-code). Returns the logins of the workers
    of a split grid (IT decides who takes which part: ``user grids``)."""
    for code in old:
        tx.execute(
            "UPDATE grids SET retired_at = ?, successors = ? WHERE code = ?",
            [now, json.dumps(list(new)), code],
        )
    undecided = []
    for account_id, login, grids in tx.rows(
        "SELECT id, login, grid_codes FROM accounts WHERE role = 'grid_worker'"
    ):
        mine = json.loads(str(grids))
        if not set(mine) & set(old):
            continue
        if len(new) == 1:
            # The successor is added and the retired grid kept: the worker's open cases in it
            # stay on their laptop (a case keeps the grid it was reported in).
            moved = list(dict.fromkeys([*mine, new[0]]))
            tx.execute(
                "UPDATE accounts SET grid_codes = ?, updated_at = ? WHERE id = ?",
                [json.dumps(moved), now, account_id],
            )
        else:
            undecided.append(str(login))
    return undecided


def add_grid(
    county: County, code: str, *, name: str, village: str, kind: str = "rural"
) -> dict[str, Any]:
    now = county.clock()
    with county.db.write(ordered=False) as tx:
        if tx.scalar("SELECT level FROM divisions WHERE code = ?", [village]) != "village":
            raise ValueError(f"{village} is not a village of county {county.county}")
        if kind not in ("urban", "rural", "dedicated"):
            raise ValueError("a grid's kind is urban, rural or dedicated")
        _new_grid(tx, code, name, village, kind, 0, 0)
        _grid_event(tx, now, "add", [], [code], {"name": name, "village": village})
    return {"code": code, "name": name, "village": village}


def rename_grid(county: County, code: str, *, name: str) -> dict[str, Any]:
    now = county.clock()
    with county.db.write(ordered=False) as tx:
        row = _grid(tx, code)
        if not name.strip():
            raise ValueError("a grid needs a name")
        tx.execute("UPDATE grids SET name = ? WHERE code = ?", [name.strip(), code])
        _grid_event(tx, now, "rename", [code], [code], {"from": row[1], "to": name.strip()})
    return {"code": code, "name": name.strip()}


def replace_grids(
    county: County,
    action: str,
    old: Sequence[str],
    new: Sequence[tuple[str, str]],
) -> dict[str, Any]:
    """Split (one old, several new), merge (several old, one new) or re-code (one old, one
    new): the new grids are created in the old ones' village, the old ones retired but kept —
    old cases still name them, and devices still resolve them — with their successors."""
    if action == "split" and (len(old) != 1 or len(new) < 2):
        raise ValueError("a split takes one grid into two or more new ones")
    if action == "merge" and (len(old) < 2 or len(new) != 1):
        raise ValueError("a merge takes two or more grids into one new one")
    if action == "recode" and (len(old) != 1 or len(new) != 1):
        raise ValueError("a re-code gives one grid one new code")
    now = county.clock()
    with county.db.write(ordered=False) as tx:
        rows = [_grid(tx, code) for code in dict.fromkeys(old)]
        if len({r[2] for r in rows}) != 1:
            raise ValueError("grids of different villages cannot be merged")
        village, kind = str(rows[0][2]), str(rows[0][4])
        households = sum(int(r[5]) for r in rows)
        population = sum(int(r[6]) for r in rows)
        share = len(new)
        for code, name in new:
            if action == "recode" and not name:
                name = str(rows[0][1])
            _new_grid(tx, code, name, village, kind, households // share, population // share)
        codes = [c for c, _ in new]
        undecided = _retire(tx, now, [str(r[0]) for r in rows], codes)
        _grid_event(
            tx,
            now,
            action,
            [str(r[0]) for r in rows],
            codes,
            {"names": [n for _, n in new], "to_reassign": undecided},
        )
    return {"retired": [str(r[0]) for r in rows], "new": codes, "to_reassign": undecided}


def grids(county: County, *, township: str | None = None) -> list[dict[str, Any]]:
    with county.db.read() as tx:
        rows = tx.rows(
            "SELECT code, name, village_code, kind, retired_at, successors FROM grids "
            + ("WHERE township_code = ? " if township else "")
            + "ORDER BY code",
            [township] if township else [],
        )
    return [
        {
            "code": r[0],
            "name": r[1],
            "village": r[2],
            "kind": r[3],
            "retired_at": None if r[4] is None else int(r[4]),
            "successors": json.loads(r[5]) if r[5] else [],
        }
        for r in rows
    ]


def grid_history(county: County, code: str | None = None) -> list[dict[str, Any]]:
    with county.db.read() as tx:
        rows = tx.rows(
            "SELECT at, action, old_codes, new_codes, detail FROM grid_history ORDER BY at, id"
        )
    out = [
        {
            "at": int(r[0]),
            "action": r[1],
            "old": json.loads(r[2]),
            "new": json.loads(r[3]),
            "detail": json.loads(r[4]),
        }
        for r in rows
    ]
    return [h for h in out if code is None or code in h["old"] or code in h["new"]]
