"""The 工作台 page: what a command room watches all day.

Top: today's intake and the waiting piles, with overdue in red and soon-due in yellow. Middle:
this month's 办结率, 按期办结率, 满意率 and 自处率. Bottom: the top of each pile as a list
(click → the case) and charts by category, village and week (click a bar → the matching list).
Every figure is a link to the case list that explains it. Everything is read in one background
operation; the page shows the last figures until the new ones arrive, so it never blocks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sync.model.records import DONE_STATUSES
from sync.store.queries import CaseQuery

from .. import labels
from ..cases.list_model import LIGHT_COLOURS, light_icon
from ..context import AppContext
from ..errors import show_error
from ..names import of as names_of
from .charts import BarChart
from .data import TOP_N, Snapshot, day_start, list_queries, load

#: Refresh at least this often: lights turn yellow and red with the clock, not only on writes.
REFRESH_MS = 60_000


class Figure(QPushButton):
    """A big number with a caption; clicking it shows the cases behind it."""

    def __init__(self, name: str, caption: str, tone: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(f"figure_{name}")
        self.setProperty("figure", True)
        self.setProperty("tone", tone)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.value = QLabel("—", self)
        self.value.setObjectName("figureValue")
        self.caption = QLabel(caption, self)
        self.caption.setObjectName("figureCaption")
        self.note = QLabel("", self)
        self.note.setObjectName("figureNote")
        box = self._box = QVBoxLayout(self)
        box.setContentsMargins(14, 10, 14, 10)
        box.setSpacing(2)
        for label in (self.value, self.caption, self.note):
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            box.addWidget(label)
        self.note.setVisible(False)
        self.setAccessibleName(caption)

    def sizeHint(self) -> QSize:
        # A push button sizes itself by its own text; this one shows child labels instead.
        return self._box.sizeHint()

    def minimumSizeHint(self) -> QSize:
        return self._box.minimumSize()

    def set_value(self, text: str, note: str = "") -> None:
        self.value.setText(text)
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self.setAccessibleDescription(f"{text} {note}".strip())


class CaseTopList(QTableWidget):
    """A short list of cases; a click or Enter opens the case.

    Signals:
        case_chosen(str): the user picked the case with this id.
    """

    case_chosen = Signal(str)

    def __init__(self, name: str, headers: list[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setObjectName(f"list_{name}")
        self.setHorizontalHeaderLabels(headers)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.clicked.connect(self._chosen)

    def _chosen(self, index: QModelIndex) -> None:
        item = self.item(index.row(), 0)
        if item is not None and item.data(Qt.ItemDataRole.UserRole):
            self.case_chosen.emit(item.data(Qt.ItemDataRole.UserRole))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentIndex().isValid():
            self._chosen(self.currentIndex())
            event.accept()
            return
        super().keyPressEvent(event)

    def case_ids(self) -> list[str]:
        out = []
        for row in range(self.rowCount()):
            item = self.item(row, 0)
            if item is not None:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out


class DashboardPage(QScrollArea):
    """The dashboard.

    Signals:
        loaded(): new figures are on screen.
    """

    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._ctx = ctx
        self._names = names_of(ctx)
        self._snapshot: Snapshot | None = None
        self._loading = False
        self._again = False
        self._stale = True

        body = QWidget(self)
        body.setObjectName("dashboardBody")
        self.setWidget(body)

        self.heading = QLabel(self.tr("Today"), body)
        self.heading.setObjectName("pageTitle")
        self.updated = QLabel("", body)
        self.updated.setObjectName("updatedAt")

        self.figures: dict[str, Figure] = {
            "today_intake": Figure("today_intake", self.tr("Reported today"), "", body),
            "awaiting_acceptance": Figure(
                "awaiting_acceptance", self.tr("Awaiting acceptance"), "", body
            ),
            "awaiting_verification": Figure(
                "awaiting_verification", self.tr("Awaiting verification"), "", body
            ),
            "overdue": Figure("overdue", self.tr("Overdue"), "red", body),
            "soon_due": Figure("soon_due", self.tr("Due soon"), "yellow", body),
        }
        self.rates: dict[str, Figure] = {
            "closure_rate": Figure("closure_rate", self.tr("Closure rate"), "rate", body),
            "on_time_rate": Figure("on_time_rate", self.tr("On-time closure rate"), "rate", body),
            "satisfaction_rate": Figure(
                "satisfaction_rate", self.tr("Satisfaction rate"), "rate", body
            ),
            "self_handled_rate": Figure(
                "self_handled_rate", self.tr("Solved in the grid"), "rate", body
            ),
        }
        self.rates["closure_rate"].setToolTip(
            self.tr("Cases reported this month that are closed, of those not rejected or merged")
        )
        self.rates["on_time_rate"].setToolTip(
            self.tr("Closed cases of this month that were closed before their deadline")
        )
        self.rates["satisfaction_rate"].setToolTip(
            self.tr("Evaluated cases of this month rated satisfied or basically satisfied")
        )
        self.rates["self_handled_rate"].setToolTip(
            self.tr("Cases of this month a grid worker solved on the spot (self-handled)")
        )
        for name, fig in {**self.figures, **self.rates}.items():
            fig.clicked.connect(lambda _checked=False, n=name: self.open_figure(n))

        headers = [self.tr("Case no."), self.tr("Title"), self.tr("Village"), self.tr("Deadline")]
        self.lists: dict[str, CaseTopList] = {}
        self.tabs = QTabWidget(body)
        self.tabs.setObjectName("dashboardLists")
        for name, title in (
            ("overdue", self.tr("Overdue")),
            ("soon_due", self.tr("Due soon")),
            ("awaiting_acceptance", self.tr("Awaiting acceptance")),
            ("awaiting_verification", self.tr("Awaiting verification")),
            ("today_intake", self.tr("Reported today")),
        ):
            table = CaseTopList(name, headers, self.tabs)
            table.case_chosen.connect(ctx.open_case)
            self.lists[name] = table
            self.tabs.addTab(table, title)
        self._tab_titles = [self.tabs.tabText(i) for i in range(self.tabs.count())]
        self.show_all = QPushButton(self.tr("Show all in the case list"), body)
        self.show_all.setObjectName("showAll")
        self.show_all.clicked.connect(lambda: self.open_figure(self._current_list()))

        self.by_category = BarChart(self.tr("Last 30 days by category"), horizontal=True)
        self.by_village = BarChart(self.tr("Last 30 days by village (top 10)"), horizontal=True)
        self.by_week = BarChart(self.tr("Cases per week"), horizontal=False)
        self.by_category.setObjectName("chartCategory")
        self.by_village.setObjectName("chartVillage")
        self.by_week.setObjectName("chartWeek")
        self.by_category.bar_clicked.connect(self._category_clicked)
        self.by_village.bar_clicked.connect(self._village_clicked)
        self.by_week.bar_clicked.connect(self._week_clicked)

        top = QHBoxLayout()
        top.addWidget(self.heading)
        top.addStretch(1)
        top.addWidget(self.updated)
        figures = QHBoxLayout()
        for fig in self.figures.values():
            figures.addWidget(fig)
        self.month_label = QLabel(self.tr("This month"), body)
        self.month_label.setObjectName("sectionTitle")
        rates = QHBoxLayout()
        for fig in self.rates.values():
            rates.addWidget(fig)
        lists_box = QVBoxLayout()
        lists_box.addWidget(self.tabs, 1)
        lists_box.addWidget(self.show_all, 0, Qt.AlignmentFlag.AlignRight)
        grid = QGridLayout()
        grid.addLayout(lists_box, 0, 0)
        grid.addWidget(self.by_category, 0, 1)
        grid.addWidget(self.by_village, 1, 0)
        grid.addWidget(self.by_week, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        box = QVBoxLayout(body)
        box.setContentsMargins(16, 12, 16, 12)
        box.setSpacing(10)
        box.addLayout(top)
        box.addLayout(figures)
        box.addWidget(self.month_label)
        box.addLayout(rates)
        box.addLayout(grid, 1)
        # 待审批 among the figures and, on a county-scope device, the county board.
        from ..county.board import CountyPanel

        self.county = CountyPanel(ctx, self, figures)
        box.insertWidget(2, self.county)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(1000)  # a burst of writes refreshes once
        self._debounce.timeout.connect(self.refresh)
        ctx.cases_changed.connect(lambda _ids: self._changed())

    # -- loading --------------------------------------------------------------------------------

    @property
    def snapshot(self) -> Snapshot | None:
        return self._snapshot

    def loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        """Read the figures again in the background (one read at a time)."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._stale = False
        self._ctx.ops.read(load).success(self._show).failure(self._failed).run()

    def _tick(self) -> None:
        # Lights change with the clock: re-read now if on screen, else when next shown.
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _changed(self) -> None:
        if self.isVisible():
            self._debounce.start()
        else:
            self._stale = True  # read when next shown

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale and not self._loading:
            self.refresh()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.updated.setText(self.tr("Could not read the figures"))
        show_error(self, exc, self.tr("Reading the dashboard"))

    def _show(self, snap: Snapshot) -> None:
        self._loading = False
        self._snapshot = snap
        k = snap.kpis
        for name, fig in self.figures.items():
            fig.set_value(f"{int(k.get(name) or 0):,}")
        month_note = self.tr("%1 cases this month").replace("%1", f"{k.get('month_total', 0):,}")
        for name, fig in self.rates.items():
            fig.set_value(labels.percent(k.get(name)), month_note)
        self.month_label.setText(self.tr("This month (%1)").replace("%1", str(k.get("month", ""))))
        for i, name in enumerate(self.lists):
            self._fill_list(self.lists[name], snap.lists.get(name, []), name, snap.now)
            count = int(k.get(name) or 0)
            self.tabs.setTabText(i, f"{self._tab_titles[i]} ({count:,})")
        taxonomy = self._names.taxonomy
        self.by_category.set_items(
            [
                (code, self._names.category_short(code) if taxonomy else code, n)
                for code, n in sorted(snap.by_major, key=lambda kv: -kv[1])
                if code
            ]
        )
        villages = sorted(
            ((code, n) for code, n in snap.by_village if code and code != "None"),
            key=lambda kv: -kv[1],
        )[:10]
        self.by_village.set_items([(code, self._names.village(code), n) for code, n in villages])
        self.by_week.set_items(
            [(monday, f"{int(monday[5:7])}/{int(monday[8:10])}", n) for monday, n in snap.by_week]
        )
        self.updated.setText(
            self.tr("Updated %1").replace("%1", labels.when(snap.now, seconds=True))
        )
        self.loaded.emit()
        if self._again:
            self._again = False
            self.refresh()

    def _fill_list(
        self, table: CaseTopList, rows: list[dict[str, Any]], name: str, now: int
    ) -> None:
        table.setRowCount(len(rows))
        for r, row in enumerate(rows[:TOP_N]):
            case_no = QTableWidgetItem(row.get("case_no") or "")
            case_no.setData(Qt.ItemDataRole.UserRole, row["id"])
            title = QTableWidgetItem(row.get("title") or "")
            title.setToolTip(row.get("title") or "")
            village = QTableWidgetItem(self._names.village(row.get("village_code")))
            if name in ("overdue", "soon_due") or (
                row.get("due_at") is not None and name != "today_intake"
            ):
                when = labels.due(row.get("due_at"), now)
            else:
                when = labels.when(row.get("reported_at"))
            deadline = QTableWidgetItem(when)
            light = row.get("light")
            if light in ("red", "yellow"):
                deadline.setIcon(light_icon(light))
                deadline.setForeground(LIGHT_COLOURS[light].darker(120))
            for c, item in enumerate((case_no, title, village, deadline)):
                table.setItem(r, c, item)

    def _current_list(self) -> str:
        return list(self.lists)[max(self.tabs.currentIndex(), 0)]

    # -- figures → case list --------------------------------------------------------------------

    def query_for(self, name: str) -> CaseQuery:
        """The case list behind a figure or a list."""
        snap = self._snapshot
        today = snap.today_start if snap else 0
        month: dict[str, Any] = (
            {"reported_from": snap.month_start, "reported_to": snap.month_end} if snap else {}
        )
        done = tuple(s.value for s in DONE_STATUSES)
        if name in ("overdue", "soon_due", "awaiting_acceptance", "awaiting_verification"):
            return list_queries(today)[name]
        if name == "today_intake":
            return CaseQuery(reported_from=today)
        if name in ("closure_rate", "on_time_rate"):
            return CaseQuery(statuses=done, **month)
        if name == "satisfaction_rate":
            return CaseQuery(statuses=("evaluated",), **month)
        if name == "self_handled_rate":
            return CaseQuery(self_handled=True, **month)
        return CaseQuery()

    def open_figure(self, name: str) -> None:
        self._ctx.show_cases(self.query_for(name))

    def _since(self) -> dict[str, Any]:
        return {"reported_from": self._snapshot.chart_since} if self._snapshot else {}

    def _category_clicked(self, code: str) -> None:
        self._ctx.show_cases(CaseQuery(category=code, **self._since()))

    def _village_clicked(self, code: str) -> None:
        self._ctx.show_cases(CaseQuery(village_code=code, **self._since()))

    def _week_clicked(self, monday: str) -> None:
        start = dt.date.fromisoformat(monday)
        self._ctx.show_cases(
            CaseQuery(
                reported_from=day_start(start),
                reported_to=day_start(start + dt.timedelta(days=7)),
            )
        )
