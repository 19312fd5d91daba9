"""Pickers for the report and edit forms: the category (大类 → 小类) and the place (村 → 网格).

Both are a search box over a two-level tree, built for the keyboard: type to filter (names or
codes), ↓ moves into the tree, Enter takes the only match. The choice is shown in words under
the tree so the operator sees what will be saved.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sync.model.taxonomy import Taxonomy

from ..names import Names

_CODE = Qt.ItemDataRole.UserRole
_KIND = Qt.ItemDataRole.UserRole + 1
_SEARCH = Qt.ItemDataRole.UserRole + 2
_HIT = Qt.ItemDataRole.UserRole + 3  # matched the search itself (not just shown as a parent)


class _TreePicker(QWidget):
    """A search box over a two-level tree; subclasses fill the tree and read the choice.

    Signals:
        changed(): the choice changed (by the user or by :meth:`set_value`).
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit(self)
        self.search.setClearButtonEnabled(True)
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setMinimumHeight(140)
        self.chosen = QLabel(self)
        self.chosen.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.search)
        layout.addWidget(self.tree)
        layout.addWidget(self.chosen)
        self.setFocusProxy(self.search)
        self._current: QTreeWidgetItem | None = None
        self.search.textChanged.connect(self.filter)
        self.search.installEventFilter(self)
        self.search.returnPressed.connect(self._take_only_match)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemActivated.connect(self._on_current)

    # -- subclass hooks ---------------------------------------------------------------------

    def _selectable(self, item: QTreeWidgetItem) -> bool:
        return bool(item.flags() & Qt.ItemFlag.ItemIsSelectable)

    def _describe(self, item: QTreeWidgetItem | None) -> str:
        raise NotImplementedError

    # -- behaviour --------------------------------------------------------------------------

    def _tops(self) -> list[QTreeWidgetItem]:
        tops = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [t for t in tops if t is not None]

    @staticmethod
    def _children(top: QTreeWidgetItem) -> list[QTreeWidgetItem]:
        kids = (top.child(j) for j in range(top.childCount()))
        return [k for k in kids if k is not None]

    def _items(self) -> Iterable[QTreeWidgetItem]:
        for top in self._tops():
            yield top
            yield from self._children(top)

    def filter(self, text: str) -> None:
        """Show the entries whose name or code contains ``text`` (and their parents)."""
        needle = text.strip().lower()
        for top in self._tops():
            top_hit = not needle or needle in str(top.data(0, _SEARCH))
            top.setData(0, _HIT, top_hit)
            any_child = False
            for child in self._children(top):
                own = not needle or needle in str(child.data(0, _SEARCH))
                # Everything under a matching 大类 / village matches too.
                child.setData(0, _HIT, top_hit or own)
                child.setHidden(not (top_hit or own))
                any_child = any_child or own
            top.setHidden(not (top_hit or any_child))
            top.setExpanded(bool(needle) and any_child)

    def visible_choices(self) -> list[QTreeWidgetItem]:
        """Selectable entries that match the search (a parent shown for context does not)."""
        out = []
        for item in self._items():
            parent = item.parent()
            if item.isHidden() or (parent is not None and parent.isHidden()):
                continue
            if item.data(0, _HIT) is False:
                continue
            if self._selectable(item):
                out.append(item)
        return out

    def _take_only_match(self) -> None:
        choices = self.visible_choices()
        if len(choices) == 1:
            self.tree.setCurrentItem(choices[0])
        elif choices:
            self.tree.setFocus()
            self.tree.setCurrentItem(choices[0])

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.search
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Down
        ):
            choices = self.visible_choices()
            self.tree.setFocus()
            if choices and self.tree.currentItem() is None:
                self.tree.setCurrentItem(choices[0])
            return True
        return super().eventFilter(watched, event)

    def _on_current(self, item: QTreeWidgetItem | None, *_: object) -> None:
        if item is None or not self._selectable(item) or item is self._current:
            return
        self._current = item
        self.chosen.setText(self._describe(item))
        self.changed.emit()

    def _select(self, item: QTreeWidgetItem | None) -> None:
        if item is self._current:
            return
        self._current = item
        blocker = self.tree.blockSignals(True)
        try:
            self.tree.setCurrentItem(item)  # type: ignore[arg-type]
            if item is None:
                self.tree.clearSelection()
            else:
                parent = item.parent()
                if parent is not None:
                    parent.setExpanded(True)
        finally:
            self.tree.blockSignals(blocker)
        self.chosen.setText(self._describe(item))
        self.changed.emit()


