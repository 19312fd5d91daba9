"""The local SQLite store: one file per enrolled township.

Callers use :class:`Store` (commands and queries); nobody outside this package writes SQL.
"""

from .errors import (
    DiskFull,
    NewerSchema,
    NotADatabase,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    WrongKey,
)
from .queries import CaseQuery
from .store import Store

__all__ = [
    "CaseQuery",
    "DiskFull",
    "NewerSchema",
    "NotADatabase",
    "Store",
    "StoreCorrupt",
    "StoreError",
    "StoreLocked",
    "WrongKey",
]
