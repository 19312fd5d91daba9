"""Sync in the app: the 同步 page (status, history, what waits to go, conflicts, quarantine)
and the offline sign-in verifier.

The background driver lives in :mod:`desktop.syncer` and the sign-in dialog in
:mod:`desktop.login`; this package holds the page's parts, one module each, and the words they
share. Nothing here talks HTTP or SQL: the network runs in :mod:`sync.client` on the driver's
worker thread, and the store is read through its query API (``sync.store.replica``).
"""
