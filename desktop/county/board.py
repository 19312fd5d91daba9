"""The dashboard's county parts: the 待审批 card (every device) and, on a county-scope device,
the board of escalated, held, handed-down, overdue and urged cases by township.

Read in one background operation after the dashboard's own figures (``sync.store.queues``);
every number is a link to the case list that explains it (the same query it counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QBoxLayout,
    QGroupBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sync.store import Store
from sync.store.queues import (
    BOARD_COLUMNS,
    BoardRow,
    approval_query,
    approvals,
    board_query,
    county_board,
)

from ..context import AppContext
from ..dashboard.page import DashboardPage, Figure
from ..errors import show_error
from ..names import of as names_of

#: A township's row is marked when this many cases wait for the county or are overdue.
_ALERT = 1
#: Rows shown without scrolling (the busiest townships come first).
VISIBLE_ROWS = 8


@dataclass
class CountyData:
    approvals: dict[str, int] = field(default_factory=dict)
    board: list[BoardRow] | None = None  # None on a township device


def load(store: Store) -> CountyData:
    """Read the card and (county scope) the board: runs in a worker thread."""
    data = CountyData(approvals=approvals(store))
    if len(store.scope) == 6:
        data.board = county_board(store)
    return data


class CountyBoard(QTableWidget):
    """The county total, then townships down; the board's columns across; a click on a number
    opens its cases.

    Signals:
        cell_chosen(str, object): column name and township code (None: the county total).
    """

    cell_chosen = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 1 + len(BOARD_COLUMNS), parent)
        self.setObjectName("countyBoard")
        self.setHorizontalHeaderLabels(
            [
                self.tr("Township"),
                self.tr("Escalated, awaiting acceptance"),
                self.tr("Held by the county"),
                self.tr("Handed down, not closed"),
                self.tr("Overdue"),
                self.tr("Urged"),
            ]
        )
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.verticalHeader().setVisible(False)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.cellClicked.connect(self._clicked)
        self.cellActivated.connect(self._clicked)

    def set_rows(self, rows: list[BoardRow], names: dict[str, str]) -> None:
        """Townships with cases waiting for the county or overdue first, then by how much they
        have on the board, then by code; the county total last."""
        rows = sorted(
            rows,
            key=lambda r: (
                -r.counts.get("awaiting", 0),
                -r.counts.get("overdue", 0),
                -r.total(),
                r.township,
            ),
        )
        self.setRowCount(len(rows) + 1)
        totals = dict.fromkeys(BOARD_COLUMNS, 0)
        for r, row in enumerate(rows, start=1):
            self._fill(r, names.get(row.township, row.township), row.township, row.counts)
            for c in BOARD_COLUMNS:
                totals[c] += row.counts.get(c, 0)
        # The county total on top: always in view however many townships there are.
        self._fill(0, self.tr("County total"), None, totals, bold=True)
        height = self.horizontalHeader().height() + 4
        for r in range(min(self.rowCount(), VISIBLE_ROWS)):
            height += self.rowHeight(r)
        self.setFixedHeight(height)

    def _fill(
        self,
        r: int,
        name: str,
        township: str | None,
        counts: dict[str, int],
        *,
        bold: bool = False,
    ) -> None:
        first = QTableWidgetItem(name)
        first.setData(Qt.ItemDataRole.UserRole, township)
        alert = counts.get("awaiting", 0) >= _ALERT or counts.get("overdue", 0) >= _ALERT
        items = [first]
        for column in BOARD_COLUMNS:
            n = int(counts.get(column, 0))
            item = QTableWidgetItem(f"{n:,}" if n else "·")
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setData(Qt.ItemDataRole.UserRole, n)
            if n and column in ("awaiting", "overdue"):
                item.setForeground(QBrush(QColor("#c0392b")))
            if n:
                item.setToolTip(self.tr("Show these cases"))
            items.append(item)
        for c, item in enumerate(items):
            if bold or (c == 0 and alert):
                font = QFont(item.font())
                font.setBold(True)
                item.setFont(font)
            self.setItem(r, c, item)

    def count(self, township: str | None, column: str) -> int:
        """The number shown for ``township`` (None: the total row) in ``column``."""
        for r in range(self.rowCount()):
            first = self.item(r, 0)
            if first is not None and first.data(Qt.ItemDataRole.UserRole) == township:
                cell = self.item(r, 1 + BOARD_COLUMNS.index(column))
                return int(cell.data(Qt.ItemDataRole.UserRole)) if cell is not None else 0
        raise KeyError(township)

    def _clicked(self, row: int, column: int) -> None:
        if column == 0:
            return
        first = self.item(row, 0)
        cell = self.item(row, column)
        if first is None or cell is None or not cell.data(Qt.ItemDataRole.UserRole):
            return
        self.cell_chosen.emit(BOARD_COLUMNS[column - 1], first.data(Qt.ItemDataRole.UserRole))


class CountyPanel(QWidget):
    """The 待审批 card (placed among the dashboard's figures) and the county board.

    Signals:
        loaded(): new counts are on screen.
    """

    loaded = Signal()

    def __init__(self, ctx: AppContext, page: DashboardPage, figures: QBoxLayout) -> None:
        super().__init__(page.widget())
        self.setObjectName("countyPanel")
        self._ctx = ctx
        self._loading = False
        self._again = False
        self.data: CountyData | None = None
        self.approvals = Figure("approvals", self.tr("Awaiting approval"), "yellow", page.widget())
        self.approvals.setToolTip(
            self.tr("Requests to extend a deadline or to park a case, waiting for the supervisor")
        )
        self.approvals.clicked.connect(lambda _checked=False: ctx.show_cases(approval_query()))
        figures.addWidget(self.approvals)

        self.county = len(ctx.ops.gui_store().scope) == 6
        self.box = QGroupBox(self.tr("Townships: escalated, overdue and urged cases"), self)
        self.box.setObjectName("countyBoardBox")
        self.board = CountyBoard(self.box)
        self.board.cell_chosen.connect(self._open)
        inner = QVBoxLayout(self.box)
        inner.addWidget(self.board)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.box)
        self.setVisible(self.county)
        page.loaded.connect(self.refresh)

    def refresh(self) -> None:
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._ctx.ops.read(load).success(self._show).failure(self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        show_error(self, exc, self.tr("Reading the county figures"))

    def _show(self, data: CountyData) -> None:
        self._loading = False
        self.data = data
        a = data.approvals
        self.approvals.set_value(
            f"{a.get('cases', 0):,}",
            self.tr("Extension %1 · Parking %2")
            .replace("%1", str(a.get("extension", 0)))
            .replace("%2", str(a.get("park", 0))),
        )
        if data.board is not None:
            names = names_of(self._ctx).divisions
            self.board.set_rows(data.board, names)
        self.loaded.emit()
        if self._again:
            self._again = False
            self.refresh()

    def _open(self, column: str, township: Any) -> None:
        self._ctx.show_cases(board_query(column, township))
