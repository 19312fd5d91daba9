"""Known, environmental store errors, in plain words.

These are the failures a person can do something about (free disk space, close the other
program, restore a backup); each carries a stable ``code`` the desktop maps to a translated
message. Anything else that goes wrong is a bug and is not caught here.
"""

from __future__ import annotations

import errno
from pathlib import Path


class StoreError(Exception):
    """Base of the errors a user is shown; ``str(err)`` is a plain English sentence."""

    code = "store"

    def __init__(self, message: str, *, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = str(path) if path is not None else None


class NotADatabase(StoreError):
    code = "not_a_database"


class WrongKey(StoreError):
    code = "wrong_key"


class StoreLocked(StoreError):
    code = "locked"


class DiskFull(StoreError):
    code = "disk_full"


class StoreCorrupt(StoreError):
    code = "corrupt"


class NewerSchema(StoreError):
    code = "newer_schema"


class ReadOnly(StoreError):
    code = "read_only"


class UnknownScope(StoreError, ValueError):
    """A township/county code that is not in the bundled divisions (also a ``ValueError``)."""

    code = "unknown_scope"


#: SQLite's primary result codes (the low byte of an extended code), as sqlite3.h numbers them.
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_NOTADB = 26


def sqlite_code(exc: BaseException) -> int | None:
    """The primary SQLite result code of a driver exception, or None when it carries none.

    sqlcipher3 (like the standard ``sqlite3`` on Python 3.11+) puts the code on every exception
    it raises from SQLite as ``sqlite_errorcode``; an extended code (``SQLITE_IOERR_WRITE``,
    ``SQLITE_BUSY_SNAPSHOT`` …) keeps its primary code in the low byte. The message text is
    not used: it is SQLite's English wording, which changes between versions.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    return code & 0xFF


def classify(
    exc: BaseException, path: Path | str | None, *, keyed: bool = False
) -> StoreError | None:
    """Map a driver or OS exception to a known store error, or None if it is a bug."""
    where = f" ({path})" if path else ""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return DiskFull(f"The disk is full{where}. Free some space; nothing was saved.", path=path)
    code = sqlite_code(exc)
    if code is None:
        return None
    if code == SQLITE_FULL or (code == SQLITE_IOERR and _disk_full(path)):
        return DiskFull(f"The disk is full{where}. Free some space; nothing was saved.", path=path)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return StoreLocked(
            f"The database is in use by another program{where}. Close it and try again.",
            path=path,
        )
    if code == SQLITE_NOTADB:
        if keyed:
            return WrongKey(
                f"The database key is wrong, or the file is not a Gridroom database{where}.",
                path=path,
            )
        return NotADatabase(
            f"This file is not a Gridroom database, or it is encrypted and needs its key{where}.",
            path=path,
        )
    if code == SQLITE_CORRUPT or _fts_damaged(exc):
        return StoreCorrupt(damaged_words(path), path=path)
    if code == SQLITE_READONLY:
        return ReadOnly(f"The database cannot be written{where}: check its permissions.", path=path)
    if code == SQLITE_CANTOPEN:
        if path is not None and Path(path).exists() and not _writable(Path(path)):
            # A good store on a read-only disk or folder: SQLite cannot create its -wal/-shm.
            return ReadOnly(
                f"The database or its folder cannot be written{where}: Gridroom writes beside "
                "the database. Check the permissions, or copy it to a writable folder.",
                path=path,
            )
        return NotADatabase(f"The database cannot be opened{where}.", path=path)
    return None


def damaged_words(path: Path | str | None, problem: str = "") -> str:
    """The plain sentence for a damaged store: what happened and what to do."""
    where = f" ({path})" if path else ""
    found = f": {problem}" if problem else ""
    return (
        f"The database is damaged{where}{found}. Gridroom will not write to it. Restore it from "
        "a backup, or sign in again to make a new one (gridroom login): the county platform has "
        "every case this computer synced."
    )


def _fts_damaged(exc: BaseException) -> bool:
    """FTS5 reports a damaged index (its shadow tables) as a failed virtual-table constructor:
    a generic SQLITE_ERROR whose only distinguishing mark is FTS5's own message."""
    return sqlite_code(exc) == 1 and "vtable constructor failed" in str(exc)


def _writable(path: Path) -> bool:
    import os

    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _disk_full(path: Path | str | None) -> bool:
    import shutil

    if path is None:
        return False
    try:
        return shutil.disk_usage(Path(path).parent).free < 1 << 20
    except OSError:
        return False
