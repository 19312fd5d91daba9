"""``gridroom stats``: counts by table, status, level and deadline light, and whether the file
is damaged (``PRAGMA integrity_check``).

It only reads: the store is opened read-only, so a read-only file or folder works. Exit status
0, or 3 when the store cannot be used or is damaged (the counts are still printed then).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..store import Store, health
from ..store.errors import damaged_words
from .unlock import add_password_argument, unlock

NAME = "stats"
HELP = "Print counts of a store (tables, statuses, levels, overdue)."


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_password_argument(p)
    p.add_argument("--db", required=True, help="the store file")
    p.add_argument("--json", action="store_true", help="print JSON")


def run(args: argparse.Namespace) -> int:
    unlock(args.db, args, "stats")
    with Store.open_read_only(args.db) as store:
        stats = store.stats()
        problems = health.check(store)
    stats["integrity"] = problems or "ok"
    status = 0
    if problems:
        print(f"gridroom stats: {damaged_words(args.db, problems[0])}", file=sys.stderr)
        status = 3
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
        return status
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
    print("  integrity:  " + ("ok" if not problems else "DAMAGED: " + "; ".join(problems[:3])))
    return status
