"""The local store: the command API (one function per loop action) and the query API.

Every write runs in one ``BEGIN IMMEDIATE`` transaction that appends the timeline entry,
recomputes the case's projection, updates the search index, and — through triggers — records the
change in the outbox for sync. A crash at any point leaves all of it or none of it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..geo.points import parse_point as geo_point
from ..model import divisions as division_data
from ..model import scope as scope_rules
from ..model.calendar import SHANGHAI
from ..model.clock import HybridClock, Millis, from_millis, new_id, now_millis, to_millis
from ..model.records import (
    CASE_FIELDS,
    DONE_STATUSES,
    DROPPED_STATUSES,
    OPEN_STATUSES,
    Action,
    Actor,
    AssigneeKind,
    Department,
    Division,
    Entry,
    Grid,
    GridKind,
    Role,
    Staff,
    Status,
    TaskState,
)
from ..model.taxonomy import Category, Deadline, Taxonomy, default_taxonomy
from ..model.workflow import CaseState, Refused, Rules, check, project
from . import health, keys, queries, schema, search, steps
from ._sqlite_utils import sqlite_utils
from .engine import BUSY_TIMEOUT_MS, DriverError, connect, connect_read_only, keyed_failure
from .errors import NotADatabase, StoreError, UnknownScope, classify

_BASE32 = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no I, O, 0, 1: read aloud over the phone


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _refuse_plain(conn: Any, require: bool | None) -> bool:
    """A plaintext store is refused when encryption is required, unless it is the demo."""
    if not (keys.required() if require is None else require):
        return False
    row = conn.execute("SELECT value FROM meta WHERE key = 'synthetic'").fetchone()
    return not (row and row[0] == "1")


class Store:
    """One township's (or county's) local store.

    Thread-safe by a lock: the desktop may call it from its worker threads; results come back to
    the GUI by signal. Open it with :meth:`open` or :meth:`create`; close it with :meth:`close`.
    """

    def __init__(
        self,
        conn: Any,
        path: Path,
        *,
        clock: Callable[[], Millis] = now_millis,
    ) -> None:
        self.conn = conn
        self.path = path
        #: The store key (raw bytes from :mod:`.keys`, or a passphrase), None for a plain file;
        #: attachments derive their keys from it.
        self.key: bytes | str | None = None
        self.db = sqlite_utils.Database(conn)
        self.now = clock
        self._lock = threading.RLock()
        self._write_depth = 0  # >0 while a write() transaction is open (nested ones savepoint)
        self._meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())
        # Sync (sync.store.replica.set_clock_offset) records how wrong this device's clock is,
        # as measured against the county: new entries then carry the county's time.
        self.raw_clock = clock
        offset = int(self._meta.get("clock_offset_ms") or 0)
        if offset:
            self.now = lambda: clock() + offset
        # The taxonomy as this connection last loaded it, and the version it had then: a sync
        # in another program (or another Store on the same file) that brings a new taxonomy
        # changes the version, and the next use here loads it again (see ``taxonomy``).
        self._taxonomy_version = self._stored_taxonomy_version()
        self._taxonomy = self._load_taxonomy()
        self._rules = Rules(self._taxonomy, earlier=self._load_earlier())
        # Built on first use; built again when this store (or another program syncing the
        # same file) takes in new reference data.
        self._reference: scope_rules.Reference | None = None
        self._reference_version: str | None = None
        self.hlc = HybridClock(self.device_code or "LOCAL", wall=lambda: self.now())
        if self._meta.get("hlc"):
            self.hlc.observe(self._meta["hlc"])

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        key: bytes | str | None = None,
        clock: Callable[[], Millis] = now_millis,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        require_encryption: bool | None = None,
    ) -> Store:
        """Open an existing store, applying pending migrations; refuse a newer schema.

        ``key``: None finds it the one way every opener does (:func:`.keys.key_for`: this
        process's memory, the keyring; an encrypted store whose key is wrapped by the password
        raises :class:`~.keys.KeyNeeded` until :func:`.keys.key_for` or :func:`.keys.prepare`
        unlocked it). A plaintext store is refused with :class:`~.keys.NotEncrypted` where
        ``require_encryption`` (default: the setting) asks for encryption, unless it is the
        demo. ``busy_timeout_ms``: how long a write waits for another program's lock before it
        gives up with :class:`~.errors.StoreLocked`.
        """
        path = Path(path)
        if key is None:
            key = keys.key_for(path)
        conn = connect(path, key=key, busy_timeout_ms=busy_timeout_ms)
        try:
            version = schema.check_version(conn, str(path))
            if version == 0:
                raise NotADatabase(f"{path} is an SQLite file but not a Gridroom store.", path=path)
            if key is None and _refuse_plain(conn, require_encryption):
                raise keys.NotEncrypted(
                    f"{path} is not encrypted, and this computer's policy (require_encryption) "
                    "requires it. Sign in (gridroom login, or start Gridroom) to encrypt it; "
                    "nothing was changed.",
                    path=path,
                )
            schema.migrate(conn, str(path))
            store = cls(conn, path, clock=clock)
            store.key = key
            store._drain_reproject_queue()
            return store
        except DriverError as exc:
            conn.close()
            raise classify(exc, path) or exc from exc
        except BaseException:
            conn.close()
            raise

    @classmethod
    def open_read_only(
        cls,
        path: Path | str,
        *,
        key: bytes | str | None = None,
        clock: Callable[[], Millis] = now_millis,
    ) -> Store:
        """Open an existing store to read it only (``gridroom stats``, ``export``): works on a
        read-only file or folder, never migrates, and every write through it fails. ``key``:
        None finds it as :meth:`open` does (:func:`.keys.key_for`).

        A store whose schema is older than this Gridroom's needs its migrations, which write:
        where it can be written it is opened with :meth:`open` (migrated, as every command did
        before), else refused in plain words.
        """
        path = Path(path)
        if key is None:
            key = keys.key_for(path)
        conn = connect_read_only(path, key=key)
        try:
            version = schema.check_version(conn, str(path))
            if version == 0:
                raise NotADatabase(f"{path} is an SQLite file but not a Gridroom store.", path=path)
            if version < schema.SCHEMA_VERSION:
                if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
                    conn.close()
                    return cls.open(path, key=key, clock=clock)
                raise StoreError(
                    f"{path} was written by an older Gridroom (schema {version}) and must be "
                    "upgraded before it can be read: open it once with Gridroom where the file "
                    "and its folder can be written.",
                    path=path,
                )
            store = cls(conn, path, clock=clock)
            store.key = key
            return store
        except DriverError as exc:
            conn.close()
            raise classify(exc, path) or exc from exc
        except BaseException:
            conn.close()
            raise

    @classmethod
    def create(
        cls,
        path: Path | str,
        *,
        scope: str,
        key: bytes | str | None = None,
        device_code: str | None = None,
        synthetic: bool = False,
        taxonomy: Taxonomy | None = None,
        clock: Callable[[], Millis] = now_millis,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> Store:
        """Create a store for a township or county code, with its real divisions loaded.

        Raises :class:`~.errors.UnknownScope` (a ``ValueError`` too) for a code that is not a
        township or county of the bundled divisions; no file is created then. ``key``: see
        :mod:`.keys` (enrolment keeps it first); without one, a store other than the demo is
        refused where ``require_encryption`` is set.
        """
        path = Path(path)
        divisions = _scope_divisions(scope)
        if key is None and not synthetic and keys.required():
            raise keys.NotEncrypted(
                f"This computer's policy (require_encryption) allows only encrypted stores; "
                f"{path} was not created.",
                path=path,
            )
        if path.exists() and path.stat().st_size > 0:
            raise StoreError(f"{path} already exists; choose another file.", path=path)
        conn = connect(path, key=key, create=True, busy_timeout_ms=busy_timeout_ms)
        try:
            schema.migrate(conn, str(path))
            meta = {
                "scope": scope,
                "device_id": new_id(),
                "device_code": device_code or "".join(secrets.choice(_BASE32) for _ in range(4)),
                "created_at": str(clock()),
                "synthetic": "1" if synthetic else "0",
            }
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", meta.items())
            conn.executemany(
                "INSERT INTO divisions (code, name, parent_code, level) VALUES (?, ?, ?, ?)",
                [(d.code, d.name, d.parent_code, d.level.value) for d in divisions],
            )
            _write_taxonomy(conn, taxonomy or default_taxonomy())
            conn.execute("COMMIT")
            store = cls(conn, path, clock=clock)
            store.key = key
            return store
        except BaseException as exc:
            with contextlib.suppress(DriverError):
                conn.execute("ROLLBACK")
            conn.close()
            if isinstance(exc, DriverError):
                raise classify(exc, path) or exc from exc
            raise

    def close(self) -> None:
        with self._lock:
            self.conn.close()

    def _classify(self, exc: BaseException) -> StoreError | None:
        """:func:`~.errors.classify` for this store's connection; on an encrypted store a page
        that fails its HMAC is damage, whatever SQLCipher's code says (called under the lock)."""
        if self.key is not None and isinstance(exc, DriverError):
            damage = keyed_failure(self.conn, exc, self.path)
            if damage is not None:
                return damage
        return classify(exc, self.path)

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def write(self) -> Iterator[Any]:
        """One write transaction, taken with the write lock from the start.

        Nested inside another ``write()`` on the same thread it becomes a savepoint of the outer
        transaction, so a caller can make many commands one atomic unit (a spreadsheet import:
        all rows or none) while each command still rolls back alone when it fails.
        """
        with self._lock:
            if self._write_depth:
                yield from self._savepoint()
                return
            health.refuse_write(self.path)  # a store found damaged is not written again
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except DriverError as exc:
                raise self._classify(exc) or exc from exc
            self._write_depth = 1
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(DriverError):
                    self.conn.execute("ROLLBACK")
                if isinstance(exc, DriverError | OSError):
                    known = self._classify(exc)
                    if known is not None:
                        raise known from exc
                raise
            finally:
                self._write_depth = 0

    def _savepoint(self) -> Iterator[Any]:
        """The body of a nested :meth:`write` (called with the lock held)."""
        name = f"write_{self._write_depth}"
        self.conn.execute(f"SAVEPOINT {name}")
        self._write_depth += 1
        try:
            yield self.conn
            self.conn.execute(f"RELEASE {name}")
        except BaseException as exc:
            with contextlib.suppress(DriverError):
                self.conn.execute(f"ROLLBACK TO {name}")
                self.conn.execute(f"RELEASE {name}")
            if isinstance(exc, DriverError | OSError):
                known = self._classify(exc)
                if known is not None:
                    raise known from exc
            raise
        finally:
            self._write_depth -= 1

    def read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self.conn.execute(sql, args).fetchall())
            except DriverError as exc:
                raise self._classify(exc) or exc from exc

    def _dicts(self, sql: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self._lock:
            try:
                cursor = self.conn.execute(sql, args)
                names = [d[0] for d in cursor.description]
                return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
            except DriverError as exc:
                raise self._classify(exc) or exc from exc

    # -- meta -----------------------------------------------------------------------------------

    @property
    def scope(self) -> str:
        return self._meta.get("scope", "")

    @property
    def device_id(self) -> str:
        return self._meta.get("device_id", "")

    @property
    def device_code(self) -> str:
        return self._meta.get("device_code", "")

    @property
    def synthetic(self) -> bool:
        return self._meta.get("synthetic") == "1"

    def meta(self, key: str, default: str | None = None) -> str | None:
        return self._meta.get(key, default)

    def set_meta(self, values: dict[str, str], conn: Any | None = None) -> None:
        """Set meta keys, inside the caller's transaction when it passes ``conn``."""
        if conn is None:
            with self.write() as c:
                self.set_meta(values, c)
            return
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            values.items(),
        )
        self._meta.update(values)

    # -- reference data -------------------------------------------------------------------------

    def _load_taxonomy(self) -> Taxonomy:
        rows = self.conn.execute(
            "SELECT code, name, parent, accept_hours, handle_days, handle_hours, "
            "urgent_accept_hours, urgent_handle_days, urgent_handle_hours FROM categories"
        ).fetchall()
        if not rows:
            return default_taxonomy()
        return Taxonomy(
            Category(r[0], r[1], r[2], Deadline(r[3], r[4], r[5]), Deadline(r[6], r[7], r[8]))
            for r in rows
        )

    def _stored_taxonomy_version(self) -> str:
        with self._lock:
            row = self.conn.execute(
                "SELECT value FROM sync_state WHERE key = 'taxonomy_version'"
            ).fetchone()
        return row[0] if row else ""

    def _fresh_taxonomy(self) -> None:
        version = self._stored_taxonomy_version()
        if version != self._taxonomy_version:
            taxonomy = self._load_taxonomy()
            self._taxonomy = taxonomy
            self._rules = Rules(taxonomy, earlier=self._load_earlier())
            self._taxonomy_version = version

    def _load_earlier(self) -> tuple[tuple[int, Taxonomy], ...]:
        """The county's earlier taxonomies (``taxonomy_earlier`` of the reference data)."""
        with self._lock:
            row = self.conn.execute(
                "SELECT value FROM sync_state WHERE key = 'taxonomy_earlier'"
            ).fetchone()
        return tuple(
            (int(until), Taxonomy(_category_from_row(r) for r in rows))
            for until, rows in json.loads(row[0] if row else "[]")
        )

    @property
    def taxonomy(self) -> Taxonomy:
        """The categories and deadlines in force (reloaded when another connection stored a
        new version: one primary-key read per use)."""
        self._fresh_taxonomy()
        return self._taxonomy

    @taxonomy.setter
    def taxonomy(self, value: Taxonomy) -> None:
        self._taxonomy = value  # in memory only, until a new version is stored

    @property
    def rules(self) -> Rules:
        self._fresh_taxonomy()
        return self._rules

    @rules.setter
    def rules(self, value: Rules) -> None:
        self._rules = value  # in memory only (tests), until a new version is stored

    def set_taxonomy(
        self, taxonomy: Taxonomy, *, earlier: Sequence[tuple[int, Taxonomy]] = ()
    ) -> None:
        """Replace the taxonomy (as received from the county) and the versions before it (a
        case's deadlines come from the one in force when it was reported); every other
        connection to this file sees the new version at its next use."""
        kept = json.dumps(
            [
                [until, [_category_row(c) for c in sorted(t, key=lambda c: c.code)]]
                for until, t in earlier
            ],
            ensure_ascii=False,
        )
        current = json.dumps(
            [_category_row(c) for c in sorted(taxonomy, key=lambda c: c.code)], ensure_ascii=False
        )
        digest = hashlib.sha256((current + kept).encode()).hexdigest()[:16]
        with self.write() as conn:
            conn.execute("DELETE FROM categories")
            _write_taxonomy(conn, taxonomy)
            conn.executemany(
                "INSERT INTO sync_state (key, value) VALUES (?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [("taxonomy_version", digest), ("taxonomy_earlier", kept)],
            )
        self._taxonomy = taxonomy
        self._rules = Rules(taxonomy, earlier=tuple(earlier))
        self._taxonomy_version = digest

    def put_grids(self, grids: Iterable[Grid], *, synthetic: bool = False) -> None:
        self._reference = None
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO grids (code, name, village_code, kind, households, population, "
                "dedicated_to, synthetic) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(code) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
                "households = excluded.households, population = excluded.population, "
                "dedicated_to = excluded.dedicated_to",
                [
                    (
                        g.code,
                        g.name,
                        g.village_code,
                        g.kind.value,
                        g.households,
                        g.population,
                        g.dedicated_to,
                        int(synthetic),
                    )
                    for g in grids
                ],
            )

    def put_departments(self, departments: Iterable[Department]) -> None:
        self._reference = None
        with self.write() as conn:
            conn.executemany(
                "INSERT INTO departments (code, name, level) VALUES (?, ?, ?) "
                "ON CONFLICT(code) DO UPDATE SET name = excluded.name, level = excluded.level",
                [(d.code, d.name, "county" if d.county else "township") for d in departments],
            )

    def put_staff(self, staff: Iterable[Staff], *, synthetic: bool = False) -> None:
        with self.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO staff (id, name, role, phone, grid_code, department_code,"
                " synthetic) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        s.id,
                        s.name,
                        s.role.value,
                        s.phone,
                        s.grid_id,
                        s.department_code,
                        int(synthetic),
                    )
                    for s in staff
                ],
            )

    def put_accounts(self, actors: Iterable[Actor]) -> None:
        with self.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO accounts (id, name, role, department_code, grid_codes, "
                "township_code) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        a.id,
                        a.name,
                        a.role.value,
                        a.department_code,
                        _json(list(a.grid_ids)),
                        a.township,
                    )
                    for a in actors
                ],
            )

    _ACCOUNT_COLUMNS = "id, name, role, department_code, grid_codes, township_code"

    def accounts(self, role: Role | None = None) -> list[Actor]:
        sql = f"SELECT {self._ACCOUNT_COLUMNS} FROM accounts"
        args: list[Any] = []
        if role is not None:
            sql += " WHERE role = ?"
            args.append(role.value)
        return [
            Actor(r[0], r[1], Role(r[2]), r[3], tuple(json.loads(r[4])), r[5])
            for r in self.read(sql + " ORDER BY role, name", args)
        ]

    def account(self, account_id: str) -> Actor | None:
        for a in self.read(
            f"SELECT {self._ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", [account_id]
        ):
            return Actor(a[0], a[1], Role(a[2]), a[3], tuple(json.loads(a[4])), a[5])
        return None

    def reference(self) -> scope_rules.Reference:
        """The places and departments this store knows: what the names in a local entry are
        checked against, by the same rules as the county's (:mod:`sync.model.scope`)."""
        with self._lock:
            row = self.conn.execute(
                "SELECT value FROM sync_state WHERE key = 'reference_version'"
            ).fetchone()
        version = row[0] if row else ""
        ref = self._reference
        if ref is None or self._reference_version != version:
            with self._lock:
                grids = dict(self.conn.execute("SELECT code, village_code FROM grids").fetchall())
                villages = dict(
                    self.conn.execute(
                        "SELECT code, parent_code FROM divisions WHERE level = 'village'"
                    ).fetchall()
                )
                townships = frozenset(
                    r[0]
                    for r in self.conn.execute(
                        "SELECT code FROM divisions WHERE level = 'township'"
                    ).fetchall()
                )
                levels = dict(self.conn.execute("SELECT code, level FROM departments").fetchall())
            departments = frozenset(levels)
            ref = scope_rules.Reference(
                grids,
                villages,
                townships,
                departments,
                frozenset(code for code, level in levels.items() if level == "county"),
                grids_known=bool(grids),
                departments_known=bool(departments),
            )
            self._reference, self._reference_version = ref, version
        return ref

    def refusal(
        self,
        state: CaseState | None,
        action: Action,
        actor: Actor,
        payload: dict[str, Any],
    ) -> str | None:
        """Why the county would refuse the names in this entry (scope, place, assignees, the
        sub-task, a second report), in plain words; None when it would take them."""
        ref = self.reference()
        try:
            mine = scope_rules.actor_keys(actor, self.scope)
            device = self._device_keys()
        except scope_rules.ScopeError as exc:
            return str(exc)

        def visible(case_id: str) -> bool:
            other = self.case(case_id)
            return other is not None and bool(scope_rules.view_of(other, ref).keys & mine)

        def entry_ids() -> list[str]:
            if state is None:
                return []
            with self._lock:
                return [e.id for e in self._timeline(self.conn, state.case_id)]

        view = None if state is None else scope_rules.view_of(state, ref, entry_ids)
        found = scope_rules.check_entry(
            view, action, actor, payload, ref=ref, mine=mine, device_keys=device, visible=visible
        )
        return None if found is None else found.reason

    def _device_keys(self) -> frozenset[str] | None:
        """The device's keys, as the county computes them: those of the account signed in on
        it (None before enrolment: a demo or offline store has no other bound)."""
        with self._lock:
            row = self.conn.execute(
                "SELECT value FROM sync_state WHERE key = 'account_id'"
            ).fetchone()
        account = self.account(row[0]) if row and row[0] else None
        return None if account is None else scope_rules.actor_keys(account, self.scope)

    def divisions(self, level: str | None = None) -> list[Division]:
        from ..model.records import DivisionLevel

        sql = "SELECT code, name, parent_code, level FROM divisions"
        args: list[Any] = []
        if level:
            sql += " WHERE level = ?"
            args.append(level)
        return [
            Division(r[0], r[1], r[2], DivisionLevel(r[3]))
            for r in self.read(sql + " ORDER BY code", args)
        ]

    def grids(self, village_code: str | None = None) -> list[Grid]:
        sql = (
            "SELECT code, name, village_code, kind, households, population, dedicated_to FROM grids"
        )
        args: list[Any] = []
        if village_code:
            sql += " WHERE village_code = ?"
            args.append(village_code)
        return [
            Grid(r[0], r[0], r[1], r[2], GridKind(r[3]), r[4], r[5], r[6])
            for r in self.read(sql + " ORDER BY code", args)
        ]

    def departments(self) -> list[Department]:
        return [
            Department(r[0], r[1], county=r[2] == "county")
            for r in self.read("SELECT code, name, level FROM departments ORDER BY code")
        ]

    def staff(self, grid_code: str | None = None) -> list[Staff]:
        from ..model.records import StaffRole

        sql = "SELECT id, name, role, phone, grid_code, department_code FROM staff"
        args: list[Any] = []
        if grid_code:
            sql += " WHERE grid_code = ?"
            args.append(grid_code)
        return [
            Staff(r[0], r[1], StaffRole(r[2]), r[3], r[4], r[5])
            for r in self.read(sql + " ORDER BY grid_code, role, name", args)
        ]

    # -- commands: the closed loop --------------------------------------------------------------

    def report(
        self,
        actor: Actor,
        fields: dict[str, Any],
        *,
        self_handled_result: str | None = None,
        level: int | None = None,
        at: Millis | None = None,
        case_id: str | None = None,
        from_visit: tuple[str, str] | None = None,
    ) -> CaseState:
        """File a new case (发现上报), or a self-handled one (自行处置) when a result is given.
        ``from_visit`` (visit id, item id) names the visit follow-up or patrol finding the case
        was made from (转为事件, :func:`sync.store.fieldwork.item_to_case`)."""
        action = Action.REPORT if self_handled_result is None else Action.SELF_HANDLE
        payload = {k: v for k, v in fields.items() if k in CASE_FIELDS and v not in (None, "")}
        if "grid_id" in payload and "village_code" not in payload:
            village = self.read(
                "SELECT village_code FROM grids WHERE code = ?", [payload["grid_id"]]
            )
            if village:
                payload["village_code"] = village[0][0]
        payload.setdefault("township_code", _township_of(payload.get("village_code")) or self.scope)
        if self_handled_result is not None:
            payload["result"] = self_handled_result
        if level is not None:
            payload["level"] = int(level)
        if from_visit is not None:
            payload["from_visit"], payload["from_item"] = from_visit
        at = self.now() if at is None else at
        case_id = case_id or new_id()
        with self._lock:
            exists = bool(self._timeline(self.conn, case_id))
        if exists:
            raise Refused(action, "the case was already reported")
        reason = check(None, action, actor, payload, at=at, rules=self.rules) or self.refusal(
            None, action, actor, payload
        )
        if reason is not None:
            raise Refused(action, reason)
        with self.write() as conn:
            payload["case_no"] = self._next_case_no(conn, at)
            entry = self._entry(case_id, action, actor, payload, at)
            return self._append(conn, [entry], local=True)[case_id]

    def act(
        self,
        case_id: str,
        action: Action,
        actor: Actor,
        payload: dict[str, Any] | None = None,
        *,
        at: Millis | None = None,
    ) -> CaseState:
        """Take one loop action on a case; raises :class:`Refused` with the reason if illegal."""
        payload = dict(payload or {})
        at = self.now() if at is None else at
        with self.write() as conn:
            entries = self._timeline(conn, case_id)
            if not entries:
                raise Refused(action, "there is no such case")
            state = project(entries, self.rules)
            if action == Action.EDIT:
                payload = self._edit_payload(state, payload)
            reason = check(state, action, actor, payload, at=at, rules=self.rules) or (
                self.refusal(state, action, actor, payload)
            )
            if reason is not None:
                raise Refused(action, reason)
            entry = self._entry(case_id, action, actor, payload, at)
            return self._append(conn, [entry], local=True, known={case_id: entries})[case_id]

    # One-line wrappers, grouped by what the operator does.
    def accept(self, case_id: str, actor: Actor, **kw: Any) -> CaseState:
        return self.act(case_id, Action.ACCEPT, actor, {}, **kw)

    def reject(self, case_id: str, actor: Actor, reason: str, **kw: Any) -> CaseState:
        return self.act(case_id, Action.REJECT, actor, {"reason": reason}, **kw)

    def merge(self, case_id: str, actor: Actor, into: str, **kw: Any) -> CaseState:
        return self.act(case_id, Action.MERGE, actor, {"into": into}, **kw)

    def dispatch(
        self,
        case_id: str,
        actor: Actor,
        lead: tuple[str, str],
        assisting: Sequence[tuple[str, str]] = (),
        note: str = "",
        **kw: Any,
    ) -> CaseState:
        """Dispatch to a lead unit and optional assisting units: ``(kind, code)`` pairs."""
        tasks = [{"kind": lead[0], "assignee": lead[1], "lead": True}]
        tasks += [{"kind": k, "assignee": c, "lead": False} for k, c in assisting]
        return self.act(case_id, Action.DISPATCH, actor, {"tasks": tasks, "note": note}, **kw)

    def return_task(
        self, case_id: str, actor: Actor, task: str, reason: str, **kw: Any
    ) -> CaseState:
        return self.act(case_id, Action.RETURN, actor, {"task": task, "reason": reason}, **kw)

    def feedback(
        self,
        case_id: str,
        actor: Actor,
        task: str,
        result: str,
        photos: Sequence[str] = (),
        **kw: Any,
    ) -> CaseState:
        payload = {"task": task, "result": result, "photos": list(photos)}
        return self.act(case_id, Action.FEEDBACK, actor, payload, **kw)

    def request_extension(
        self, case_id: str, actor: Actor, task: str, until: Millis, reason: str, **kw: Any
    ) -> CaseState:
        payload = {"task": task, "until": until, "reason": reason}
        return self.act(case_id, Action.REQUEST_EXTENSION, actor, payload, **kw)

    def decide_extension(
        self, case_id: str, actor: Actor, approve: bool, reason: str = "", **kw: Any
    ) -> CaseState:
        action = Action.APPROVE_EXTENSION if approve else Action.DENY_EXTENSION
        return self.act(case_id, action, actor, {"reason": reason}, **kw)

    def verify(
        self,
        case_id: str,
        actor: Actor,
        passed: bool,
        note: str = "",
        method: str = "call",
        **kw: Any,
    ) -> CaseState:
        if passed:
            return self.act(
                case_id, Action.VERIFY_PASS, actor, {"note": note, "method": method}, **kw
            )
        return self.act(
            case_id, Action.VERIFY_FAIL, actor, {"reason": note, "method": method}, **kw
        )

    def escalate(self, case_id: str, actor: Actor, reason: str, **kw: Any) -> CaseState:
        return self.act(case_id, Action.ESCALATE, actor, {"reason": reason}, **kw)

    def hand_down(self, case_id: str, actor: Actor, instructions: str, **kw: Any) -> CaseState:
        """交办: the county hands a case at county level back down to its township."""
        return self.act(case_id, Action.HAND_DOWN, actor, {"instructions": instructions}, **kw)

    def urge(self, case_id: str, actor: Actor, note: str = "", **kw: Any) -> CaseState:
        return self.act(case_id, Action.URGE, actor, {"note": note}, **kw)

    def request_park(
        self, case_id: str, actor: Actor, reason: str, review_on: Millis, **kw: Any
    ) -> CaseState:
        payload = {"reason": reason, "review_on": review_on}
        return self.act(case_id, Action.REQUEST_PARK, actor, payload, **kw)

    def decide_park(
        self, case_id: str, actor: Actor, approve: bool, reason: str = "", **kw: Any
    ) -> CaseState:
        action = Action.APPROVE_PARK if approve else Action.DENY_PARK
        return self.act(case_id, action, actor, {"reason": reason}, **kw)

    def resume(self, case_id: str, actor: Actor, **kw: Any) -> CaseState:
        return self.act(case_id, Action.RESUME, actor, {}, **kw)

    def archive(self, case_id: str, actor: Actor, **kw: Any) -> CaseState:
        return self.act(case_id, Action.ARCHIVE, actor, {}, **kw)

    def evaluate(
        self,
        case_id: str,
        actor: Actor,
        quality: int,
        satisfaction: str,
        note: str = "",
        **kw: Any,
    ) -> CaseState:
        payload = {"quality": quality, "satisfaction": satisfaction, "note": note}
        return self.act(case_id, Action.EVALUATE, actor, payload, **kw)

    def comment(self, case_id: str, actor: Actor, text: str, **kw: Any) -> CaseState:
        return self.act(case_id, Action.COMMENT, actor, {"text": text}, **kw)

    def edit(self, case_id: str, actor: Actor, changes: dict[str, Any], **kw: Any) -> CaseState:
        """Change descriptive fields; each change records the value it replaced (its base)."""
        return self.act(case_id, Action.EDIT, actor, {"fields": changes}, **kw)

    def settle(
        self,
        case_id: str,
        actor: Actor,
        *,
        void: Sequence[str] = (),
        fields: Sequence[str] = (),
        note: str = "",
        **kw: Any,
    ) -> CaseState:
        """Settle conflicts: void the steps that do not stand, accept field values as they are."""
        payload = {"void": list(void), "fields": list(fields), "note": note}
        return self.act(case_id, Action.SETTLE, actor, payload, **kw)

    def _edit_payload(self, state: CaseState, payload: dict[str, Any]) -> dict[str, Any]:
        changes = payload.get("fields", payload)
        out = {}
        for name, value in changes.items():
            if isinstance(value, dict) and "value" in value:
                out[name] = value
            else:
                out[name] = {"value": value, "base": state.field_source.get(name)}
        return {"fields": out}

    # -- applying entries (local and from sync) -------------------------------------------------

    def apply_entries(
        self, entries: Sequence[Entry], refused: list[str] | None = None
    ) -> dict[str, CaseState]:
        """Merge entries received from elsewhere (the county, a bundle): a set union, then
        re-projection of every case they touch. Entries already present are ignored, and so is
        a second report of a case (its reason added to ``refused`` when given)."""
        with self.write() as conn:
            for e in entries:
                self.hlc.observe(e.hlc)
            return self._append(conn, list(entries), local=False, refused=refused)

    def _entry(
        self, case_id: str, action: Action, actor: Actor, payload: dict[str, Any], at: Millis
    ) -> Entry:
        return Entry(
            new_id(), case_id, action, actor.id, actor.role, at, self.hlc.now().encode(), payload
        )

    def _append(
        self,
        conn: Any,
        entries: list[Entry],
        *,
        local: bool,
        known: dict[str, list[Entry]] | None = None,
        refused: list[str] | None = None,
    ) -> dict[str, CaseState]:
        """Append entries and re-project their cases. A second opening entry of a case (a
        report naming a case that already has one) is never stored, whatever its stamp: it is
        left out and, when ``refused`` is given, the reason added to it."""
        by_case: dict[str, list[Entry]] = {}
        for e in entries:
            by_case.setdefault(e.case_id, []).append(e)
        results: dict[str, CaseState] = {}
        for case_id, new in by_case.items():
            rowid = self._case_rowid(conn, case_id)
            existing = (known or {}).get(case_id)
            if existing is None:
                existing = self._timeline(conn, case_id) if rowid is not None else []
            present = {e.id for e in existing}
            fresh = [e for e in new if e.id not in present]
            # The first report applied is the case's report: a later one is never stored.
            fresh = scope_rules.one_report([*existing, *fresh], refused)[len(existing) :]
            if not fresh and rowid is not None:
                results[case_id] = project(existing, self.rules)
                continue
            timeline = existing + fresh
            try:
                state = project(timeline, self.rules)
            except ValueError:
                # No report yet (entries arrived before their case's first entry): keep them
                # waiting in the timeline table under a placeholder projection.
                state = None
            rowid = self._save_projection(conn, case_id, rowid, state, fresh, timeline)
            conn.executemany(
                "INSERT OR IGNORE INTO case_events (id, case_rowid, action, actor, role, at, hlc,"
                " local, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.id,
                        rowid,
                        e.action.value,
                        e.actor_id,
                        e.role.value,
                        e.at,
                        e.hlc,
                        int(local),
                        _json(e.payload),
                    )
                    for e in fresh
                ],
            )
            if state is not None:
                results[case_id] = state
        self.set_meta({"hlc": self.hlc.now().encode()}, conn)
        return results

    def _case_rowid(self, conn: Any, case_id: str) -> int | None:
        row = conn.execute("SELECT rowid FROM cases WHERE id = ?", [case_id]).fetchone()
        return None if row is None else int(row[0])

    def _timeline(self, conn: Any, case_id: str) -> list[Entry]:
        rows = conn.execute(
            "SELECT e.id, e.action, e.actor, e.role, e.at, e.hlc, e.payload FROM case_events e "
            "JOIN cases c ON c.rowid = e.case_rowid WHERE c.id = ? ORDER BY e.seq",
            [case_id],
        ).fetchall()
        # In the order applied, with one report (a second one, stored by an older version,
        # never counts): the same rule as the county's.
        return scope_rules.one_report(
            Entry(r[0], case_id, Action(r[1]), r[2], Role(r[3]), r[4], r[5], json.loads(r[6]))
            for r in rows
        )

    def _drain_reproject_queue(self) -> None:
        """Re-project the cases a migration queued (``reproject_queue``), in one transaction
        per thousand, so a new projection column is right for every case before use."""
        from .replica import _reproject

        queued = self.conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'reproject_queue'"
        ).fetchone() and self.conn.execute("SELECT 1 FROM reproject_queue LIMIT 1").fetchone()
        if not queued:
            return  # the usual case: nothing queued, no write lock taken
        while True:
            with self.write() as conn:
                rows = conn.execute(
                    "SELECT q.case_rowid, c.id FROM reproject_queue q "
                    "LEFT JOIN cases c ON c.rowid = q.case_rowid LIMIT 1000"
                ).fetchall()
                if not rows:
                    return
                for _rowid, case_id in rows:
                    if case_id is not None:
                        _reproject(self, conn, str(case_id))
                conn.executemany(
                    "DELETE FROM reproject_queue WHERE case_rowid = ?", [(r[0],) for r in rows]
                )

    def _save_projection(
        self,
        conn: Any,
        case_id: str,
        rowid: int | None,
        state: CaseState | None,
        fresh: list[Entry],
        timeline: Sequence[Entry],
    ) -> int:
        """Write the projection of a case: its ``cases`` row, search text, current tasks and
        the step counts of its whole ``timeline`` (:mod:`sync.store.steps`)."""
        row = self.case_row_values(state) if state is not None else _placeholder_row(fresh)
        counts = steps.step_counts(timeline)
        row.update(counts.columns())
        row["id"] = case_id
        columns = list(row)
        if rowid is None:
            marks = ", ".join("?" * len(columns))
            cursor = conn.execute(
                f"INSERT INTO cases ({', '.join(columns)}) VALUES ({marks})",
                [row[c] for c in columns],
            )
            rowid = int(cursor.lastrowid)
            old_text = None
        else:
            old = conn.execute(
                "SELECT title, description, address FROM cases WHERE rowid = ?", [rowid]
            ).fetchone()
            old_text = tuple(old)
            conn.execute(
                f"UPDATE cases SET {', '.join(f'{c} = ?' for c in columns)} WHERE rowid = ?",
                [*(row[c] for c in columns), rowid],
            )
        new_text = (row["title"], row["description"], row["address"])
        if new_text != old_text:
            if old_text is not None:
                conn.execute("DELETE FROM case_search WHERE rowid = ?", [rowid])
            conn.execute(
                "INSERT INTO case_search (rowid, body) VALUES (?, ?)",
                [rowid, search.index_text(*new_text)],
            )
        steps.write_units(conn, rowid, counts, replace=old_text is not None)
        conn.execute("DELETE FROM case_tasks WHERE case_rowid = ?", [rowid])
        if state is not None and state.tasks:
            conn.executemany(
                "INSERT OR REPLACE INTO case_tasks (case_rowid, assignee, kind, lead, state) "
                "VALUES (?, ?, ?, ?, ?)",
                [
                    (rowid, t.assignee, t.kind.value, int(t.lead), t.state.value)
                    for t in state.tasks
                ],
            )
        return rowid

    def case_row_values(self, s: CaseState) -> dict[str, Any]:
        """The ``cases`` columns for a projected state (also used by the bulk demo builder)."""
        f = s.fields
        category = f.get("category") or ""
        found = self.taxonomy.get(category)
        major = (found.parent or found.code) if found else category[:2]
        lead = s.lead_task()
        point = geo_point(f.get("location"))
        return {
            "case_no": s.case_no,
            "title": f.get("title") or "",
            "description": f.get("description") or "",
            "category": category,
            "major": major,
            "grid_code": f.get("grid_id"),
            "village_code": f.get("village_code"),
            "township_code": f.get("township_code"),
            "address": f.get("address") or "",
            "source": f.get("source"),
            "urgency": f.get("urgency") or "normal",
            "reporter_name": f.get("reporter_name"),
            "reporter_phone": f.get("reporter_phone"),
            "reporter_id": s.reporter_id,
            "status": s.status.value,
            "level": int(s.level),
            "lead": lead.assignee if lead is not None else None,
            "reported_at": s.reported_at,
            "accepted_at": s.accepted_at,
            "closed_at": s.closed_at,
            "due_at": s.due_at,
            "warn_at": s.warn_at,
            "handle_due": s.handle_due,
            "overdue_at": s.overdue_at,
            "on_time": None if s.on_time is None else int(s.on_time),
            "self_handled": int(s.self_handled),
            "urges": s.urges,
            "escalation": s.escalation,
            "pending": s.pending,
            "satisfaction": (s.evaluation or {}).get("satisfaction"),
            "conflicts": len(s.conflicts) + len(s.field_conflicts),
            "updated_at": s.last_at,
            "lon": point[0] if point else None,
            "lat": point[1] if point else None,
        }

    def _next_case_no(self, conn: Any, at: Millis) -> str:
        """事件编号: township + Shanghai date + device code + per-device daily sequence.

        Unique without coordination: the device code is unique within the county (assigned at
        enrolment; random before it) and the sequence is this device's own.
        """
        day = from_millis(at).astimezone(SHANGHAI).strftime("%y%m%d")
        seq = conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
            [f"case_no:{day}"],
        ).fetchone()[0]
        township = self.scope if len(self.scope) == 9 else self.scope[:6]
        return f"{township}-{day}-{self.device_code}-{seq:04d}"

    # -- queries --------------------------------------------------------------------------------

    def case(self, case_id: str) -> CaseState | None:
        """The full projected state of a case (for the detail view)."""
        with self._lock:
            entries = self._timeline(self.conn, case_id)
        if not entries:
            return None
        try:
            return project(entries, self.rules)
        except ValueError:
            return None

    def timeline(self, case_id: str) -> list[Entry]:
        with self._lock:
            return sorted(self._timeline(self.conn, case_id), key=lambda e: (e.hlc, e.id))

    def case_row(self, case_id: str) -> dict[str, Any] | None:
        rows = self._dicts("SELECT * FROM cases WHERE id = ?", [case_id])
        return rows[0] if rows else None

    def case_id_by_no(self, case_no: str) -> str | None:
        rows = self.read("SELECT id FROM cases WHERE case_no = ?", [case_no])
        return rows[0][0] if rows else None

    def cases(
        self,
        query: queries.CaseQuery = queries.CaseQuery(),
        *,
        limit: int = 100,
        offset: int = 0,
        after: tuple[Any, int] | None = None,
        columns: Sequence[str] = queries.LIST_COLUMNS,
    ) -> list[dict[str, Any]]:
        """One page of a filtered, sorted case list. Pass ``after`` (the last row's sort value
        and rowid) for keyset paging, which stays fast however deep the user scrolls."""
        now = self.now()
        clause, args = queries.where(query, now, text_scan=self._text_scan(query))
        if after is not None:
            extra, extra_args = queries.keyset(query, after)
            clause = f"({clause}) AND {extra}"
            args = [*args, *extra_args]
        light = (
            "CASE WHEN due_at IS NULL THEN 'none' WHEN due_at < ? THEN 'red' "
            "WHEN warn_at <= ? THEN 'yellow' ELSE 'green' END AS light"
        )
        sql = (
            f"SELECT {', '.join(columns)}, {light} FROM cases WHERE {clause} "
            f"ORDER BY {queries.order_by(query)} LIMIT ? OFFSET ?"
        )
        return self._dicts(sql, [now, now, *args, limit, offset])

    def _text_scan(self, query: queries.CaseQuery) -> bool:
        """Whether a text query has so many candidates that its page should walk the sort index
        (see :func:`queries.text_clause`); a bounded count on the bigram index decides."""
        expression = search.match_expression(query.text.strip()) if query.text.strip() else None
        if expression is None:
            return False
        limit = queries.TEXT_SCAN_ABOVE + 1
        found = self.read(queries.TEXT_CANDIDATES_SQL, [expression, limit])[0][0]
        return int(found) > queries.TEXT_SCAN_ABOVE

    def count(self, query: queries.CaseQuery = queries.CaseQuery()) -> int:
        clause, args = queries.where(query, self.now())
        return int(self.read(f"SELECT count(*) FROM cases WHERE {clause}", args)[0][0])

    def kpis(self, *, month: dt.date | None = None) -> dict[str, Any]:
        """The dashboard's figures: today's intake, waiting lists, lights and month rates."""
        now = self.now()
        local_now = from_millis(now).astimezone(SHANGHAI)
        today = to_millis(local_now.replace(hour=0, minute=0, second=0, microsecond=0))
        first = (month or local_now.date()).replace(day=1)
        start = to_millis(dt.datetime.combine(first, dt.time(), tzinfo=SHANGHAI))
        nxt = (first + dt.timedelta(days=32)).replace(day=1)
        end = to_millis(dt.datetime.combine(nxt, dt.time(), tzinfo=SHANGHAI))
        done = ",".join(f"'{s.value}'" for s in DONE_STATUSES)
        dropped = ",".join(f"'{s.value}'" for s in DROPPED_STATUSES)
        row = self.read(
            f"""SELECT
                count(*),
                sum(status IN ({dropped})),
                sum(status IN ({done})),
                sum(on_time = 1),
                sum(satisfaction IS NOT NULL),
                sum(satisfaction IN ('satisfied', 'basic')),
                sum(self_handled = 1),
                sum(major = '01' AND status NOT IN ({dropped})),
                sum(major = '01' AND status IN ({done}) AND level <= 3)
            FROM cases WHERE reported_at >= ? AND reported_at < ?""",
            [start, end],
        )[0]
        total, n_dropped, n_done, n_on_time, n_rated, n_satisfied, n_self, disputes, settled = (
            int(v or 0) for v in row
        )
        live = total - n_dropped
        today_intake = self.read("SELECT count(*) FROM cases WHERE reported_at >= ?", [today])[0][0]
        waiting = dict(
            self.read(
                "SELECT status, count(*) FROM cases WHERE status IN (?, ?, ?) GROUP BY status",
                [Status.REPORTED.value, Status.VERIFYING.value, Status.PARKED.value],
            )
        )
        red = self.read("SELECT count(*) FROM cases WHERE due_at < ?", [now])[0][0]
        yellow = self.read(
            "SELECT count(*) FROM cases WHERE due_at >= ? AND warn_at <= ?", [now, now]
        )[0][0]

        def rate(numerator: int, denominator: int) -> float | None:
            return round(numerator / denominator, 4) if denominator else None

        return {
            "month": first.strftime("%Y-%m"),
            "today_intake": int(today_intake),
            "awaiting_acceptance": int(waiting.get(Status.REPORTED.value, 0)),
            "awaiting_verification": int(waiting.get(Status.VERIFYING.value, 0)),
            "parked": int(waiting.get(Status.PARKED.value, 0)),
            "overdue": int(red),
            "soon_due": int(yellow),
            "month_total": total,
            "month_closed": n_done,
            "closure_rate": rate(n_done, live),  # 办结率
            "on_time_rate": rate(n_on_time, n_done),  # 按期办结率
            "satisfaction_rate": rate(n_satisfied, n_rated),  # 满意率
            "self_handled_rate": rate(n_self, live),  # 自处率
            "dispute_resolution_rate": rate(settled, disputes),  # 化解率
        }

    def breakdown(
        self, by: str, *, since: Millis | None = None, until: Millis | None = None
    ) -> list[tuple[str, int]]:
        """Case counts grouped by ``major`` category, ``village_code``, ``status`` or ``week``."""
        if by == "week":
            # Shanghai weeks starting Monday: shift to local time, then to the week's Monday.
            key = (
                "strftime('%Y-%m-%d', (reported_at / 1000) + 8 * 3600, 'unixepoch', "
                "'weekday 0', '-6 days')"
            )
        elif by in ("major", "village_code", "status", "category", "source", "grid_code"):
            key = by
        else:
            raise ValueError(f"cannot break cases down by {by!r}")
        clause, args = "1", []
        if since is not None:
            clause += " AND reported_at >= ?"
            args.append(since)
        if until is not None:
            clause += " AND reported_at < ?"
            args.append(until)
        rows = self.read(
            f"SELECT {key} AS k, count(*) FROM cases WHERE {clause} GROUP BY k ORDER BY k", args
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def open_by_grid(self) -> dict[str, tuple[int, int]]:
        """Open and overdue case counts per grid code."""
        now = self.now()
        marks = ",".join("?" * len(OPEN_STATUSES))
        rows = self.read(
            f"SELECT grid_code, count(*), sum(due_at < ?) FROM cases "
            f"WHERE status IN ({marks}) GROUP BY grid_code",
            [now, *(s.value for s in OPEN_STATUSES)],
        )
        return {r[0]: (int(r[1]), int(r[2] or 0)) for r in rows if r[0]}

    def grid_tree(self) -> list[dict[str, Any]]:
        """County → township → village → grid, with open/overdue counts per grid."""
        counts = self.open_by_grid()
        nodes: dict[str, dict[str, Any]] = {}
        roots: list[dict[str, Any]] = []
        for d in self.divisions():
            if d.level.value == "city":
                continue
            node: dict[str, Any] = {
                "code": d.code,
                "name": d.name,
                "level": d.level.value,
                "children": [],
            }
            nodes[d.code] = node
            parent = nodes.get(d.parent_code or "")
            (parent["children"] if parent else roots).append(node)
        for g in self.grids():
            village = nodes.get(g.village_code)
            if village is None:
                continue
            open_count, overdue = counts.get(g.code, (0, 0))
            village["children"].append(
                {
                    "code": g.code,
                    "name": g.name,
                    "level": "grid",
                    "kind": g.kind.value,
                    "households": g.households,
                    "population": g.population,
                    "oversize": g.oversize,
                    "open": open_count,
                    "overdue": overdue,
                    "children": [],
                }
            )
        return roots

    def stats(self) -> dict[str, Any]:
        """Counts by table, status, level and deadline light (``gridroom stats``)."""
        now = self.now()
        tables = [
            "divisions",
            "grids",
            "departments",
            "staff",
            "accounts",
            "categories",
            "cases",
            "case_events",
            "case_tasks",
            "case_units",
            "attachments",
            "visits",
            "outbox",
        ]
        counts = {t: int(self.read(f"SELECT count(*) FROM {t}")[0][0]) for t in tables}
        return {
            "path": str(self.path),
            "scope": self.scope,
            "device_code": self.device_code,
            "synthetic": self.synthetic,
            "schema_version": schema.schema_version(self.conn),
            "tables": counts,
            "by_status": dict(self.read("SELECT status, count(*) FROM cases GROUP BY status")),
            "by_level": {
                str(k): v for k, v in self.read("SELECT level, count(*) FROM cases GROUP BY level")
            },
            "overdue": int(self.read("SELECT count(*) FROM cases WHERE due_at < ?", [now])[0][0]),
            "soon_due": int(
                self.read(
                    "SELECT count(*) FROM cases WHERE due_at >= ? AND warn_at <= ?", [now, now]
                )[0][0]
            ),
            "conflicts": int(self.read("SELECT count(*) FROM cases WHERE conflicts > 0")[0][0]),
            "calendar_fallback_years": sorted(self.rules.calendar.fallback_years),
        }

    def outbox_size(self) -> int:
        return int(self.read("SELECT count(*) FROM outbox")[0][0])

    def integrity(self) -> str:
        return str(self.read("PRAGMA integrity_check")[0][0])


def _category_row(c: Category) -> list[Any]:
    return [
        c.code,
        c.name,
        c.parent,
        *dataclasses.astuple(c.normal),
        *dataclasses.astuple(c.urgent),
    ]


def _category_from_row(r: Sequence[Any]) -> Category:
    return Category(r[0], r[1], r[2], Deadline(r[3], r[4], r[5]), Deadline(r[6], r[7], r[8]))


def _write_taxonomy(conn: Any, taxonomy: Taxonomy) -> None:
    conn.executemany(
        "INSERT INTO categories (code, name, parent, accept_hours, handle_days, handle_hours, "
        "urgent_accept_hours, urgent_handle_days, urgent_handle_hours) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                c.code,
                c.name,
                c.parent,
                c.normal.accept_hours,
                c.normal.handle_days,
                c.normal.handle_hours,
                c.urgent.accept_hours,
                c.urgent.handle_days,
                c.urgent.handle_hours,
            )
            for c in taxonomy
        ],
    )


