"""The township relay: the command-room PC serving the sync protocol to field laptops on the
township LAN when the county is out of reach (docs/sync-protocol.md, section 19)."""

from .core import ApiError, Relay, RelaySession, enable_log

__all__ = ["ApiError", "Relay", "RelaySession", "enable_log"]
