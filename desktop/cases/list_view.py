"""The 事件 page's list: the filter bar, the lazy case table, its count, and Excel export.

Double-click or Enter on a row asks the context to open the case; the main window shows it in
the detail pane. The list re-reads what it shows when cases change (after a write or a sync),
keeping the selected case and the scroll position.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sync.store.queries import CaseQuery

from ..context import AppContext
from ..errors import show_error
from ..ops import Cancelled
from .filters import FilterBar
from .list_model import CASE_ID_ROLE, COLUMNS, CaseListModel

#: What a typical cell of each column holds: the column starts wide enough for it.
_SAMPLES = {
    "light": "●  即将到期",
    "case_no": "330825002-261121-CRZ6-0009",
    "title": "邻里纠纷：楼上漏水渗到楼下楼下",
    "category": "水电气维修",
    "village": "东华街社区",
    "grid": "东华街社区第2网格",
    "status": "待核查核",
    "level": "乡镇（街道）",
    "lead": "综合行政执法",
    "source": "村情通/随手拍",
    "reported_at": "2026-11-21 14:03",
    "due_at": "2026-11-21 14:03",
}


def ledger_exporter() -> Any | None:
    """``sync.store.ledger.export_ledger`` if this build has it, else None."""
    try:
        module = importlib.import_module("sync.store.ledger")
    except ModuleNotFoundError as exc:
        if exc.name == "sync.store.ledger":
            return None
        raise
    return getattr(module, "export_ledger", None)


class CaseTable(QTableView):
    """The table: Enter opens the current case (double-click does too)."""

    #: The user asked to open the case in this row.
    open_requested = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
            event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            case_id = self.currentIndex().data(CASE_ID_ROLE)
            if case_id:
                self.open_requested.emit(case_id)
                event.accept()
                return
        super().keyPressEvent(event)


class CaseListView(QWidget):
    """Filters, count and the lazy table of cases.

    Signals:
        export_finished(str): an Excel ledger of the current view was written to this path.
    """

    export_finished = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.filters = FilterBar(ctx, self)
        self.model = CaseListModel(ctx, self)
        self.table = CaseTable(self)
        self.table.setObjectName("caseTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        metrics = self.table.fontMetrics()
        for i, column in enumerate(COLUMNS):
            header.resizeSection(i, metrics.horizontalAdvance(_SAMPLES.get(column.key, "")) + 24)
        # No stretching: a narrow pane scrolls sideways instead of squeezing the title away.
        # Sorting goes through the query (the store sorts), not through a proxy model.
        header.sortIndicatorChanged.connect(self._sort_clicked)
        self.table.doubleClicked.connect(self._activated)
        self.table.open_requested.connect(ctx.open_case)

        self.count_label = QLabel(self.tr("Counting…"), self)
        self.count_label.setObjectName("caseCount")
        self.export_button = QPushButton(self.tr("Export to Excel…"), self)
        self.export_button.setObjectName("exportCases")
        self.export_button.setToolTip(self.tr("Write the cases in this list to an .xlsx ledger"))
        self.export_button.clicked.connect(self._ask_export)
        self.export_button.setVisible(ledger_exporter() is not None)

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.count_label)
        bar.addStretch(1)
        bar.addWidget(self.export_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(8, 8, 8, 8)
        box.addWidget(self.filters)
        box.addLayout(bar)
        box.addWidget(self.table, 1)

        self.filters.changed.connect(self._filters_changed)
        self.model.count_changed.connect(self._show_count)
        self.model.query_changed.connect(self._query_changed)
        self.model.page_loaded.connect(self._page_loaded)
        self.model.failed.connect(lambda exc: show_error(self, exc, self.tr("Reading cases")))
        self._restore: tuple[str | None, int] | None = None
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(250)  # a burst of writes refreshes once
        self._refresh.timeout.connect(self._do_refresh)
        ctx.cases_changed.connect(lambda _ids: self._refresh.start())

    # -- queries --------------------------------------------------------------------------------

    def start(self) -> None:
        """Load the first page, unless a query is already shown (called when the page shows)."""
        if not self.model.started:
            self.model.set_query(self._with_sort(self.filters.query()))

    def show_query(self, query: CaseQuery) -> None:
        """Land on ``query``: the pickers show it and the list loads it."""
        self.filters.set_query(query)
        self.model.set_query(self._with_sort(self.filters.query(), query))

    def _with_sort(self, filters: CaseQuery, sort_from: CaseQuery | None = None) -> CaseQuery:
        source = sort_from or self.model.query
        return filters.with_(sort=source.sort, descending=source.descending)

    def _filters_changed(self, query: CaseQuery) -> None:
        self.model.set_query(self._with_sort(query))

    def _sort_clicked(self, column: int, order: Qt.SortOrder) -> None:
        if COLUMNS[column].sort is None:
            # Put the indicator back on the column the list is really sorted by.
            self._query_changed(self.model.query)
            return
        self.model.sort(column, order)

    def _query_changed(self, query: CaseQuery) -> None:
        self.count_label.setText(self.tr("Counting…"))
        column = self.model.sort_column()
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(
            column,
            Qt.SortOrder.DescendingOrder if query.descending else Qt.SortOrder.AscendingOrder,
        )
        header.blockSignals(False)

    def _show_count(self, n: int) -> None:
        text = self.tr("%n case(s)", "", n)
        if self.model.capped:
            # The model stops at its row limit; say so rather than let the list look short.
            text += self.tr(
                " — showing the first %1: narrow the filters, or export to Excel"
            ).replace("%1", f"{self.model.max_rows:,}")
        self.count_label.setText(text)

    def focus_search(self) -> None:
        self.filters.focus_search()

    # -- refresh keeping the place --------------------------------------------------------------

    def _do_refresh(self) -> None:
        current = self.table.currentIndex()
        case_id = current.data(CASE_ID_ROLE) if current.isValid() else None
        self._restore = (case_id, self.table.verticalScrollBar().value())
        self.model.refresh()

    def _page_loaded(self, _rows: int) -> None:
        if self.model.capped and self.model.total is not None:
            self._show_count(self.model.total)
        if self._restore is None:
            return
        case_id, scroll = self._restore
        self._restore = None
        if case_id:
            row = self.model.row_of(case_id)
            if row is not None:
                self.table.setCurrentIndex(self.model.index(row, 1))
        self.table.verticalScrollBar().setValue(scroll)

    # -- opening --------------------------------------------------------------------------------

    def _activated(self, index: QModelIndex) -> None:
        case_id = index.data(CASE_ID_ROLE)
        if case_id:
            self._ctx.open_case(case_id)

    def current_case(self) -> str | None:
        index = self.table.currentIndex()
        return index.data(CASE_ID_ROLE) if index.isValid() else None

    # -- export ---------------------------------------------------------------------------------

    def _ask_export(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            self.tr("Export cases to Excel"),
            str(Path.home() / self.tr("cases.xlsx")),
            self.tr("Excel workbook (*.xlsx)"),
        )
        if path:
            if not path.lower().endswith(".xlsx"):
                path += ".xlsx"
            self.export(Path(path))

    def export(self, path: Path) -> Any:
        """Write the current view to ``path`` in the background, with progress and Cancel."""
        exporter = ledger_exporter()
        if exporter is None:
            return None
        query = self.model.query

        def work(store: Any, progress: Any) -> Any:
            result = exporter(store, path, query, progress)
            if progress.cancelled or getattr(result, "cancelled", False):
                raise Cancelled()  # the exporter removed its partial file
            return result

        def done(result: Any) -> None:
            rows = int(getattr(result, "rows", 0))
            self.count_label.setText(
                self.tr("%n case(s) exported to %1", "", rows).replace("%1", str(path))
            )
            self.export_finished.emit(str(path))

        return (
            self._ctx.ops.read(work)
            .with_progress(self, self.tr("Exporting cases to Excel…"))
            .success(done)
            .failure(lambda exc: show_error(self, exc, self.tr("Exporting cases")))
            .run()
        )
