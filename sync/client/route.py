"""Which way a sync goes: to the county, or — when the county is out of reach — to the
township relay on the LAN (docs/sync-protocol.md, section 19). Nobody chooses: every sync asks
the county first, and a sync that cannot reach it (before it starts, or midway) carries on with
the relay; the next sync tries the county again, so a laptop is back on the county as soon as it
answers.

The relay is found at the preset address (the ``relay_url`` setting county IT presets) or, when
none is set, by a UDP broadcast on the LAN (:func:`discover`). A device proves itself to the
relay with the certificate the county signed for it, which it renews at online syncs
(:func:`renew_certificate`), and signs each push batch it leaves there with its device key, so
the county can check that the relay forwarded the device's own words.

What crosses between the two paths is safe by construction: the county's cursor is the
device's alone (the relay passes it through), the relay's cursor travels beside it, a push batch
keeps its id on both paths, and merges are set unions.
"""

from __future__ import annotations

import copy
import json
import socket
from dataclasses import dataclass
from typing import Any

from .. import relaycert
from ..bundlefile import KeyPair
from ..store import keys, replica
from ..store.store import Store
from .service import Progress, SyncReport, SyncService
from .tokens import MemoryTokens
from .transport import Transport, TransportError

#: How a county sync ends when the county stopped answering midway: the relay takes over.
LOST = frozenset({"offline", "timeout", "unavailable"})
DISCOVERY_PORT = 8767
DISCOVERY_ASK = b"GRIDROOM-RELAY?"
DISCOVERY_ANSWER = b"GRIDROOM-RELAY!"


@dataclass
class RelayLink:
    """What the sync service needs to talk to a relay: its cursor and the batch signer."""

    relay_id: str
    cursor: int
    key: Any
    county: str
    device_id: str
    account_id: str

    def sign(self, batch: Any) -> str:
        return relaycert.sign_batch(self.key, self.county, self.device_id, self.account_id, batch)


def certificate(store: Store) -> dict[str, Any] | None:
    """The county's certificate for this device ({cert, signature}), if it has one."""
    try:
        value = json.loads(replica.state(store).get("relay_cert") or "null")
    except ValueError:
        return None
    return value if isinstance(value, dict) and isinstance(value.get("cert"), dict) else None


def renew_certificate(
    store: Store, transport: Transport, token: str, *, force: bool = False
) -> bool:
    """Fetch a fresh certificate from the county when this one is a day old (or missing, or
    for another account); True when one was stored. Never raises for network trouble."""
    st = replica.state(store)
    held = certificate(store)
    fresh = (
        held is not None
        and held["cert"].get("account_id") == st.get("account_id")
        and store.now() - int(st.get("relay_cert_at") or 0) < relaycert.CERT_RENEW_MS
    )
    if fresh and not force:
        return False
    try:
        body = transport.get_json(relaycert.CERTIFICATE, token=token)
    except TransportError:
        return False
    if not isinstance(body.get("cert"), dict) or not isinstance(body.get("signature"), str):
        return False
    value = json.dumps({"cert": body["cert"], "signature": body["signature"]}, sort_keys=True)
    replica.set_state(store, {"relay_cert": value, "relay_cert_at": store.now()})
    return True


