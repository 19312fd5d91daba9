"""Time from starting the packaged app to a usable main window (the < 2 s target).

    python -m installer.startup build/installer/dist/gridroom/gridroom [--runs 5] [--cases 20000]

Builds a demo store with the bundle itself (``gridroom demo``), then starts ``gridroom --db`` on
it N times (offscreen) and measures, from process start, the moment the app reports the window
shown and its event loop running (``GRIDROOM_STARTUP_TIMING``). The first run is reported
separately (colder caches); ``--drop-caches`` (root, Linux) empties the page cache before it for
a truly cold start — do not use that on a machine other people are working on.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

LINE = "window usable after"


def one_start(exe: Path, store: Path, env: dict[str, str], timeout: float = 120) -> float:
    """Seconds from spawning the app to its 'window usable' line; the app is then stopped.

    The app's stdout is a pseudo-terminal, so its print is line-buffered and arrives at once
    (into a pipe, Python would hold it in a block buffer until exit).
    """
    import pty

    master, slave = pty.openpty()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(exe), "--db", str(store)],
        env=env,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        close_fds=True,
    )
    os.close(slave)
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        buffered = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the app closed its end
                chunk = b""
            if not chunk:
                lines.put("")
                return
            buffered += chunk
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                lines.put(line.decode("utf-8", "replace"))

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = started + timeout
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.perf_counter()))
            if LINE in line:
                return time.perf_counter() - started
            if line == "":
                raise RuntimeError(f"the app exited ({proc.wait()}) before showing its window")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        os.close(master)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m installer.startup", description=__doc__)
    parser.add_argument("exe", type=Path, help="the bundle's gridroom executable")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cases", type=int, default=20_000, help="demo store size")
    parser.add_argument("--drop-caches", action="store_true", help="cold first run (root)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="gridroom-startup-") as tmp:
        env = dict(os.environ)
        env.update(
            QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"),
            GRIDROOM_STARTUP_TIMING="1",
            GRIDROOM_CONFIG_DIR=str(Path(tmp) / "config"),
            GRIDROOM_SITE_CONFIG=str(Path(tmp) / "site.toml"),
            XDG_DATA_HOME=str(Path(tmp) / "data"),
        )
        store = Path(tmp) / "330825002.sqlite"
        subprocess.run(
            [
                str(args.exe),
                "demo",
                "--township",
                "330825002",
                "--cases",
                str(args.cases),
                "--out",
                str(store),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=600,
        )
        if args.drop_caches:
            subprocess.run(["sync"], check=True)
            Path("/proc/sys/vm/drop_caches").write_text("3\n")
        first = one_start(args.exe, store, env)
        rest = [one_start(args.exe, store, env) for _ in range(max(0, args.runs - 1))]
    result = {
        "first_s": round(first, 3),
        "warm_median_s": round(statistics.median(rest), 3) if rest else None,
        "warm_min_s": round(min(rest), 3) if rest else None,
        "runs": args.runs,
        "cases": args.cases,
        "cold": args.drop_caches,
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"first start {first:.2f} s{' (cold)' if args.drop_caches else ''}; "
            f"then median {result['warm_median_s']} s, min {result['warm_min_s']} s "
            f"over {len(rest)} runs ({args.cases:,} cases)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
