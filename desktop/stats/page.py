"""The 统计 page: any period's figures beside the previous period and the same period last
year, breakdowns with a bar chart, the 考核 ranking, and the monthly report.

Everything is read in the background (:mod:`desktop.ops`) from :mod:`sync.stats`; every row
and bar lands on the matching case list (``AppContext.show_cases``), as on the dashboard.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sync.model.calendar import SHANGHAI
from sync.model.clock import from_millis
from sync.stats.core import Figures, Statistics, UnitFigures, breakdowns_for
from sync.stats.periods import KINDS, Period
from sync.stats.report import collect, signed, write
from sync.stats.scoring import (
    COMPONENT_NAMES,
    DEFAULT_WEIGHTS,
    BadWeights,
    Score,
    ranking,
    rankings_for,
    store_weights,
)
from sync.store.queries import CaseQuery

from ..context import AppContext
from ..dashboard.charts import BarChart
from ..errors import show_error
from ..labels import level as level_word
from ..labels import percent
from ..labels import source as source_word

KEY_ROLE = Qt.ItemDataRole.UserRole


@dataclass
class StatsData:
    """What the page shows for one period (read in a worker thread)."""

    period: Period
    now: int
    compare: dict[str, Figures]
    breakdowns: dict[str, list[Any]]
    rankings: dict[str, list[Score]]
    #: Why the county's weights could not be used (the defaults apply), or None.
    weights_problem: BadWeights | None = None


def load(store: Any, period: Period) -> StatsData:
    stats = Statistics(store)
    breakdowns = stats.breakdowns(period, breakdowns_for(store))
    problem: BadWeights | None = None
    try:
        weights = store_weights(store)
    except BadWeights as exc:  # a bad county setting must not hide the figures
        weights, problem = dict(DEFAULT_WEIGHTS), exc
    rankings = {
        by: ranking(stats, period, by, weights, breakdown=breakdowns[by])
        for by in rankings_for(store)
    }
    return StatsData(period, stats.now, stats.compare(period), breakdowns, rankings, problem)


def _number(key: str, value: Any) -> str:
    if value is None:
        return "—"
    if key.endswith("_rate"):
        return percent(value)
    if key == "avg_days":
        return f"{value:.1f}"
    return f"{int(value):,}"


def _change(key: str, now: Any, then: Any, points: str = "%1 pt") -> str:
    """The change between two figures; rates change by percentage points (``points``)."""
    if now is None or then is None:
        return "—"
    d = now - then
    if key.endswith("_rate"):
        return points.replace("%1", signed(d * 100))
    if key == "avg_days":
        return signed(d)
    return f"{int(d):+,}"


class StatsTable(QTableWidget):
    """A read-only table whose rows may carry a key; activating a row emits it.

    Signals:
        row_chosen(str): the user clicked (or pressed Enter on) the row with this key.
    """

    row_chosen = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.cellActivated.connect(self._chosen)
        self.cellClicked.connect(self._chosen)

    def fill(self, headers: list[str], rows: list[tuple[str, list[str], str]]) -> None:
        """``rows``: (key, cell texts, tooltip). Numbers are right-aligned."""
        self.clear()
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.setRowCount(len(rows))
        for r, (key, cells, tip) in enumerate(rows):
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(KEY_ROLE, key)
                if tip:
                    item.setToolTip(tip)
                if c > 0:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                self.setItem(r, c, item)

    def keys(self) -> list[str]:
        items = (self.item(r, 0) for r in range(self.rowCount()))
        return [str(i.data(KEY_ROLE)) for i in items if i is not None]

    def choose(self, row: int) -> None:
        """What a click on ``row`` does (tests and keyboard users)."""
        self._chosen(row, 0)

    def _chosen(self, row: int, _column: int) -> None:
        item = self.item(row, 0)
        key = item.data(KEY_ROLE) if item is not None else None
        if key is not None and key != "":
            self.row_chosen.emit(str(key))


class StatsPage(QScrollArea):
    """The statistics page.

    Signals:
        loaded(): new figures are on screen.
        report_written(str): the report was written to this path.
    """

    loaded = Signal()
    report_written = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statsPage")
        self.setWidgetResizable(True)
        self._ctx = ctx
        self._data: StatsData | None = None
        self._loading = False
        self._again = False
        self._stale = True
        body = QWidget(self)
        self.setWidget(body)

        self.heading = QLabel(self.tr("Statistics"), body)
        self.heading.setObjectName("pageTitle")
        self.kind = QComboBox(body)
        self.kind.setObjectName("periodKind")
        kind_words = {
            "day": self.tr("Day"),
            "week": self.tr("Week"),
            "month": self.tr("Month"),
            "quarter": self.tr("Quarter"),
            "year": self.tr("Year"),
            "custom": self.tr("Custom range"),
        }
        for kind in KINDS:
            self.kind.addItem(kind_words[kind], kind)
        self.kind.setCurrentIndex(KINDS.index("month"))
        today = from_millis(ctx.ops.gui_store().now()).astimezone(SHANGHAI).date()
        self.day = QDateEdit(QDate(today.year, today.month, today.day), body)
        self.day.setObjectName("periodDay")
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.until = QDateEdit(QDate(today.year, today.month, today.day), body)
        self.until.setObjectName("periodUntil")
        self.until.setCalendarPopup(True)
        self.until.setDisplayFormat("yyyy-MM-dd")
        self.until_label = QLabel(self.tr("to"), body)
        self.period_label = QLabel("", body)
        self.period_label.setObjectName("periodLabel")
        self.reading = QLabel(self.tr("Reading the figures…"), body)
        self.reading.setObjectName("hint")
        self.reading.setVisible(False)
        self.export_button = QPushButton(self.tr("Export monthly report"), body)
        self.export_button.setObjectName("exportReport")
        self.export_button.setToolTip(
            self.tr("Write this period's report as PDF (to print) or Excel workbook")
        )

        self.headline = StatsTable("statsHeadline", body)
        self.headline.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.headline.horizontalHeader().setStretchLastSection(False)

        self.breakdown_by = QComboBox(body)
        self.breakdown_by.setObjectName("breakdownBy")
        self.ranking_by = QComboBox(body)
        self.ranking_by.setObjectName("rankingBy")
        self._dimension_words = {
            "township": self.tr("Township"),
            "category": self.tr("Category"),
            "village": self.tr("Village / community"),
            "grid": self.tr("Grid"),
            "department": self.tr("Department"),
            "worker": self.tr("Reporter"),
            "source": self.tr("Source"),
            "level": self.tr("Level"),
        }
        store = ctx.ops.gui_store()
        for by in breakdowns_for(store):
            self.breakdown_by.addItem(self._dimension_words[by], by)
        for by in rankings_for(store):
            self.ranking_by.addItem(self._dimension_words[by], by)
        self.breakdown = StatsTable("statsBreakdown", body)
        self.chart = BarChart(self.tr("Cases received (top 10)"), horizontal=True)
        self.chart.setObjectName("statsChart")
        self.ranking = StatsTable("statsRanking", body)
        self.ranking_note = QLabel(
            self.tr("Hover over a score to see how it is made up. Click a row for its cases."),
            body,
        )
        self.ranking_note.setObjectName("hint")
        self.ranking_note.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addSpacing(16)
        top.addWidget(self.kind)
        top.addWidget(self.day)
        top.addWidget(self.until_label)
        top.addWidget(self.until)
        top.addWidget(self.period_label)
        top.addWidget(self.reading)
        top.addStretch(1)
        top.addWidget(self.export_button)
        by_row = QHBoxLayout()
        by_row.addWidget(QLabel(self.tr("Break down by"), body))
        by_row.addWidget(self.breakdown_by)
        by_row.addStretch(1)
        rank_row = QHBoxLayout()
        rank_row.addWidget(QLabel(self.tr("Assessment ranking by"), body))
        rank_row.addWidget(self.ranking_by)
        rank_row.addStretch(1)
        ranking_box = QVBoxLayout()
        ranking_box.addLayout(rank_row)
        ranking_box.addWidget(self.ranking, 1)
        ranking_box.addWidget(self.ranking_note)
        grid = QGridLayout()
        grid.addWidget(self.headline, 0, 0)
        grid.addLayout(ranking_box, 0, 1)
        grid.addLayout(by_row, 1, 0, 1, 2)
        grid.addWidget(self.breakdown, 2, 0)
        grid.addWidget(self.chart, 2, 1)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setRowStretch(2, 1)
        self.breakdown.setMinimumHeight(340)
        self.chart.setMinimumHeight(340)
        box = QVBoxLayout(body)
        box.setContentsMargins(16, 12, 16, 12)
        box.setSpacing(10)
        box.addLayout(top)
        box.addLayout(grid, 1)

        self.kind.currentIndexChanged.connect(self._period_changed)
        self.day.dateChanged.connect(self._period_changed)
        self.until.dateChanged.connect(self._period_changed)
        self.breakdown_by.currentIndexChanged.connect(self._show_breakdown)
        self.ranking_by.currentIndexChanged.connect(self._show_ranking)
        self.breakdown.row_chosen.connect(self._breakdown_chosen)
        self.chart.bar_clicked.connect(self._breakdown_chosen)
        self.ranking.row_chosen.connect(self._ranking_chosen)
        self.export_button.clicked.connect(self._ask_export)
        ctx.cases_changed.connect(lambda _ids: self._changed())
        self._sync_custom()

    # -- the period -----------------------------------------------------------------------------

    def period(self) -> Period:
        kind = self.kind.currentData()
        day = self.day.date().toPython()
        assert isinstance(day, dt.date)
        if kind == "custom":
            until = self.until.date().toPython()
            assert isinstance(until, dt.date)
            return Period("custom", min(day, until), max(day, until))
        return Period.of(kind, day)

    def set_period(self, period: Period) -> None:
        """Show ``period`` (reads the figures again)."""
        self.kind.blockSignals(True)
        self.day.blockSignals(True)
        self.until.blockSignals(True)
        self.kind.setCurrentIndex(KINDS.index(period.kind))
        self.day.setDate(QDate(period.first.year, period.first.month, period.first.day))
        self.until.setDate(QDate(period.last.year, period.last.month, period.last.day))
        self.kind.blockSignals(False)
        self.day.blockSignals(False)
        self.until.blockSignals(False)
        self._period_changed()

    def _sync_custom(self) -> None:
        custom = self.kind.currentData() == "custom"
        self.until.setVisible(custom)
        self.until_label.setVisible(custom)

    def _period_changed(self) -> None:
        self._sync_custom()
        p = self.period()
        self.period_label.setText(f"{p.first:%Y-%m-%d} — {p.last:%Y-%m-%d}")
        self.refresh()

    # -- loading --------------------------------------------------------------------------------

    @property
    def data(self) -> StatsData | None:
        return self._data

    def loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._stale = False
        self.reading.setVisible(True)  # a county's year takes seconds
        period = self.period()
        self._ctx.ops.read(lambda store: load(store, period)).success(self._show).failure(
            self._failed
        ).run()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if self._stale:
            self._period_changed()

    def _changed(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.reading.setVisible(False)
        show_error(self, exc, self.tr("Reading statistics"))

    def _show(self, data: StatsData) -> None:
        self._loading = False
        if self._again:
            self._again = False
            self.refresh()
            return
        self.reading.setVisible(False)
        self._data = data
        self._show_headline()
        self._show_breakdown()
        self._show_ranking()
        self.loaded.emit()

    # -- figures --------------------------------------------------------------------------------

    def figure_names(self) -> dict[str, str]:
        return {
            "total": self.tr("Cases received"),
            "valid": self.tr("Valid cases"),
            "closed": self.tr("Closed"),
            "closure_rate": self.tr("Closure rate"),
            "on_time_rate": self.tr("On-time closure rate"),
            "satisfaction_rate": self.tr("Satisfaction rate"),
            "self_rate": self.tr("Self-handled rate"),
            "resolution_rate": self.tr("Dispute resolution rate"),
            "avg_days": self.tr("Average handling time (working days)"),
            "overdue": self.tr("Overdue"),
            "urged": self.tr("Urged"),
            "return_rate": self.tr("Return rate"),
            "verify_fail_rate": self.tr("Verification failure rate"),
            "parked": self.tr("Parked"),
        }

    def _show_headline(self) -> None:
        assert self._data is not None
        cur, prev, ago = (self._data.compare[k] for k in ("current", "previous", "year_ago"))
        headers = [
            self.tr("Figure"),
            self.tr("This period"),
            self.tr("Previous period"),
            self.tr("Change"),
            self.tr("Same period last year"),
            self.tr("Change"),
        ]
        # A change of a rate, in percentage points: "+1.4 pt".
        points = self.tr("%1 pt")
        rows = []
        for key, name in self.figure_names().items():
            a, b, c = cur.value(key), prev.value(key), ago.value(key)
            cells = [name, _number(key, a), _number(key, b), _change(key, a, b, points)]
            cells += [_number(key, c), _change(key, a, c, points)]
            rows.append(("", cells, ""))
        self.headline.fill(headers, rows)
        self.headline.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.headline.resizeRowsToContents()
        height = self.headline.horizontalHeader().height() + 4
        height += sum(self.headline.rowHeight(r) for r in range(self.headline.rowCount()))
        self.headline.setFixedHeight(height)

    def current_breakdown(self) -> str:
        return str(self.breakdown_by.currentData())

    def current_ranking(self) -> str:
        return str(self.ranking_by.currentData())

    def _group_name(self, by: str, row: Figures | UnitFigures) -> str:
        if by == "source":
            return source_word(row.key) or self.tr("(not given)")
        if by == "level" and row.key:
            return level_word(int(row.key))
        return row.name or row.key or self.tr("(not given)")

    def _show_breakdown(self) -> None:
        if self._data is None:
            return
        by = self.current_breakdown()
        rows = self._data.breakdowns[by]
        if by == "department":
            headers = [
                self._dimension_words[by],
                self.tr("Assigned"),
                self.tr("Lead"),
                self.tr("Assisting"),
                self.tr("Fed back on time"),
                self.tr("Returned"),
                self.tr("Closure rate (as lead)"),
                self.tr("Satisfaction (as lead)"),
                self.tr("Verification failure rate (as lead)"),
            ]
            table = [
                (
                    u.key,
                    [
                        self._group_name(by, u),
                        f"{u.assigned:,}",
                        f"{u.led:,}",
                        f"{u.assisted:,}",
                        percent(u.feedback_on_time_rate),
                        f"{u.returned:,}",
                        percent(u.closure_rate),
                        percent(u.satisfaction_rate),
                        percent(u.verify_fail_rate),
                    ],
                    "",
                )
                for u in rows
            ]
            bars = [(u.key, self._group_name(by, u), u.assigned) for u in rows[:10]]
        else:
            headers = [
                self._dimension_words[by],
                self.tr("Cases received"),
                self.tr("Closed"),
                self.tr("Closure rate"),
                self.tr("On-time closure rate"),
                self.tr("Satisfaction rate"),
                self.tr("Self-handled rate"),
                self.tr("Average days"),
                self.tr("Overdue"),
                self.tr("Urged"),
            ]
            table = [
                (
                    f.key,
                    [
                        self._group_name(by, f),
                        f"{f.total:,}",
                        f"{f.closed:,}",
                        percent(f.closure_rate),
                        percent(f.on_time_rate),
                        percent(f.satisfaction_rate),
                        percent(f.self_rate),
                        _number("avg_days", f.avg_days),
                        f"{f.overdue:,}",
                        f"{f.urged:,}",
                    ],
                    "",
                )
                for f in rows
            ]
            bars = [(f.key, self._group_name(by, f), f.total) for f in rows[:10]]
        self.breakdown.fill(headers, table)
        self.chart.set_items(bars)

    def weights_problem_text(self, exc: BadWeights) -> str:
        """What is wrong with the county's weights, in the user's language."""

        def component(name: str) -> str:
            zh = COMPONENT_NAMES.get(name, ("", ""))[0]
            return f"{name}（{zh}）" if zh else name

        if exc.problem == "json":
            return self.tr("the county's weights are not valid JSON")
        if exc.problem == "not_object":
            example = '{"timeliness": 40}'
            return self.tr("the county's weights must be a JSON object like %1").replace(
                "%1", example
            )
        if exc.problem == "unknown":
            known = self.tr(", ").join(component(n) for n in DEFAULT_WEIGHTS)
            text = self.tr("the county's weights name an unknown component %1 (known: %2)")
            return text.replace("%1", repr(exc.name)).replace("%2", known)
        if exc.problem == "negative":
            return self.tr("the county's weight of %1 must be a number of 0 or more").replace(
                "%1", component(exc.name)
            )
        if exc.problem == "all_zero":
            return self.tr("the county's weights are all 0; at least one must be above 0")
        return str(exc)

    def _show_ranking(self) -> None:
        if self._data is None:
            return
        note = self.tr("Hover over a score to see how it is made up. Click a row for its cases.")
        if self._data.weights_problem is not None:
            warning = self.tr("The default weights apply: %1").replace(
                "%1", self.weights_problem_text(self._data.weights_problem)
            )
            note = f"{warning}\n{note}"
        self.ranking_note.setText(note)
        by = self.current_ranking()
        headers = [
            self.tr("Rank"),
            self._dimension_words[by],
            self.tr("Score"),
            self.tr("Cases"),
        ]
        rows = [
            (
                s.key,
                [
                    str(s.rank),
                    s.name,
                    "—" if s.score is None else f"{s.score:.1f}",
                    f"{s.volume:,}",
                ],
                s.explain(),
            )
            for s in self._data.rankings[by]
        ]
        self.ranking.fill(headers, rows)
        for r in range(self.ranking.rowCount()):
            item = self.ranking.item(r, 1)
            if item is not None:
                item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    # -- click-through --------------------------------------------------------------------------

    def query_for(self, by: str, key: str) -> CaseQuery | None:
        """The case list behind one row or bar of ``by`` in the shown period."""
        p = self.period()
        base = CaseQuery(reported_from=p.start, reported_to=p.end)
        if by == "category":
            return base.with_(category=key)
        if by == "village":
            return base.with_(village_code=key)
        if by == "township":
            return base.with_(township_code=key)
        if by == "grid":
            return base.with_(grid_code=key)
        if by == "worker":
            return base.with_(reporter_id=key)
        if by == "source":
            return base.with_(source=key)
        if by == "level":
            return base.with_(level=int(key))
        if by == "department":
            # Every case of the period ever dispatched to the unit: the row's 承办 count.
            return base.with_(dispatched_to=key)
        raise ValueError(f"no case list for {by!r}")

    def _breakdown_chosen(self, key: str) -> None:
        query = self.query_for(self.current_breakdown(), key)
        if query is not None:
            self._ctx.show_cases(query)

    def _ranking_chosen(self, key: str) -> None:
        query = self.query_for(self.current_ranking(), key)
        if query is not None:
            self._ctx.show_cases(query)

    # -- the report -----------------------------------------------------------------------------

    def _ask_export(self) -> None:
        p = self.period()
        suggested = Path.home() / self.tr("report-%1.pdf").replace("%1", p.text)
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export monthly report"),
            str(suggested),
            self.tr("PDF (*.pdf);;Excel workbook (*.xlsx)"),
        )
        if path:
            if not path.lower().endswith((".pdf", ".xlsx")):
                path += ".pdf"
            self.export(Path(path))

    def export(self, path: Path) -> Any:
        """Write the shown period's report to ``path`` in the background, with progress."""
        period = self.period()

        def work(store: Any, progress: Any) -> Path:
            data = collect(store, period, progress=lambda done, total: progress(done, total))
            return write(data, path)

        return (
            self._ctx.ops.read(work)
            .with_progress(self, self.tr("Writing the report…"))
            .success(lambda out: self.report_written.emit(str(out)))
            .failure(lambda exc: show_error(self, exc, self.tr("Writing the report")))
            .run()
        )