def _scope_divisions(scope: str) -> list[Division]:
    """The divisions a store for ``scope`` holds, or :class:`UnknownScope` in plain words."""
    try:
        return division_data.scope_divisions(scope)
    except KeyError:
        raise UnknownScope(
            f"{scope!r} is not the code of a county or township of 衢州市 in the bundled "
            "division list; a township code has 9 digits (e.g. 330825002 for 东华街道).",
        ) from None
    except ValueError as exc:
        raise UnknownScope(f"A store covers a township or a county: {exc}.") from None


def _township_of(village_code: str | None) -> str | None:
    return village_code[:9] if village_code and len(village_code) == 12 else None


def _placeholder_row(fresh: list[Entry]) -> dict[str, Any]:
    """A case whose report has not arrived yet: visible as such, never lost."""
    first = min(fresh, key=lambda e: (e.hlc, e.id))
    return {
        "case_no": "",
        "title": "",
        "description": "",
        "category": "",
        "major": "",
        "grid_code": None,
        "village_code": None,
        "township_code": None,
        "address": "",
        "source": None,
        "urgency": "normal",
        "reporter_name": None,
        "reporter_phone": None,
        "reporter_id": None,
        "status": Status.REPORTED.value,
        "level": 3,
        "escalation": 0,
        "pending": 0,
        "lead": None,
        "reported_at": first.at,
        "accepted_at": None,
        "closed_at": None,
        "due_at": None,
        "warn_at": None,
        "handle_due": None,
        "overdue_at": None,
        "on_time": None,
        "self_handled": 0,
        "urges": 0,
        "satisfaction": None,
        "conflicts": 1,
        "updated_at": first.at,
        "lon": None,
        "lat": None,
    }


# Re-exported for callers that build dispatch payloads.
__all__ = ["AssigneeKind", "Store", "TaskState"]
