"""The desktop benchmark: launch time, GUI-thread stalls while using the case list, memory.

``python -m tests.bench gui --cases 1000000 --out bench-out/gui.json``

Runs on the store benchmark's county store (same cache: ``python -m tests.bench store`` builds
it, or this benchmark does when it is missing). Measures:

1. **Launch**: a fresh ``python`` process opening the main window on the store, offscreen; the
   wall time from spawning the process to (a) the window shown with the event loop running
   (*usable*) and (b) the dashboard's figures on screen. Median of ``--launches`` runs.
2. **Stalls**: in a fresh app process, a 5 ms repeating timer records how late each tick fires — the
   time the GUI thread could not react. For each interaction (first page, scrolling 20 pages
   deep, sorting by each column, each filter, two-character searches, the dashboard and grid
   pages) the max and p99 stall and the time until the result was on screen are reported.
3. **Memory**: resident set size after all interactions, and the peak (VmHWM), of the process
   that ran them (a fresh one, so a store built by this benchmark does not count).

Targets (the desktop issue): usable < 2 s, no stall > 50 ms, RSS < 400 MB. The machine is
shared and noisy: a single outlier stall is worth rerunning before believing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TARGETS = {"usable_s": 2.0, "stall_ms": 50.0, "rss_mb": 400.0}
HELP = "Desktop on a county's store: launch time, GUI-thread stalls per interaction, memory."
TICK_MS = 5
SEARCH_WORDS = ("漏水", "纠纷", "垃圾", "噪音")


def add_arguments(p: argparse.ArgumentParser) -> None:
    from tests.bench import store_bench

    store_bench.add_arguments(p)  # the same store (and cache) as the store benchmark
    p.set_defaults(out=Path("bench-out/gui.json"))
    p.add_argument("--launches", type=int, default=3, help="launches to time (median)")
    p.add_argument("--db", type=Path, help="use this store instead of the benchmark's")


# -- the child process: one launch --------------------------------------------------------------

CHILD = r"""
import os, sys, time
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from pathlib import Path
db, now = Path(sys.argv[1]), int(sys.argv[2])
from PySide6.QtCore import QTimer
from desktop.app import application, setup, open_store
from desktop.context import AppContext
from desktop.ops import Ops
from sync.settings import Settings
app = application()
setup(app, "zh_CN")
settings = Settings()
actor, probe = open_store(db, None)
probe.close()
from desktop.mainwindow import MainWindow
ops = Ops(db, clock=lambda: now)
ctx = AppContext(ops, actor, settings, store_path=db)
window = MainWindow(ctx)
window.dashboard.loaded.connect(lambda: (print("loaded", flush=True), app.quit()))
window.show()
QTimer.singleShot(0, lambda: print("usable", flush=True))
QTimer.singleShot(60_000, app.quit)
app.exec()
window.close()
ops.shutdown()
"""


def _launch(db: Path, now: int) -> dict[str, float]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    with tempfile.TemporaryDirectory() as config:
        env["GRIDROOM_CONFIG_DIR"] = config  # a first start: no saved window, no settings
        env["GRIDROOM_SITE_CONFIG"] = str(Path(config) / "none.toml")
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(db), str(now)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        marks: dict[str, float] = {}
        assert child.stdout is not None
        for line in child.stdout:
            marks[line.strip()] = round(time.perf_counter() - started, 3)
        child.wait(timeout=120)
        child.stdout.close()
    return {"usable_s": marks.get("usable", -1.0), "dashboard_s": marks.get("loaded", -1.0)}


# -- stalls in this process ---------------------------------------------------------------------


class StallMeter:
    """A 5 ms timer on the GUI thread; lateness of each tick = how long the thread was busy."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._last_cpu = 0.0
        self.stalls: list[float] = []
        self.cpu: list[float] = []

    def start(self) -> None:
        self.stalls = []
        self.cpu = []
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._timer.start()

    def stop(self) -> dict[str, float]:
        self._timer.stop()
        self._tick()  # the gap since the last tick counts too (the thread may be busy still)
        stalls = sorted(self.stalls) or [0.0]
        p99 = stalls[min(len(stalls) - 1, int(len(stalls) * 0.99))]
        return {
            "max_stall_ms": round(stalls[-1], 1),
            "p99_stall_ms": round(p99, 1),
            # CPU the GUI thread itself spent in its longest gap: the part of a stall that is
            # the app's own work (the rest is waiting for a CPU on a busy machine).
            "max_gui_cpu_ms": round(max(self.cpu, default=0.0), 1),
        }

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        self.stalls.append(max(0.0, (now - self._last) * 1000 - TICK_MS))
        self.cpu.append((cpu - self._last_cpu) * 1000)
        self._last, self._last_cpu = now, cpu


