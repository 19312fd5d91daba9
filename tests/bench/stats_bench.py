"""The statistics benchmark: a month's and a year's figures, page data and rankings.

``./dev bench stats [--county-cases N] [--township-cases N] [--out bench-out/stats.json]``

1. Builds (or reuses from ``--cache-dir``, keyed like the store benchmark's) two demo stores
   with the real generator and bulk loader: a township of ``--township-cases`` (default 20,000
   over 24 months) and a county of ``--county-cases`` (default 60,000 over 12 months, a couple
   of minutes to build; the issue's target store is 1,000,000 over 120 months — pass
   ``--county-cases 1000000 --county-months 120``).
2. For the last full month and the current year, times (``--repeat`` runs, medians):
   ``figures`` (the headline figures), ``compare`` (with the previous period and a year ago),
   ``page`` (everything the 统计 page and the monthly report read: comparison, every breakdown,
   every ranking) and ``ranking`` (one grid ranking, breakdown included) — with today's code
   (step counts kept with the projection, migration 0004) and, side by side on the same file,
   the code before it (``stats_legacy``: it reads the timeline), and that old code again with
   an index on ``case_events(case_rowid, action)`` (the alternative considered), on a copy.
3. Sizes (from ``dbstat``): bytes per case of ``case_units`` (the count columns on ``cases``
   take at most ten) and of the alternative index; and how long migration 0004 (schema and
   backfill) takes on a copy of the county store without it.

The machine is shared and noisy: read medians, not single runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, to_millis
from sync.stats import core
from sync.stats.periods import Period
from sync.stats.scoring import DEFAULT_WEIGHTS, ranking, rankings_for
from sync.store import Store
from sync.store import schema as store_schema
from sync.store.steps import COUNT_COLUMNS

from . import stats_legacy, store_bench

HELP = "Statistics: month and year figures, page data, rankings — old vs new; sizes, migration."

#: Targets from the statistics issue (milliseconds, on the 1M-case county store).
TARGETS = {"year_figures_ms": 2000, "month_figures_ms": 500, "ranking_ms": 1000}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--county", default="330825", help="county code (default 330825 龙游县)")
    p.add_argument("--county-cases", type=int, default=60_000, help="cases of the county store")
    p.add_argument("--county-months", type=int, default=12, help="history of the county store")
    p.add_argument("--township", default="330825002", help="township code (default 东华街道)")
    p.add_argument("--township-cases", type=int, default=20_000)
    p.add_argument("--township-months", type=int, default=24)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--now", default="2026-11-20T10:00:00+08:00", help="end of the history")
    p.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    p.add_argument("--no-legacy", action="store_true", help="skip the old code and the index")
    p.add_argument("--out", type=Path, default=Path("bench-out/stats.json"))
    p.add_argument("--cache-dir", type=Path, default=Path("bench-out"))
    p.add_argument("--rebuild", action="store_true", help="ignore cached stores")


def run(args: argparse.Namespace) -> int:
    now = to_millis(dt.datetime.fromisoformat(args.now))
    today = dt.datetime.fromisoformat(args.now).astimezone(SHANGHAI).date()
    last_month = today.replace(day=1) - dt.timedelta(days=1)
    periods = {
        "month": Period.parse(f"{last_month:%Y-%m}"),
        "year": Period.parse(f"{today:%Y}"),
    }
    result: dict[str, Any] = {
        "benchmark": "stats",
        "command": "./dev bench stats " + " ".join(sys.argv[2:]),
        "date": dt.datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "machine": store_bench._machine(),
        "params": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if not k.startswith("_")
        },
        "periods": {k: p.label_zh for k, p in periods.items()},
        "targets": TARGETS,
        "stores": {},
    }
    for name, scope, cases, months in (
        ("township", args.township, args.township_cases, args.township_months),
        ("county", args.county, args.county_cases, args.county_months),
    ):
        cache = _store(args, scope, cases, months, now)
        result["stores"][name] = _measure(args, cache, cases, periods, now, name == "county")
    result["machine"]["load_after"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\nwritten: {args.out}", file=sys.stderr)
    return 0


def _store(args: argparse.Namespace, scope: str, cases: int, months: int, now: Millis) -> Path:
    """A cached demo store, built with the store benchmark's machinery (and its cache key)."""
    spec = argparse.Namespace(
        county=scope, seed=args.seed, cases=cases, months=months, rebuild=args.rebuild,
        cache_dir=args.cache_dir,
    )  # fmt: skip
    cache = store_bench._cache_path(spec, now)
    info = store_bench._build(spec, cache, now)
    print(f"store {cache} ({'cached' if info.get('cached') else 'built'})", file=sys.stderr)
    return cache


