"""Signing in to the county and enrolling this device (its store) to a township.

On a device's first sign-in the county assigns it a device code, unique in the county, which the
store then uses in every case number it makes (township + date + device code + sequence), so
case numbers never collide without any coordination. The token goes to a :class:`TokenStore`.

Enrolment also makes the store's key (:mod:`sync.store.keys`): a new store is created encrypted
under a random key kept in the OS keyring — or, where there is no usable keyring, wrapped by
the password just checked by the county — and an existing plaintext store is converted in
place. A store whose key is lost (the keyring was reset) cannot be read: it is set aside, not
deleted, and a fresh store is enrolled; the county has the data.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import bundlefile, protocol
from ..model.clock import new_id
from ..settings import user_data_dir
from ..store import keys, replica
from ..store.errors import StoreError
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
    #: where the store's key is (keys.describe), and the unreadable store set aside, if any
    key_storage: str = ""
    set_aside: Path | None = None


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
    progress: keys.Progress | None = None,
) -> LoginResult:
    """Sign in, enrol the store (created encrypted when missing, encrypted in place when it is
    plain; ``progress`` follows that conversion) and keep the token; raises
    :class:`TransportError` (wrong password, throttled, offline …) with the reason, or a
    :class:`~sync.store.StoreError` about the store (wrong password for its key …)."""
    server_url = server_url.rstrip("/")
    path = Path(store_path) if store_path else None
    if path is None and township:
        path = default_store_path(township, data_dir)
    existing = path is not None and path.exists() and path.stat().st_size > 0
    lost = False
    device_id = new_id()
    if existing and path is not None:
        found = _device_id(path, password)
        lost = found is None
        existing = not lost
        device_id = found or device_id
    # The device's own key pair (sync bundles): kept with the store key, registered at each
    # sign-in; a store enrolled before bundles existed gets one now.
    pair = _device_pair(path) if existing and path is not None else None
    new_pair = pair is None
    pair = pair or bundlefile.KeyPair.generate()
    aside: Path | None = None
    with Transport(server_url, ca_file=ca_file, **(transport_options or {})) as transport:
        answer = _sign_in(
            transport, login_name, password, device_id, device_name, township, pair
        )
        enrolled = str(answer["device"]["township"])
        if path is None:
            path = default_store_path(enrolled, data_dir)
            if path.exists() and path.stat().st_size > 0:
                found = _device_id(path, password)
                if found is None:
                    lost = True
                else:
                    # A store for this township exists already: sign in again as *that* device.
                    _logout(transport, str(answer["token"]))
                    device_id = found
                    existing = True
                    kept = _device_pair(path)
                    new_pair = kept is None
                    pair = kept or pair
                    answer = _sign_in(
                        transport, login_name, password, device_id, device_name, township, pair
                    )
        token = str(answer["token"])
        try:
            if lost:
                # The county checked the password; the old file cannot be read by anyone here.
                aside = keys.set_aside(path)
            # The key goes where the token goes (the keyring the caller chose), else the password.
            backend = getattr(tokens, "backend", None) if tokens.persistent else None
            if existing:
                keys.prepare(
                    path, password=password, progress=progress, require=True, backend=backend
                )
                store = Store.open(path)
            else:
                store = _create(path, enrolled, str(answer["device"]["code"]), password, backend)
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
            if new_pair:
                with contextlib.suppress(StoreError):  # a plaintext store: no bundles
                    keys.keep_device_key(path, pair.to_bytes())
            from .bundle import remember_county_keys

            remember_county_keys(store, answer)
        except ValueError as exc:
            _logout(transport, token)
            raise TransportError("wrong_device", str(exc), reached=True) from None
        finally:
            store.close()
        tokens.set(server_url, device_id, token)
        # No keyring: this password (checked by the county just now) opens the store from now
        # on too — another account of this PC, or a password changed at the county.
        with contextlib.suppress(StoreError, OSError):
            keys.add_password(path, password)
    return LoginResult(
        account=dict(answer["account"]),
        device=dict(answer["device"]),
        scope=dict(answer.get("scope") or {}),
        county=str(answer.get("county") or ""),
        store_path=path,
        created_store=not existing,
        token_storage=tokens.describe(),
        token_kept=tokens.persistent,
        key_storage=keys.describe(path),
        set_aside=aside,
    )


def logout(store: Store, tokens: TokenStore, *, ca_file: str | None = None) -> bool:
    """Revoke this device's token at the county (when reachable) and forget it here, with the
    store key this process unlocked by the password (the next opener must unlock it again)."""
    keys.forget_unlocked(store.path)
    server = replica.state(store).get("server_url") or store.meta("server_url") or ""
    token = tokens.get(server, store.device_id) if server else None
    if not token:
        return False
    with Transport(server, ca_file=ca_file, attempts=2) as transport:
        _logout(transport, token)
    tokens.delete(server, store.device_id)
    return True


def _create(
    path: Path, township: str, device_code: str, password: str, backend: Any | None
) -> Store:
    """A new, encrypted store: its key kept first (keyring, or wrapped by the password)."""
    key = keys.new_key()
    keys.keep(path, key, password=password, backend=backend)
    try:
        return Store.create(path, scope=township, key=key, device_code=device_code)
    except BaseException:
        keys.forget(path)
        raise


def _device_id(path: Path, password: str) -> str | None:
    """The device id of an existing store; None when its key is lost (it cannot be read)."""
    try:
        key = keys.key_for(path, password=password)
    except keys.KeyLost:
        return None
    with Store.open(path, key=key, require_encryption=False) as store:
        return store.device_id


def _device_pair(path: Path) -> bundlefile.KeyPair | None:
    """The device key pair kept with an existing store (its key unlocked), else None."""
    try:
        secret = keys.device_key(path)
    except StoreError:
        return None
    return bundlefile.KeyPair.from_bytes(secret) if secret else None


def _sign_in(
    transport: Transport,
    login_name: str,
    password: str,
    device_id: str,
    device_name: str,
    township: str | None,
    pair: bundlefile.KeyPair | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "login": login_name,
        "password": password,
        "device_id": device_id,
        "device_name": device_name,
        "township": township,
        "client_version": "0.1.0",
    }
    if pair is not None:
        # Optional (protocol section 18): the public halves of the device's bundle keys.
        body["device_keys"] = pair.public()
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
