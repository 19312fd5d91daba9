"""Reading an MBTiles file (an SQLite file of map tiles IT provides), read-only.

Kept here rather than in the desktop's map layer: widgets never run SQL (the boundary test).
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any


def connect(path: Path) -> sqlite3.Connection:
    """A new read-only connection (one per use: a worker thread draws, the GUI thread checks)."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)


class NotMBTiles(ValueError):
    """The file is not an SQLite file with MBTiles' metadata and tiles tables."""


def header(path: Path) -> tuple[dict[str, Any], tuple[Any, Any] | None]:
    """The metadata table and the (min, max) zoom of the tiles; :class:`NotMBTiles` if the
    file is not an MBTiles file."""
    try:
        with closing(connect(path)) as conn:
            meta = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
            zooms = conn.execute("SELECT min(zoom_level), max(zoom_level) FROM tiles").fetchone()
    except sqlite3.DatabaseError as exc:
        raise NotMBTiles(str(exc)) from None
    return meta, zooms


def tile(conn: sqlite3.Connection, z: int, x: int, row: int) -> bytes | None:
    """The image bytes of one tile (TMS row numbering, as MBTiles stores it), or None."""
    found = conn.execute(
        "SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
        [z, x, row],
    ).fetchone()
    return None if found is None else bytes(found[0])