def _wait(condition: Callable[[], bool], timeout: float = 120.0) -> None:
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError("the interaction did not finish")
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.001)


def _interactions(db: Path, now: int) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEvent

    from desktop.app import application, open_store, setup
    from desktop.cases.list_model import COLUMNS
    from desktop.context import AppContext
    from desktop.ops import Ops
    from sync.settings import Settings
    from sync.store.queries import CaseQuery

    app = application()
    setup(app, "zh_CN")
    config = Path(tempfile.mkdtemp(prefix="gridroom-bench-"))
    settings = Settings(site_path=config / "none.toml", user_dir=config)
    actor, probe = open_store(db, None)
    probe.close()
    from desktop.mainwindow import MainWindow

    ops = Ops(db, clock=lambda: now)
    ctx = AppContext(ops, actor, settings, store_path=db)
    window = MainWindow(ctx)
    window.resize(1440, 900)
    window.show()
    meter = StallMeter()
    out: dict[str, Any] = {}
    view = window.cases.list
    model = view.model

    def settled() -> bool:
        return not ops.busy() and not model.loading() and model.total is not None

    def measure(name: str, action: Callable[[], None], done: Callable[[], bool]) -> None:
        meter.start()
        started = time.perf_counter()
        action()
        _wait(done)
        result = meter.stop()
        result["result_ms"] = round((time.perf_counter() - started) * 1000, 1)
        result["rows_loaded"] = model.rowCount()
        result["total"] = model.total
        result["rss_mb"] = _memory().get("rss_mb", 0.0)
        out[name] = result

    _wait(lambda: window.dashboard.snapshot is not None and not ops.busy())
    measure("dashboard refresh", window.dashboard.refresh, lambda: not ops.busy())
    measure("open the case list", lambda: window.go("cases"), settled)

    target = min(model.rowCount() + 20 * model._page, model.total or 0)

    def scrolled() -> bool:
        if model.rowCount() < target:
            bar = view.table.verticalScrollBar()
            bar.setValue(bar.maximum())  # what dragging the scroll bar to the bottom does
            return False
        return settled()

    measure("scroll 20 pages deep", lambda: None, scrolled)
    for i, column in enumerate(COLUMNS):
        if column.sort is None or column.key == "light":
            continue
        measure(
            f"sort by {column.key} (ascending)", lambda i=i: view.model.sort(i, _asc()), settled
        )
    measure("back to newest first", lambda: view.show_query(CaseQuery()), settled)
    bar = view.filters
    store = ops.gui_store()
    village = store.cases(CaseQuery(), limit=1)[0]["village_code"]
    filters: list[tuple[str, Callable[[], None]]] = [
        ("filter status 待受理", lambda: _pick(bar.status, "reported")),
        ("filter status 已办结", lambda: _pick(bar.status, "closed")),
        ("filter clear", bar.reset),
        ("filter light red", lambda: _pick(bar.light, "red")),
        ("filter clear ", bar.reset),
        ("filter category 03", lambda: _pick(bar.major, "03")),
        ("filter village", lambda: _pick(bar.village, village)),
        ("filter last 30 days", lambda: _pick(bar.dates, "30d")),
        ("filter clear  ", bar.reset),
    ]
    for name, action in filters:
        measure(name, action, settled)
    for word in SEARCH_WORDS:

        def search(word: str = word) -> None:
            bar.search.setText(word)
            bar._emit_now()

        measure(f"search {word}", search, settled)
        measure(f"search {word} + sort by title", lambda: view.model.sort(2, _asc()), settled)
    measure("filter clear   ", bar.reset, settled)
    measure("grids page", lambda: window.go("grids"), lambda: not ops.busy())
    measure("next overdue (F8)", window.next_overdue, lambda: not ops.busy())
    window.close()
    window.deleteLater()
    # Delete the widgets now, while Qt is whole (at interpreter exit the order is random).
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    ops.shutdown()
    return out


