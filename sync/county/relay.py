"""The county's side of the township relay (docs/sync-protocol.md, section 19).

- ``GET /v1/relay/certificate``: a device's certificate, signed with the county's bundle key, that
  a relay verifies offline: which device (and its signing key), township, account and scope.
- ``GET /v1/relay/revoked``: for a relay, the devices of its township the county revoked.
- ``POST /v1/relay/forward``: a relay hands on one push batch a device of its township sent it,
  under the device's own id and the batch's own id, with the device's signature on it. The
  county checks the signature with the key the device registered, then applies the batch
  through :meth:`County.push` — the very path of ``POST /v1/sync`` — so a batch that reached the
  county directly first (or an earlier forward) is answered from the stored answer and applied
  once, whichever path it took.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from pydantic import ConfigDict, Field

from .. import relaycert
from ..relaycert import CERTIFICATE, FORWARD, REVOKED
from . import accounts as acc
from .app import _AUTH, _ID_PATTERN, _errors, _Request
from .bundle import _columns, county_keys
from .core import ApiError, Device, Session


def certificate(county: Any, session: Session) -> dict[str, Any]:
    """A certificate for the calling device and account (needs the device's registered key)."""
    now = county.clock()
    with county.db.write(ordered=False) as tx:
        sign_key = tx.scalar("SELECT sign_key FROM devices WHERE id = ?", [session.device.id])
        if not sign_key:
            raise ApiError(
                "not_found",
                "This device has registered no signing key yet; sign in once more, then ask again.",
            )
        own = county_keys(tx)
    cert = {
        "format": relaycert.CERT_FORMAT,
        "county": county.county,
        "device_id": session.device.id,
        "device_code": session.device.code,
        "township": session.device.township,
        "account_id": session.account.id,
        "account_login": session.account.login,
        "role": session.account.role.value,
        "keys": sorted(session.keys),
        "sign": str(sign_key),
        "issued_at": now,
        "expires_at": now + relaycert.CERT_TTL_MS,
    }
    return {
        "cert": cert,
        "signature": relaycert.sign_cert(own.sign, cert),
        "county_keys": own.public(),
    }


def _township_relay(session: Session) -> str:
    township = session.device.township
    if len(township) != 9:
        raise ApiError("forbidden", "Only a township's device can relay for it.")
    return township


def revoked(county: Any, session: Session) -> dict[str, Any]:
    """The revoked devices of the caller's township (a relay refuses them from then on)."""
    township = _township_relay(session)
    with county.db.read() as tx:
        rows = tx.rows(
            "SELECT id, revoked_at FROM devices WHERE township_code = ? AND revoked_at IS NOT "
            "NULL ORDER BY id",
            [township],
        )
    return {
        "county": county.county,
        "township": township,
        "revoked": [{"device_id": str(r[0]), "revoked_at": int(r[1])} for r in rows],
        "server_time": county.clock(),
    }


def forward(county: Any, session: Session, body: dict[str, Any]) -> dict[str, Any]:
    """Apply one push batch a relay received from a device of its township."""
    township = _township_relay(session)
    device_id, account_id = body.get("device_id"), body.get("account_id")
    batch = body.get("batch")
    if not isinstance(device_id, str) or not isinstance(account_id, str):
        raise ApiError("bad_request", "a forward names the device_id and account_id")
    if not isinstance(batch, dict):
        raise ApiError("bad_request", "a forward carries the device's push batch")
    with county.db.read() as tx:
        revocable = "revoked_at" in _columns(tx, "devices")
        row = tx.one(
            "SELECT id, code, township_code, sign_key"
            + (", revoked_at" if revocable else "")
            + " FROM devices WHERE id = ?",
            [device_id],
        )
        if row is None:
            raise ApiError("not_found", "This county never enrolled that device.")
        device = Device(str(row[0]), str(row[1]), str(row[2]))
        if device.township != township:
            raise ApiError(
                "wrong_device",
                f"Device {device.code} belongs to township {device.township}; a relay of "
                f"{township} cannot forward for it.",
            )
        if revocable and row[4] is not None:
            raise ApiError("device_revoked", f"County IT revoked device {device.code}.")
        account = acc.load_account(tx, account_id=account_id)
        signed_in = account is not None and tx.scalar(
            "SELECT 1 FROM device_accounts WHERE device_id = ? AND account_id = ?",
            [device.id, account.id],
        )
    try:
        relaycert.check_batch(
            row[3], body.get("signature"), county.county, device.id, account_id, batch
        )
    except relaycert.RelayError as exc:
        raise ApiError("forbidden", f"Not forwarded: {exc.message}.") from None
    if account is None or not signed_in:
        raise ApiError("forbidden", "The account never signed in on that device.")
    if account.disabled:
        raise ApiError("account_disabled", f"The account {account.login} has been disabled.")
    try:
        keys = acc.scope_keys(account, device.township)
    except acc.ScopeError as exc:
        raise ApiError("wrong_device", f"Not on this device: {exc}.") from None
    device_session = Session(account, device, keys, f"relay:{session.device.id}")
    now = county.clock()
    answer = county.push(device_session, batch, server_now=now)
    return {"push": answer, "server_time": county.clock()}


def _auth(request: Request, authorization: Annotated[str | None, Header()] = None) -> Session:
    """The caller's session, checked now (as every endpoint of the app does)."""
    return request.app.state.county.authenticate(authorization)


Auth = Annotated[Session, Depends(_auth)]


class ForwardBatch(_Request):
    """The device's push batch exactly as it signed it (members kept as sent)."""

    model_config = ConfigDict(strict=True, extra="allow")

    batch_id: str = Field(pattern=_ID_PATTERN, max_length=64, description="the device's own id")
    entries: list[dict[str, Any]] = Field(default_factory=list)
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    visits: list[dict[str, Any]] = Field(default_factory=list)


class ForwardRequest(_Request):
    """A push batch a device of the relay's township left with the relay (section 19.5)."""

    device_id: str = Field(pattern=_ID_PATTERN, max_length=64, description="the device's id")
    account_id: str = Field(pattern=_ID_PATTERN, max_length=64, description="its certificate's")
    batch: ForwardBatch
    signature: str = Field(
        pattern=r"^[A-Za-z0-9+/]{86}==$", description="the device's Ed25519 signature (base64)"
    )


def install(app: FastAPI) -> None:
    """Add the relay endpoints to the county's app."""

    @app.get(CERTIFICATE, tags=["relay"], responses=_errors(*_AUTH, "not_found"))
    def get_certificate(request: Request, session: Auth) -> dict[str, Any]:
        """This device's certificate, which a township relay verifies offline."""
        return certificate(request.app.state.county, session)

    @app.get(REVOKED, tags=["relay"], responses=_errors(*_AUTH, "forbidden"))
    def get_revoked(request: Request, session: Auth) -> dict[str, Any]:
        """The revoked devices of the calling relay's township."""
        return revoked(request.app.state.county, session)

    @app.post(
        FORWARD,
        tags=["relay"],
        responses=_errors(*_AUTH, "forbidden", "not_found", "device_revoked", "server_clock"),
    )
    def post_forward(request: Request, session: Auth, body: ForwardRequest) -> dict[str, Any]:
        """Apply a push batch a device of the relay's township sent the relay."""
        wire = body.model_dump(exclude_unset=True)
        wire["batch"] = body.batch.model_dump(exclude_unset=True)
        return forward(request.app.state.county, session, wire)
