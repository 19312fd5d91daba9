"""``gridroom bundle``: sync by USB stick when there is no link at all.

    gridroom bundle export --db STORE --out E:\\            what the county has not acknowledged
    gridroom bundle import --db STORE E:\\RETURN.bundle     the county's answer

Exit codes: 0 done, 2 the bundle was refused (plain words; nothing applied, nothing lost),
3 the store cannot be used, 130 interrupted (no bundle is left half-written).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..bundlefile import BundleError
from ..client import bundle
from ..store import Store
from .unlock import add_password_argument, unlock

NAME = "bundle"
HELP = "Sync by USB stick: export a signed, encrypted bundle, or import the county's answer."


def add_arguments(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    e = sub.add_parser("export", help="write what the county has not acknowledged to a bundle")
    e.add_argument("--db", required=True, help="the store file")
    e.add_argument("--out", required=True, help="the bundle file to write, or a folder (a stick)")
    e.add_argument("--quiet", action="store_true", help="no progress on standard error")
    add_password_argument(e)
    i = sub.add_parser("import", help="apply the county's return bundle")
    i.add_argument("file", help="the county's return bundle")
    i.add_argument("--db", required=True, help="the store file")
    add_password_argument(i)


def run(args: argparse.Namespace) -> int:
    unlock(args.db, args, "bundle")
    with Store.open(args.db) as store:
        try:
            if args.action == "export":
                shown = [-1]

                def progress(done: int, total: int) -> bool:
                    pct = 100 * done // max(total, 1)
                    if not args.quiet and pct != shown[0]:
                        shown[0] = pct
                        print(f"\rwriting the bundle: {pct}%", end="", file=sys.stderr)
                    return True

                out = bundle.export_bundle(store, args.out, progress=progress).to_dict()
                if not args.quiet:
                    print(file=sys.stderr)
            else:
                out = bundle.import_return(store, args.file).to_dict()
        except BundleError as exc:
            print(f"gridroom bundle {args.action}: {exc.message}", file=sys.stderr)
            return 2
    print(json.dumps(out, ensure_ascii=False, indent=2, sort_keys=True))
    return 0
