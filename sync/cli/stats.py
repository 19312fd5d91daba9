"""``gridroom stats``: counts by table, status, level and deadline light."""

from __future__ import annotations

import argparse
import json

from ..store import Store
from .unlock import add_password_argument, unlock

NAME = "stats"
HELP = "Print counts of a store (tables, statuses, levels, overdue)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_password_argument(p)
    p.add_argument("--db", required=True, help="the store file")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    unlock(args.db, args, "stats")
    with Store.open(args.db) as store:
        stats = store.stats()
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
        return 0
    print(
        f"{stats['path']}  scope {stats['scope']}  device {stats['device_code']}"
        + ("  (synthetic demo data)" if stats["synthetic"] else "")
    )
    for table, n in stats["tables"].items():
        print(f"  {table:<12} {n:>10,}")
    print("  by status:  " + ", ".join(f"{k} {v:,}" for k, v in sorted(stats["by_status"].items())))
    print("  by level:   " + ", ".join(f"{k} {v:,}" for k, v in sorted(stats["by_level"].items())))
    print(
        f"  overdue {stats['overdue']:,}  soon due {stats['soon_due']:,}  "
        f"conflicts {stats['conflicts']:,}"
    )
    return 0
