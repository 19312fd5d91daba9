"""Offline sign-in: a memory-hard verifier of a password, kept on this computer after an online
sign-in, so a known user can start working when the county cannot be reached.

What is kept is **not** the password: it is ``scrypt(password, salt)`` (32 MiB of memory and
about a tenth of a second per guess on an office PC, so a stolen laptop does not give up
passwords to a fast offline search), with the salt, the cost parameters (so they can be raised
later without breaking old records) and the account the county answered with (id, name, role,
department, grids) — the app needs that account to work as, offline.

The record lives in the store's ``meta`` table under ``offline_login.<login>``: one township
store holds the sign-ins of the people who work on it, it is encrypted at rest together with
everything else when the store has a key, and it never travels (``meta`` is not synced).

Qt-free on purpose: the sign-in dialog calls it from its network worker thread.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sync.model.records import Actor, Role
from sync.store import Store

PREFIX = "offline_login."
#: The meta key listing every login kept (meta is read one key at a time).
INDEX = "offline_logins"
#: scrypt cost: N = 2**15, r = 8 → 32 MiB per evaluation; p = 1.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
DKLEN = 32


class OfflineRefused(Exception):
    """An offline sign-in that cannot be allowed; ``code`` says why (``unknown``, ``password``,
    ``damaged``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Remembered:
    """One kept offline sign-in (without its secret parts)."""

    login: str
    account: dict[str, Any]
    server_url: str
    remembered_at: int

    @property
    def actor(self) -> Actor:
        return actor_of(self.account)


def actor_of(account: Mapping[str, Any]) -> Actor:
    """The :class:`Actor` for an account as the county describes it (``account.wire()``)."""
    grids = account.get("grid_ids") or account.get("grids") or ()
    return Actor(
        str(account["id"]),
        str(account.get("name") or account.get("login") or account["id"]),
        Role(str(account.get("role") or Role.OPERATOR.value)),
        account.get("department_code") or None,
        tuple(str(g) for g in grids),
        account.get("township") or None,
    )


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem: scrypt needs 128·N·r bytes; OpenSSL's default cap (32 MiB) is exactly that and
    # refuses it, so allow twice as much.
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r, dklen=DKLEN
    )


def remember(
    store: Store, login: str, password: str, account: Mapping[str, Any], server_url: str
) -> None:
    """Keep a verifier of ``password`` for ``login`` (after the county accepted it)."""
    salt = os.urandom(16)
    record = {
        "v": 1,
        "kdf": "scrypt",
        "n": SCRYPT_N,
        "r": SCRYPT_R,
        "p": SCRYPT_P,
        "salt": base64.b64encode(salt).decode("ascii"),
        "hash": base64.b64encode(_derive(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).decode(
            "ascii"
        ),
        "account": dict(account),
        "server_url": server_url,
        "at": store.now(),
    }
    logins = sorted({*_logins(store), login})
    store.set_meta(
        {
            PREFIX + login: json.dumps(record, ensure_ascii=False, sort_keys=True),
            INDEX: json.dumps(logins, ensure_ascii=False),
        }
    )


def forget(store: Store, login: str) -> None:
    """Drop the kept sign-in of ``login`` (the county disabled the account)."""
    if store.meta(PREFIX + login):
        logins = [x for x in _logins(store) if x != login]
        store.set_meta({PREFIX + login: "", INDEX: json.dumps(logins, ensure_ascii=False)})


def _logins(store: Store) -> list[str]:
    try:
        found = json.loads(store.meta(INDEX) or "[]")
    except json.JSONDecodeError:
        return []
    return [str(x) for x in found] if isinstance(found, list) else []


def _record(store: Store, login: str) -> dict[str, Any] | None:
    raw = store.meta(PREFIX + login)
    if not raw:
        return None
    try:
        record = json.loads(raw)
    except json.JSONDecodeError:
        raise OfflineRefused(
            "damaged", "The offline sign-in kept on this computer is damaged."
        ) from None
    return record if isinstance(record, dict) else None


def check(store: Store, login: str, password: str) -> Remembered:
    """The kept sign-in of ``login`` if ``password`` matches it; :class:`OfflineRefused`
    otherwise (never signed in online here, or the wrong password)."""
    record = _record(store, login)
    if record is None:
        raise OfflineRefused(
            "unknown",
            f"{login} has never signed in online on this computer, so it cannot sign in offline.",
        )
    try:
        salt = base64.b64decode(record["salt"])
        expected = base64.b64decode(record["hash"])
        n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
        account = dict(record["account"])
    except (KeyError, TypeError, ValueError):
        raise OfflineRefused(
            "damaged", "The offline sign-in kept on this computer is damaged."
        ) from None
    if record.get("kdf") != "scrypt" or not hmac.compare_digest(
        _derive(password, salt, n, r, p), expected
    ):
        raise OfflineRefused("password", "Wrong password (checked against this computer's copy).")
    return Remembered(
        login, account, str(record.get("server_url") or ""), int(record.get("at") or 0)
    )


def known(store: Store) -> list[Remembered]:
    """Every sign-in kept on this store, by login."""
    out = []
    for login in _logins(store):
        try:
            record = _record(store, login)
        except OfflineRefused:
            continue
        if record is None or not isinstance(record.get("account"), dict):
            continue
        out.append(
            Remembered(
                login,
                dict(record["account"]),
                str(record.get("server_url") or ""),
                int(record.get("at") or 0),
            )
        )
    return out


def account_for(store: Store, wanted: str) -> Actor | None:
    """The kept account whose id or login is ``wanted``, if any."""
    for item in known(store):
        if wanted in (item.login, str(item.account.get("id"))):
            return item.actor
    return None
