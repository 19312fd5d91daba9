"""The relay's link to the county: its own sync, the reference data it serves, the revocation
list, and forwarding the batches devices left with it (docs/sync-protocol.md, section 19).

A forward is idempotent at the county by (device id, batch id), so the relay may repeat it
whenever it does not know the answer — after a dropped link, a timeout or a kill -9 between the
county's answer and storing it — and the county applies the batch once.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from .. import protocol
from ..client.service import SyncService
from ..client.transport import Transport, TransportError
from ..relaycert import FORWARD, REVOKED
from ..store import replica
from .core import REFERENCE_META, Relay

log = logging.getLogger("gridroom.relay")

#: After a failed attempt, requests do not try the county again for this long (a device's
#: push is then held at once instead of waiting for a timeout).
DOWN_FOR_S = 15.0


class Upstream:
    """The county, as the relay reaches it with its own sign-in."""

    def __init__(self, relay: Relay, service: SyncService, *, timeout: float = 10.0) -> None:
        self.relay = relay
        self.service = service
        self.timeout = timeout
        self._forwarding = threading.Lock()
        self._down_until = 0.0
        relay.forward_now = self.forward_now

    @property
    def store(self) -> Any:
        return self.relay.store

    def _endpoint(self) -> tuple[str, str | None]:
        st = replica.state(self.store)
        server = st.get("server_url") or self.store.meta("server_url") or ""
        return server, self.service.tokens.get(server, self.store.device_id) if server else None

    def _transport(self, server: str, **options: Any) -> Transport:
        kw = {**self.service.transport_options, **options}
        return Transport(server, ca_file=self.service.ca_file, wall=self.store.raw_clock, **kw)

    @property
    def down(self) -> bool:
        return time.monotonic() < self._down_until

    def _failed(self, exc: TransportError) -> None:
        if not exc.reached:
            self._down_until = time.monotonic() + DOWN_FOR_S

    # -- forwarding --------------------------------------------------------------------------------

    def forward_now(self, device_id: str, batch_id: str) -> dict[str, Any] | None:
        """Called when a device's batch arrives: the county's answer if it can be had quickly,
        else None (the batch is held and goes with the next cycle)."""
        if self.down:
            return None
        return self._forward(device_id, batch_id, attempts=1)

    def forward_all(self) -> int:
        """Forward every batch still waiting; how many got the county's answer."""
        done = 0
        for device_id, batch_id, *_ in self.relay.waiting():
            if self._forward(device_id, batch_id) is None:
                break  # the county is out of reach: try again next cycle
            done += 1
        return done

    def _forward(self, device_id: str, batch_id: str, **options: Any) -> dict[str, Any] | None:
        server, token = self._endpoint()
        if not server or not token:
            return None
        with self._forwarding:
            row = self.store.read(
                "SELECT account_id, body, signature, answer FROM relay_batches "
                "WHERE device_id = ? AND batch_id = ?",
                [device_id, batch_id],
            )
            if not row:
                return None
            account_id, body, signature, stored = row[0]
            if stored:
                return dict(protocol.decode_json(str(stored).encode()))
            request = {
                "device_id": device_id,
                "account_id": account_id,
                "batch": protocol.decode_json(str(body).encode()),
                "signature": signature,
            }
            options = {"connect_timeout": self.timeout, "read_timeout": 60.0, **options}
            with self._transport(server, **options) as transport:
                try:
                    reply = transport.post_json(FORWARD, request, token=token)
                    push = reply.object("the forward answer").get("push")
                except TransportError as exc:
                    self._failed(exc)
                    if not exc.reached or exc.code in ("server_error", "unavailable"):
                        return None
                    # The county refused the batch as a whole (revoked device, bad signature):
                    # that is its answer, and the device is told so.
                    push = {
                        "batch_id": batch_id,
                        "error": {"code": exc.code, "message": exc.message},
                    }
            if not isinstance(push, dict) or push.get("batch_id") != batch_id:
                return None
            self.relay.settle(device_id, batch_id, push)
            log.info("forwarded batch %s of device %s", batch_id, device_id)
            return push

    # -- one cycle ---------------------------------------------------------------------------------

    def cycle(self) -> dict[str, Any]:
        """The relay's own sync, the reference data, the revocation list, then every waiting
        batch. Never raises for network trouble."""
        out: dict[str, Any] = {"synced": False, "forwarded": 0, "revoked": 0}
        report = self.service.sync_once(self.store, verify=False)
        out["sync"] = report.status
        if not report.reached_server:
            self._down_until = time.monotonic() + DOWN_FOR_S
            return out
        self._down_until = 0.0
        out["synced"] = True
        server, token = self._endpoint()
        if not server or not token:
            return out
        with self._transport(server) as transport:
            try:
                version = replica.state(self.store).get("reference_version") or ""
                if (self.store.meta(REFERENCE_META + "_version") or "") != version:
                    body = transport.get_json(protocol.REFERENCE, token=token)
                    self.store.set_meta(
                        {
                            REFERENCE_META: protocol.dumps(body).decode(),
                            REFERENCE_META + "_version": str(body.get("version") or version),
                        }
                    )
                out["revoked"] = self.relay.set_revoked(transport.get_json(REVOKED, token=token))
            except TransportError as exc:
                self._failed(exc)
                return out
        out["forwarded"] = self.forward_all()
        return out

    def reference(self) -> dict[str, Any]:
        text = self.store.meta(REFERENCE_META)
        if not text:
            raise TransportError("unavailable", "The relay has no reference data yet.")
        return dict(protocol.decode_json(text.encode()))
