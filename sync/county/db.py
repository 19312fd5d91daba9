"""The county platform's storage: one code path for SQLite and PostgreSQL.

Every query is written once, in the SQL both engines share (``?`` placeholders, ``ON CONFLICT``
upserts, ``RETURNING``); :class:`Database` translates placeholders for psycopg and picks the two
or three DDL words that differ. Writers serialise on one counter row (``UPDATE counters``) taken
first in every write transaction, so change sequence numbers commit in order on PostgreSQL as
they do on SQLite, and a pull never skips a change that commits late.
"""

from __future__ import annotations

import contextlib
import queue
import re
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SQLITE_BUSY_MS = 30_000


class DatabaseError(Exception):
    """A storage problem the operator can act on (cannot open, newer schema …)."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str


# Types are spelled per engine through {blob} and {text}; everything else is shared.
_SCHEMA_1 = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
CREATE TABLE divisions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT,
    level TEXT NOT NULL
);
CREATE INDEX divisions_parent ON divisions(parent_code);
CREATE TABLE grids (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    village_code TEXT NOT NULL,
    township_code TEXT NOT NULL,
    kind TEXT NOT NULL,
    households BIGINT NOT NULL,
    population BIGINT NOT NULL,
    dedicated_to TEXT
);
CREATE INDEX grids_township ON grids(township_code);
CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    phone TEXT NOT NULL,
    grid_code TEXT,
    department_code TEXT,
    township_code TEXT
);
CREATE INDEX staff_township ON staff(township_code);
CREATE TABLE categories (
    code TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    township_code TEXT,
    department_code TEXT,
    grid_codes TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX accounts_township ON accounts(township_code);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    township_code TEXT NOT NULL,
    name TEXT NOT NULL,
    enrolled_by TEXT NOT NULL,
    enrolled_at BIGINT NOT NULL,
    last_seen BIGINT NOT NULL
);
CREATE TABLE device_accounts (
    device_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, account_id)
);
CREATE TABLE tokens (
    hash TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used BIGINT NOT NULL,
    revoked BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX tokens_account ON tokens(account_id);
CREATE TABLE throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);
CREATE TABLE cases (
    id TEXT PRIMARY KEY,
    county_code TEXT NOT NULL,
    township_code TEXT NOT NULL,
    village_code TEXT,
    grid_code TEXT,
    case_no TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    level BIGINT NOT NULL,
    conflicts BIGINT NOT NULL,
    reported_at BIGINT NOT NULL,
    updated_seq BIGINT NOT NULL
);
CREATE INDEX cases_township ON cases(township_code, village_code);
CREATE TABLE case_keys (
    case_id TEXT NOT NULL,
    key TEXT NOT NULL,
    PRIMARY KEY (case_id, key)
);
CREATE INDEX case_keys_key ON case_keys(key, case_id);
CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    action TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    role TEXT NOT NULL,
    at BIGINT NOT NULL,
    hlc TEXT NOT NULL,
    payload TEXT NOT NULL,
    device_id TEXT NOT NULL,
    h BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX entries_case ON entries(case_id);
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    entry_id TEXT,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX attachments_case ON attachments(case_id);
CREATE INDEX attachments_sha ON attachments(sha256);
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    grid_code TEXT NOT NULL,
    township_code TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at BIGINT NOT NULL,
    household TEXT NOT NULL,
    content TEXT NOT NULL,
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    received BIGINT NOT NULL,
    complete BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL,
    pos BIGINT NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (sha256, pos)
);
CREATE TABLE changes (
    seq BIGINT PRIMARY KEY,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL,
    origin TEXT NOT NULL
);
CREATE TABLE change_keys (
    key TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (key, seq)
);
CREATE TABLE batches (
    device_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (device_id, batch_id)
);
"""

