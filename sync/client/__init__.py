"""Replication with the county platform: transport, push/pull, attachments, enrolment, tokens.

Qt-free. The desktop calls :class:`SyncService` (``sync_once(store, progress)`` and
``status(store)``) from a background operation; ``gridroom login`` and ``gridroom sync`` call
the same code. The store-side half lives in :mod:`sync.store.replica`.
"""

from .enrol import LoginResult, default_store_path, login, logout
from .service import SyncReport, SyncService, SyncStatus, status, sync_once
from .tokens import KeyringTokens, MemoryTokens, TokenStore, default_tokens
from .transport import Transport, TransportError

__all__ = [
    "KeyringTokens",
    "LoginResult",
    "MemoryTokens",
    "SyncReport",
    "SyncService",
    "SyncStatus",
    "TokenStore",
    "Transport",
    "TransportError",
    "default_store_path",
    "default_tokens",
    "login",
    "logout",
    "status",
    "sync_once",
]
