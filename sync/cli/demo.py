"""``gridroom demo``: build a synthetic demo store on a real township or county of 衢州市."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time

from ..demo.build import (
    Cancelled,
    DemoError,
    DemoSpec,
    Progress,
    build_demo,
    listing,
    resolve_scope,
)
from ..model.calendar import SHANGHAI
from ..model.clock import Millis, to_millis

NAME = "demo"
HELP = "Build a demo store (合成数据 synthetic) for a real township or county."


def add_arguments(p: argparse.ArgumentParser) -> None:
    where = p.add_mutually_exclusive_group()
    where.add_argument("--township", metavar="CODE", help="9-digit township code, e.g. 330825002")
    where.add_argument("--county", metavar="CODE", help="6-digit county code, e.g. 330825")
    where.add_argument(
        "--list", action="store_true", help="print every county and township code, then exit"
    )
    p.add_argument("--out", metavar="PATH", help="the store file to create")
    p.add_argument("--cases", type=int, default=20_000, help="number of cases (default 20000)")
    p.add_argument("--seed", type=int, default=1, help="random seed; same seed, same store")
    p.add_argument(
        "--months", type=int, default=12, help="months of history before now (default 12)"
    )
    p.add_argument(
        "--now",
        metavar="WHEN",
        help="the instant the history ends, ISO 8601 (e.g. 2026-11-20T10:00+08:00; without a "
        "zone, Asia/Shanghai) or UTC milliseconds; default: the current time",
    )
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")


def parse_now(text: str) -> Millis:
    """``--now`` as UTC milliseconds; ValueError in plain words when it is neither form."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--now {text!r} is not a date and time; write e.g. 2026-11-20T10:00+08:00 or UTC "
            "milliseconds"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return to_millis(value)


def run(args: argparse.Namespace) -> int:
    if args.list:
        print(listing())
        return 0
    if not args.township and not args.county:
        return _fail(
            "say what to build: --township CODE (9 digits, e.g. 330825002 东华街道) or "
            "--county CODE (6 digits, e.g. 330825 龙游县); --list prints them all"
        )
    if not args.out:
        return _fail("say where to write the store: --out PATH")
    try:
        level = "township" if args.township else "county"
        scope = resolve_scope(args.township or args.county, level)
        now = parse_now(args.now) if args.now else None
        spec = DemoSpec(scope.code, cases=args.cases, seed=args.seed, months=args.months, now=now)
        progress = Progress() if args.quiet else PrintedProgress()
        summary = build_demo(args.out, spec, force=args.force, progress=progress)
    except (DemoError, Cancelled) as exc:
        return _fail(str(exc))
    except ValueError as exc:  # --now that is not a time
        return _fail(str(exc))
    if args.json:
        print(json.dumps(summary.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(summary.text())
    return 0


def _fail(message: str) -> int:
    print(f"gridroom demo: {message}", file=sys.stderr)
    return 2


class PrintedProgress(Progress):
    """Progress lines on stderr — phase, counts, rate — at most about once a second."""

    def __init__(self) -> None:
        super().__init__()
        self._last_print = 0.0
        self._last_phase = ""

    def changed(self) -> None:
        now = time.perf_counter()
        new_phase = self.phase != self._last_phase
        counted = self.total > 1  # phases of one step print their name once
        finished = counted and self.done >= self.total
        if not (new_phase or (counted and (finished or now - self._last_print >= 1.0))):
            return
        self._last_print = now
        self._last_phase = self.phase
        if self.phase == "done":
            return
        if counted:
            share = self.done / self.total
            print(
                f"demo: {self.phase:<10} {self.done:>10,}/{self.total:,} ({share:4.0%}) "
                f"{self.rate():>9,.0f}/s",
                file=sys.stderr,
                flush=True,
            )
        else:
            print(f"demo: {self.phase}", file=sys.stderr, flush=True)
