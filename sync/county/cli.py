"""``gridroom-county``: set up, serve and administer the reference county platform.

    gridroom-county init  --db county.sqlite --county 330825      load a county, print accounts
    gridroom-county serve --db county.sqlite --host 127.0.0.1 --port 8765
    gridroom-county user add|disable|enable|reset-password|list --db … --login …

``--db`` is a file path (SQLite) or a ``postgresql://`` URL; both run the same code.
Exit codes: 0 done, 2 bad arguments or input, 3 storage problem.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from ..model.records import Role
from .db import Database, DatabaseError, is_postgres


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db",
        required=True,
        help="the county database: a file path (SQLite) or postgresql://user@host/dbname",
    )


def _password(args: argparse.Namespace) -> str | None:
    if getattr(args, "password_stdin", False):
        line = sys.stdin.readline().rstrip("\n")
        if not line:
            raise ValueError("no password on standard input")
        return line
    return None


def _open(url: str) -> Database:
    if not is_postgres(url) and not Path(url).exists():
        raise DatabaseError(f"There is no county database at {url}: run gridroom-county init.")
    return Database(url)


def cmd_init(args: argparse.Namespace) -> int:
    from .service import County

    townships = None
    if args.townships:
        townships = [t.strip() for t in args.townships.split(",") if t.strip()]
    with Database(args.db) as db:
        accounts = County.initialise(db, args.county, demo_townships=townships)
        county = County(db)
        with db.read() as tx:
            grids = tx.scalar("SELECT count(*) FROM grids")
            villages = tx.scalar("SELECT count(*) FROM divisions WHERE level = 'village'")
    if args.json:
        print(json.dumps({"county": county.county, "accounts": accounts}, ensure_ascii=False))
        return 0
    print(
        f"County {args.county} loaded into {args.db}: {villages} villages, {grids} grids "
        "(grids, staff and accounts are synthetic)."
    )
    print("Demo accounts — the passwords are shown this once only; hand them out now:\n")
    print(f"{'login':<22} {'password':<16} {'role':<13} {'township':<10} grids")
    for a in accounts:
        print(
            f"{a['login']:<22} {a['password']:<16} {a['role']:<13} {a['township'] or '-':<10} "
            f"{','.join(a['grids'])}"
        )
    return 0


def _serve_logging(args: argparse.Namespace) -> None:
    """The server logs to stderr (a supervisor's journal), and to a rotating file when IT names
    one with ``--log-file``; secrets and residents' numbers are redacted on every handler."""
    import logging

    from .. import logs

    level = logging.getLevelName(args.log_level.upper())
    if args.log_file:
        target = Path(args.log_file)
        logs.setup(target.parent, file_name=target.name, stderr=True, log_level=level)
    else:
        logs.setup(stderr=True, file=False, log_level=level)
    logs.install_hooks()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .accounts import HASH_SLOTS
    from .app import create_app

    _serve_logging(args)

    proxies = _trusted_proxies(args.trusted_proxy)
    hash_slots = HASH_SLOTS if args.hash_slots is None else args.hash_slots
    if hash_slots < 1:
        raise ValueError("--hash-slots must be at least 1")
    workers = args.workers
    if workers < 1:
        raise ValueError("--workers must be at least 1")
    if workers > 1 and not is_postgres(args.db):
        # SQLite lets one process write at a time: several workers would queue on its lock
        # (and time out under load) instead of sharing the work.
        print(
            "gridroom-county serve: --workers above 1 needs PostgreSQL; a SQLite county has "
            "one writer at a time, so it is served by one process (--workers 1).",
            file=sys.stderr,
        )
        return 2
    if workers > 1 and args.log_file:
        raise ValueError(
            "--log-file cannot be shared by several --workers (each would rotate the same file); "
            "log to standard error (the systemd journal) instead"
        )
    db = _open(args.db)
    db.close()
    app = create_app(args.db, hash_slots=hash_slots)
    if workers > 1:
        # Migrated and checked here, once; each worker opens its own pool (spawned, not forked).
        app.state.db.close()
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((args.host, args.port))
    except OSError as exc:
        sock.close()
        print(
            f"gridroom-county serve: cannot listen on {args.host}:{args.port}: {exc}",
            file=sys.stderr,
        )
        return 2
    sock.listen(128)
    port = sock.getsockname()[1]
    host = f"[{args.host}]" if family == socket.AF_INET6 else args.host
    # The line a supervisor (or the test fixture) waits for; the socket already queues clients.
    print(f"gridroom-county: serving {app.state.county.county} at http://{host}:{port}", flush=True)
    if workers > 1:
        # What each worker needs to build the same app (spawned workers inherit the environment).
        os.environ[_WORKER_ARGS] = json.dumps(
            {
                "db": args.db,
                "hash_slots": hash_slots,
                "log_level": args.log_level,
                "log_file": args.log_file,
            }
        )
    config = uvicorn.Config(
        "sync.county.cli:worker_app" if workers > 1 else app,
        factory=workers > 1,
        workers=workers,
        # Uvicorn's loggers propagate to the handlers above (its own config would replace them).
        log_config=None,
        log_level=args.log_level,
        access_log=args.access_log,
        timeout_keep_alive=30,
        server_header=False,
        # X-Forwarded-For names the client only when the request comes from a proxy county IT
        # named; from anyone else (loopback included) it is a header anybody can write, and
        # trusting it would let one address rotate past the per-address sign-in lock.
        proxy_headers=bool(proxies),
        forwarded_allow_ips=proxies or None,
    )
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0


_WORKER_ARGS = "GRIDROOM_COUNTY_WORKER_ARGS"


def worker_app() -> object:
    """The app of one ``serve --workers N`` worker process (uvicorn calls this factory)."""
    from .app import create_app

    spec = json.loads(os.environ[_WORKER_ARGS])
    _serve_logging(argparse.Namespace(log_level=spec["log_level"], log_file=spec["log_file"]))
    return create_app(spec["db"], hash_slots=int(spec["hash_slots"]))


def _trusted_proxies(values: Sequence[str]) -> list[str]:
    """The ``--trusted-proxy`` addresses and networks, checked (a typo must not fail open)."""
    out: list[str] = []
    for value in values:
        for item in (v.strip() for v in value.split(",")):
            if not item:
                continue
            try:
                # Normalised: uvicorn reads "10.1.2.3/8" (host bits set) as a literal that never
                # matches, which would silently trust nobody.
                if "/" in item:
                    out.append(str(ipaddress.ip_network(item, strict=False)))
                else:
                    out.append(str(ipaddress.ip_address(item)))
            except ValueError:
                raise ValueError(
                    f"--trusted-proxy {item!r} is not an IP address or network (CIDR)"
                ) from None
    return out


def cmd_user(args: argparse.Namespace) -> int:
    from .service import County

    with _open(args.db) as db:
        county = County(db)
        if args.action == "add":
            grids = [g.strip() for g in (args.grids or "").split(",") if g.strip()]
            account, password = county.add_user(
                args.login,
                name=args.name or args.login,
                role=Role(args.role),
                township=args.township,
                department=args.department,
                grids=grids,
                password=_password(args),
            )
            print(f"Added {account.login} ({account.role.value}). Password: {password}")
        elif args.action in ("disable", "enable"):
            account = county.set_disabled(args.login, args.action == "disable")
            state = "disabled; its tokens are revoked" if account.disabled else "enabled"
            print(f"{account.login} is {state}.")
        elif args.action == "reset-password":
            password = county.reset_password(args.login, _password(args))
            print(f"New password for {args.login}: {password} (its tokens are revoked)")
        elif args.action == "list":
            for a in county.users():
                flag = " (disabled)" if a.disabled else ""
                print(
                    f"{a.login:<22} {a.role.value:<13} {a.township_code or '-':<10} "
                    f"{','.join(a.grid_codes)}{flag}"
                )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gridroom-county", description="Gridroom reference county platform"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("init", help="load a county from the real division codes")
    _db_arg(p)
    p.add_argument("--county", required=True, help="county code, e.g. 330825 (龙游县)")
    p.add_argument(
        "--townships",
        help="create demo accounts only for these townships (comma-separated; default all)",
    )
    p.add_argument("--json", action="store_true", help="print the accounts as JSON")
    p.set_defaults(run=cmd_init)

    p = sub.add_parser("serve", help="serve the sync API over HTTP")
    _db_arg(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on")
    p.add_argument("--port", type=int, default=8765, help="port (0: any free port)")
    p.add_argument(
        "--log-level",
        default=os.environ.get("GRIDROOM_COUNTY_LOG_LEVEL", "warning").lower(),
        choices=("critical", "error", "warning", "info", "debug"),
        help="default warning, or $GRIDROOM_COUNTY_LOG_LEVEL",
    )
    p.add_argument(
        "--access-log",
        action="store_true",
        default=os.environ.get("GRIDROOM_COUNTY_ACCESS_LOG", "") in ("1", "true", "yes"),
        help="log every request (or $GRIDROOM_COUNTY_ACCESS_LOG=1)",
    )
    p.add_argument(
        "--log-file",
        metavar="PATH",
        default=os.environ.get("GRIDROOM_COUNTY_LOG_FILE") or None,
        help="also log to this file, rotated at 2 MB, 5 kept (or $GRIDROOM_COUNTY_LOG_FILE; "
        "default: standard error only)",
    )
    p.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="a reverse proxy (address or CIDR; repeat, or separate with commas) whose "
        "X-Forwarded-For header names the client; default: none, the header is ignored",
    )
    p.add_argument(
        "--hash-slots",
        type=int,
        metavar="N",
        help="password hashes run at once, 64 MiB each (default 2); sign-ins beyond them wait "
        "a second, then are answered 503 with Retry-After",
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=int(os.environ.get("GRIDROOM_COUNTY_WORKERS") or 1),
        help="server processes sharing the port (default 1, or $GRIDROOM_COUNTY_WORKERS); "
        "above 1 needs PostgreSQL (SQLite has one writer at a time). Each has its own "
        "connections (8) and --hash-slots",
    )
    p.set_defaults(run=cmd_serve)

    p = sub.add_parser("user", help="add, disable, enable, reset or list accounts")
    p.add_argument("action", choices=("add", "disable", "enable", "reset-password", "list"))
    _db_arg(p)
    p.add_argument("--login", help="account name")
    p.add_argument("--name", help="display name (add)")
    p.add_argument("--role", choices=[r.value for r in Role], help="role (add)")
    p.add_argument("--township", help="township code (add; omit for county-level accounts)")
    p.add_argument("--department", help="department code (add, department accounts)")
    p.add_argument("--grids", help="grid codes, comma-separated (add, grid workers)")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(run=cmd_user)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    if args.command == "user" and args.action != "list" and not args.login:
        parser.error("--login is required")
    if args.command == "user" and args.action == "add" and not args.role:
        parser.error("--role is required to add an account")
    try:
        return int(args.run(args) or 0)
    except (ValueError, KeyError) as exc:
        print(f"gridroom-county {args.command}: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(f"gridroom-county {args.command}: {exc}", file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
