"""The store's schema as named, transactional migrations.

Each migration runs once, inside the same transaction that records its name, so a crash leaves
the database at the previous step, never half-way. ``PRAGMA user_version`` holds the number of
migrations applied; a database with more than this build knows comes from a newer Gridroom and is
refused untouched.

Change capture: triggers put every local write to a synced table into ``outbox`` inside the
writing transaction. ``table.transform()`` drops triggers, so :func:`verify_triggers` checks them
after every migration.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import steps
from .errors import NewerSchema

Conn = object  # a DB-API connection (sqlcipher3); kept loose to avoid importing the driver here


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str
    after: Callable[[object], None] | None = None


_INITIAL = """
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE divisions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_code TEXT,
    level TEXT NOT NULL CHECK (level IN ('city', 'county', 'township', 'village'))
) WITHOUT ROWID;
CREATE INDEX divisions_parent ON divisions(parent_code);

CREATE TABLE grids (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    village_code TEXT NOT NULL REFERENCES divisions(code),
    kind TEXT NOT NULL CHECK (kind IN ('urban', 'rural', 'dedicated')),
    households INTEGER NOT NULL DEFAULT 0,
    population INTEGER NOT NULL DEFAULT 0,
    dedicated_to TEXT,
    synthetic INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX grids_village ON grids(village_code);

CREATE TABLE departments (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    phone TEXT NOT NULL DEFAULT '',
    grid_code TEXT REFERENCES grids(code),
    department_code TEXT REFERENCES departments(code),
    synthetic INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX staff_grid ON staff(grid_code);

-- The accounts that act in the closed loop on this device (the county's, cached).
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    department_code TEXT,
    grid_codes TEXT NOT NULL DEFAULT '[]',
    staff_id TEXT
) WITHOUT ROWID;

CREATE TABLE categories (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent TEXT,
    accept_hours INTEGER NOT NULL,
    handle_days INTEGER,
    handle_hours INTEGER,
    urgent_accept_hours INTEGER NOT NULL,
    urgent_handle_days INTEGER,
    urgent_handle_hours INTEGER
) WITHOUT ROWID;

-- Cases: the projection of each timeline, recomputed on every write (never edited directly).
CREATE TABLE cases (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    case_no TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL,
    major TEXT NOT NULL,
    grid_code TEXT,
    village_code TEXT,
    township_code TEXT,
    address TEXT NOT NULL DEFAULT '',
    source TEXT,
    urgency TEXT NOT NULL DEFAULT 'normal',
    reporter_name TEXT,
    reporter_phone TEXT,
    reporter_id TEXT,
    status TEXT NOT NULL,
    level INTEGER NOT NULL,
    lead TEXT,
    reported_at INTEGER NOT NULL,
    accepted_at INTEGER,
    closed_at INTEGER,
    due_at INTEGER,
    warn_at INTEGER,
    handle_due INTEGER,
    on_time INTEGER,
    self_handled INTEGER NOT NULL DEFAULT 0,
    urges INTEGER NOT NULL DEFAULT 0,
    satisfaction TEXT,
    conflicts INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);
CREATE INDEX cases_no ON cases(case_no);
CREATE INDEX cases_reported ON cases(reported_at);
CREATE INDEX cases_status ON cases(status, reported_at);
CREATE INDEX cases_village ON cases(village_code, reported_at);
CREATE INDEX cases_grid ON cases(grid_code, reported_at);
-- Category lists sort newest first like every list: (code, reported_at) serves both the
-- filter and the order (a 1M-case store sorted 100k rows of one major category: ~800 ms).
CREATE INDEX cases_major ON cases(major, reported_at);
CREATE INDEX cases_category ON cases(category, reported_at);
CREATE INDEX cases_due ON cases(due_at) WHERE due_at IS NOT NULL;
CREATE INDEX cases_conflicts ON cases(conflicts) WHERE conflicts > 0;

-- Who holds each case now (lead and assisting units of the current dispatch).
CREATE TABLE case_tasks (
    case_rowid INTEGER NOT NULL REFERENCES cases(rowid) ON DELETE CASCADE,
    assignee TEXT NOT NULL,
    kind TEXT NOT NULL,
    lead INTEGER NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (case_rowid, assignee)
) WITHOUT ROWID;
CREATE INDEX case_tasks_assignee ON case_tasks(assignee, state);

-- The timeline (流转记录): append-only, merged as a set across devices.
CREATE TABLE case_events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    case_rowid INTEGER NOT NULL REFERENCES cases(rowid) ON DELETE CASCADE,
    action TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    at INTEGER NOT NULL,
    hlc TEXT NOT NULL,
    local INTEGER NOT NULL DEFAULT 1,
    payload TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events(case_rowid);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    entry_id TEXT,
    sha256 TEXT NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    size INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    local INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX attachments_case ON attachments(case_id);

CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    grid_code TEXT NOT NULL REFERENCES grids(code),
    staff_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('visit', 'patrol')),
    at INTEGER NOT NULL,
    household TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL,
    local INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX visits_grid ON visits(grid_code, at);

-- Rows imported from spreadsheets: re-importing a file creates no duplicates.
CREATE TABLE imported_rows (
    row_key TEXT PRIMARY KEY,
    case_id TEXT NOT NULL
) WITHOUT ROWID;

-- Change capture for sync: filled by triggers in the writing transaction.
CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    created_at INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000 AS INTEGER))
);

