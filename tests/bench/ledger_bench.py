"""The ledger export benchmark: the case ledger (台账) as .xlsx, openpyxl then XlsxWriter.

``python -m tests.bench ledger --db STORE --repeat 3 --out bench-out/ledger.json``

Exports every case of ``--db`` (e.g. ``gridroom demo --township 330825002 --cases 20000``) to
.xlsx with the openpyxl write-only writer the app used before (:mod:`.ledger_legacy`) and with
the current XlsxWriter constant-memory writer, alternately, ``--repeat`` times each. Every run
happens in a forked child so its peak RSS is its own (``wait4``). Reports medians of wall time,
rows per second, the file size and the peak RSS, and a straight-line extrapolation to 1M rows.
Linux only (fork, wait4). The machine is shared and noisy: read medians, not single runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HELP = "Case-ledger .xlsx export: openpyxl (before) vs XlsxWriter (now), same store, same run."


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, type=Path, help="the store to export (not changed)")
    p.add_argument("--repeat", type=int, default=3, help="runs of each writer (default 3)")
    p.add_argument("--out", type=Path, help="write the JSON here too")


def _one(db: Path, writer: str, dest: Path) -> tuple[float, int, int, int]:
    """Export in a forked child: (seconds, rows, file bytes, child's peak RSS in KiB)."""
    read_fd, write_fd = os.pipe()
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child
        code = 1
        try:
            os.close(read_fd)
            from sync.store import Store, ledger

            if writer == "openpyxl":
                from tests.bench import ledger_legacy

                ledger._write_xlsx = ledger_legacy._write_xlsx
            with Store.open(db) as store:
                result = ledger.export_ledger(store, dest)
            os.write(write_fd, str(result.rows).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    with os.fdopen(read_fd) as fh:
        rows_text = fh.read()
    if status != 0 or not rows_text:
        raise SystemExit(f"the {writer} export failed (status {status})")
    size = dest.stat().st_size
    dest.unlink()
    return seconds, int(rows_text), size, usage.ru_maxrss


def run(args: argparse.Namespace) -> int:
    runs: dict[str, list[tuple[float, int, int, int]]] = {"openpyxl": [], "xlsxwriter": []}
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        for i in range(args.repeat):
            for writer in runs:
                got = _one(args.db, writer, Path(folder) / f"{writer}-{i}.xlsx")
                runs[writer].append(got)
                print(f"{writer} run {i + 1}: {got[0]:.1f} s, {got[1]} rows", file=sys.stderr)
    report: dict[str, Any] = {"db": str(args.db), "repeat": args.repeat, "writers": {}}
    for writer, results in runs.items():
        seconds = statistics.median(r[0] for r in results)
        rows = results[0][1]
        report["writers"][writer] = {
            "rows": rows,
            "median_s": round(seconds, 2),
            "runs_s": [round(r[0], 2) for r in results],
            "rows_per_s": round(rows / seconds),
            "extrapolated_1m_s": round(1_000_000 / (rows / seconds)),
            "file_bytes": results[0][2],
            "peak_rss_mib": round(max(r[3] for r in results) / 1024, 1),
        }
    old, new = report["writers"]["openpyxl"], report["writers"]["xlsxwriter"]
    report["speedup"] = round(old["median_s"] / new["median_s"], 2)
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0
