"""``gridroom-county``: set up, serve and administer the reference county platform.

    gridroom-county init  --db county.sqlite --county 330825      load a county, print accounts
    gridroom-county serve --db county.sqlite --host 127.0.0.1 --port 8765
    gridroom-county user add|edit|grids|disable|enable|reset-password|list --db … --login …
    gridroom-county device list|revoke --db … [ID]
    gridroom-county taxonomy export|import|history --db … [FILE.json]
    gridroom-county audit --db …

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
    db = Database(url)
    try:
        db.migrate()  # the same code as `serve`: an older database is brought up to date
    except BaseException:
        db.close()
        raise
    return db


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, indent=1))


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
    if args.shutdown_timeout < 0:
        raise ValueError("--shutdown-timeout cannot be negative")
    if workers > 1 and args.log_file:
        raise ValueError(
            "--log-file cannot be shared by several --workers (each would rotate the same file); "
            "log to standard error (the systemd journal) instead"
        )
    from .metrics import LOOPBACK, MULTIPROC_ENV, networks

    metrics_from = [
        item.strip() for value in args.metrics_from for item in value.split(",") if item.strip()
    ] or list(LOOPBACK)
    networks(metrics_from)  # a typo is an error now, not a silently closed /metrics
    multiproc: str | None = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Each worker counts in its own files here; a scrape through any worker sums them.
        import tempfile

        multiproc = tempfile.mkdtemp(prefix="gridroom-county-metrics-")
        os.environ[MULTIPROC_ENV] = multiproc
    db = _open(args.db)
    db.close()
    app = create_app(args.db, hash_slots=hash_slots, metrics_from=metrics_from)
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
                "metrics_from": metrics_from,
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
        # A kept-alive connection outlives a village link's outage (20 s and more, then TCP's
        # retransmission backoff): closing it mid-sync makes the device send its batch again.
        timeout_keep_alive=90,
        # SIGTERM (systemd stop, a rolling restart): stop accepting, let requests in flight
        # finish for up to this long, then close. A push cut here is re-sent by its device and
        # answered from the stored reply or applied once, so the bound only caps the wait.
        timeout_graceful_shutdown=args.shutdown_timeout,
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
        if multiproc:
            import shutil

            shutil.rmtree(multiproc, ignore_errors=True)
    return 0


#: Seconds ``serve`` waits on SIGTERM for requests in flight by default (a 2G push of a batch).
GRACEFUL_S = 30

_WORKER_ARGS = "GRIDROOM_COUNTY_WORKER_ARGS"


def worker_app() -> object:
    """The app of one ``serve --workers N`` worker process (uvicorn calls this factory)."""
    from .app import create_app

    spec = json.loads(os.environ[_WORKER_ARGS])
    _serve_logging(argparse.Namespace(log_level=spec["log_level"], log_file=spec["log_file"]))
    return create_app(
        spec["db"], hash_slots=int(spec["hash_slots"]), metrics_from=spec["metrics_from"]
    )


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
    from . import admin
    from .service import County

    with _open(args.db) as db:
        county = County(db)
        if args.action == "add":
            account, password = county.add_user(
                args.login,
                name=args.name or args.login,
                role=Role(args.role),
                township=args.township,
                department=args.department,
                grids=_split(args.grids),
                password=_password(args),
            )
            if args.json:
                _print_json({**account.wire(), "password": password})
            else:
                print(f"Added {account.login} ({account.role.value}). Password: {password}")
        elif args.action in ("edit", "grids"):
            if args.action == "grids" and args.set is None:
                raise ValueError("give the grids: --set g1,g2")
            township: str | None = admin._UNSET
            if args.county_level:
                township = None
            elif args.township is not None:
                township = args.township
            account = admin.edit_user(
                county,
                args.login,
                name=args.name,
                role=Role(args.role) if args.role else None,
                township=township,
                department=admin._UNSET if args.department is None else args.department,
                grids=None
                if args.set is None and args.grids is None
                else _split(args.set if args.set is not None else args.grids),
            )
            if args.json:
                _print_json(account.wire())
            else:
                print(
                    f"{account.login}: {account.name}, {account.role.value}, township "
                    f"{account.township_code or '- (county)'}, department "
                    f"{account.department_code or '-'}, grids {','.join(account.grid_codes) or '-'}"
                    ". Devices take the change at their next sync."
                )
        elif args.action in ("disable", "enable"):
            account = county.set_disabled(args.login, args.action == "disable")
            state = "disabled; its tokens are revoked" if account.disabled else "enabled"
            print(f"{account.login} is {state}.")
        elif args.action == "reset-password":
            password = county.reset_password(args.login, _password(args))
            print(f"New password for {args.login}: {password} (its tokens are revoked)")
        elif args.action == "list":
            users = county.users()
            if args.json:
                _print_json([{**a.wire(), "disabled": a.disabled} for a in users])
                return 0
            for a in users:
                flag = " (disabled)" if a.disabled else ""
                print(
                    f"{a.login:<22} {a.role.value:<13} {a.township_code or '-':<10} "
                    f"{a.department_code or '-':<10} {','.join(a.grid_codes)}{flag}"
                )
    return 0


def _ago(ms: int | None, now: int) -> str:
    if ms is None:
        return "never"
    days = (now - ms) // 86_400_000
    if days >= 1:
        return f"{days} d ago"
    hours = (now - ms) // 3_600_000
    return f"{hours} h ago" if hours >= 1 else "< 1 h ago"


def cmd_device(args: argparse.Namespace) -> int:
    from ..model.clock import now_millis
    from . import admin
    from .service import County

    with _open(args.db) as db:
        county = County(db)
        if args.action == "revoke":
            if not args.id:
                raise ValueError("name the device to revoke: its id or its 4-letter code")
            done = admin.revoke_device(county, args.id)
            if args.json:
                _print_json(done)
            else:
                print(
                    f"Device {done['code']} ({done['township']}) is revoked: its tokens stop "
                    "working at its next request and it cannot sign in again."
                )
            return 0
        if args.stale_days is not None and args.stale_days < 0:
            raise ValueError("--stale-days is a number of days, 0 or more")
        found = admin.devices(county, stale_days=args.stale_days)
        if args.json:
            _print_json(found)
            return 0
        now = now_millis()
        print(
            f"{'code':<5} {'township':<10} {'last sync':<12} {'outbox':>6} {'version':<10} "
            f"{'clock':>8}  accounts"
        )
        for d in found:
            offset = d["clock_offset_ms"]
            clock = "-" if offset is None else f"{offset / 1000:+.0f}s"
            state = ""
            if d["revoked_at"] is not None:
                state = "  REVOKED"
            elif args.stale_days is not None or d["days_since_sync"] >= STALE_DAYS:
                state = f"  not synced for {d['days_since_sync']} days"
            outbox = "-" if d["outbox"] is None else str(d["outbox"])
            print(
                f"{d['code']:<5} {d['township']:<10} {_ago(d['last_sync'], now):<12} "
                f"{outbox:>6} {d['app_version'] or '-':<10} {clock:>8}  "
                f"{','.join(d['accounts'])}{state}"
            )
        if not found:
            print("No devices." if args.stale_days is None else "No device is that far behind.")
    return 0


#: ``device list`` flags a device not synced for this many days.
STALE_DAYS = 7


def cmd_taxonomy(args: argparse.Namespace) -> int:
    from . import admin
    from .service import County

    with _open(args.db) as db:
        county = County(db)
        if args.action == "history":
            history = admin.taxonomy_history(county)
            if args.json:
                _print_json(history)
            else:
                for h in history:
                    print(
                        f"version {h['version']:<4} {h['categories']:>3} categories  "
                        f"by {h['imported_by']}  {h['note']}"
                    )
            return 0
        if not args.file:
            raise ValueError(f"name the file: gridroom-county taxonomy {args.action} FILE.json")
        path = Path(args.file)
        if args.action == "export":
            data = admin.export_taxonomy(county)
            path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
            print(
                f"Taxonomy version {data['version']} ({len(data['categories'])} categories) "
                f"written to {path}."
            )
            return 0
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"there is no file {path}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path} is not a JSON file: {exc}") from None
        done = admin.import_taxonomy(county, data, note=args.note or path.name)
        if args.json:
            _print_json(done)
        else:
            print(
                f"Taxonomy version {done['version']} ({done['categories']} categories) is in "
                "force: new cases use it, and devices take it at their next sync."
            )
    return 0


def _new_grids(value: str | None, names: str | None) -> list[tuple[str, str]]:
    codes = _split(value)
    if not codes:
        raise ValueError("name the new grid codes: --into CODE[,CODE…]")
    labels = [n.strip() for n in (names or "").split(",")] if names else []
    if labels and len(labels) != len(codes):
        raise ValueError("give one --name per new grid code (comma-separated, in order)")
    return [(c, labels[i] if labels else "") for i, c in enumerate(codes)]


def cmd_grid(args: argparse.Namespace) -> int:
    from . import admin
    from .service import County

    with _open(args.db) as db:
        county = County(db)
        if args.action == "list":
            found = admin.grids(county, township=args.township)
            if args.json:
                _print_json(found)
            else:
                for g in found:
                    state = ""
                    if g["retired_at"] is not None:
                        state = f"  retired → {','.join(g['successors'])}"
                    print(f"{g['code']}  {g['name']}{state}")
            return 0
        if args.action == "history":
            history = admin.grid_history(county, args.codes)
            if args.json:
                _print_json(history)
            else:
                for h in history:
                    print(f"{h['action']:<7} {','.join(h['old']) or '-'} → {','.join(h['new'])}")
            return 0
        if not args.codes:
            raise ValueError(f"name the grid: gridroom-county grid {args.action} CODE")
        done: dict[str, object]
        if args.action == "add":
            if not args.village or not args.name:
                raise ValueError("a new grid needs --village and --name")
            done = admin.add_grid(
                county, args.codes, name=args.name, village=args.village, kind=args.kind
            )
        elif args.action == "rename":
            if not args.name:
                raise ValueError("give the new name: --name")
            done = admin.rename_grid(county, args.codes, name=args.name)
        else:
            new = _new_grids(args.into, args.name)
            done = admin.replace_grids(county, args.action, _split(args.codes), new)
        if args.json:
            _print_json(done)
        else:
            print(f"grid {args.action}: done; devices take it at their next sync.")
            if done.get("to_reassign"):
                print(
                    "These grid workers still hold the split grid; give them their part with "
                    f"`gridroom-county user grids`: {', '.join(done['to_reassign'])}"  # type: ignore[arg-type]
                )
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    from . import admin
    from .service import County

    with _open(args.db) as db:
        log = admin.audit_log(County(db), limit=args.limit)
    if args.json:
        _print_json(log)
        return 0
    import datetime as dt

    for item in log:
        when = dt.datetime.fromtimestamp(item["at"] / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M")
        detail = json.dumps(item["detail"], ensure_ascii=False)
        print(f"{when} {item['actor']:<8} {item['action']:<22} {item['target']:<22} {detail}")
    return 0


def cmd_weights(args: argparse.Namespace) -> int:
    """``weights set FILE.json`` / ``weights reset`` / ``weights show``: the 考核 scheme."""
    from . import weights

    with _open(args.db) as db:
        if args.action == "set":
            if not args.file:
                raise ValueError("weights set needs the JSON file, e.g. weights set weights.json")
            scheme = weights.parse_file(Path(args.file))
            weights.set_weights(db, scheme)
            print(f"Assessment weights set: {json.dumps(scheme)}; devices fetch them on next sync.")
        elif args.action == "reset":
            weights.set_weights(db, None)
            print("Assessment weights reset to the defaults; devices fetch this on next sync.")
        else:
            with db.read() as tx:
                shown = weights.load(tx)
            print(json.dumps(shown) if shown is not None else "defaults (none set)")
    return 0


def cmd_geo(args: argparse.Namespace) -> int:
    """``geo import FILE``: the county's real outlines; ``geo show``: what the county holds."""
    from ..geo.importer import GeoImportError
    from ..model.clock import now_millis
    from . import geometry

    with _open(args.db) as db:
        if args.action == "show":
            with db.read() as tx:
                counts = geometry.counts(tx)
                version = geometry.geometry_version(tx)
            shown = ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "no outlines"
            print(f"geometry version {version}: {shown}")
            return 0
        if not args.file:
            raise ValueError("geo import needs the boundary file, e.g. geo import 网格.shp")
        try:
            report = geometry.import_file(
                db,
                args.file,
                now=now_millis(),
                code_key=args.code_property,
                dry_run=args.dry_run,
            )
        except GeoImportError as exc:
            print(f"gridroom-county geo import: {exc}", file=sys.stderr)
            return 2
    print(report.text())
    if not report.matched:
        print("gridroom-county geo import: nothing to import", file=sys.stderr)
        return 1
    if args.dry_run:
        print("dry run: nothing written")
    else:
        print(
            f"imported {len(report.matched)} outlines; devices fetch those of their township "
            "on their next sync"
        )
    return 0