def _interactions_in_child(db: Path, now: int) -> tuple[dict[str, Any], dict[str, float]]:
    """Run :func:`_interactions` in a fresh process: its memory is the app's alone (not this
    process's, which may just have built the store)."""
    code = (
        "import json, sys\n"
        "from tests.bench.gui_bench import _interactions, _memory\n"
        "out = _interactions(__import__('pathlib').Path(sys.argv[1]), int(sys.argv[2]))\n"
        "print('RESULT ' + json.dumps({'interactions': out, 'memory': _memory()}), flush=True)\n"
        "import os; os._exit(0)  # skip interpreter teardown: the result is out\n"
    )
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-c", code, str(db), str(now)],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            data = json.loads(line[len("RESULT ") :])
            return data["interactions"], data["memory"]
    raise RuntimeError(f"the interaction run failed:\n{done.stderr[-4000:]}")


def _asc() -> Any:
    from PySide6.QtCore import Qt

    return Qt.SortOrder.AscendingOrder


def _pick(combo: Any, value: Any) -> None:
    combo.setCurrentIndex(max(combo.findData(value), 0))


def _memory() -> dict[str, float]:
    status = Path("/proc/self/status")
    out: dict[str, float] = {}
    if status.exists():
        for line in status.read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[{"VmRSS": "rss_mb", "VmHWM": "peak_rss_mb"}[key]] = round(
                    int(rest.split()[0]) / 1024, 1
                )
    return out


def run(args: argparse.Namespace) -> int:
    from sync.model.calendar import SHANGHAI
    from sync.model.clock import to_millis
    from tests.bench import store_bench

    now = to_millis(dt.datetime.fromisoformat(args.now))
    if args.db is not None:
        db, build = args.db, {"cached": True, "given": str(args.db)}
    else:
        db = store_bench._cache_path(args, now)
        build = store_bench._build(args, db, now)
    launches = [_launch(db, now) for _ in range(max(1, args.launches))]
    interactions, memory = _interactions_in_child(db, now)
    worst = max(v["max_stall_ms"] for v in interactions.values())
    worst_cpu = max(v["max_gui_cpu_ms"] for v in interactions.values())
    memory["max_rss_during_use_mb"] = max(v["rss_mb"] for v in interactions.values())
    usable = statistics.median(launch["usable_s"] for launch in launches)
    result: dict[str, Any] = {
        "benchmark": "gui",
        "command": "python -m tests.bench gui " + " ".join(sys.argv[2:]),
        "date": dt.datetime.now(SHANGHAI).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load": os.getloadavg(),
        },
        "params": {"cases": args.cases, "county": args.county, "launches": args.launches},
        "store": str(db),
        "store_bytes": db.stat().st_size,
        "build": build,
        "targets": TARGETS,
        "launch": {
            "runs": launches,
            "usable_s_median": usable,
            "dashboard_s_median": statistics.median(x["dashboard_s"] for x in launches),
        },
        "interactions": interactions,
        "memory": memory,
        "verdict": {
            "usable": usable < TARGETS["usable_s"],
            "stalls": worst <= TARGETS["stall_ms"],
            "worst_stall_ms": worst,
            "worst_gui_cpu_ms": worst_cpu,
            "memory": memory.get("peak_rss_mb", 0) < TARGETS["rss_mb"],
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"store {db} ({result['store_bytes'] / 1e6:,.0f} MB)")
    print(
        f"launch: usable {usable:.2f} s, dashboard "
        f"{result['launch']['dashboard_s_median']:.2f} s (median of {len(launches)})"
    )
    for name, r in interactions.items():
        print(
            f"  {name:<34} result {r['result_ms']:>8.1f} ms  max stall {r['max_stall_ms']:>6.1f}"
            f" ms  p99 {r['p99_stall_ms']:>5.1f} ms  gui cpu {r['max_gui_cpu_ms']:>5.1f} ms"
            f"  rows {r['rows_loaded']:>6} / {r['total']}"
            f"  rss {r['rss_mb']:>6.0f} MB"
        )
    print(f"memory: {memory}")
    print(f"verdict: {result['verdict']}")
    print(f"written: {args.out}")
    return 0
