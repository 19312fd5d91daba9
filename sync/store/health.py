"""Is the store file damaged? Checked where it is cheap; a damaged store is never written again.

SQLite only notices damage when it happens to read the broken bytes, and ``PRAGMA quick_check``
looks at the b-tree's shape, not at what the cells hold: 64 bytes flipped inside a page of the
cases table pass it. ``PRAGMA integrity_check(TABLE)`` also compares every row with the table's
indexes, which is what finds such damage (a row "missing from index"), and it can be limited to
the tables about to be written. So:

* :func:`guard` before writes that matter (a spreadsheet import, a ``gridroom sync``);
* :func:`check` of every table after the desktop opens a store (in the background) and in
  ``gridroom stats`` / ``gridroom doctor``;
* a path found damaged is remembered for this process (:func:`mark_damaged`) and
  :meth:`sync.store.Store.write` refuses every write to it, from any connection.

Damage that changes a column no index covers (part of a case's text) cannot be told from data
by a plain SQLite file. An encrypted store (SQLCipher) checks every page's HMAC when it reads
the page: the read fails, and SQLCipher then refuses every write on that connection as
"readonly" and may answer later reads "not a database" — words that would blame permissions or
the key. So for an encrypted store :func:`problems` runs ``PRAGMA cipher_integrity_check`` first
(every page's HMAC; SQLCipher 4), and :func:`cipher_problems` is what the store and the openers
ask when an encrypted file fails, to tell damage from a wrong key: a wrong key fails *every*
page, damage only some.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import StoreCorrupt, damaged_words

#: The tables a spreadsheet import or a sync writes (with their indexes).
WRITTEN_TABLES = (
    "cases",
    "case_events",
    "case_tasks",
    "case_units",
    "outbox",
    "imported_rows",
    "attachments",
)
#: Problems listed per check (SQLite stops there too, given the number).
MAX_PROBLEMS = 10

_lock = threading.Lock()
_damaged: dict[str, str] = {}


def _key(path: Path | str) -> str:
    try:
        return str(Path(path).resolve())
    except OSError:
        return str(path)


def mark_damaged(path: Path | str, problem: str) -> None:
    """Remember that ``path`` is damaged: every store of it in this process refuses writes."""
    with _lock:
        _damaged[_key(path)] = problem


def damaged(path: Path | str) -> str | None:
    """The first problem found in ``path`` by a check in this process, or None."""
    if not _damaged:  # the usual case, without resolving the path
        return None
    with _lock:
        return _damaged.get(_key(path))


def forget(path: Path | str) -> None:
    """Forget a damage finding (the file was replaced, e.g. restored from a backup)."""
    with _lock:
        _damaged.pop(_key(path), None)


def refuse_write(path: Path | str) -> None:
    """Raise :class:`StoreCorrupt` when ``path`` was found damaged (before any write)."""
    problem = damaged(path)
    if problem is not None:
        raise StoreCorrupt(damaged_words(path, problem), path=path)


def _tables(conn: Any) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return [str(r[0]) for r in rows]


def cipher_problems(conn: Any) -> list[str]:
    """The pages of an encrypted file whose HMAC fails, in words ([] for a sound or a plaintext
    file: SQLCipher checks only encrypted ones). Reads the whole file; works on a connection
    that already failed on a damaged page."""
    from .engine import DriverError

    try:
        rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    except DriverError:
        return []
    return [_hmac_words(str(r[0])) for r in rows]


def _hmac_words(line: str) -> str:
    # SQLCipher: "HMAC verification failed for page 86"
    page = line.rsplit(" ", 1)[-1]
    if line.startswith("HMAC verification failed") and page.isdigit():
        return f"page {page} fails its integrity check (HMAC): its bytes were changed"
    return line


def is_wrong_key(failures: Sequence[str], conn: Any, path: Path | str) -> bool:
    """Whether ``failures`` (from :func:`cipher_problems`) mean a wrong key rather than damage:
    a wrong key fails every page of the file, damage leaves some pages sound (page 1 too can be
    damaged: then the others still pass)."""
    if not failures:
        return False
    try:
        page_size = int(conn.execute("PRAGMA cipher_page_size").fetchone()[0])
        pages = Path(path).stat().st_size // page_size
    except Exception:  # cannot tell: the old answer
        return True
    return len(failures) >= pages


def problems(conn: Any, tables: Iterable[str] | None = None) -> list[str]:
    """What ``PRAGMA integrity_check`` finds, for ``tables`` (None: the whole file); [] if ok.

    An encrypted file is first checked page by page (:func:`cipher_problems`): a page that
    fails its HMAC is damage wherever it lies, and SQLite's own check would only report it as
    a cascade of unreadable pages. Driver errors that mean damage (``SQLITE_CORRUPT``, an
    unreadable page) are findings too. ``conn`` is a DB-API connection (a store's ``conn`` or
    a read-only one).
    """
    from .engine import DriverError
    from .errors import classify

    found: list[str] = cipher_problems(conn)[:MAX_PROBLEMS]
    if found:
        return found
    try:
        if tables is None:
            statements = [f"PRAGMA integrity_check({MAX_PROBLEMS})"]
        else:
            present = set(_tables(conn))
            statements = [
                f'PRAGMA integrity_check("{t}")' for t in tables if t in present and '"' not in t
            ]
        for sql in statements:
            for (line,) in conn.execute(sql).fetchall():
                if str(line) != "ok":
                    found.append(str(line))
            if len(found) >= MAX_PROBLEMS:
                break
    except DriverError as exc:
        known = classify(exc, None)
        if isinstance(known, StoreCorrupt) or known is None:
            found.append(str(exc))
        else:
            raise known from exc
    return found[:MAX_PROBLEMS]


def check(store: Any, tables: Sequence[str] | None = None) -> list[str]:
    """Check an open :class:`~sync.store.Store` (under its lock); a damaged one is marked."""
    with store._lock:
        found = problems(store.conn, tables)
    if found:
        mark_damaged(store.path, found[0])
    return found


def guard(store: Any, tables: Sequence[str] | None = None) -> None:
    """Before a write that matters: raise :class:`StoreCorrupt` (and mark the store) when the
    store is damaged (``tables``: only those), or when it was found damaged before.

    The whole file by default: on a 20,000-case store one full ``integrity_check`` took
    0.3–0.45 s, less than checking the written tables one by one (cases alone 0.19 s, with
    case_events 0.37 s; measured on 2 busy cores, warm page cache)."""
    refuse_write(store.path)
    found = check(store, tables)
    if found:
        raise StoreCorrupt(damaged_words(store.path, found[0]), path=store.path)


#: How often a headless sync checks the whole file (a full check of a million-case store takes
#: tens of seconds; a sync from cron or the village link should not pay that every time).
PERIODIC_MS = 24 * 3600 * 1000
_CHECKED_AT = "integrity_ok_at"


def guard_periodic(store: Any, *, now_ms: int, every_ms: int = PERIODIC_MS) -> None:
    """:func:`guard`, but the full check runs at most once per ``every_ms``: the time of the
    last clean check is kept in the store's meta. A store already found damaged is refused at
    once, whenever it was checked."""
    refuse_write(store.path)
    last = store.meta(_CHECKED_AT)
    if last is not None and last.isdigit() and 0 <= now_ms - int(last) < every_ms:
        return
    guard(store)
    store.set_meta({_CHECKED_AT: str(now_ms)})


__all__ = [
    "PERIODIC_MS",
    "WRITTEN_TABLES",
    "check",
    "cipher_problems",
    "damaged",
    "forget",
    "guard",
    "guard_periodic",
    "is_wrong_key",
    "mark_damaged",
    "problems",
    "refuse_write",
]