class CategoryPicker(_TreePicker):
    """大类 → 小类. Only a 小类 can be chosen unless ``minors_only`` is False (editing an
    imported case filed under its 大类 alone)."""

    def __init__(
        self, taxonomy: Taxonomy, parent: QWidget | None = None, *, minors_only: bool = True
    ) -> None:
        super().__init__(parent)
        self.setObjectName("categoryPicker")
        self.taxonomy = taxonomy
        self.search.setPlaceholderText(self.tr("Search categories (e.g. dispute, 纠纷, 0101)"))
        self.tree.setAccessibleName(self.tr("Categories"))
        for major in sorted(taxonomy.majors(), key=lambda c: c.code):
            top = QTreeWidgetItem([major.name])
            top.setData(0, _CODE, major.code)
            top.setData(0, _SEARCH, f"{major.code} {major.name}".lower())
            if minors_only:
                top.setFlags(top.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            self.tree.addTopLevelItem(top)
            for minor in sorted(taxonomy.minors(major.code), key=lambda c: c.code):
                child = QTreeWidgetItem([minor.name])
                child.setData(0, _CODE, minor.code)
                child.setData(0, _SEARCH, f"{minor.code} {minor.name}".lower())
                top.addChild(child)
        self.chosen.setText(self._describe(None))

    def _describe(self, item: QTreeWidgetItem | None) -> str:
        if item is None:
            return self.tr("No category chosen")
        code = str(item.data(0, _CODE))
        return self.tr("Category: %1").replace("%1", self.taxonomy.path(code))

    def value(self) -> str:
        """The chosen category code, or '' when none is chosen."""
        return str(self._current.data(0, _CODE)) if self._current is not None else ""

    def set_value(self, code: str | None) -> None:
        found = next((i for i in self._items() if i.data(0, _CODE) == code), None) if code else None
        if found is not None and not self._selectable(found):
            found = None
        self._select(found)


class GridPicker(_TreePicker):
    """村（社区） → 网格. A grid, or a village alone when the grid is not known."""

    def __init__(self, names: Names, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gridPicker")
        self.names = names
        self.search.setPlaceholderText(self.tr("Search villages and grids by name or code"))
        self.tree.setAccessibleName(self.tr("Villages and grids"))
        for village in names.village_order:
            vname = names.village(village)
            top = QTreeWidgetItem([vname])
            top.setData(0, _CODE, village)
            top.setData(0, _KIND, "village")
            top.setData(0, _SEARCH, f"{village} {vname} {names.divisions.get(village, '')}".lower())
            self.tree.addTopLevelItem(top)
            for grid in names.grids_of(village):
                gname = names.grid(grid)
                child = QTreeWidgetItem([f"{gname}  {grid[-3:]}"])
                child.setData(0, _CODE, grid)
                child.setData(0, _KIND, "grid")
                child.setData(0, _SEARCH, f"{grid} {gname}".lower())
                top.addChild(child)
        self.chosen.setText(self._describe(None))

    def _describe(self, item: QTreeWidgetItem | None) -> str:
        if item is None:
            return self.tr("No place chosen")
        village, grid = self._value_of(item)
        if grid:
            return (
                self.tr("Place: %1 / %2")
                .replace("%1", self.names.village(village))
                .replace("%2", self.names.grid(grid))
            )
        return self.tr("Place: %1 (grid not known)").replace("%1", self.names.village(village))

    def _value_of(self, item: QTreeWidgetItem) -> tuple[str, str | None]:
        code = str(item.data(0, _CODE))
        if item.data(0, _KIND) == "grid":
            parent = item.parent()
            village = self.names.village_of_grid(code)
            if village is None and parent is not None:
                village = str(parent.data(0, _CODE))
            return village or "", code
        return code, None

    def value(self) -> tuple[str | None, str | None]:
        """(village code, grid code); (None, None) when nothing is chosen."""
        if self._current is None:
            return None, None
        return self._value_of(self._current)

    def set_value(self, *, grid: str | None = None, village: str | None = None) -> None:
        target = grid or village
        found = None
        if target:
            found = next((i for i in self._items() if i.data(0, _CODE) == target), None)
        self._select(found)
