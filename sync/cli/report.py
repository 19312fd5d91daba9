"""``gridroom report``: the monthly report (月报) as PDF or workbook, for IT's scheduled jobs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..stats.periods import BadPeriod, Period
from ..stats.report import ReportError, collect, today_month, write
from ..stats.scoring import BadWeights, parse_weights
from ..store import Store

NAME = "report"
HELP = "Write the statistics report (月报) of a period as .pdf or .xlsx."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="the store file")
    p.add_argument(
        "--period",
        help="2026-11 (month, the default: last month), 2026-Q4, 2026, 2026-W45, 2026-11-05 or "
        "2026-11-01..2026-11-15",
    )
    p.add_argument("--out", required=True, help="the file to write: FILE.pdf or FILE.xlsx")
    p.add_argument(
        "--weights",
        metavar="JSON",
        help='考核 weights, e.g. {"timeliness": 40, "verification": 20, "satisfaction": 30, '
        '"volume": 10} (default: the county\'s scheme in the store, else these)',
    )


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    try:
        if out.suffix.lower() not in (".pdf", ".xlsx"):
            raise ReportError(f"--out {out.name}: write the report as .pdf or .xlsx")
        if not out.parent.is_dir():
            raise ReportError(f"--out: the folder {out.parent} does not exist")
        weights = parse_weights(args.weights) if args.weights else None
        with Store.open(args.db) as store:
            period = Period.parse(args.period) if args.period else today_month(store.now())
            data = collect(store, period, weights=weights)
        write(data, out)
    except (BadPeriod, BadWeights, ReportError) as exc:
        print(f"gridroom report: {exc}", file=sys.stderr)
        return 2
    f = data.compare["current"]
    rate = "—" if f.closure_rate is None else f"{f.closure_rate:.1%}"
    print(f"Wrote {out} — {period.label_zh}: {f.total:,} cases, 办结率 {rate}.")
    return 0
