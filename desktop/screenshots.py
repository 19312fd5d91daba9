"""``gridroom --screenshots DIR``: render every main view to PNG and exit.

Used for docs/screenshots and to eyeball the UI on a machine without a display (the offscreen
platform): each page is shown, its background reads are awaited, and the window is grabbed.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication

from sync.model.calendar import SHANGHAI
from sync.model.clock import from_millis
from sync.stats.periods import Period
from sync.store.queries import CaseQuery

from .mainwindow import MainWindow

SIZE = (1440, 900)


def settle(window: MainWindow, timeout: float = 20.0) -> None:
    """Process events until no background read is pending and nothing is left to draw."""
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        busy = window.ctx.ops.busy() or any(
            getattr(page, "loading", lambda: False)() for page in window.pages.values()
        )
        quiet = 0 if busy else quiet + 1
        if quiet >= 5:
            return
        time.sleep(0.02)


def _pick_case(window: MainWindow) -> dict[str, Any] | None:
    """A case worth showing: open and overdue if any, else the newest."""
    store = window.ctx.ops.gui_store()
    for query in (CaseQuery(light="red", open_only=True), CaseQuery(open_only=True), CaseQuery()):
        rows = store.cases(query, limit=1)
        if rows:
            return rows[0]
    return None


def _pick_grid(window: MainWindow) -> str | None:
    """A grid with a full team and some open cases, for the grid page."""
    store = window.ctx.ops.gui_store()
    counts = store.open_by_grid()
    best = sorted(counts.items(), key=lambda kv: (-kv[1][1], -kv[1][0]))
    for code, _n in best:
        if store.staff(code):
            return code
    grids = store.grids()
    return grids[0].code if grids else None


def _busiest_village(window: MainWindow) -> str | None:
    """The village with the most open cases that has an outline on the map."""
    store = window.ctx.ops.gui_store()
    rows = store.read(
        "SELECT c.village_code FROM cases c JOIN shapes s ON s.code = c.village_code "
        "WHERE c.closed_at IS NULL GROUP BY c.village_code ORDER BY count(*) DESC LIMIT 1"
    )
    return str(rows[0][0]) if rows else None


def last_month(window: MainWindow) -> Period:
    """The month before the store's today: what a monthly report is about."""
    today = from_millis(window.ctx.ops.gui_store().now()).astimezone(SHANGHAI).date()
    return Period.of("month", today.replace(day=1) - dt.timedelta(days=1))


def shoot(window: MainWindow, out_dir: Path) -> list[Path]:
    """Render each view of ``window`` to ``out_dir``; returns the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    window.resize(*SIZE)
    window.show()
    QApplication.processEvents()
    written: list[Path] = []

    def grab(name: str) -> None:
        settle(window)
        path = out_dir / f"{name}.png"
        if not window.grab().save(str(path)):
            raise OSError(f"could not write {path}")
        written.append(path)

    window.go("dashboard")
    window.dashboard.refresh()
    grab("dashboard")
    window.show_cases(CaseQuery(open_only=True))
    grab("cases")
    case = _pick_case(window)
    if case is not None:
        window.open_case(case["id"])
        grab("case-detail")
    window.show_cases(CaseQuery(light="red"))
    window.cases.close_detail()
    grab("cases-overdue")
    window.go("new_case")
    grab("new-case")
    window.go("grids")
    settle(window)
    grid = _pick_grid(window)
    if grid is not None:
        window.grids.select(grid)
    grab("grids")
    # The map follows the case list's filter: show it with the open cases, then a village
    # close up with the closed cases too (the labels and single markers of a street view).
    window.cases.list.show_query(CaseQuery(open_only=True))
    window.go("map")
    grab("map")
    village = _busiest_village(window)
    if village is not None and window.map.go_to_place(village):
        window.map.follow_list.setChecked(False)  # the list shows open cases only
        window.map.set_layer("closed", True)
        grab("map-village")
        window.map.set_layer("closed", False)
        window.map.follow_list.setChecked(True)
        window.map.fit()
    window.go("stats")
    window.stats.set_period(last_month(window))
    grab("stats")
    window.go("fieldwork")
    grab("fieldwork-visits")
    window.fieldwork.setCurrentWidget(window.fieldwork.ledger)
    grab("fieldwork-ledger")
    window.go("sync")
    grab("sync")
    window.go("settings")
    grab("settings")
    window.go("dashboard")
    return written
