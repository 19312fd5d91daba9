"""``./dev bench queues``: the county board and the 待审批 queue on a county demo store.

Builds a county demo store (``gridroom demo --county``), times the dashboard's county figures
(``sync.store.queues``), one page and the count of the 上报待受理 and 待审批 lists, and
migration 0010 with its back-fill (the columns dropped, the store reopened). Medians of
``--repeat`` runs, JSON on stdout.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HELP = "County board and 待审批 queue: figures, list pages, migration 0010 back-fill."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--county", default="330825", help="county code (default 330825 龙游县)")
    p.add_argument("--cases", type=int, default=100_000, help="cases of the county store")
    p.add_argument("--now", default="2026-11-20T10:00:00+08:00", help="end of the history")
    p.add_argument("--repeat", type=int, default=7, help="runs per figure (the median is kept)")


def _median_ms(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 2)


def run(args: argparse.Namespace) -> int:
    from sync.store import Store, schema
    from sync.store.queries import CaseQuery
    from sync.store.queues import approval_query, approvals, board_query, county_board

    with tempfile.TemporaryDirectory(prefix="gridroom-queues-") as tmp:
        path = Path(tmp) / "county.sqlite"
        subprocess.run(
            [
                str(Path(sys.executable).with_name("gridroom")),
                *("demo", "--county", args.county, "--cases", str(args.cases)),
                *("--out", str(path), "--now", args.now, "--quiet"),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        result: dict[str, Any] = {"county": args.county, "cases": args.cases}
        with Store.open(path) as s:
            result["escalated"] = s.count(CaseQuery(escalated=True))
            result["pending"] = approvals(s)["cases"]
            result["county_board_ms"] = _median_ms(lambda: county_board(s), args.repeat)
            result["approvals_ms"] = _median_ms(lambda: approvals(s), args.repeat)
            for name, query in (
                ("awaiting", board_query("awaiting")),
                ("approval", approval_query()),
            ):
                result[f"{name}_page_ms"] = _median_ms(
                    lambda q=query: s.cases(q, limit=100), args.repeat
                )
                result[f"{name}_count_ms"] = _median_ms(lambda q=query: s.count(q), args.repeat)
            names = [m.name for m in schema.MIGRATIONS]
            with s.write() as conn:
                for sql in (
                    "DROP INDEX cases_escalation",
                    "DROP INDEX cases_pending",
                    "ALTER TABLE cases DROP COLUMN escalation",
                    "ALTER TABLE cases DROP COLUMN pending",
                ):
                    conn.execute(sql)
            s.conn.execute(f"PRAGMA user_version = {names.index('0010_county_level')}")
        from tests.support.migrations import migrations_through

        start = time.perf_counter()
        with migrations_through("0010_county_level"), Store.open(path):
            pass
        result["migration_0010_s"] = round(time.perf_counter() - start, 2)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0
