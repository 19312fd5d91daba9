"""The township relay's credentials (docs/sync-protocol.md, section 19): device certificates
the county signs, the device's proof that it holds its key, and its signature on each push
batch a relay forwards.

All three use the Ed25519 keys of sync bundles (section 18.1): the device's signing key, which
it registered with the county at sign-in, and the county's, which every device and relay
learnt at sign-in. Nothing here needs the network: a relay checks a certificate with the
county's public key alone, so it can serve devices while the county is out of reach.

Every signed message starts with its own label (``gridroom-…/1`` and a NUL), so a signature
made for one purpose can never be passed off as another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from . import protocol
from .bundlefile import BundleError, b64, unb64

#: The endpoints of section 19: at the county (a device's certificate; for a relay, its
#: township's revoked devices and the forwarding of a device's batch) and at a relay (opening a
#: session with a certificate).
CERTIFICATE = protocol.RELAY_CERTIFICATE
REVOKED = protocol.RELAY_REVOKED
FORWARD = protocol.RELAY_FORWARD
CHALLENGE = protocol.RELAY_CHALLENGE
SESSION = protocol.RELAY_SESSION

CERT_FORMAT = "gridroom-device-cert/1"
#: How long a certificate is good for. A device renews it at every online sync once it is a day
#: old; a device that has not reached the county for 30 days is no longer served by a relay
#: (county IT's revocation needs the relay to hear of it; expiry bounds how long it may not).
CERT_TTL_MS = 30 * 24 * 3600_000
#: Renew a certificate older than this at the next online sync.
CERT_RENEW_MS = 24 * 3600_000
#: A relay's challenge is good for this long.
CHALLENGE_TTL_MS = 2 * 60_000

_CERT_LABEL = b"gridroom-device-cert/1\x00"
_SESSION_LABEL = b"gridroom-relay-session/1\x00"
_BATCH_LABEL = b"gridroom-relay-batch/1\x00"


class RelayError(Exception):
    """A credential that does not check out; ``code`` is a protocol error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _sign_key(wire: Any, what: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(unb64(wire, 32, what))
    except (BundleError, ValueError) as exc:
        raise RelayError("unauthorized", f"{what} is not an Ed25519 key ({exc})") from None


def cert_message(cert: Mapping[str, Any]) -> bytes:
    return _CERT_LABEL + protocol.dumps(dict(cert))


def sign_cert(county_key: Ed25519PrivateKey, cert: Mapping[str, Any]) -> str:
    return b64(county_key.sign(cert_message(cert)))


def _verify(key: Ed25519PublicKey, signature: Any, message: bytes, what: str) -> None:
    try:
        raw = unb64(signature, 64, what)
        key.verify(raw, message)
    except (BundleError, InvalidSignature, ValueError):
        raise RelayError("unauthorized", f"{what} does not check out") from None


def check_cert(
    cert: Any,
    signature: Any,
    county_sign_key: Any,
    *,
    county: str,
    township: str,
    now: int,
) -> dict[str, Any]:
    """The certificate, once its county signature, county, township and dates check out;
    otherwise :class:`RelayError` in plain words (``unauthorized`` or ``wrong_device``)."""
    if not isinstance(cert, dict) or cert.get("format") != CERT_FORMAT:
        raise RelayError("unauthorized", "this is not a Gridroom device certificate")
    _verify(
        _sign_key(county_sign_key, "the county's key"),
        signature,
        cert_message(cert),
        "the county's signature on the device certificate",
    )
    if str(cert.get("county")) != county:
        raise RelayError(
            "wrong_device", f"the device is enrolled in county {cert.get('county')}, not {county}"
        )
    if str(cert.get("township")) != township:
        raise RelayError(
            "wrong_device",
            f"the device is enrolled to township {cert.get('township')}; this relay serves "
            f"{township} only",
        )
    expires = cert.get("expires_at")
    if not isinstance(expires, int) or expires < now:
        raise RelayError(
            "unauthorized",
            "the device certificate has expired: sync with the county once to renew it",
        )
    keys = cert.get("keys")
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise RelayError("unauthorized", "the device certificate names no scope")
    for name in ("device_id", "device_code", "account_id"):
        if not isinstance(cert.get(name), str) or not protocol._ID.match(cert[name]):
            raise RelayError("unauthorized", f"the device certificate has no valid {name}")
    _sign_key(cert.get("sign"), "the device's key")
    return dict(cert)


def session_message(relay_id: str, nonce: str) -> bytes:
    return _SESSION_LABEL + f"{relay_id}\x00{nonce}".encode()


def sign_session(device_key: Ed25519PrivateKey, relay_id: str, nonce: str) -> str:
    return b64(device_key.sign(session_message(relay_id, nonce)))


def check_session(cert: Mapping[str, Any], proof: Any, relay_id: str, nonce: str) -> None:
    """The device answered the relay's challenge with the key its certificate names."""
    _verify(
        _sign_key(cert.get("sign"), "the device's key"),
        proof,
        session_message(relay_id, nonce),
        "the device's answer to the challenge",
    )


def batch_message(county: str, device_id: str, account_id: str, batch: Any) -> bytes:
    digest = hashlib.sha256(protocol.dumps(batch)).digest()
    return _BATCH_LABEL + f"{county}\x00{device_id}\x00{account_id}\x00".encode() + digest


def sign_batch(
    device_key: Ed25519PrivateKey, county: str, device_id: str, account_id: str, batch: Any
) -> str:
    return b64(device_key.sign(batch_message(county, device_id, account_id, batch)))


def check_batch(
    sign_key: Any, signature: Any, county: str, device_id: str, account_id: str, batch: Any
) -> None:
    """The push batch is the device's own, word for word (not made up by a relay)."""
    _verify(
        _sign_key(sign_key, "the device's key"),
        signature,
        batch_message(county, device_id, account_id, batch),
        "the device's signature on the push batch",
    )
