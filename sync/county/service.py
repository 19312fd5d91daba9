"""The county platform's logic, independent of HTTP: sign-in, push, pull, snapshots, reference
data and attachment transfer, each authorised against the caller's scope.

The rules it enforces are the protocol's (``docs/sync-protocol.md``); :mod:`sync.county.app`
only maps them to HTTP. Every push runs in one write transaction that also records the batch's
answer under its idempotency key, so a replayed push gets the same answer and changes nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .. import protocol
from ..model.clock import Millis, new_id, now_millis
from ..model.records import (
    DivisionLevel,
    Grid,
    Role,
)
from ..model.taxonomy import default_taxonomy
from ..model.workflow import Rules
from . import accounts as acc
from . import admin, geometry, seed
from .core import (
    ApiError,
    Device,
    Session,
    write_taxonomy,
)
from .db import Database, DatabaseError, Tx
from .files import FilesMixin
from .pull import PullMixin
from .push import PushMixin

#: Write a token's "last used" time at most this often (not on every request).
TOUCH_EVERY_MS = 60_000
#: What a revoked device is told (HTTP 401, code ``device_revoked``) on every request.
DEVICE_REVOKED = "This computer was revoked by county IT: ask IT to re-enrol it."
#: A device's report (outbox, version, clock offset) is written when it changes, or this often.
REPORT_EVERY_MS = 60_000


class County(PushMixin, PullMixin, FilesMixin):
    """One county's platform over a :class:`Database` (SQLite or PostgreSQL)."""

    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], Millis] = now_millis,
        hash_slots: int = acc.HASH_SLOTS,
    ) -> None:
        self.db = db
        self.clock = clock
        self.hashing = acc.HashSlots(hash_slots)
        #: device id → (outbox, app version, clock offset, when) last written by this process.
        self._reports: dict[str, tuple[int | None, str | None, int, int]] = {}
        with db.read() as tx:
            county = tx.get_meta("county")
            if not county:
                raise DatabaseError(
                    "This database holds no county yet: run gridroom-county init first."
                )
            self.county = county
            self.taxonomy = self._load_taxonomy(tx)
            self.taxonomy_version = int(
                tx.scalar("SELECT value FROM counters WHERE name = 'taxonomy'", default=0)
            )
            self.rules = Rules(self.taxonomy, earlier=admin.earlier_taxonomies(tx))

    def refresh_taxonomy(self, version: int) -> None:
        """Load the taxonomy again when another process (``gridroom-county taxonomy import``,
        another server worker) has stored a new version; :meth:`authenticate` passes the
        counter it read with the token, so the check costs no query of its own."""
        if version == self.taxonomy_version:
            return
        with self.db.read() as tx:
            taxonomy = self._load_taxonomy(tx)
            version = int(
                tx.scalar("SELECT value FROM counters WHERE name = 'taxonomy'", default=0)
            )
            earlier = admin.earlier_taxonomies(tx)
        # Rules before the version: a request racing this one reloads once more, never skips.
        self.taxonomy, self.rules = taxonomy, Rules(taxonomy, earlier=earlier)
        self.taxonomy_version = version

    @staticmethod
    def initialise(
        db: Database,
        county: str,
        *,
        demo_townships: Iterable[str] | None = None,
        clock: Callable[[], Millis] = now_millis,
    ) -> list[dict[str, Any]]:
        """Load a county (real divisions, synthetic grids and staff, the taxonomy) and create
        demo accounts; returns the accounts with their one-time passwords."""
        divisions, world = seed.county_world(county)
        outlines = seed.county_geometry(county, divisions, world)
        townships = [d for d in divisions if d.level == DivisionLevel.TOWNSHIP]
        wanted = set(demo_townships) if demo_townships is not None else {t.code for t in townships}
        unknown = wanted - {t.code for t in townships}
        if unknown:
            raise ValueError(f"not townships of {county}: {', '.join(sorted(unknown))}")
        # Checked before anything is written: a refused init leaves no database behind.
        db.migrate()
        now = clock()
        grids = world.grids
        created: list[dict[str, Any]] = []
        with db.write() as tx:
            if tx.get_meta("county"):
                raise DatabaseError(
                    f"This database already holds county {tx.get_meta('county')}; "
                    "use a new file (or PostgreSQL database) for another county."
                )
            tx.set_meta("county", county)
            tx.set_meta("created_at", str(now))
            tx.executemany(
                "INSERT INTO divisions (code, name, parent_code, level) VALUES (?, ?, ?, ?)",
                [(d.code, d.name, d.parent_code, d.level.value) for d in divisions],
            )
            tx.executemany(
                "INSERT INTO grids (code, name, village_code, township_code, kind, households, "
                "population, dedicated_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        g.code,
                        g.name,
                        g.village_code,
                        g.village_code[:9],
                        g.kind.value,
                        g.households,
                        g.population,
                        g.dedicated_to,
                    )
                    for g in grids
                ],
            )
            tx.executemany(
                "INSERT INTO departments (code, name, level) VALUES (?, ?, ?)",
                [(d.code, d.name, "county" if d.county else "township") for d in world.departments],
            )
            tx.executemany(
                "INSERT INTO staff (id, name, role, phone, grid_code, department_code, "
                "township_code) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        s.id,
                        s.name,
                        s.role.value,
                        s.phone,
                        s.grid_id,
                        s.department_code,
                        (s.grid_id or "")[:9] or None,
                    )
                    for s in world.staff
                ],
            )
            write_taxonomy(tx, default_taxonomy())
            real = [o for o in outlines if o.kind == "county"]
            geometry.write_outlines(tx, real, now=now, synthetic=False, source=seed.COUNTY_SOURCE)
            geometry.write_outlines(
                tx,
                [o for o in outlines if o.kind != "county"],
                now=now,
                synthetic=True,
                source=geometry.SYNTHETIC_SOURCE,
            )
            tx.bump("geometry")
            plan: list[tuple[str, str, Role, str | None, str | None, tuple[str, ...]]] = [
                (f"{county}-admin", "县级管理员", Role.COUNTY_ADMIN, None, None, ()),
                # The county command centre (县综合指挥中心): county-level accounts, whose
                # devices hold the whole county — escalated cases arrive there (五级贯通).
                (f"{county}-op", "值班员（县综合指挥中心）", Role.OPERATOR, None, None, ()),
                (f"{county}-sup", "分管领导（县综合指挥中心）", Role.SUPERVISOR, None, None, ()),
            ]
            by_township: dict[str, list[Grid]] = {}
            for g in grids:
                by_township.setdefault(g.village_code[:9], []).append(g)
            for t in townships:
                if t.code not in wanted:
                    continue
                mine = [g.code for g in by_township.get(t.code, [])[:2]]
                plan += [
                    (f"{t.code}-op", f"值班员（{t.name}）", Role.OPERATOR, t.code, None, ()),
                    (f"{t.code}-sup", f"分管领导（{t.name}）", Role.SUPERVISOR, t.code, None, ()),
                    (
                        f"{t.code}-gw",
                        f"网格员（{t.name}）",
                        Role.GRID_WORKER,
                        t.code,
                        None,
                        tuple(mine),
                    ),
                    (
                        f"{t.code}-police",
                        f"派出所（{t.name}）",
                        Role.DEPARTMENT,
                        t.code,
                        "police",
                        (),
                    ),
                ]
            for login, name, role, township, department, grid_codes in plan:
                password = acc.new_password()
                account_id = new_id()
                tx.execute(
                    "INSERT INTO accounts (id, login, name, role, township_code, department_code,"
                    " grid_codes, password_hash, disabled, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    [
                        account_id,
                        login,
                        name,
                        role.value,
                        township,
                        department,
                        json.dumps(list(grid_codes)),
                        acc.hash_password(password),
                        now,
                        now,
                    ],
                )
                created.append(
                    {
                        "id": account_id,
                        "login": login,
                        "password": password,
                        "name": name,
                        "role": role.value,
                        "township": township,
                        "department": department,
                        "grids": list(grid_codes),
                    }
                )
            tx.bump("reference")
        return created

    def add_user(
        self,
        login: str,
        *,
        name: str,
        role: Role,
        township: str | None,
        department: str | None = None,
        grids: Sequence[str] = (),
        password: str | None = None,
    ) -> tuple[acc.Account, str]:
        """Create an account; returns it with its password (generated unless given)."""
        if not login or not login.isascii() or any(c.isspace() for c in login):
            raise ValueError("a login name is ASCII without spaces, e.g. 330825102-op2")
        password = password or acc.new_password()
        now = self.clock()
        with self.db.write(ordered=False) as tx:
            admin.check_account(
                tx, self.county, role=role, township=township, department=department, grids=grids
            )
            if tx.scalar("SELECT 1 FROM accounts WHERE login = ?", [login]):
                raise ValueError(f"an account named {login} already exists")
            account_id = new_id()
            tx.execute(
                "INSERT INTO accounts (id, login, name, role, township_code, department_code, "
                "grid_codes, password_hash, disabled, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)",
                [
                    account_id,
                    login,
                    name,
                    role.value,
                    township,
                    department,
                    json.dumps(list(grids)),
                    acc.hash_password(password),
                    now,
                    now,
                ],
            )
            admin.audit(
                tx,
                now,
                admin.CONSOLE,
                "account.add",
                login,
                {"role": role.value, "township": township, "grids": list(grids)},
            )
            tx.bump("reference")
            account = acc.load_account(tx, account_id=account_id)
        assert account is not None
        return account, password

    def set_disabled(self, login: str, disabled: bool) -> acc.Account:
        """Disable (or enable) an account; disabling revokes all its tokens at once."""
        with self.db.write(ordered=False) as tx:
            account = acc.load_account(tx, login=login)
            if account is None:
                raise ValueError(f"no account named {login}")
            tx.execute(
                "UPDATE accounts SET disabled = ?, updated_at = ? WHERE id = ?",
                [int(disabled), self.clock(), account.id],
            )
            if disabled:
                tx.execute("UPDATE tokens SET revoked = 1 WHERE account_id = ?", [account.id])
            admin.audit(
                tx,
                self.clock(),
                admin.CONSOLE,
                "account.disable" if disabled else "account.enable",
                login,
                {},
            )
            tx.bump("reference")
        return dataclasses.replace(account, disabled=disabled)

    def reset_password(self, login: str, password: str | None = None) -> str:
        """Set a new password (generated unless given) and revoke every token of the account."""
        password = password or acc.new_password()
        digest = acc.hash_password(password)
        with self.db.write(ordered=False) as tx:
            account = acc.load_account(tx, login=login)
            if account is None:
                raise ValueError(f"no account named {login}")
            tx.execute(
                "UPDATE accounts SET password_hash = ?, updated_at = ? WHERE id = ?",
                [digest, self.clock(), account.id],
            )
            tx.execute("UPDATE tokens SET revoked = 1 WHERE account_id = ?", [account.id])
            acc.clear_failures(tx, f"a:{login}")
            admin.audit(tx, self.clock(), admin.CONSOLE, "account.reset_password", login, {})
        return password

    def users(self) -> list[acc.Account]:
        with self.db.read() as tx:
            rows = tx.rows(f"SELECT {acc.ACCOUNT_COLUMNS} FROM accounts ORDER BY login")
        return [acc.account_from_row(r) for r in rows]

    def login(
        self,
        login: str,
        password: str,
        *,
        device_id: str,
        device_name: str = "",
        township: str | None = None,
        address: str = "",
        device_keys: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Check a password, enrol the device on first sign-in, and issue a token.
        ``device_keys``: the device's sync-bundle public keys, recorded on its row."""
        if device_keys is not None:
            from .bundle import check_device_keys

            check_device_keys(device_keys)
        if not protocol._ID.match(device_id or ""):
            raise ApiError("bad_request", "device_id must be the device's id (a UUID)")
        now = self.clock()
        keys = [f"a:{login}", f"ip:{address}"]
        with self.db.read() as tx:
            until = max(acc.blocked_until(tx, k, now) for k in keys)
            stored = tx.one("SELECT id, password_hash FROM accounts WHERE login = ?", [login])
        if until:
            wait = max(1, (until - now + 999) // 1000)
            raise ApiError(
                "throttled",
                f"Too many failed sign-ins; try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
                retry_after=wait,
            )
        # Past the throttle only: a locked name or address costs no hash. An unknown name is
        # checked against a dummy hash, so it takes as long as a wrong password.
        stored_hash = None if stored is None else str(stored[1])
        rehash = None
        try:
            with self.hashing.slot():
                ok = acc.verify_password(stored_hash, password)
                if ok and stored_hash is not None and acc.needs_rehash(stored_hash):
                    rehash = acc.hash_password(password)
        except acc.HashBusy:
            wait = acc.HASH_RETRY_AFTER_S
            raise ApiError(
                "unavailable",
                f"The county server is busy with other sign-ins; try again in {wait} seconds.",
                headers={"Retry-After": str(wait)},
                retry_after=wait,
            ) from None
        if not ok:
            with self.db.write(ordered=False) as tx:
                acc.record_failure(tx, keys[0], now, acc.ACCOUNT_FAILURES)
                acc.record_failure(tx, keys[1], now, acc.ADDRESS_FAILURES)
            raise ApiError("bad_credentials", "Wrong account name or password.")
        token = acc.new_token()
        with self.db.write(ordered=False) as tx:
            account = acc.load_account(tx, login=login)
            assert account is not None
            if account.disabled:
                raise ApiError("account_disabled", f"The account {login} has been disabled.")
            acc.clear_failures(tx, keys[0])
            if rehash is not None:
                tx.execute(
                    "UPDATE accounts SET password_hash = ? WHERE id = ?", [rehash, account.id]
                )
            device = self._enrol(tx, account, device_id, device_name, township, now)
            from .bundle import county_keys, register_device_keys

            register_device_keys(tx, device.id, device_keys)
            bundle_keys = county_keys(tx).public()
            try:
                scope = acc.scope_keys(account, device.township)
            except acc.ScopeError as exc:
                raise ApiError("wrong_device", f"Cannot sign in here: {exc}.") from None
            tx.execute(
                "INSERT INTO device_accounts (device_id, account_id, first_at) VALUES (?, ?, ?) "
                "ON CONFLICT (device_id, account_id) DO NOTHING",
                [device.id, account.id, now],
            )
            tx.execute(
                "INSERT INTO tokens (hash, account_id, device_id, created_at, last_used, revoked)"
                " VALUES (?, ?, ?, ?, ?, 0)",
                [acc.token_hash(token), account.id, device.id, now, now],
            )
        session = Session(account, device, scope, acc.token_hash(token))
        return {
            "token": token,
            "account": account.wire(),
            "device": {"id": device.id, "code": device.code, "township": device.township},
            "scope": session.scope(),
            "county": self.county,
            "server_time": self.clock(),
            "bundle_keys": bundle_keys,
        }

    def _enrol(
        self,
        tx: Tx,
        account: acc.Account,
        device_id: str,
        name: str,
        township: str | None,
        now: Millis,
    ) -> Device:
        row = tx.one(
            "SELECT id, code, township_code, revoked_at FROM devices WHERE id = ?", [device_id]
        )
        if row is not None:
            if row[3] is not None:
                raise ApiError("device_revoked", DEVICE_REVOKED)
            device = Device(str(row[0]), str(row[1]), str(row[2]))
            if township and township != device.township:
                raise ApiError(
                    "wrong_device",
                    f"This device is enrolled to {device.township}, not {township}.",
                )
            tx.execute("UPDATE devices SET last_seen = ? WHERE id = ?", [now, device.id])
            return device
        if township is None:
            township = account.township_code or self.county
        if not account.county_level and township != account.township_code:
            raise ApiError(
                "wrong_device",
                f"{account.login} works in township {account.township_code}, not {township}.",
            )
        level = tx.scalar("SELECT level FROM divisions WHERE code = ?", [township])
        if level not in (DivisionLevel.TOWNSHIP.value, DivisionLevel.COUNTY.value) or (
            township[:6] != self.county
        ):
            raise ApiError("bad_request", f"{township} is not a township of county {self.county}.")
        for _ in range(100):
            code = acc.new_device_code()
            if not tx.scalar("SELECT 1 FROM devices WHERE code = ?", [code]):
                break
        else:  # pragma: no cover - 32^4 codes; a county has hundreds of devices
            raise ApiError("server_error", "No free device code is left in this county.")
        tx.execute(
            "INSERT INTO devices (id, code, township_code, name, enrolled_by, enrolled_at, "
            "last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [device_id, code, township, (name or "")[:100], account.id, now, now],
        )
        return Device(device_id, code, township)

    def authenticate(self, authorization: str | None) -> Session:
        """The session behind an ``Authorization: Bearer`` header, checked on every request."""
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError("unauthorized", "Sign in first: this request carries no token.")
        digest = acc.token_hash(authorization.removeprefix("Bearer ").strip())
        now = self.clock()
        cols = ", ".join(f"a.{c.strip()}" for c in acc.ACCOUNT_COLUMNS.split(","))
        with self.db.read() as tx:
            row = tx.one(
                f"SELECT t.revoked, t.last_used, d.id, d.code, d.township_code, d.revoked_at, "
                "(SELECT value FROM counters WHERE name = 'taxonomy'), "
                f"{cols} "
                "FROM tokens t JOIN accounts a ON a.id = t.account_id "
                "JOIN devices d ON d.id = t.device_id WHERE t.hash = ?",
                [digest],
            )
        if row is not None and row[5] is not None:
            raise ApiError("device_revoked", DEVICE_REVOKED)
        if row is None or row[0]:
            raise ApiError("unauthorized", "This sign-in is no longer valid; sign in again.")
        self.refresh_taxonomy(int(row[6] or 0))
        account = acc.account_from_row(row[7:])
        if account.disabled:
            raise ApiError("account_disabled", f"The account {account.login} has been disabled.")
        device = Device(str(row[2]), str(row[3]), str(row[4]))
        try:
            keys = acc.scope_keys(account, device.township)
        except acc.ScopeError as exc:
            raise ApiError("wrong_device", f"Not on this device: {exc}.") from None
        if now - int(row[1]) > TOUCH_EVERY_MS:
            with self.db.write(ordered=False) as tx:
                tx.execute("UPDATE tokens SET last_used = ? WHERE hash = ?", [now, digest])
                tx.execute("UPDATE devices SET last_seen = ? WHERE id = ?", [now, device.id])
        return Session(account, device, keys, digest)

    def logout(self, session: Session) -> None:
        with self.db.write(ordered=False) as tx:
            tx.execute("UPDATE tokens SET revoked = 1 WHERE hash = ?", [session.token_hash])

    def session_info(self, session: Session) -> dict[str, Any]:
        return {
            "account": session.account.wire(),
            "device": {
                "id": session.device.id,
                "code": session.device.code,
                "township": session.device.township,
            },
            "scope": session.scope(),
            "county": self.county,
            "server_time": self.clock(),
        }

    def sync(self, session: Session, body: Mapping[str, Any]) -> dict[str, Any]:
        """One round trip: an optional push batch, then one pull page from ``cursor``."""
        now = self.clock()
        if now < protocol.CLOCK_FLOOR_MS:
            # Every stamp would look like it came from the future and be clamped to this date.
            day = dt.datetime.fromtimestamp(max(now, 0) / 1000, dt.UTC).strftime("%Y-%m-%d")
            raise ApiError(
                "server_clock",
                f"The county server's clock is wrong (it says {day}); it applies nothing until "
                "county IT sets it.",
            )
        device_time = body.get("device_time")
        offset = now - device_time if isinstance(device_time, int) else 0
        self._device_report(session, body, now, offset)
        push = body.get("push")
        answer: dict[str, Any] = {"server_time": now, "offset_ms": offset}
        if push is not None:
            answer["push"] = self.push(session, push, server_now=now, device_offset=offset)
        cursor = body.get("cursor", 0)
        if isinstance(cursor, bool) or not isinstance(cursor, int):
            raise ApiError("bad_request", "cursor must be a whole number")
        page = body.get("page_bytes") or protocol.PAGE_BYTES
        if isinstance(page, bool) or not isinstance(page, int) or page <= 0:
            raise ApiError("bad_request", "page_bytes must be a positive whole number")
        page = min(page, protocol.PAGE_MAX)
        known = body.get("reference_version")
        if isinstance(known, str):
            # The device says which reference data it holds: when that is not the current
            # version, the data rides along in this answer and takes its share of the page
            # (section 12); the page still carries at least one item.
            with self.db.read() as tx:
                current = str(
                    tx.scalar("SELECT value FROM counters WHERE name = 'reference'", default=0)
                )
            if known != current:
                answer["reference"] = self.reference(session)
                page = max(1, page - protocol.json_size(answer["reference"]))
        with self.db.read() as tx:
            answer["pull"] = self._pull(tx, session, cursor, page, bool(body.get("checksum")))
            answer["reference_version"] = str(
                tx.scalar("SELECT value FROM counters WHERE name = 'reference'", default=0)
            )
        answer["scope"] = session.scope()
        if body.get("device_keys"):
            from .bundle import register_at_sync

            answer["bundle_keys"] = register_at_sync(self, session, body["device_keys"])
        answer["server_time"] = self.clock()
        return answer

    def reference(self, session: Session, have_geometry: str | None = None) -> dict[str, Any]:
        """The reference data (:class:`PullMixin`), with the taxonomy and the versions before
        it read together, so a device projects deadlines exactly as the county does."""
        body = super().reference(session, have_geometry)
        with self.db.read() as tx:
            body["taxonomy"] = protocol.taxonomy_to_wire(self._load_taxonomy(tx))
            body["taxonomy_earlier"] = admin.earlier_to_wire(admin.earlier_taxonomies(tx))
            retired = {
                str(r[0]): (int(r[1]), json.loads(str(r[2] or "[]")))
                for r in tx.rows(
                    "SELECT code, retired_at, successors FROM grids WHERE retired_at IS NOT NULL"
                )
            }
        for grid in body["grids"]:
            if grid["code"] in retired:
                # Kept so old cases still name a grid that exists; new cases go to successors.
                grid["retired_at"], grid["successors"] = retired[grid["code"]]
        return body

    def _device_report(
        self, session: Session, body: Mapping[str, Any], now: int, offset: int
    ) -> None:
        """Keep what the device says of itself for ``gridroom-county device list``: when it
        last synced, its outbox backlog, its app version and its clock offset. Written when
        it changes (the offset by more than a second) or once a minute, not on every round
        (each write is a transaction: on SQLite, an fsync)."""
        outbox = body.get("outbox")
        outbox = outbox if isinstance(outbox, int) and not isinstance(outbox, bool) else None
        version = body.get("app_version")
        version = str(version)[:40] if isinstance(version, str) else None
        seen = self._reports.get(session.device.id)
        if (
            seen is not None
            and now - seen[3] < REPORT_EVERY_MS
            and seen[1] == version
            and abs(seen[2] - offset) <= 1000
            # A backlog shrinking round by round is written once a minute; an emptied (or
            # newly growing) one at once, so the list shows where a sync ended.
            and (seen[0] == outbox or ((outbox or 0) > 0 and (seen[0] or 0) > (outbox or 0)))
        ):
            return
        with self.db.write(ordered=False) as tx:
            tx.execute(
                "UPDATE devices SET last_sync = ?, outbox = coalesce(?, outbox), "
                "app_version = coalesce(?, app_version), clock_offset_ms = ?, last_seen = ? "
                "WHERE id = ?",
                [now, outbox, version, offset, now, session.device.id],
            )
        self._reports[session.device.id] = (outbox, version, offset, now)


__all__ = ["ApiError", "County", "Device", "Session"]