CREATE VIRTUAL TABLE case_search USING fts5(
    body, content='', contentless_delete=1, detail=none, tokenize='unicode61'
);
"""

#: The synced tables and the outbox triggers that capture their local writes.
TRIGGERS = {
    "outbox_case_events": """
        CREATE TRIGGER outbox_case_events AFTER INSERT ON case_events
        WHEN NEW.local = 1
        BEGIN
            INSERT INTO outbox (entity, entity_id) VALUES ('case_event', NEW.id);
        END""",
    "outbox_attachments": """
        CREATE TRIGGER outbox_attachments AFTER INSERT ON attachments
        WHEN NEW.local = 1
        BEGIN
            INSERT INTO outbox (entity, entity_id) VALUES ('attachment', NEW.id);
        END""",
    "outbox_visits_insert": """
        CREATE TRIGGER outbox_visits_insert AFTER INSERT ON visits
        WHEN NEW.local = 1
        BEGIN
            INSERT INTO outbox (entity, entity_id) VALUES ('visit', NEW.id);
        END""",
    "outbox_visits_update": """
        CREATE TRIGGER outbox_visits_update AFTER UPDATE ON visits
        WHEN NEW.local = 1
        BEGIN
            INSERT INTO outbox (entity, entity_id) VALUES ('visit', NEW.id);
        END""",
}


def _create_triggers(conn: object) -> None:
    for sql in TRIGGERS.values():
        conn.execute(sql)  # type: ignore[attr-defined]


# Sync with the county (sync.store.replica): peer state and cursor, the push batch in flight
# (so a retried push after a crash reuses its idempotency key), quarantined records, attachment
# transfers waiting, and a history of sync runs for the status page.
_SYNC = """
CREATE TABLE sync_state (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE sync_inflight (
    batch_id TEXT PRIMARY KEY,
    seqs TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE quarantine (
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    case_id TEXT,
    code TEXT NOT NULL,
    reason TEXT NOT NULL,
    batch_id TEXT,
    quarantined_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    retrying INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, entity_id)
) WITHOUT ROWID;
CREATE INDEX quarantine_case ON quarantine(case_id);

CREATE TABLE sync_blobs (
    sha256 TEXT NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('up', 'down')),
    size INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    last_error TEXT,
    PRIMARY KEY (sha256, direction)
) WITHOUT ROWID;

CREATE TABLE sync_history (
    id INTEGER PRIMARY KEY,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL
);
"""

#: The township an account works in (None: county level), so a device applies the county's
#: scope rules to whoever acts on it. Accounts cached before it are fetched again: forgetting
#: the reference version makes the next sync ask for the whole reference data.
_ACCOUNT_TOWNSHIP = """
ALTER TABLE accounts ADD COLUMN township_code TEXT;
DELETE FROM sync_state WHERE key = 'reference_version';
"""


def _backfill_step_counts(conn: object) -> None:
    for statement in _statements(steps.BACKFILL_SQL):
        conn.execute(statement)  # type: ignore[attr-defined]


#: Geometry (the map): outlines of townships, villages and grids as GeoJSON text with their
#: bounding boxes in an R*Tree, and each case's point (lon/lat in degrees) kept in a second
#: R*Tree by triggers on ``cases``, so map queries by view box never scan the tables.
_GEOMETRY = """
CREATE TABLE shapes (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('county', 'township', 'village', 'grid')),
    name TEXT NOT NULL DEFAULT '',
    geojson TEXT NOT NULL,
    synthetic INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX shapes_kind ON shapes(kind);
