"""The 网格 page: a searchable division/grid tree beside the chosen grid's details.

A grid's details are its team — 一长三员 (leader, full-time, part-time, instructor) and the 1+N
department liaisons — its households and people (flagged when far above the standard size for
its kind), and its open and overdue cases, each a link to the case list.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, QModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from sync.model.records import GRID_STANDARD, GridKind, StaffRole
from sync.store.queries import CaseQuery

from .. import labels
from ..context import AppContext
from ..errors import show_error
from ..map import show_on_map_text
from ..names import of as names_of
from .tree_model import NODE_ROLE, SEARCH_ROLE, GridTreeModel, Node, build_nodes

_TEAM_ORDER = {
    StaffRole.LEADER.value: 0,
    StaffRole.FULLTIME.value: 1,
    StaffRole.PARTTIME.value: 2,
    StaffRole.INSTRUCTOR.value: 3,
    StaffRole.LIAISON.value: 4,
}


def _fit_height(table: QTableWidget, most: int = 14) -> None:
    """As tall as its rows (up to ``most``), so short teams leave no empty box."""
    rows = min(table.rowCount(), most)
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    body = sum(table.rowHeight(r) for r in range(rows))
    height += body or table.verticalHeader().defaultSectionSize()
    table.setFixedHeight(height)


class GridDetail(QWidget):
    """What is known about one grid (or a village, township or county: its totals)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._names = names_of(ctx)
        self._node: dict[str, Any] | None = None
        self.title = QLabel(self.tr("Choose a grid on the left"), self)
        self.title.setObjectName("pageTitle")
        self.title.setWordWrap(True)
        self.kind = QLabel("", self)
        self.kind.setObjectName("subtitle")
        self.households = QLabel("", self)
        self.population = QLabel("", self)
        self.grid_count = QLabel("", self)
        self.oversize = QLabel("", self)
        self.oversize.setObjectName("warning")
        self.oversize.setWordWrap(True)
        self.oversize.setVisible(False)
        self.open_button = QPushButton("", self)
        self.open_button.setObjectName("gridOpenCases")
        self.open_button.clicked.connect(self._show_open)
        self.overdue_button = QPushButton("", self)
        self.overdue_button.setObjectName("gridOverdueCases")
        self.overdue_button.setProperty("tone", "red")
        self.overdue_button.clicked.connect(self._show_overdue)
        self.map_button = QPushButton(show_on_map_text(), self)
        self.map_button.setObjectName("gridShowOnMap")
        self.map_button.clicked.connect(self._show_on_map)
        self.team_title = QLabel(self.tr("Team (one leader, three workers)"), self)
        self.team_title.setObjectName("sectionTitle")
        self.team = self._table([self.tr("Role"), self.tr("Name"), self.tr("Phone")], "gridTeam")
        self.liaison_title = QLabel(self.tr("Department liaisons (1+N)"), self)
        self.liaison_title.setObjectName("sectionTitle")
        self.liaisons = self._table(
            [self.tr("Department"), self.tr("Name"), self.tr("Phone")], "gridLiaisons"
        )

        form = QFormLayout()
        form.addRow(self.tr("Grids:"), self.grid_count)
        form.addRow(self.tr("Households:"), self.households)
        form.addRow(self.tr("People:"), self.population)
        self._form = form
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.overdue_button)
        buttons.addWidget(self.map_button)
        buttons.addStretch(1)
        box = QVBoxLayout(self)
        box.setContentsMargins(12, 8, 12, 8)
        box.addWidget(self.title)
        box.addWidget(self.kind)
        box.addLayout(form)
        box.addWidget(self.oversize)
        box.addLayout(buttons)
        box.addWidget(self.team_title)
        box.addWidget(self.team)
        box.addWidget(self.liaison_title)
        box.addWidget(self.liaisons)
        box.addStretch(1)
        self.show_node(None)

    def _table(self, headers: list[str], name: str) -> QTableWidget:
        table = QTableWidget(0, len(headers), self)
        table.setObjectName(name)
        table.setHorizontalHeaderLabels(headers)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.verticalHeader().setVisible(False)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def _show_on_map(self) -> None:
        if self._node is not None:
            self._ctx.show_on_map(str(self._node.get("level") or "grid"), str(self._node["code"]))

    @property
    def node(self) -> dict[str, Any] | None:
        return self._node

    def show_node(self, node: dict[str, Any] | None) -> None:
        """Show a grid's details, or a division's totals; None shows the empty state."""
        self._node = node
        is_grid = node is not None and node.get("level") == "grid"
        for w in (self.team_title, self.team, self.liaison_title, self.liaisons):
            w.setVisible(is_grid)
        self.open_button.setVisible(node is not None)
        self.overdue_button.setVisible(node is not None)
        self.map_button.setVisible(node is not None and node.get("level") != "county")
        self.oversize.setVisible(False)
        if node is None:
            self.title.setText(self.tr("Choose a grid on the left"))
            self.kind.setText("")
            for label in (self.households, self.population, self.grid_count):
                label.setText("")
            return
        self.title.setText(f"{node['label']}  ·  {node['code']}")
        self.households.setText(f"{int(node.get('households') or 0):,}")
        self.population.setText(f"{int(node.get('population') or 0):,}")
        self.grid_count.setText(str(node.get("grids", 1 if is_grid else 0)))
        self._form.setRowVisible(0, not is_grid)
        self.open_button.setText(self.tr("%n open case(s)", "", int(node.get("open") or 0)))
        self.overdue_button.setText(
            self.tr("%n overdue case(s)", "", int(node.get("overdue") or 0))
        )
        self.overdue_button.setEnabled(bool(node.get("overdue")))
        self.open_button.setEnabled(bool(node.get("open")))
        if not is_grid:
            level_words = {
                "county": self.tr("County"),
                "township": self.tr("Township or street"),
                "village": self.tr("Village or community"),
            }
            self.kind.setText(level_words.get(node.get("level", ""), ""))
            return
        kind = node.get("kind") or ""
        words = labels.grid_kind(kind)
        village = self._names.village(self._names.village_of_grid(node["code"]))
        self.kind.setText(f"{words} · {village}" if village else words)
        if node.get("oversize"):
            households, people = GRID_STANDARD.get(GridKind(kind), (0, 0))
            self.oversize.setText(
                self.tr(
                    "Far above the standard size for its kind (about %1 households or %2 "
                    "people): worth re-drawing the grid."
                )
                .replace("%1", str(households))
                .replace("%2", str(people))
            )
            self.oversize.setVisible(True)
        self._fill_team(node["code"])

    def _fill_team(self, grid_code: str) -> None:
        # One grid's staff is a handful of rows on an indexed column: fast by construction.
        try:
            staff = self._ctx.ops.gui_store().staff(grid_code)
        except Exception as exc:  # a store problem is shown in words, the page stays usable
            show_error(self, exc, self.tr("Reading the grid's team"))
            staff = []
        team = sorted(
            (s for s in staff if s.role != StaffRole.LIAISON),
            key=lambda s: (_TEAM_ORDER.get(s.role.value, 9), s.name),
        )
        liaisons = sorted(
            (s for s in staff if s.role == StaffRole.LIAISON),
            key=lambda s: (s.department_code or "", s.name),
        )
        self.team.setRowCount(len(team))
        for r, s in enumerate(team):
            for c, text in enumerate((labels.staff_role(s.role.value), s.name, s.phone)):
                self.team.setItem(r, c, QTableWidgetItem(text))
        self.liaisons.setRowCount(len(liaisons))
        for r, s in enumerate(liaisons):
            dept = self._names.assignee(s.department_code) or labels.staff_role(s.role.value)
            for c, text in enumerate((dept, s.name, s.phone)):
                self.liaisons.setItem(r, c, QTableWidgetItem(text))
        self.liaison_title.setText(
            self.tr("Department liaisons (1+N): %1").replace("%1", str(len(liaisons)))
        )
        for table in (self.team, self.liaisons):
            _fit_height(table)

    def _query(self, **kw: Any) -> CaseQuery | None:
        node = self._node
        if node is None:
            return None
        level = node.get("level")
        if level == "grid":
            return CaseQuery(grid_code=node["code"], **kw)
        if level == "village":
            return CaseQuery(village_code=node["code"], **kw)
        return CaseQuery(**kw)  # the store holds only its own township or county

    def _show_open(self) -> None:
        query = self._query(open_only=True)
        if query is not None:
            self._ctx.show_cases(query)

    def _show_overdue(self) -> None:
        query = self._query(light="red")
        if query is not None:
            self._ctx.show_cases(query)


