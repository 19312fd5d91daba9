"""Where a device keeps its sign-in token: the OS keyring, or this process's memory.

A token signs the device in as a person; on disk in plain text it would be a password lying
around a village laptop. So it goes into the OS keyring (Windows Credential Manager, the Secret
Service on UOS/Kylin desktops, macOS Keychain) and nowhere else.

Where no usable keyring exists — a headless server, where ``keyring`` falls back to its
``fail``/``null`` backend — the token lives in memory for the life of the process only, and each
``gridroom sync`` signs in again (password at the prompt or on ``--password-stdin``) and signs
out at the end. We chose that over a password-encrypted token file: such a file needs the
password to be opened anyway, so it saves nothing, and it leaves an offline-attackable copy of a
live credential on disk. ``keyrings.alt`` backends (plain or weakly protected files) are refused
as unusable for the same reason.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Protocol

# One judgement of which keyrings may hold secrets, shared with the store keys.
from ..store.keys import unusable_reason

SERVICE = "gridroom"

__all__ = ["KeyringTokens", "MemoryTokens", "TokenStore", "default_tokens", "unusable_reason"]


class TokenStore(Protocol):
    """Tokens by (server, device)."""

    persistent: bool

    def get(self, server_url: str, device_id: str) -> str | None: ...

    def set(self, server_url: str, device_id: str, token: str) -> None: ...

    def delete(self, server_url: str, device_id: str) -> None: ...

    def describe(self) -> str: ...


def _user(server_url: str, device_id: str) -> str:
    return f"{server_url.rstrip('/')}#{device_id}"


class MemoryTokens:
    """Tokens kept in this process only (no usable keyring); gone when it exits."""

    persistent = False

    def __init__(self, reason: str = "") -> None:
        self.reason = reason
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, server_url: str, device_id: str) -> str | None:
        with self._lock:
            return self._tokens.get(_user(server_url, device_id))

    def set(self, server_url: str, device_id: str, token: str) -> None:
        with self._lock:
            self._tokens[_user(server_url, device_id)] = token

    def delete(self, server_url: str, device_id: str) -> None:
        with self._lock:
            self._tokens.pop(_user(server_url, device_id), None)

    def describe(self) -> str:
        return "memory only (" + (self.reason or "no usable keyring") + ")"


class KeyringTokens:
    """Tokens in the OS keyring through the ``keyring`` package."""

    persistent = True

    def __init__(self, backend: object | None = None) -> None:
        import keyring

        self._keyring = keyring
        self.backend = backend or keyring.get_keyring()

    def get(self, server_url: str, device_id: str) -> str | None:
        return self.backend.get_password(SERVICE, _user(server_url, device_id))  # type: ignore[attr-defined]

    def set(self, server_url: str, device_id: str, token: str) -> None:
        self.backend.set_password(SERVICE, _user(server_url, device_id), token)  # type: ignore[attr-defined]

    def delete(self, server_url: str, device_id: str) -> None:
        import keyring.errors

        with contextlib.suppress(keyring.errors.PasswordDeleteError):
            self.backend.delete_password(SERVICE, _user(server_url, device_id))  # type: ignore[attr-defined]

    def describe(self) -> str:
        return f"OS keyring ({type(self.backend).__module__}.{type(self.backend).__name__})"


def default_tokens() -> KeyringTokens | MemoryTokens:
    """The OS keyring when there is a usable one, otherwise memory (and the reason why)."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # whatever breaks inside a keyring backend means: none usable
        return MemoryTokens(f"the keyring failed to load: {exc}")
    why = unusable_reason(backend)
    if why is not None:
        return MemoryTokens(why)
    return KeyringTokens(backend)
