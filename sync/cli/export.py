"""``gridroom export``: the case ledger (事件台账) as .xlsx or .csv, with optional filters."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from pathlib import Path

from ..model.calendar import SHANGHAI
from ..model.clock import to_millis
from ..model.divisions import short_name
from ..model.records import OPEN_STATUSES, Status
from ..store import CaseQuery, Store
from ..store.ledger import STATUS_WORDS, LedgerError, export_ledger
from .unlock import add_password_argument, unlock

NAME = "export"
HELP = "Export the case ledger (事件台账) to .xlsx or .csv."

log = logging.getLogger("gridroom.export")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_password_argument(p)
    p.add_argument("--db", required=True, help="the store file")
    p.add_argument("--out", required=True, help="the file to write: FILE.xlsx or FILE.csv")
    p.add_argument(
        "--status",
        action="append",
        default=[],
        metavar="STATUS",
        help="only cases in this status: a Chinese word (待受理, 处置中 …), a code (handling …) "
        "or 'open'; repeat or separate with commas for several",
    )
    p.add_argument("--village", help="only cases of this village/community (name or code)")
    p.add_argument(
        "--from", dest="date_from", metavar="DATE", help="reported on or after DATE (2026-11-01)"
    )
    p.add_argument(
        "--to", dest="date_to", metavar="DATE", help="reported on or before DATE (2026-11-30)"
    )
    p.add_argument(
        "--full-contacts",
        action="store_true",
        help="write reporters' phone numbers in full (masked by default: personal data)",
    )


def _statuses(values: list[str]) -> tuple[str, ...]:
    by_word = {word: code for code, word in STATUS_WORDS.items()}
    out: list[str] = []
    for value in ",".join(values).replace("，", ",").split(","):
        value = value.strip()
        if not value:
            continue
        if value.lower() == "open":
            out += [s.value for s in OPEN_STATUSES]
        elif value in by_word:
            out.append(by_word[value])
        elif value.lower() in {s.value for s in Status}:
            out.append(value.lower())
        else:
            words = "、".join(STATUS_WORDS.values())
            raise LedgerError(f"--status {value!r} is not a status ({words}, or 'open').")
    return tuple(dict.fromkeys(out))


def _day(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise LedgerError(f"{option} {text!r} is not a date like 2026-11-22.") from None


def _village(store: Store, text: str) -> str:
    villages = store.divisions("village")
    for d in villages:
        if text in (d.code, d.name, short_name(d.name)):
            return d.code
    close = [short_name(d.name) for d in villages if text in d.name][:3]
    hint = f" (did you mean {'、'.join(close)}?)" if close else ""
    raise LedgerError(f"--village {text!r} is not a village of this store{hint}.")


def build_query(store: Store, args: argparse.Namespace) -> CaseQuery:
    """The CaseQuery the command-line filters describe (dates are Shanghai calendar days)."""
    query = CaseQuery(statuses=_statuses(args.status))
    if args.village:
        query = query.with_(village_code=_village(store, args.village))
    start = end = None
    if args.date_from:
        start = _day(args.date_from, "--from")
        day_start = dt.datetime.combine(start, dt.time(), tzinfo=SHANGHAI)
        query = query.with_(reported_from=to_millis(day_start))
    if args.date_to:
        end = _day(args.date_to, "--to")
        next_day = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=SHANGHAI)
        query = query.with_(reported_to=to_millis(next_day))
    if start and end and end < start:
        raise LedgerError(f"--to {end} is before --from {start}.")
    return query


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    unlock(args.db, args, "export")
    with Store.open_read_only(args.db) as store:  # it only reads
        try:
            query = build_query(store, args)
            show = sys.stderr.isatty()

            def progress(done: int, total: int) -> bool:
                if show and total:
                    print(f"\r  {done:,} / {total:,}", end="", file=sys.stderr, flush=True)
                return True

            result = export_ledger(store, out, query, progress, full_contacts=args.full_contacts)
            if show:
                print(file=sys.stderr)
        except LedgerError as exc:
            print(f"gridroom export: {exc}", file=sys.stderr)
            return 2
    log.info(
        "exported %d cases of %s to %s (full contacts: %s)",
        result.rows,
        args.db,
        result.path,
        "yes" if args.full_contacts else "no",
    )
    sheets = f" on {result.sheets} sheets" if result.sheets > 1 else ""
    print(f"Exported {result.rows:,} cases to {result.path}{sheets}.")
    return 0
