"""Opening the SQLite file: engine, pragmas, key, and the checks before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

import sqlcipher3

from . import schema
from .errors import NotADatabase, StoreError, classify

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000

DriverError = sqlcipher3.Error


def _quote_key(key: str | bytes) -> str:
    """The ``PRAGMA key`` argument: a raw 256-bit key (bytes) as ``x'…'``, or a passphrase."""
    if isinstance(key, bytes | bytearray):
        key = f"x'{bytes(key).hex()}'"
    return "'" + key.replace("'", "''") + "'"


def connect(
    path: Path,
    *,
    key: str | bytes | None = None,
    create: bool = False,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> sqlcipher3.Connection:
    """Open (or create) a store file with Gridroom's pragmas; refuse what is not a database.

    Autocommit mode (``isolation_level=None``): the store opens every transaction explicitly
    with ``BEGIN IMMEDIATE`` so that one writer at a time holds the lock from the start.
    ``key``: the store key (raw bytes, as :mod:`.keys` keeps it) or a passphrase; None for a
    plaintext file. ``busy_timeout_ms`` is how long a write waits for another program's lock before
    :class:`StoreLocked`. An existing file is checked (a Gridroom store, not from a newer
    schema) before any pragma that writes, so a refused file is left byte for byte as it was.
    """
    path = Path(path)
    exists = path.exists() and path.stat().st_size > 0
    if not exists and not create:
        if path.exists():
            raise NotADatabase(
                f"This file is empty (0 bytes), not a Gridroom database ({path}).", path=path
            )
        raise NotADatabase(f"There is no Gridroom database at {path}.", path=path)
    if exists and key is None:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
        if header != SQLITE_HEADER:
            raise NotADatabase(
                f"This file is not a Gridroom database, or it is encrypted and needs its key "
                f"({path}).",
                path=path,
            )
    if not exists:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlcipher3.connect(
            str(path),
            isolation_level=None,
            timeout=busy_timeout_ms / 1000,
            check_same_thread=False,
        )
    except sqlcipher3.Error as exc:
        raise classify(exc, path) or exc from exc
    try:
        # SQLCipher would print its own lines on stderr for a wrong key; we say it in words.
        conn.execute("PRAGMA cipher_log_level = NONE")
        if key is not None:
            conn.execute(f"PRAGMA key = {_quote_key(key)}")
        # Reading the schema is the first thing that fails on a wrong key or a foreign file.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        # Before journal_mode=WAL, which rewrites the header of a rollback-journal file.
        if exists and schema.check_version(conn, str(path)) == 0 and not create:
            raise NotADatabase(
                f"This is an SQLite database but not a Gridroom store ({path}).", path=path
            )
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"Could not switch {path} to WAL mode (got {mode}).", path=path)
        # Village laptops lose power: a committed change must be on disk.
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cache_size = -32000")
    except sqlcipher3.Error as exc:
        conn.close()
        known = classify(exc, path, keyed=key is not None)
        if known is not None:
            raise known from exc
        raise
    except BaseException:
        conn.close()
        raise
    return conn


def quick_check(conn: sqlcipher3.Connection) -> str:
    """``ok`` or the first problem ``PRAGMA quick_check`` reports."""
    return str(conn.execute("PRAGMA quick_check").fetchone()[0])


def fsync_dir(path: Path) -> None:
    """Make a newly created file's directory entry durable (attachments, exports)."""
    if os.name != "posix":
        return
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
