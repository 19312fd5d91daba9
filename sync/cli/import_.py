"""``gridroom import``: cases from a 12345-hotline or department spreadsheet (.xlsx or .csv).

Every row is checked first; a file with invalid rows imports nothing unless ``--skip-invalid``.
The whole import is one transaction, and rows imported before are recognised and skipped.
Before anything is written the tables it writes are checked (``PRAGMA integrity_check``): a
damaged store is refused and left as it was.
Exit status: 0 done, 2 the file or its rows cannot be used (nothing changed), 3 a store problem
(locked, damaged …; nothing changed).
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..model.records import Source
from ..store import Store, health
from ..store.ledger import SOURCE_WORDS, LedgerError
from ..store.ledger_import import InvalidRows, import_ledger, importer, print_errors
from .unlock import add_password_argument, unlock

NAME = "import"
HELP = "Import cases from a 12345 hotline or department spreadsheet (.xlsx or .csv)."

log = logging.getLogger("gridroom.import")


def add_arguments(p: argparse.ArgumentParser) -> None:
    add_password_argument(p)
    p.add_argument("--db", required=True, help="the store file")
    p.add_argument("file", help="the spreadsheet: FILE.xlsx or FILE.csv (UTF-8 or GBK)")
    p.add_argument(
        "--skip-invalid",
        action="store_true",
        help="import the valid rows and list the invalid ones (default: import nothing then)",
    )
    p.add_argument(
        "--as",
        dest="account",
        metavar="ACCOUNT_ID",
        help="the account the cases are reported as (default: the first operator account)",
    )
    p.add_argument(
        "--source",
        default=Source.HOTLINE.value,
        choices=[s.value for s in Source],
        help="source of rows without a 来源 column value (default: hotline, 12345热线)",
    )


def run(args: argparse.Namespace) -> int:
    unlock(args.db, args, "import")
    with Store.open(args.db) as store:
        # Never write into a damaged file: check the tables the import writes first.
        health.guard(store)
        try:
            actor = importer(store, args.account)
            result = import_ledger(
                store,
                args.file,
                actor=actor,
                source=args.source,
                skip_invalid=args.skip_invalid,
            )
        except InvalidRows as exc:
            log.warning("import of %s into %s refused: %s", args.file, args.db, exc)
            print(f"gridroom import: {exc}:", file=sys.stderr)
            print_errors(exc.errors, file=sys.stderr)
            return 2
        except LedgerError as exc:
            log.warning("import of %s into %s refused: %s", args.file, args.db, exc)
            print(f"gridroom import: {exc}", file=sys.stderr)
            return 2
    log.info(
        "imported %s into %s as %s: %d imported, %d already present, %d invalid",
        args.file,
        args.db,
        actor.id,
        len(result.imported),
        len(result.present),
        result.invalid_rows,
    )
    where = f" (sheet {result.sheet})" if result.sheet else ""
    encoding = f", read as {result.encoding}" if result.encoding else ""
    print(f"{args.file}{where}{encoding}: reported as {actor.name} ({actor.id}).")
    if result.ignored_columns:
        print("Ignored columns: " + ", ".join(result.ignored_columns))
    if result.invalid:
        print(f"Skipped {result.invalid_rows} invalid rows:", file=sys.stderr)
        print_errors(result.invalid, file=sys.stderr)
    print(
        f"{len(result.imported)} imported, {len(result.present)} already present, "
        f"{result.invalid_rows} invalid. Default source: {SOURCE_WORDS[Source(args.source)]}."
    )
    return 0