def discover(
    township: str, *, timeout: float = 1.0, address: str = "<broadcast>", port: int = DISCOVERY_PORT
) -> str:
    """The URL of this township's relay, asked for by a UDP broadcast on the LAN; '' if none
    answered. The answer only says where to connect: trust comes from the certificates."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.settimeout(timeout)
        sock.sendto(DISCOVERY_ASK + township.encode("ascii"), (address, port))
        while True:
            data, _ = sock.recvfrom(1024)
            if not data.startswith(DISCOVERY_ANSWER):
                continue
            found = json.loads(data[len(DISCOVERY_ANSWER) :].decode())
            if found.get("township") == township and isinstance(found.get("url"), str):
                return str(found["url"])
    except (OSError, ValueError):
        return ""
    finally:
        sock.close()


class Router:
    """Sync with the county when it answers, otherwise with the township relay."""

    def __init__(
        self,
        service: SyncService,
        *,
        relay_url: str = "",
        discovery: bool = False,
        probe_timeout: float = 3.0,
    ) -> None:
        self.service = service
        self.relay_url = relay_url.rstrip("/")
        self.discovery = discovery
        self.probe_timeout = probe_timeout

    def _county_answers(self, store: Store) -> bool:
        server, _ = self.service._session(store)
        if not server:
            return False
        options = {
            "connect_timeout": self.probe_timeout,
            "read_timeout": self.probe_timeout,
            "attempts": 1,
        }
        with self.service._transport(store, server, **options) as transport:
            try:
                transport.get_json("/v1/health")
            except TransportError as exc:
                return exc.reached
        return True

    def relay(self, store: Store) -> str:
        if self.relay_url:
            return self.relay_url
        if self.discovery:
            return discover(replica.state(store).get("township") or store.scope)
        return ""

    def sync_once(
        self, store: Store, progress: Progress | None = None, *, verify: bool | None = None
    ) -> SyncReport:
        """One sync by whichever way is open (see the module doc)."""
        report: SyncReport | None = None
        if not self.relay_url and not self.discovery:
            report = self.service.sync_once(store, progress, verify=verify)
            report.route = "county"
            return report
        if self._county_answers(store):
            report = self.service.sync_once(store, progress, verify=verify)
            report.route = "county"
            if report.reached_server and report.error_code not in LOST:
                self._renew(store)
                replica.set_state(store, {"route": "county"})
                return report
        relay_url = self.relay(store)
        if not relay_url:
            if report is None:
                report = self.service.sync_once(store, progress, verify=verify)
                report.route = "county"
            return report
        via = self.via_relay(store, relay_url, progress)
        if report is not None:
            via.problems.insert(
                0, f"the county stopped answering ({report.error}); went on with the township relay"
            )
        return via

    def _renew(self, store: Store) -> None:
        server, token = self.service._session(store)
        if not server or not token:
            return
        with self.service._transport(store, server, attempts=1) as transport:
            renew_certificate(store, transport, token)

    def via_relay(
        self, store: Store, relay_url: str, progress: Progress | None = None
    ) -> SyncReport:
        """One sync with the relay at ``relay_url``: open a session with the certificate, then
        the ordinary sync, with the relay's cursor and signed batches."""
        report = SyncReport(started_at=store.now(), server_url=relay_url, route="relay")
        held = certificate(store)
        try:
            secret = keys.device_key(store.path)
        except Exception:  # a locked or plaintext store has no device key
            secret = None
        if held is None or not secret:
            report.fail(
                "no_certificate",
                "The county is out of reach and this computer has no relay certificate yet: "
                "sync with the county once while online.",
            )
            return report
        pair = KeyPair.from_bytes(secret)
        cert = held["cert"]
        try:
            with self.service._transport(store, relay_url) as transport:
                challenge = transport.post_json(relaycert.CHALLENGE, {}).object("the challenge")
                relay_id, nonce = str(challenge.get("relay_id")), str(challenge.get("nonce"))
                opened = transport.post_json(
                    relaycert.SESSION,
                    {
                        "cert": cert,
                        "signature": held["signature"],
                        "nonce": nonce,
                        "proof": relaycert.sign_session(pair.sign, relay_id, nonce),
                    },
                ).object("the relay session")
        except TransportError as exc:
            report.fail(exc.code, f"The township relay: {exc.message}", reached=exc.reached)
            return report
        token = str(opened.get("token") or "")
        st = replica.state(store)
        cursor = int(st.get("relay_cursor") or 0) if st.get("relay_id") == relay_id else 0
        replica.set_state(store, {"relay_id": relay_id, "relay_cursor": cursor})
        service = copy.copy(self.service)
        service.tokens = MemoryTokens()
        service.relay = RelayLink(
            relay_id,
            cursor,
            pair.sign,
            str(cert.get("county")),
            str(cert.get("device_id")),
            str(cert.get("account_id")),
        )
        out = service.sync_once(store, progress, verify=False, endpoint=(relay_url, token))
        out.route = "relay"
        replica.set_state(store, {"route": "relay"})
        return out
