"""``gridroom sync``: one full sync with the county — push, pull, attachments — and a JSON
summary of what happened.

Exit codes: 0 everything synced; 1 partial (records refused by the county wait in quarantine,
or attachments could not move); 2 failed (server unreachable or faulty; the reason is in the
summary); 3 the store cannot be used; 4 sign in again (token revoked, account disabled, no
password); 5 this Gridroom is too old for the server; 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from .. import logs
from ..client import enrol
from ..client.route import Router
from ..client.service import SyncService
from ..client.tokens import TokenStore, default_tokens
from ..client.transport import TransportError
from ..model.clock import now_millis
from ..settings import Settings
from ..store import Store, health, keys, replica
from .login import exit_code, read_password
from .unlock import unlock

NAME = "sync"
HELP = "Sync a store with the county once (push, pull, attachments); prints a JSON summary."

log = logging.getLogger("gridroom.sync")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="the store (default: this device's township store)")
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (machines without a keyring)",
    )
    p.add_argument("--user", help="account to sign in as when a password is needed")
    p.add_argument("--verify", action="store_true", help="also compare checksums with the county")
    p.add_argument("--ca-file", help="CA certificate (PEM) for the server (default: setting)")
    p.add_argument(
        "--relay",
        help="the township relay to use when the county is out of reach (URL; "
        "default: the relay_url setting)",
    )


def run(args: argparse.Namespace, tokens: TokenStore | None = None) -> int:
    settings = Settings()
    path = args.db
    if not path:
        township = settings.get("township")
        if not township:
            print(
                "gridroom sync: give the store with --db (this device is not enrolled yet)",
                file=sys.stderr,
            )
            return 3
        path = str(enrol.default_store_path(township, settings.get("data_dir") or None))
    ca_file = args.ca_file or settings.get("ca_file") or None
    tokens = tokens if tokens is not None else default_tokens()
    service = SyncService(
        tokens=tokens, ca_file=ca_file, deadline_s=settings.get("sync_deadline_s")
    )
    signed_in_here = False
    # The key first: a store whose key the password protects (no keyring) needs it to open.
    try:
        password = unlock(path, args, "sync")
        logs.add_secret(password)
    except (keys.KeyNeeded, keys.WrongPassword) as exc:
        print(f"gridroom sync: {exc}", file=sys.stderr)
        return 4
    store = Store.open(path)
    try:
        state = replica.state(store)
        server = state.get("server_url") or store.meta("server_url") or ""
        kept = tokens.get(server, store.device_id) if server else None
        logs.add_secret(kept)  # whatever prints it, never in a log line
        if server and not kept:
            # No kept token (no keyring, or never signed in here): sign in for this run only.
            user = args.user or state.get("account_login")
            if password is None and user:
                password = read_password(args, f"Password for {user} at {server}: ")
            logs.add_secret(password)
            if not password or not user:
                print(
                    f"gridroom sync: not signed in ({tokens.describe()}); give the password with "
                    "--password-stdin, or run gridroom login",
                    file=sys.stderr,
                )
                return 4
            store.close()
            try:
                enrol.login(
                    server, str(user), password, tokens=tokens, store_path=path, ca_file=ca_file
                )
            except TransportError as exc:
                print(f"gridroom sync: {exc.message}", file=sys.stderr)
                return exit_code(exc)
            finally:
                store = Store.open(path)
            signed_in_here = not tokens.persistent
        # A damaged store is not written into (the pull would): plain words, exit 3. The whole
        # file is checked at most daily here; the app checks it after every opening.
        health.guard_periodic(store, now_ms=now_millis())
        # The county when it answers, else the township relay (docs/sync-protocol.md §19).
        router = Router(
            service,
            relay_url=args.relay or settings.get("relay_url"),
            discovery=settings.get("relay_discovery"),
        )
        report = router.sync_once(store, verify=True if args.verify else None)
        log.info(
            "sync of %s with %s: %s; %s",
            path,
            report.server_url,
            report.status,
            json.dumps(report.to_dict(), ensure_ascii=False, sort_keys=True),
        )
        if signed_in_here:
            enrol.logout(store, tokens, ca_file=ca_file)
    finally:
        store.close()
    print(report.to_json())
    if report.error:
        print(f"gridroom sync: {report.error}", file=sys.stderr)
    if report.clock_warning:
        print(f"gridroom sync: warning: {report.clock_warning}", file=sys.stderr)
    return report.exit_code
