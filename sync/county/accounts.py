"""Accounts, passwords, tokens, scopes and login throttling of the county platform.

Passwords are hashed with Argon2id (memory-hard). Tokens are 256 random bits, shown to the
client once and stored only as their SHA-256, so a copy of the database does not sign anyone in;
revoking one is a row update. Scope is a set of *keys* — ``c:<county>``, ``t:<township>``,
``g:<grid>`` — that a device may see; a case carries the keys of its place and of the grids it
is dispatched to, and a device sees a case when the two sets meet.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..model import scope
from ..model.records import Actor, Role
from ..model.scope import ScopeError as ScopeError  # re-exported: callers catch acc.ScopeError
from .db import Tx

#: Argon2id cost profiles. ``standard`` is argon2-cffi's default (RFC 9106's second
#: recommendation: 64 MiB, 3 passes) and what a county runs. ``light`` exists for test servers
#: and demo laptops, where hundreds of logins a minute must not each cost half a second; it is
#: only ever chosen explicitly (``GRIDROOM_COUNTY_KDF=light``), and hashes made with it are
#: upgraded to the standard cost at the next sign-in under the standard profile.
KDF_PROFILES: dict[str, dict[str, int]] = {
    "standard": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    "light": {"time_cost": 1, "memory_cost": 8192, "parallelism": 1},
}


def set_kdf_profile(name: str) -> None:
    """Choose the Argon2id cost profile for new hashes (and the dummy verification)."""
    global _HASHER, _DUMMY_HASH, KDF_PROFILE
    if name not in KDF_PROFILES:
        raise ValueError(f"unknown KDF profile {name!r}: choose {', '.join(KDF_PROFILES)}")
    KDF_PROFILE = name
    _HASHER = _hasher(name)
    # Verified against when the login name is unknown, so both failures take the same time.
    _DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def _hasher(name: str) -> PasswordHasher:
    p = KDF_PROFILES[name]
    return PasswordHasher(
        time_cost=p["time_cost"], memory_cost=p["memory_cost"], parallelism=p["parallelism"]
    )


KDF_PROFILE = "standard"
_HASHER = _hasher("standard")
_DUMMY_HASH = ""
set_kdf_profile(os.environ.get("GRIDROOM_COUNTY_KDF", "standard"))

#: Letters that survive being read aloud or copied from paper (no 0/O, 1/I/l).
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

#: Failed logins allowed per account name (and per address) in THROTTLE_WINDOW_MS.
ACCOUNT_FAILURES = 5
ADDRESS_FAILURES = 30
THROTTLE_WINDOW_MS = 15 * 60_000
#: First lock-out after too many failures; doubles with each further failure, up to the cap.
LOCKOUT_MS = 60_000
LOCKOUT_MAX_MS = 15 * 60_000


#: Argon2id hashes that may run at once (each takes the profile's memory: 64 MiB standard).
#: Beyond them a sign-in waits HASH_WAIT_S for a slot, then is answered 503 with Retry-After.
HASH_SLOTS = 2
HASH_WAIT_S = 1.0
HASH_RETRY_AFTER_S = 2


class HashBusy(Exception):
    """Every hashing slot stayed taken for HASH_WAIT_S."""


class HashSlots:
    """Caps how many password hashes run at once, so a burst of sign-ins (or someone guessing)
    cannot make the server allocate 64 MiB per request until it runs out of memory."""

    def __init__(self, slots: int = HASH_SLOTS, wait_s: float = HASH_WAIT_S) -> None:
        if slots < 1:
            raise ValueError("at least one password hash must be allowed to run")
        self.slots = slots
        self.wait_s = wait_s
        self._semaphore = threading.BoundedSemaphore(slots)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        if not self._semaphore.acquire(timeout=self.wait_s):
            raise HashBusy
        try:
            yield
        finally:
            self._semaphore.release()


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; always pays one Argon2 verification."""
    try:
        return _HASHER.verify(stored or _DUMMY_HASH, password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether a hash is weaker than the current profile (never downgrade a strong one)."""
    if KDF_PROFILE != "standard":
        return False
    return _HASHER.check_needs_rehash(stored)


def new_password() -> str:
    """A random password people can copy from a printout: 3 groups of 4 (≈ 69 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(3))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_device_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(4))


@dataclass(frozen=True)
class Account:
    id: str
    login: str
    name: str
    role: Role
    township_code: str | None
    department_code: str | None
    grid_codes: tuple[str, ...]
    disabled: bool

    @property
    def county_level(self) -> bool:
        return self.township_code is None

    def actor(self) -> Actor:
        return Actor(
            self.id,
            self.name,
            self.role,
            self.department_code,
            self.grid_codes,
            self.township_code,
        )

    def wire(self) -> dict[str, object]:
        return {
            "id": self.id,
            "login": self.login,
            "name": self.name,
            "role": self.role.value,
            "township": self.township_code,
            "department_code": self.department_code,
            "grid_ids": list(self.grid_codes),
        }


ACCOUNT_COLUMNS = "id, login, name, role, township_code, department_code, grid_codes, disabled"


def account_from_row(r: tuple[object, ...]) -> Account:
    return Account(
        id=str(r[0]),
        login=str(r[1]),
        name=str(r[2]),
        role=Role(str(r[3])),
        township_code=None if r[4] is None else str(r[4]),
        department_code=None if r[5] is None else str(r[5]),
        grid_codes=tuple(json.loads(str(r[6]))),
        disabled=bool(r[7]),
    )


def load_account(
    tx: Tx, *, login: str | None = None, account_id: str | None = None
) -> Account | None:
    if login is not None:
        row = tx.one(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE login = ?", [login])
    else:
        row = tx.one(f"SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?", [account_id])
    return None if row is None else account_from_row(row)


def scope_keys(account: Account, device_township: str) -> frozenset[str]:
    """What ``account`` may see and touch on a device enrolled to ``device_township``.

    The rule lives in :mod:`sync.model.scope`, which the device applies too."""
    return scope.actor_keys(account.actor(), device_township, who=account.login)


def place_keys(township: str, grids: set[str]) -> set[str]:
    return scope.place_keys(township, grids)


# -- throttling ----------------------------------------------------------------------------------


def blocked_until(tx: Tx, key: str, now: int) -> int:
    """When ``key`` may try again (0: now)."""
    until = tx.scalar("SELECT blocked_until FROM throttle WHERE key = ?", [key], default=0)
    return int(until) if int(until) > now else 0


def record_failure(tx: Tx, key: str, now: int, allowed: int) -> int:
    """Count a failed login for ``key``; returns when it is blocked until (0: not blocked)."""
    row = tx.one("SELECT failures, window_start FROM throttle WHERE key = ?", [key])
    if row is None or now - int(row[1]) > THROTTLE_WINDOW_MS:
        failures, start = 1, now
    else:
        failures, start = int(row[0]) + 1, int(row[1])
    until = 0
    if failures >= allowed:
        until = now + min(LOCKOUT_MS * 2 ** (failures - allowed), LOCKOUT_MAX_MS)
    tx.execute(
        "INSERT INTO throttle (key, failures, window_start, blocked_until) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, "
        "window_start = excluded.window_start, blocked_until = excluded.blocked_until",
        [key, failures, start, until],
    )
    return until


def clear_failures(tx: Tx, key: str) -> None:
    tx.execute("DELETE FROM throttle WHERE key = ?", [key])
