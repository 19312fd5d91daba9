"""The 同步 page. It lives in :mod:`desktop.sync.page` with its parts (conflicts, quarantine,
what waits, history); this module keeps the name the main window imports."""

from __future__ import annotations

from .sync.page import SyncPage

__all__ = ["SyncPage"]
