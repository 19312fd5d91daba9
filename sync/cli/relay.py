"""``gridroom relay``: the township's command-room PC serves the sync protocol on the LAN, for
field laptops that cannot reach the county (docs/sync-protocol.md, section 19).

    gridroom relay --db STORE [--listen 0.0.0.0:8766] [--tls-cert C --tls-key K] [--interval 30]

The store must be a township store enrolled with the county (``gridroom login``); the relay
syncs it with the county every ``--interval`` seconds, hands on what the laptops left with it,
and pulls the county's list of revoked devices. The first line on standard output names the
address it serves. It runs until interrupted (exit 130) or terminated.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType

from ..client.service import SyncService
from ..client.tokens import default_tokens
from ..settings import Settings
from ..store import Store
from .unlock import add_password_argument, unlock

NAME = "relay"
HELP = "Serve the township LAN as a sync relay when the county is out of reach."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="the township store (enrolled with the county)")
    p.add_argument("--listen", help="host:port to serve (default: the relay_listen setting)")
    p.add_argument("--tls-cert", help="TLS certificate (PEM; default: the relay_tls_cert setting)")
    p.add_argument("--tls-key", help="its private key (PEM; default: the relay_tls_key setting)")
    p.add_argument("--ca-file", help="CA certificate (PEM) for the county (default: setting)")
    p.add_argument(
        "--interval", type=float, default=30.0, help="seconds between syncs with the county"
    )
    p.add_argument(
        "--discovery", action="store_true", help="also answer LAN discovery probes (UDP 8767)"
    )
    add_password_argument(p)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    from ..relay import Relay
    from ..relay.server import make_server, serve_discovery
    from ..relay.upstream import Upstream

    settings = Settings()
    listen = args.listen or settings.get("relay_listen")
    host, _, port = listen.rpartition(":")
    if not port.isdigit():
        print(f"gridroom relay: --listen must be host:port, not {listen!r}", file=sys.stderr)
        return 2
    unlock(args.db, args, "relay")
    store = Store.open(args.db)
    try:
        try:
            relay = Relay(store)
        except ValueError as exc:
            print(f"gridroom relay: {exc}", file=sys.stderr)
            return 3
        service = SyncService(
            tokens=default_tokens(),
            ca_file=args.ca_file or settings.get("ca_file") or None,
            deadline_s=settings.get("sync_deadline_s"),
        )
        upstream = Upstream(relay, service)
        try:
            server = make_server(
                relay,
                upstream,
                host or "0.0.0.0",
                int(port),
                tls_cert=args.tls_cert or settings.get("relay_tls_cert") or None,
                tls_key=args.tls_key or settings.get("relay_tls_key") or None,
            )
        except OSError as exc:
            print(f"gridroom relay: cannot serve {listen}: {exc}", file=sys.stderr)
            return 2
        if args.discovery:
            serve_discovery(relay, server.url)
        stopping = threading.Event()

        def cycles() -> None:
            while not stopping.is_set():
                try:
                    upstream.cycle()
                except Exception:  # logged; the relay keeps serving and tries again
                    import logging

                    logging.getLogger("gridroom.relay").exception("relay cycle failed")
                stopping.wait(args.interval)

        print(f"gridroom relay: serving {server.url} for township {relay.township}", flush=True)
        threading.Thread(target=cycles, name="relay-upstream", daemon=True).start()
        signal.signal(signal.SIGTERM, _stop)
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            stopping.set()
            server.server_close()
    finally:
        store.close()
    return 0