# Proof of possession for attachment bytes (docs/sync-protocol.md, section 11). A device may
# reference a file in an attachment only once it has shown it holds the bytes: by uploading all
# of them through its own chunks, or by answering a challenge over them. Until then its
# attachment is not `proven` and lets nobody download the file. Uploads are per device
# (`blob_uploads`, `upload_chunks`), so what a device is told never depends on another device's
# upload; `blobs` holds only complete, verified files.
#
# Existing data: the device that first referenced a complete file (the one that uploaded it, in
# practice) holds it, and so do the devices of its township that referenced it too (a photo
# downloaded in the township and attached again); a reference from another township is not
# proven (that was the hole). A partial upload is handed to the device that first referenced the
# file, so it resumes where it stopped; every other unproven reference starts a claim at 0.
_SCHEMA_2 = """
ALTER TABLE attachments ADD COLUMN proven BIGINT NOT NULL DEFAULT 0;
CREATE TABLE blob_holders (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    since BIGINT NOT NULL,
    PRIMARY KEY (sha256, device_id)
);
CREATE TABLE blob_uploads (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    size BIGINT NOT NULL,
    received BIGINT NOT NULL,
    PRIMARY KEY (sha256, device_id)
);
CREATE TABLE upload_chunks (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    pos BIGINT NOT NULL,
    data {blob} NOT NULL,
    PRIMARY KEY (sha256, device_id, pos)
);
CREATE TABLE blob_challenges (
    sha256 TEXT NOT NULL,
    device_id TEXT NOT NULL,
    nonce TEXT NOT NULL,
    size BIGINT NOT NULL,
    ranges TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (sha256, device_id)
);
CREATE INDEX attachments_device_sha ON attachments(device_id, sha256);
CREATE TABLE first_refs AS
    SELECT a.sha256 AS sha256, a.device_id AS device_id, d.township_code AS township_code
    FROM attachments a JOIN devices d ON d.id = a.device_id
    WHERE a.seq = (SELECT min(a2.seq) FROM attachments a2 WHERE a2.sha256 = a.sha256);
INSERT INTO blob_holders (sha256, device_id, since)
    SELECT DISTINCT a.sha256, a.device_id, 0
    FROM attachments a
    JOIN blobs b ON b.sha256 = a.sha256 AND b.complete = 1
    JOIN devices d ON d.id = a.device_id
    JOIN first_refs f ON f.sha256 = a.sha256 AND f.township_code = d.township_code;
UPDATE attachments SET proven = 1 WHERE EXISTS (SELECT 1 FROM blob_holders h
    WHERE h.sha256 = attachments.sha256 AND h.device_id = attachments.device_id);
INSERT INTO blob_uploads (sha256, device_id, size, received)
    SELECT f.sha256, f.device_id, b.size, b.received
    FROM first_refs f JOIN blobs b ON b.sha256 = f.sha256 AND b.complete = 0;
INSERT INTO upload_chunks (sha256, device_id, pos, data)
    SELECT c.sha256, f.device_id, c.pos, c.data
    FROM blob_chunks c
    JOIN blobs b ON b.sha256 = c.sha256 AND b.complete = 0
    JOIN first_refs f ON f.sha256 = c.sha256;
INSERT INTO blob_uploads (sha256, device_id, size, received)
    SELECT a.sha256, a.device_id, min(a.size), 0 FROM attachments a
    WHERE a.proven = 0 AND NOT EXISTS (SELECT 1 FROM blob_uploads u
        WHERE u.sha256 = a.sha256 AND u.device_id = a.device_id)
    GROUP BY a.sha256, a.device_id;
DELETE FROM blob_chunks WHERE sha256 IN (SELECT sha256 FROM blobs WHERE complete = 0);
DELETE FROM blobs WHERE complete = 0;
DROP TABLE first_refs
"""

# The administration console (issue 18): what a device last reported and whether county IT
# revoked it (``revoked_at`` also dates the revocation for signed bundles); the taxonomy's
# versions with their history; the audit of every administrative action; grids retired by a
# split, merge or re-code (kept, so old cases still name a grid that existed) and their history.
_SCHEMA_3 = """
ALTER TABLE devices ADD COLUMN revoked_at BIGINT;
ALTER TABLE devices ADD COLUMN revoked_by TEXT;
ALTER TABLE devices ADD COLUMN last_sync BIGINT;
ALTER TABLE devices ADD COLUMN outbox BIGINT;
ALTER TABLE devices ADD COLUMN app_version TEXT;
ALTER TABLE devices ADD COLUMN clock_offset_ms BIGINT;
CREATE TABLE taxonomy_versions (
    version BIGINT PRIMARY KEY,
    body TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    imported_by TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE TABLE admin_audit (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX admin_audit_at ON admin_audit(at);
ALTER TABLE grids ADD COLUMN retired_at BIGINT;
ALTER TABLE grids ADD COLUMN successors TEXT;
CREATE TABLE grid_history (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    action TEXT NOT NULL,
    old_codes TEXT NOT NULL,
    new_codes TEXT NOT NULL,
    detail TEXT NOT NULL
);
INSERT INTO counters (name, value) VALUES ('taxonomy', 1)
"""