class GridsPage(QWidget):
    """Tree and detail side by side.

    Signals:
        loaded(): the tree was read from the store.
    """

    loaded = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._loading = False
        self._stale = True
        self.model = GridTreeModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setRecursiveFilteringEnabled(True)
        self.proxy.setFilterRole(SEARCH_ROLE)
        self.proxy.setFilterKeyColumn(0)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.search = QLineEdit(self)
        self.search.setObjectName("gridSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Find a village or grid by name or code"))
        self.search.textChanged.connect(self._search)
        self.tree = QTreeView(self)
        self.tree.setObjectName("gridTree")
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # Fixed widths for the counts: "resize to contents" would measure every row of a
        # county's tree (hundreds) each time the page is shown.
        digits = self.tree.fontMetrics().horizontalAdvance("0000000") + 12
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            header.resizeSection(column, digits)
        self.tree.selectionModel().selectionChanged.connect(self._selected)
        self.detail = GridDetail(ctx, self)
        left = QWidget(self)
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(8, 8, 0, 8)
        left_box.addWidget(self.search)
        left_box.addWidget(self.tree, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(splitter)
        ctx.cases_changed.connect(lambda _ids: self._changed())

    def loading(self) -> bool:
        return self._loading

    def refresh(self) -> None:
        """Read the tree (with case counts) in the background."""
        if self._loading:
            return
        self._loading = True
        self._stale = False
        self._ctx.ops.read(lambda store: build_nodes(store.grid_tree())).success(
            self._show
        ).failure(self._failed).run()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.refresh()

    def _changed(self) -> None:
        if self.isVisible():
            self.refresh()
        else:
            self._stale = True

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        show_error(self, exc, self.tr("Reading the grids"))

    def _show(self, tree: list[Node]) -> None:
        self._loading = False
        chosen = self.detail.node["code"] if self.detail.node else None
        self.model.set_tree(tree)
        self._expand_default()
        if chosen:
            self.select(chosen)
        self.loaded.emit()

    def _expand_default(self) -> None:
        # Open down to the villages: the grids are one click away, the tree stays readable.
        def walk(parent: QModelIndex, depth: int) -> None:
            for row in range(self.proxy.rowCount(parent)):
                index = self.proxy.index(row, 0, parent)
                node = index.data(NODE_ROLE)
                if node and node.get("level") in ("county", "township"):
                    self.tree.expand(index)
                    walk(index, depth + 1)

        walk(QModelIndex(), 0)

    def _search(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        if text.strip():
            self.tree.expandAll()
        else:
            self.tree.collapseAll()
            self._expand_default()

    def select(self, code: str) -> bool:
        """Select the node with ``code`` and show its details."""
        source = self.model.find(code)
        index = self.proxy.mapFromSource(source)
        if not index.isValid():
            return False
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)
        return True

    def _selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        node = indexes[0].data(NODE_ROLE) if indexes else None
        self.detail.show_node(node)
