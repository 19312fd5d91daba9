"""``gridroom login``: sign in to the county platform and enrol this device to a township.

The token goes to the OS keyring, and so does the key of the store, which is created encrypted
(or encrypted in place when it was plain); without a keyring the key is wrapped by the password.
Where the machine has no keyring (a headless server), the device is
still enrolled, but the sign-in is not kept: ``gridroom sync`` then asks for the password each
time (or reads it with ``--password-stdin``). See ``sync.client.tokens`` for why.
Exit codes: 0 signed in, 2 cannot reach the server, 4 refused (password, account, device),
5 this Gridroom is too old for the server.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import socket
import sys
from pathlib import Path

from .. import logs
from ..client import enrol
from ..client.tokens import TokenStore, default_tokens
from ..client.transport import TransportError
from ..settings import Settings, SettingsError
from ..store import StoreError, keys
from .unlock import progress_printer

NAME = "login"
HELP = "Sign in to the county platform and enrol this device (token kept in the OS keyring)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", help="county platform URL (default: the server_url setting)")
    p.add_argument("--user", required=True, help="account name, e.g. 330825102-op")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--db", help="the store to enrol (default: one per township in the data folder)")
    p.add_argument("--township", help="for county-level accounts: enrol to this township")
    p.add_argument(
        "--device-name",
        default=socket.gethostname(),
        help="a name people recognise, e.g. 指挥室-1 (default: this computer's name)",
    )
    p.add_argument(
        "--ca-file", help="CA certificate (PEM) for the server (default: ca_file setting)"
    )
    p.add_argument(
        "--pin-stdin",
        action="store_true",
        help="also read a PIN (the next line of standard input) for quick unlock of a store whose "
        "key the password protects (no keyring): gridroom stats/export/import --pin-stdin",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")


def read_password(args: argparse.Namespace, prompt: str) -> str | None:
    """The password from stdin (``--password-stdin``) or the terminal; None if neither."""
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline().rstrip("\r\n")
        return line or None
    if sys.stdin.isatty():
        with contextlib.suppress(EOFError):
            return getpass.getpass(prompt) or None
    return None


def exit_code(error: TransportError) -> int:
    if error.code == "protocol_version":
        return 5
    if error.reached and error.code not in ("server_error", "unavailable", "bad_response"):
        return 4
    return 2


log = logging.getLogger("gridroom.login")


def run(args: argparse.Namespace, tokens: TokenStore | None = None) -> int:
    settings = Settings()
    server = args.server or settings.get("server_url")
    if not server:
        print(
            "gridroom login: give the county platform's address with --server URL", file=sys.stderr
        )
        return 2
    password = read_password(args, f"Password for {args.user} at {server}: ")
    logs.add_secret(password)  # never in a log line, whatever prints it
    if not password:
        print(
            "gridroom login: no password given (type it at the prompt or use --password-stdin)",
            file=sys.stderr,
        )
        return 2
    pin = sys.stdin.readline().strip() if args.pin_stdin else None
    tokens = tokens if tokens is not None else default_tokens()
    try:
        result = enrol.login(
            server,
            args.user,
            password,
            tokens=tokens,
            store_path=args.db,
            data_dir=settings.get("data_dir") or None,
            device_name=args.device_name,
            township=args.township,
            ca_file=args.ca_file or settings.get("ca_file") or None,
            progress=progress_printer("login", Path(args.db)) if args.db else None,
        )
    except TransportError as exc:
        log.warning("sign-in as %s at %s failed: %s (%s)", args.user, server, exc.message, exc.code)
        print(f"gridroom login: {exc.message}", file=sys.stderr)
        return exit_code(exc)
    except ValueError as exc:
        log.warning("sign-in as %s at %s refused: %s", args.user, server, exc)
        print(f"gridroom login: {exc}", file=sys.stderr)
        return 2
    except keys.WrongPassword as exc:
        print(f"gridroom login: {exc}", file=sys.stderr)
        return 4
    if pin:
        try:
            keys.set_pin(result.store_path, pin, password=password)
        except StoreError as exc:
            print(f"gridroom login: the PIN was not kept: {exc}", file=sys.stderr)
    if result.set_aside is not None:
        print(
            f"gridroom login: the key of the old store is lost, so nobody can read it; it was "
            f"moved to {result.set_aside} and a fresh store was enrolled (the county has the "
            "data; changes that had not been synced are in the old file, unreadable).",
            file=sys.stderr,
        )
    log.info(
        "signed in as %s (%s) at %s; device %s, store %s, token %s",
        args.user,
        result.account.get("role"),
        server,
        result.device.get("code"),
        result.store_path,
        result.token_storage,
    )
    if not result.token_kept:
        # Nowhere safe to keep it: do not leave a live token behind at the county either.
        from ..store import Store

        with Store.open(result.store_path) as store:
            enrol.logout(store, tokens, ca_file=args.ca_file or settings.get("ca_file") or None)
        print(
            f"gridroom login: no usable keyring on this machine ({result.token_storage}). The "
            "device is enrolled, but the sign-in is not kept: gridroom sync will ask for the "
            "password each time (or read it with --password-stdin).",
            file=sys.stderr,
        )
    _remember(settings, server, result)
    info = {
        "account": result.account,
        "device": result.device,
        "scope": result.scope,
        "county": result.county,
        "store": str(result.store_path),
        "created_store": result.created_store,
        "token_storage": result.token_storage,
        "token_kept": result.token_kept,
        "key_storage": result.key_storage,
    }
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(
            f"Signed in as {result.account.get('name')} ({result.account.get('role')}); this "
            f"device is {result.device.get('code')} in township {result.device.get('township')}."
            f"\nStore: {result.store_path} ({result.key_storage})\nToken: {result.token_storage}"
        )
    return 0


def _remember(settings: Settings, server: str, result: enrol.LoginResult) -> None:
    """Save the server, township and account as user settings (unless IT locked them)."""
    for name, value in (
        ("server_url", server),
        ("township", str(result.device.get("township") or "")),
        # The account *id*: what the app works as (it also accepts a login name, for settings
        # written by older versions).
        ("account", str(result.account.get("id") or "")),
    ):
        if settings.is_locked(name) or settings.get(name) == value:
            continue
        with contextlib.suppress(SettingsError, OSError):
            settings.set(name, value)