# Sync bundles (USB sticks, protocol section 18): each device's public keys (Ed25519 to verify
# its bundles, X25519 to encrypt return bundles to it), registered at sign-in; and the bundles
# imported, so that importing one again applies nothing and answers what the first import did.
_SCHEMA_5 = """
ALTER TABLE devices ADD COLUMN sign_key TEXT;
ALTER TABLE devices ADD COLUMN box_key TEXT;
CREATE TABLE bundle_imports (
    bundle_id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    acks TEXT NOT NULL
)
"""

#: County departments (县级部门) take only county-level cases; the 1+N departments sunk into the
#: townships take any. ``gridroom-county init`` seeds the county's own (sync/county/seed.py).
_DEPARTMENT_LEVEL = """
ALTER TABLE departments ADD COLUMN level TEXT NOT NULL DEFAULT 'township'
"""

# The county's outlines (issue 16): county data, sent to devices within their township in the
# reference answer (sync/county/geometry.py). Boxes beside the GeoJSON text, so a device's map
# needs no geometry engine on the county; ``geometry`` counts the imports.
_GEOMETRY = """
CREATE TABLE shapes (
    code TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    township_code TEXT,
    geojson TEXT NOT NULL,
    min_x DOUBLE PRECISION NOT NULL,
    min_y DOUBLE PRECISION NOT NULL,
    max_x DOUBLE PRECISION NOT NULL,
    max_y DOUBLE PRECISION NOT NULL,
    synthetic BIGINT NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX shapes_township ON shapes(township_code);
INSERT INTO counters (name, value) VALUES ('geometry', 0)
"""

#: Field work (走访·民情日记, 巡查, 工作台账): a visit's subject, the people met, its follow-ups
#: (or a patrol's findings) and where it was; supervisors' ledger sign-offs. (``str.format``
#: runs on these blocks: a literal brace is doubled.)
_FIELD_WORK = """
ALTER TABLE visits ADD COLUMN subject_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN subject_id TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN people TEXT NOT NULL DEFAULT '[]';
ALTER TABLE visits ADD COLUMN items TEXT NOT NULL DEFAULT '[]';
ALTER TABLE visits ADD COLUMN checked TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN location TEXT NOT NULL DEFAULT '';
CREATE INDEX visits_staff ON visits(staff_id, at);
CREATE TABLE ledger_signoffs (
    id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL,
    township_code TEXT NOT NULL,
    period TEXT NOT NULL,
    first_day TEXT NOT NULL,
    signer_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    remarks TEXT NOT NULL DEFAULT '',
    counts TEXT NOT NULL DEFAULT '{{}}',
    device_id TEXT NOT NULL,
    seq BIGINT NOT NULL
);
CREATE INDEX ledger_signoffs_worker ON ledger_signoffs(worker_id, period, first_day)
"""

MIGRATIONS = [
    Migration("0001_initial", _SCHEMA_1),
    Migration("0002_blob_possession", _SCHEMA_2),
    Migration("0003_admin", _SCHEMA_3),
    Migration("0004_department_level", _DEPARTMENT_LEVEL),
    Migration("0005_bundles", _SCHEMA_5),
    Migration("0011_geometry", _GEOMETRY),
    Migration("0009_field_work", _FIELD_WORK),
]

_TYPES = {
    "sqlite": {"blob": "BLOB"},
    "postgresql": {"blob": "BYTEA"},
}