def _measure(
    args: argparse.Namespace,
    path: Path,
    cases: int,
    periods: dict[str, Period],
    now: Millis,
    migrate: bool,
) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": cases, "path": str(path)}
    with Store.open(path, clock=lambda: now) as store:
        out["cases_in_period"] = {
            k: int(
                store.read(
                    "SELECT count(*) FROM cases WHERE reported_at >= ? AND reported_at < ?",
                    [p.start, p.end],
                )[0][0]
            )
            for k, p in periods.items()
        }
        out["new"] = _suite(store, core, periods, args.repeat, now)
        if not args.no_legacy:
            out["old"] = _suite(store, stats_legacy, periods, args.repeat, now)
            _same(out["new"], out["old"])
    out["bytes_per_case"] = _sizes(path, cases)
    if not args.no_legacy:
        copy = path.with_name(path.stem + "-indexed.sqlite")
        shutil.copyfile(path, copy)
        try:
            with Store.open(copy, clock=lambda: now) as store:
                started = time.perf_counter()
                with store.write() as conn:
                    conn.execute(
                        "CREATE INDEX bench_events_action ON case_events(case_rowid, action)"
                    )
                out["old_with_index_build_s"] = round(time.perf_counter() - started, 1)
                out["old_with_index"] = _suite(store, stats_legacy, periods, args.repeat, now)
                _same(out["new"], out["old_with_index"])
            out["bytes_per_case"]["alternative_index"] = _sizes(copy, cases).get(
                "bench_events_action"
            )
        finally:
            _remove(copy)
    if migrate:
        out["migration_0004_s"] = _migration(path, now)
    for suite in ("new", "old", "old_with_index"):
        for measures in out.get(suite, {}).values():
            for m in measures.values():
                m.pop("_result", None)
    return out


def _suite(
    store: Store, module: Any, periods: dict[str, Period], repeat: int, now: Millis
) -> dict[str, Any]:
    """Timings of one implementation (``module``: sync.stats.core or the legacy copy)."""
    out: dict[str, Any] = {}
    for key, period in periods.items():

        def figures(p: Period = period) -> Any:
            return module.Statistics(store, now=now).figures(p).as_dict()

        def compare(p: Period = period) -> Any:
            return {k: f.as_dict() for k, f in module.Statistics(store, now=now).compare(p).items()}

        def page(p: Period = period) -> Any:
            stats = module.Statistics(store, now=now)
            breakdowns = stats.breakdowns(p, module.breakdowns_for(store))
            ranks = {
                by: [
                    s.score
                    for s in ranking(stats, p, by, dict(DEFAULT_WEIGHTS), breakdown=breakdowns[by])
                ]
                for by in rankings_for(store)
            }
            return {
                "compare": {k: f.as_dict() for k, f in stats.compare(p).items()},
                "breakdowns": {
                    by: sorted(r.as_dict().items() for r in rows) for by, rows in breakdowns.items()
                },
                "rankings": ranks,
            }

        def grid_ranking(p: Period = period) -> Any:
            stats = module.Statistics(store, now=now)
            return [s.score for s in ranking(stats, p, "grid", dict(DEFAULT_WEIGHTS))]

        out[key] = {
            name: _timed(fn, repeat)
            for name, fn in (
                ("figures", figures),
                ("compare", compare),
                ("page", page),
                ("ranking", grid_ranking),
            )
        }
    return out


def _same(new: dict[str, Any], old: dict[str, Any]) -> None:
    """Old and new code must give the same answers (else the timings compare nothing)."""
    for period, measures in new.items():
        for name, m in measures.items():
            if m["_result"] != old[period][name]["_result"]:
                raise SystemExit(f"old and new statistics differ: {period} {name}")


def _timed(fn: Callable[[], Any], repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    result = fn()
    first = (time.perf_counter() - started) * 1000
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - started) * 1000)
    return {
        "first_ms": round(first, 1),
        "median_ms": round(statistics.median(runs), 1),
        "min_ms": round(min(runs), 1),
        "max_ms": round(max(runs), 1),
        "runs": repeat,
        "_result": result,
    }


def _sizes(path: Path, cases: int) -> dict[str, Any]:
    out: dict[str, Any] = {"file": round(path.stat().st_size / max(cases, 1))}
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = conn.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        out["by_object"] = f"unavailable: {exc}"
        return out
    for name, total in rows:
        if name in ("case_units", "bench_events_action"):
            out[name] = round(total / max(cases, 1))
    # The five count columns on ``cases``: small integers, 1 header byte each (0 and 1 take no
    # body bytes; up to 127, one).
    out["count_columns_max"] = len(COUNT_COLUMNS) * 2
    return out


def _migration(path: Path, now: Millis) -> float:
    """Seconds migration 0004 takes on a copy of ``path`` without it (schema and backfill)."""
    (migration,) = [m for m in store_schema.MIGRATIONS if m.name == "0004_case_step_counts"]
    copy = path.with_name(path.stem + "-schema3.sqlite")
    shutil.copyfile(path, copy)
    try:
        with Store.open(copy, clock=lambda: now) as store:
            with store.write() as conn:
                conn.execute("DROP TABLE case_units")
                for column in COUNT_COLUMNS:
                    conn.execute(f"ALTER TABLE cases DROP COLUMN {column}")
            started = time.perf_counter()
            with store.write() as conn:
                for statement in store_schema._statements(migration.sql):
                    conn.execute(statement)
                if migration.after is not None:
                    migration.after(conn)
            return round(time.perf_counter() - started, 1)
    finally:
        _remove(copy)


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
