"""Opening the SQLite file: engine, pragmas, key, and the checks before anything is written."""

from __future__ import annotations

import os
from pathlib import Path

import sqlcipher3

from . import schema
from .errors import NotADatabase, StoreCorrupt, StoreError, classify, damaged_words

SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000

DriverError = sqlcipher3.Error


def _quote_key(key: str | bytes) -> str:
    """The ``PRAGMA key`` argument: a raw 256-bit key (bytes) as ``x'…'``, or a passphrase."""
    if isinstance(key, bytes | bytearray):
        key = f"x'{bytes(key).hex()}'"
    return "'" + key.replace("'", "''") + "'"


def keyed_failure(
    conn: sqlcipher3.Connection, exc: BaseException, path: Path | str
) -> StoreError | None:
    """What a failure of an encrypted (keyed) connection means, or None for the usual answer.

    A page whose HMAC fails makes SQLCipher answer "not a database" (page 1, or the schema's
    pages while opening) and then refuse writes as "readonly": read as they are, they blame the
    key or the permissions. ``PRAGMA cipher_integrity_check`` tells: a wrong key fails every
    page of the file, damage only some (see :mod:`.health`). A damaged file is remembered as
    such for this process (no write reaches it)."""
    from . import health
    from .errors import SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_READONLY, sqlite_code

    if sqlite_code(exc) not in (SQLITE_NOTADB, SQLITE_READONLY, SQLITE_CORRUPT):
        return None
    failures = health.cipher_problems(conn)
    if not failures or health.is_wrong_key(failures, conn, path):
        return None
    health.mark_damaged(path, failures[0])
    return StoreCorrupt(damaged_words(path, failures[0]), path=path)


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
        damage = keyed_failure(conn, exc, path) if key is not None else None
        conn.close()
        if damage is not None:
            raise damage from exc
        known = classify(exc, path, keyed=key is not None)
        if known is not None:
            raise known from exc
        raise
    except BaseException:
        conn.close()
        raise
    return conn


def _file_uri(path: Path, **params: str) -> str:
    """A ``file:`` URI for ``path``: percent-encoded (spaces, 中文, ?, #, %), ``file:///C:/…``
    on Windows."""
    from urllib.parse import quote, urlencode

    posix = path.resolve().as_posix()
    uri = ("file:///" if not posix.startswith("/") else "file:") + quote(posix, safe="/:")
    return uri + ("?" + urlencode(params) if params else "")


def connect_read_only(
    path: Path, *, key: str | bytes | None = None
) -> sqlcipher3.Connection:
    """Open an existing store for reading only: no migration, no pragma that writes, and
    ``query_only`` so that any write through the connection fails.

    Where the file and its folder can be written the connection is an ordinary one (SQLite
    then removes the ``-wal``/``-shm`` it made when it closes, leaving the folder as it was).
    Otherwise ``mode=ro``; a store in WAL mode also needs its ``-shm`` index beside it, which
    SQLite cannot make in a folder nobody may write (a read-only share, a write-protected USB
    stick), and the file is then opened ``immutable`` — correct only when no ``-wal`` holds
    changes not yet in the file, which is checked (a store the app closed has none).
    """
    path = Path(path)
    if not path.exists():
        raise NotADatabase(f"There is no Gridroom database at {path}.", path=path)
    if path.stat().st_size == 0:
        raise NotADatabase(
            f"This file is empty (0 bytes), not a Gridroom database ({path}).", path=path
        )
    if key is None:
        with path.open("rb") as fh:
            if fh.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise NotADatabase(
                    f"This file is not a Gridroom database, or it is encrypted and needs its key "
                    f"({path}).",
                    path=path,
                )

    def attempt(**params: str) -> sqlcipher3.Connection:
        conn = sqlcipher3.connect(
            _file_uri(path, **params), uri=True, isolation_level=None, check_same_thread=False
        )
        try:
            if key is not None:
                conn.execute("PRAGMA cipher_log_level = NONE")
                conn.execute(f"PRAGMA key = {_quote_key(key)}")
            conn.execute("PRAGMA query_only = ON")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            if schema.check_version(conn, str(path)) == 0:
                raise NotADatabase(
                    f"This is an SQLite database but not a Gridroom store ({path}).", path=path
                )
        except sqlcipher3.Error as exc:
            damage = keyed_failure(conn, exc, path) if key is not None else None
            conn.close()
            if damage is not None:
                raise damage from exc
            raise
        except BaseException:
            conn.close()
            raise
        return conn

    if os.access(path, os.W_OK) and os.access(path.parent, os.W_OK):
        try:
            return attempt()
        except sqlcipher3.Error as exc:
            raise classify(exc, path, keyed=key is not None) or exc from exc
    try:
        return attempt(mode="ro")
    except sqlcipher3.Error as exc:
        wal = Path(f"{path}-wal")
        folder_writable = os.access(path.parent, os.W_OK)
        if folder_writable or (wal.exists() and wal.stat().st_size > 0):
            raise classify(exc, path, keyed=key is not None) or exc from exc
        first = exc
    try:
        return attempt(mode="ro", immutable="1")
    except sqlcipher3.Error as exc:
        raise classify(exc, path, keyed=key is not None) or first from exc


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