def _split(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


class Tx:
    """One transaction: run SQL written with ``?`` placeholders on either engine."""

    def __init__(self, conn: Any, dialect: str) -> None:
        self._conn = conn
        self.dialect = dialect
        #: SQL statements run in this transaction (a row of an ``executemany`` counts as one)
        #: and the calls that ran them: what a push costs (the county benchmark reads these).
        self.statements = 0
        self.calls = 0

    def _sql(self, sql: str) -> str:
        if self.dialect == "postgresql":
            # psycopg uses %s; a literal % must be doubled first.
            return sql.replace("%", "%%").replace("?", "%s")
        return sql

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        self.statements += 1
        self.calls += 1
        return self._conn.execute(self._sql(sql), tuple(args))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """One statement for many rows: on PostgreSQL psycopg sends them all in pipeline mode
        (one round trip for the lot, not one per row)."""
        if not rows:
            return
        self.statements += len(rows)
        self.calls += 1
        if self.dialect == "postgresql":
            with self._conn.cursor() as cur:
                cur.executemany(self._sql(sql), [tuple(r) for r in rows])
        else:
            self._conn.executemany(sql, [tuple(r) for r in rows])

    def rows(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.execute(sql, args).fetchall()]

    def one(self, sql: str, args: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self.execute(sql, args).fetchone()
        return None if row is None else tuple(row)

    def scalar(self, sql: str, args: Sequence[Any] = (), default: Any = None) -> Any:
        row = self.one(sql, args)
        return default if row is None or row[0] is None else row[0]

    def marks(self, n: int) -> str:
        """``?, ?, …`` for an IN list of ``n`` values."""
        return ", ".join("?" * n)

    def lock_seq(self) -> None:
        """Take the writers' lock (the change counter's row) until the transaction ends."""
        self.execute("UPDATE counters SET value = value WHERE name = 'seq'")

    def next_seq(self, n: int = 1) -> int:
        """Reserve ``n`` change sequence numbers; returns the first."""
        top = int(
            self.scalar(
                "UPDATE counters SET value = value + ? WHERE name = 'seq' RETURNING value", [n]
            )
        )
        return top - n + 1

    def bump(self, name: str) -> int:
        return int(
            self.scalar(
                "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name) "
                "DO UPDATE SET value = counters.value + 1 RETURNING value",
                [name],
            )
        )

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", [key])
        return default if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        self.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )


#: How long a request waits for a PostgreSQL connection (the server restarting, the pool busy)
#: before it is answered 503 "unavailable" (which clients retry).
PG_WAIT_S = 20.0
#: How long opening the database waits for PostgreSQL to accept a first connection.
PG_CONNECT_S = 10


class Database:
    """A small connection pool over SQLite (a file path) or PostgreSQL (a ``postgresql://`` URL).

    ``write()`` transactions take the writers' lock first; ``read()`` transactions see one
    consistent snapshot. Close the pool with :meth:`close`.

    PostgreSQL connections come from :class:`psycopg_pool.ConnectionPool`, which checks each
    connection as it is handed out (``check_connection``) and drops a broken one for a new one:
    after PostgreSQL restarts (or a network cut to it), the next request gets a working
    connection without restarting the county server. A request that finds PostgreSQL still down
    (or loses its connection mid-transaction) answers 503 ``unavailable``, which clients retry.
    """

    def __init__(self, url: str, *, pool_size: int = 8) -> None:
        self.url = url
        self._pg: Any = None
        if url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
            try:
                # imported here: SQLite-only installs lack them
                import psycopg
                from psycopg_pool import ConnectionPool
            except ImportError as exc:  # pragma: no cover - depends on the installation
                raise DatabaseError(
                    "PostgreSQL needs the psycopg and psycopg-pool packages: "
                    "pip install 'psycopg[binary]' psycopg-pool"
                ) from exc
            try:
                # One connection first, for a plain error now (wrong password, no server)
                # instead of a pool that waits in the background.
                psycopg.connect(url, autocommit=True, connect_timeout=PG_CONNECT_S).close()
            except psycopg.Error as exc:
                raise DatabaseError(f"Cannot connect to PostgreSQL: {exc}".strip()) from exc
            self._pg = ConnectionPool(
                url,
                kwargs={"autocommit": True, "connect_timeout": PG_CONNECT_S},
                min_size=1,
                max_size=pool_size,
                check=ConnectionPool.check_connection,
                timeout=PG_WAIT_S,
                name="gridroom-county",
                open=True,
            )
        else:
            self.dialect = "sqlite"
            self.path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        self._pool: queue.LifoQueue[Any] = queue.LifoQueue()
        self._all: list[Any] = []
        self._lock = threading.Lock()
        self._size = pool_size
        self._closed = False

    # -- connections ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _pg_conn(self) -> Iterator[Any]:
        """A checked PostgreSQL connection from the pool; a lost server is a DatabaseError."""
        import psycopg
        import psycopg_pool

        handed = False
        try:
            with self._pg.connection() as conn:
                handed = True
                try:
                    yield conn
                except psycopg.Error as exc:
                    if conn.broken or conn.closed:
                        # The connection died under us (PostgreSQL restarted): the pool drops
                        # it on return; this request is answered 503 and retried.
                        raise DatabaseError(f"PostgreSQL connection lost: {exc}".strip()) from exc
                    raise
        except psycopg_pool.PoolTimeout as exc:
            raise DatabaseError(f"PostgreSQL is not reachable: {exc}".strip()) from exc
        except psycopg.OperationalError as exc:
            if handed:
                raise  # a query's own error (a serialization failure …), not the link
            # Raised while the pool handed the connection over (before our block ran).
            raise DatabaseError(f"PostgreSQL is not reachable: {exc}".strip()) from exc

    def _connect(self) -> Any:
        try:
            conn = sqlite3.connect(
                str(self.path),
                isolation_level=None,
                timeout=SQLITE_BUSY_MS / 1000,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise DatabaseError(f"Cannot open {self.path}: {exc}") from exc
        conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        return conn

    @contextlib.contextmanager
    def _conn(self) -> Iterator[Any]:
        if self._closed:
            raise DatabaseError("the database pool is closed")
        if self._pg is not None:
            with self._pg_conn() as pg:
                yield pg
            return
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            with self._lock:
                grow = len(self._all) < self._size
            if grow:
                conn = self._connect()
                with self._lock:
                    self._all.append(conn)
            else:
                conn = self._pool.get(timeout=60)
        try:
            yield conn
        finally:
            self._pool.put(conn)

    @contextlib.contextmanager
    def write(self, *, ordered: bool = True) -> Iterator[Tx]:
        """A write transaction. ``ordered`` ones (anything that may write changes) lock the
        counter row first: sequence numbers then commit in the order they were taken (a pull
        never passes a change that commits a moment later), and every writer takes its locks
        in the same order, so two pushes cannot deadlock."""
        with self._conn() as conn:
            conn.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
            try:
                tx = Tx(conn, self.dialect)
                if ordered:
                    tx.execute("UPDATE counters SET value = value WHERE name = 'seq'")
                yield tx
                conn.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
                raise

    @contextlib.contextmanager
    def read(self) -> Iterator[Tx]:
        """A read transaction over one consistent snapshot."""
        with self._conn() as conn:
            conn.execute(
                "BEGIN"
                if self.dialect == "sqlite"
                else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            )
            try:
                yield Tx(conn, self.dialect)
            finally:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")

    def close(self) -> None:
        self._closed = True
        if self._pg is not None:
            self._pg.close()
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            with contextlib.suppress(Exception):
                conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._conn() as conn:
            tx = Tx(conn, self.dialect)
            if self.dialect == "sqlite":
                exists = tx.scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
                )
            else:
                exists = tx.scalar(
                    "SELECT count(*) FROM information_schema.tables "
                    "WHERE table_schema = current_schema() AND table_name = 'meta'"
                )
            if not exists:
                return 0
            return int(tx.scalar("SELECT value FROM meta WHERE key = 'schema'", default=0))

    def migrate(self) -> list[str]:
        """Apply pending migrations, each in one transaction; refuse a newer schema."""
        version = self.schema_version()
        if version > len(MIGRATIONS):
            raise DatabaseError(
                f"This county database has schema {version}; this gridroom-county knows "
                f"{len(MIGRATIONS)}. Update gridroom-county; nothing was changed."
            )
        applied = []
        for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
            with self._conn() as conn:
                conn.execute("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")
                try:
                    tx = Tx(conn, self.dialect)
                    for statement in _split(migration.sql.format(**_TYPES[self.dialect])):
                        tx.execute(statement)
                    if number == 1:
                        tx.execute("INSERT INTO counters (name, value) VALUES ('seq', 0)")
                    tx.set_meta("schema", str(number))
                    conn.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(Exception):
                        conn.execute("ROLLBACK")
                    raise
            applied.append(migration.name)
        return applied


def is_postgres(url: str) -> bool:
    return bool(re.match(r"^postgres(ql)?://", url))