def _geo_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "geo",
        help="import the county's township, village and grid outlines (GeoJSON or Shapefile)",
    )
    p.add_argument("action", choices=("import", "show"))
    p.add_argument(
        "file",
        nargs="?",
        help="GeoJSON (EPSG:4326 lon/lat) or .shp with its .dbf; features matched by code",
    )
    p.add_argument(
        "--code-property",
        metavar="NAME",
        help="the attribute that holds the grid/division code (default: code, wgbm …)",
    )
    p.add_argument("--dry-run", action="store_true", help="check and report only; write nothing")
    _db_arg(p)
    p.set_defaults(run=cmd_geo)


def _weights_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("weights", help="set, reset or show the 考核 assessment weights")
    p.add_argument("action", choices=("set", "reset", "show"))
    p.add_argument(
        "file",
        nargs="?",
        help='JSON object, e.g. {"timeliness": 40, "verification": 20, '
        '"satisfaction": 30, "volume": 10} (set)',
    )
    _db_arg(p)
    p.set_defaults(run=cmd_weights)


def cmd_bundle(args: argparse.Namespace) -> int:
    """Import a device's sync bundle (USB stick) and write its return bundle."""
    from ..bundlefile import BundleError
    from .bundle import import_bundle
    from .service import County

    with _open(args.db) as db:
        db.migrate()
        try:
            result = import_bundle(County(db), args.file, args.out)
        except BundleError as exc:
            print(f"gridroom-county bundle import: {exc.message}", file=sys.stderr)
            return 2
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, sort_keys=True))
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
        "--shutdown-timeout",
        type=float,
        default=GRACEFUL_S,
        metavar="SECONDS",
        help="on SIGTERM, how long requests in flight may take to finish before the server "
        f"closes them (default {GRACEFUL_S})",
    )
    p.add_argument(
        "--metrics-from",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="an address or CIDR (repeat, or separate with commas) that may read /metrics; "
        "default: loopback only",
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

    p = sub.add_parser(
        "user", help="add, edit, assign grids to, disable, enable, reset or list accounts"
    )
    p.add_argument(
        "action", choices=("add", "edit", "grids", "disable", "enable", "reset-password", "list")
    )
    p.add_argument("target", nargs="?", metavar="LOGIN", help="the account (or --login)")
    _db_arg(p)
    p.add_argument("--login", help="account name")
    p.add_argument("--name", help="display name (add, edit)")
    p.add_argument("--role", choices=[r.value for r in Role], help="role (add, edit)")
    p.add_argument("--township", help="township code (add, edit; omit for county-level accounts)")
    p.add_argument(
        "--county-level", action="store_true", help="edit: make the account county-level"
    )
    p.add_argument(
        "--department", help="department code (add, edit: department accounts; '' to clear)"
    )
    p.add_argument("--grids", help="grid codes, comma-separated (add, edit: grid workers)")
    p.add_argument("--set", metavar="GRIDS", help="grids: the grid worker's grids, g1,g2")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=cmd_user)

    p = sub.add_parser("device", help="list enrolled devices, or revoke one")
    p.add_argument("action", choices=("list", "revoke"))
    p.add_argument("id", nargs="?", metavar="ID", help="revoke: the device's id or 4-letter code")
    _db_arg(p)
    p.add_argument(
        "--stale-days",
        type=int,
        metavar="N",
        help="list: only devices not synced for N days or more",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=cmd_device)

    p = sub.add_parser("taxonomy", help="export or import the categories and their deadlines")
    p.add_argument("action", choices=("export", "import", "history"))
    p.add_argument("file", nargs="?", metavar="FILE.json", help="the taxonomy file")
    _db_arg(p)
    p.add_argument("--note", help="import: a note kept with the version (default: file name)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=cmd_taxonomy)

    p = sub.add_parser("grid", help="add, rename, split, merge or re-code grids, with history")
    p.add_argument(
        "action", choices=("list", "add", "rename", "split", "merge", "recode", "history")
    )
    p.add_argument(
        "codes", nargs="?", metavar="CODE", help="the grid (merge: the grids, comma-separated)"
    )
    _db_arg(p)
    p.add_argument("--name", help="add, rename: the name; split, merge, recode: the new names")
    p.add_argument("--village", help="add: the village code the grid lies in")
    p.add_argument(
        "--kind", default="rural", choices=("urban", "rural", "dedicated"), help="add: its kind"
    )
    p.add_argument("--into", metavar="CODES", help="split, merge, recode: the new grid codes")
    p.add_argument("--township", help="list: only this township's grids")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(run=cmd_grid)

    p = sub.add_parser("audit", help="the administrative actions, newest first")
    _db_arg(p)
    p.add_argument("--limit", type=int, default=100, help="how many (default 100)")
    p.add_argument("--json", action="store_true", help="print the log as JSON")
    p.set_defaults(run=cmd_audit)
    _weights_parser(sub)
    _geo_parser(sub)
    p = sub.add_parser("bundle", help="import a device's sync bundle (USB), write its answer")
    p.add_argument("action", choices=("import",))
    p.add_argument("file", help="the device's bundle")
    _db_arg(p)
    p.add_argument("--out", required=True, help="where to write the return bundle")
    p.set_defaults(run=cmd_bundle)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 2
    if args.command == "user" and args.target:
        if args.login and args.login != args.target:
            parser.error("name the account once (LOGIN or --login)")
        args.login = args.target
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