CREATE VIRTUAL TABLE shapes_rtree USING rtree(id, min_x, max_x, min_y, max_y);
ALTER TABLE cases ADD COLUMN lon REAL;
ALTER TABLE cases ADD COLUMN lat REAL;
CREATE VIRTUAL TABLE case_points USING rtree(id, min_x, max_x, min_y, max_y);
"""

#: Kept out of ``_GEOMETRY`` because the statement splitter cuts at every line ending in ";".
_CASE_POINT_TRIGGERS = (
    """CREATE TRIGGER case_points_insert AFTER INSERT ON cases
    WHEN NEW.lon IS NOT NULL AND NEW.lat IS NOT NULL
    BEGIN
        INSERT OR REPLACE INTO case_points VALUES (NEW.rowid, NEW.lon, NEW.lon, NEW.lat, NEW.lat);
    END""",
    """CREATE TRIGGER case_points_update AFTER UPDATE OF lon, lat ON cases
    BEGIN
        DELETE FROM case_points WHERE id = OLD.rowid;
        INSERT INTO case_points SELECT NEW.rowid, NEW.lon, NEW.lon, NEW.lat, NEW.lat
        WHERE NEW.lon IS NOT NULL AND NEW.lat IS NOT NULL;
    END""",
    """CREATE TRIGGER case_points_delete AFTER DELETE ON cases
    BEGIN
        DELETE FROM case_points WHERE id = OLD.rowid;
    END""",
)


def _create_case_point_triggers(conn: object) -> None:
    for sql in _CASE_POINT_TRIGGERS:
        conn.execute(sql)  # type: ignore[attr-defined]


#: County departments (县级部门) take only county-level cases, on the device as on the county;
#: the level comes with the reference data, which is fetched again whole (as in 0003).
_DEPARTMENT_LEVEL = """
ALTER TABLE departments ADD COLUMN level TEXT NOT NULL DEFAULT 'township';
DELETE FROM sync_state WHERE key = 'reference_version';
"""

#: When a case first ran past its handling deadline (``CaseState.overdue_at``), kept with the
#: projection so that a department's 按期反馈 is not washed out by an extension granted after
#: the deadline (``workflow.fed_back_on_time``). Only cases whose deadline can have moved since
#: it was missed (an extension, a resumption from 挂账, a second dispatch) can differ from
#: ``handle_due``; they are queued in ``reproject_queue`` and re-projected when the store is
#: next opened (:meth:`Store.open`), the rest need nothing.
_OVERDUE_AT = """
ALTER TABLE cases ADD COLUMN overdue_at INTEGER;
CREATE TABLE IF NOT EXISTS reproject_queue (case_rowid INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO reproject_queue (case_rowid)
    SELECT rowid FROM cases WHERE extensions > 0 OR dispatches > 1
    UNION SELECT case_rowid FROM case_events WHERE action = 'resume';
"""

#: The county's outlines come with the reference data (issue 16): forgetting the reference
#: version makes the next sync fetch it whole, outlines included (the geometry version is new).
#: ``case_bins``: case points counted per status in cells of 1/200 degree (~500 m), kept by
#: triggers, so a map of a whole county's decade clusters a few thousand bins instead of a
#: million points (sync.geo.geostore.clusters); gx, gy are the cell of (lon + 180, lat + 90).
_GEOMETRY_SYNC = """
DELETE FROM sync_state WHERE key = 'reference_version';
DELETE FROM sync_state WHERE key = 'geometry_version';
CREATE TABLE case_bins (
    status TEXT NOT NULL,
    gx INTEGER NOT NULL,
    gy INTEGER NOT NULL,
    n INTEGER NOT NULL,
    sum_lon REAL NOT NULL,
    sum_lat REAL NOT NULL,
    PRIMARY KEY (status, gx, gy)
) WITHOUT ROWID;
INSERT INTO case_bins (status, gx, gy, n, sum_lon, sum_lat)
    SELECT status, CAST((lon + 180.0) * 200 AS INTEGER), CAST((lat + 90.0) * 200 AS INTEGER),
        count(*), sum(lon), sum(lat)
    FROM cases WHERE lon IS NOT NULL AND lat IS NOT NULL GROUP BY 1, 2, 3;
"""

_BIN_ADD = """INSERT INTO case_bins (status, gx, gy, n, sum_lon, sum_lat)
        SELECT NEW.status, CAST((NEW.lon + 180.0) * 200 AS INTEGER),
            CAST((NEW.lat + 90.0) * 200 AS INTEGER), 1, NEW.lon, NEW.lat
        WHERE NEW.lon IS NOT NULL AND NEW.lat IS NOT NULL
        ON CONFLICT (status, gx, gy) DO UPDATE SET n = n + 1,
            sum_lon = sum_lon + excluded.sum_lon, sum_lat = sum_lat + excluded.sum_lat;"""
_BIN_REMOVE = """UPDATE case_bins SET n = n - 1, sum_lon = sum_lon - OLD.lon,
            sum_lat = sum_lat - OLD.lat
        WHERE OLD.lon IS NOT NULL AND OLD.lat IS NOT NULL AND status = OLD.status
            AND gx = CAST((OLD.lon + 180.0) * 200 AS INTEGER)
            AND gy = CAST((OLD.lat + 90.0) * 200 AS INTEGER);"""
#: Kept out of ``_GEOMETRY_SYNC`` because the statement splitter cuts at every line ending in ";".
_CASE_BIN_TRIGGERS = (
    f"""CREATE TRIGGER case_bins_insert AFTER INSERT ON cases
    BEGIN
        {_BIN_ADD}
    END""",
    f"""CREATE TRIGGER case_bins_update AFTER UPDATE OF status, lon, lat ON cases
    BEGIN
        {_BIN_REMOVE}
        {_BIN_ADD}
    END""",
    f"""CREATE TRIGGER case_bins_delete AFTER DELETE ON cases
    BEGIN
        {_BIN_REMOVE}
    END""",
)


def _create_case_bin_triggers(conn: object) -> None:
    for sql in _CASE_BIN_TRIGGERS:
        conn.execute(sql)  # type: ignore[attr-defined]


#: 五级贯通 and 待审批: where a case stands towards the county (0 never escalated there, 1 waiting
#: for the county 上报待受理, 2 in the county's hands, 3 handed down 交办) and the requests
#: waiting for the supervisor (1 an extension, 2 parking, 3 both), kept with the projection so
#: the queues are an index read. Existing cases with such steps are queued in
#: ``reproject_queue`` and re-projected on open (``Store._drain_reproject_queue``): the values
#: come from the timeline.
_COUNTY_LEVEL = """
ALTER TABLE cases ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN pending INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_escalation ON cases(escalation, reported_at) WHERE escalation > 0;
CREATE INDEX cases_pending ON cases(pending, reported_at) WHERE pending > 0;
CREATE TABLE IF NOT EXISTS reproject_queue (case_rowid INTEGER PRIMARY KEY);
INSERT OR IGNORE INTO reproject_queue (case_rowid)
    SELECT DISTINCT case_rowid FROM case_events
    WHERE action IN ('escalate', 'hand_down', 'request_extension', 'request_park');
"""

#: Field work (走访·民情日记, 巡查, 工作台账): a visit's subject, the people met, its follow-ups
#: (or a patrol's findings) and where it was; the cases made from them are found by the
#: report's ``from_visit`` (an index on the payload); supervisors' ledger sign-offs, synced.
_FIELD_WORK = """
ALTER TABLE visits ADD COLUMN subject_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN subject_id TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN people TEXT NOT NULL DEFAULT '[]';
ALTER TABLE visits ADD COLUMN items TEXT NOT NULL DEFAULT '[]';
ALTER TABLE visits ADD COLUMN checked TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN location TEXT NOT NULL DEFAULT '';
CREATE INDEX visits_staff ON visits(staff_id, at);
CREATE INDEX case_events_from_visit ON case_events(json_extract(payload, '$.from_visit'))
    WHERE json_extract(payload, '$.from_visit') IS NOT NULL;
CREATE TABLE ledger_signoffs (
    id TEXT PRIMARY KEY,
    worker_id TEXT NOT NULL,
    township_code TEXT NOT NULL,
    period TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
    first_day TEXT NOT NULL,
    signer_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    remarks TEXT NOT NULL DEFAULT '',
    counts TEXT NOT NULL DEFAULT '{}',
    local INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX ledger_signoffs_worker ON ledger_signoffs(worker_id, period, first_day);
"""

#: Change capture of the tables that field work adds (created by its migration, checked with
#: the others by :func:`verify_triggers`).
FIELD_WORK_TRIGGERS = {
    "outbox_ledger_signoffs": """
        CREATE TRIGGER outbox_ledger_signoffs AFTER INSERT ON ledger_signoffs
        WHEN NEW.local = 1
        BEGIN
            INSERT INTO outbox (entity, entity_id) VALUES ('signoff', NEW.id);
        END""",
}


def _create_field_work_triggers(conn: object) -> None:
    for sql in FIELD_WORK_TRIGGERS.values():
        conn.execute(sql)  # type: ignore[attr-defined]


#: The township relay (sync.relay, docs/sync-protocol.md section 19): its own change log (the
#: cursor it serves pulls by; the triggers that fill it are made only when a store first runs as
#: a relay), the push batches devices sent it with the county's answers once it has them, and
#: the devices the county revoked.
_RELAY = """
CREATE TABLE relay_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    ref TEXT NOT NULL
);
CREATE TABLE relay_batches (
    device_id TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    body TEXT NOT NULL,
    signature TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    answer TEXT,
    answered_at INTEGER,
    PRIMARY KEY (device_id, batch_id)
) WITHOUT ROWID;
CREATE INDEX relay_batches_waiting ON relay_batches(received_at) WHERE answer IS NULL;
CREATE TABLE relay_revoked (
    device_id TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
) WITHOUT ROWID;
"""

MIGRATIONS: list[Migration] = [
    Migration("0001_initial", _INITIAL, after=_create_triggers),
    Migration("0002_sync", _SYNC),
    Migration("0003_account_township", _ACCOUNT_TOWNSHIP),
    # Step counts per case and each dispatched unit's part, kept with the projection so that
    # statistics never read the timeline (sync.store.steps); existing stores are backfilled.
    Migration("0004_case_step_counts", steps.SCHEMA_SQL, after=_backfill_step_counts),
    Migration("0005_geometry", _GEOMETRY, after=_create_case_point_triggers),
    Migration("0007_department_level", _DEPARTMENT_LEVEL),
    Migration("0012_geometry_sync", _GEOMETRY_SYNC, after=_create_case_bin_triggers),
    Migration("0010_county_level", _COUNTY_LEVEL),
    Migration("0009_field_work", _FIELD_WORK, after=_create_field_work_triggers),
    Migration("0013_relay", _RELAY),
    Migration("0015_overdue_at", _OVERDUE_AT),
]

SCHEMA_VERSION = len(MIGRATIONS)


def schema_version(conn: object) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])  # type: ignore[attr-defined]


def check_version(conn: object, path: str | None) -> int:
    """The database's schema version; refuse one from a newer Gridroom."""
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise NewerSchema(
            f"This database was written by a newer Gridroom (schema {version}, this version "
            f"knows {SCHEMA_VERSION}). Update Gridroom; the file was not changed.",
            path=path,
        )
    return version


def migrate(conn: object, path: str | None = None) -> list[str]:
    """Apply pending migrations, each in its own transaction. Returns the names applied."""
    applied = []
    version = check_version(conn, path)
    for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
        conn.execute("BEGIN IMMEDIATE")  # type: ignore[attr-defined]
        try:
            # executescript would commit; run statement by statement inside our transaction.
            for statement in _statements(migration.sql):
                conn.execute(statement)  # type: ignore[attr-defined]
            if migration.after is not None:
                migration.after(conn)
            conn.execute(f"PRAGMA user_version = {number}")  # type: ignore[attr-defined]
            conn.execute("COMMIT")  # type: ignore[attr-defined]
        except BaseException:
            conn.execute("ROLLBACK")  # type: ignore[attr-defined]
            raise
        applied.append(migration.name)
    if applied:
        verify_triggers(conn)
    return applied


def verify_triggers(conn: object) -> None:
    """Raise if a change-capture trigger is missing (e.g. dropped by a table transform)."""
    present = {
        r[0]
        for r in conn.execute(  # type: ignore[attr-defined]
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
    }
    expected = set(TRIGGERS)
    applied = {m.name for m in MIGRATIONS[: schema_version(conn)]}
    if "0009_field_work" in applied:
        expected |= set(FIELD_WORK_TRIGGERS)
    missing = expected - present
    if missing:
        raise RuntimeError(f"change-capture triggers missing: {sorted(missing)}")


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (no semicolons inside our literals)."""
    out, buf = [], []
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("--") or not stripped:
            continue
        buf.append(line)
        if stripped.endswith(";"):
            out.append("\n".join(buf))
            buf = []
    if buf:
        out.append("\n".join(buf))
    return out
