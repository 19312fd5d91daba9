"""Signing in to the county and enrolling this device (its store) to a township.

On a device's first sign-in the county assigns it a device code, unique in the county, which the
store then uses in every case number it makes (township + date + device code + sequence), so
case numbers never collide without any coordination. The token goes to a :class:`TokenStore`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import protocol
from ..model.clock import new_id
from ..settings import user_data_dir
from ..store import replica
from ..store.store import Store
from .tokens import TokenStore
from .transport import Transport, TransportError


@dataclass
class LoginResult:
    account: dict[str, Any]
    device: dict[str, Any]
    scope: dict[str, Any]
    county: str
    store_path: Path
    created_store: bool
    token_storage: str
    token_kept: bool


def default_store_path(township: str, data_dir: str | Path | None = None) -> Path:
    """Where a township's store lives when no path is given."""
    return Path(data_dir or user_data_dir()) / f"township-{township}.sqlite"


def login(
    server_url: str,
    login_name: str,
    password: str,
    *,
    tokens: TokenStore,
    store_path: str | Path | None = None,
    data_dir: str | Path | None = None,
    device_name: str = "",
    township: str | None = None,
    ca_file: str | None = None,
    transport_options: dict[str, Any] | None = None,
) -> LoginResult:
    """Sign in, enrol the store (created when missing) and keep the token; raises
    :class:`TransportError` (wrong password, throttled, offline …) with the reason."""
    server_url = server_url.rstrip("/")
    path = Path(store_path) if store_path else None
    if path is None and township:
        path = default_store_path(township, data_dir)
    existing = path is not None and path.exists() and path.stat().st_size > 0
    device_id = _device_id(path) if existing and path is not None else new_id()
    with Transport(server_url, ca_file=ca_file, **(transport_options or {})) as transport:
        answer = _sign_in(transport, login_name, password, device_id, device_name, township)
        enrolled = str(answer["device"]["township"])
        if path is None:
            path = default_store_path(enrolled, data_dir)
            if path.exists() and path.stat().st_size > 0:
                # A store for this township exists already: sign in again as *that* device.
                _logout(transport, str(answer["token"]))
                device_id = _device_id(path)
                existing = True
                answer = _sign_in(transport, login_name, password, device_id, device_name, township)
        token = str(answer["token"])
        try:
            store = (
                Store.open(path)
                if existing
                else Store.create(path, scope=enrolled, device_code=str(answer["device"]["code"]))
            )
        except BaseException:
            _logout(transport, token)
            raise
        try:
            replica.enroll(
                store,
                device_id=device_id,
                device_code=str(answer["device"]["code"]),
                township=enrolled,
                server_url=server_url,
                account=answer["account"],
            )
        except ValueError as exc:
            _logout(transport, token)
            raise TransportError("wrong_device", str(exc), reached=True) from None
        finally:
            store.close()
        tokens.set(server_url, device_id, token)
    return LoginResult(
        account=dict(answer["account"]),
        device=dict(answer["device"]),
        scope=dict(answer.get("scope") or {}),
        county=str(answer.get("county") or ""),
        store_path=path,
        created_store=not existing,
        token_storage=tokens.describe(),
        token_kept=tokens.persistent,
    )


def logout(store: Store, tokens: TokenStore, *, ca_file: str | None = None) -> bool:
    """Revoke this device's token at the county (when reachable) and forget it here."""
    server = replica.state(store).get("server_url") or store.meta("server_url") or ""
    token = tokens.get(server, store.device_id) if server else None
    if not token:
        return False
    with Transport(server, ca_file=ca_file, attempts=2) as transport:
        _logout(transport, token)
    tokens.delete(server, store.device_id)
    return True


def _device_id(path: Path) -> str:
    with Store.open(path) as store:
        return store.device_id


def _sign_in(
    transport: Transport,
    login_name: str,
    password: str,
    device_id: str,
    device_name: str,
    township: str | None,
) -> dict[str, Any]:
    body = {
        "login": login_name,
        "password": password,
        "device_id": device_id,
        "device_name": device_name,
        "township": township,
        "client_version": "0.1.0",
    }
    # A login is not retried blindly: a wrong password must not count twice.
    answer = transport.post_json(protocol.LOGIN, body, retry=False).json()
    if not isinstance(answer, dict) or "token" not in answer:
        raise TransportError(
            "bad_response", "The server's sign-in answer has no token.", reached=True
        )
    return answer


def _logout(transport: Transport, token: str) -> None:
    with contextlib.suppress(TransportError):
        transport.post_json(protocol.LOGOUT, {}, token=token)
