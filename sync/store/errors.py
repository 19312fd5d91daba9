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


def classify(
    exc: BaseException, path: Path | str | None, *, keyed: bool = False
) -> StoreError | None:
    """Map a driver or OS exception to a known store error, or None if it is a bug."""
    where = f" ({path})" if path else ""
    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return DiskFull(f"The disk is full{where}. Free some space; nothing was saved.", path=path)
    text = str(exc).lower()
    if "database or disk is full" in text or ("disk i/o error" in text and _disk_full(path)):
        return DiskFull(f"The disk is full{where}. Free some space; nothing was saved.", path=path)
    if "database is locked" in text or "database table is locked" in text or "busy" in text:
        return StoreLocked(
            f"The database is in use by another program{where}. Close it and try again.",
            path=path,
        )
    if "file is not a database" in text or "file is encrypted" in text:
        if keyed:
            return WrongKey(
                f"The database key is wrong, or the file is not a Gridroom database{where}.",
                path=path,
            )
        return NotADatabase(
            f"This file is not a Gridroom database, or it is encrypted and needs its key{where}.",
            path=path,
        )
    # FTS5 reports a damaged index (its shadow tables) as a failed virtual-table constructor.
    if "malformed" in text or "corrupt" in text or "vtable constructor failed" in text:
        return StoreCorrupt(
            f"The database is damaged{where}. Restore it from a backup or sync it again from "
            "the county.",
            path=path,
        )
    if "readonly" in text or "read-only" in text:
        return ReadOnly(f"The database cannot be written{where}: check its permissions.", path=path)
    if "unable to open database" in text:
        if path is not None and Path(path).exists() and not _writable(Path(path)):
            # A good store on a read-only disk or folder: SQLite cannot create its -wal/-shm.
            return ReadOnly(
                f"The database or its folder cannot be written{where}: Gridroom writes beside "
                "the database. Check the permissions, or copy it to a writable folder.",
                path=path,
            )
        return NotADatabase(f"The database cannot be opened{where}.", path=path)
    return None


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
