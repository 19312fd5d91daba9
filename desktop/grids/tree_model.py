"""County → township → village → grid as a Qt tree model, with open and overdue counts.

Built from ``Store.grid_tree()`` (read in the background); parents show the sums of their
grids, so a township's row says how many cases are open and overdue in all of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from sync.model.divisions import short_name

from .. import labels

Index = QModelIndex | QPersistentModelIndex

#: Role carrying the node's dict (code, name, level, counts …).
NODE_ROLE = Qt.ItemDataRole.UserRole + 1
#: Role carrying the text the search box matches (name, short name and code).
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 2

HEADERS = (
    QT_TRANSLATE_NOOP("GridTreeModel", "Name"),
    QT_TRANSLATE_NOOP("GridTreeModel", "Open"),
    QT_TRANSLATE_NOOP("GridTreeModel", "Overdue"),
)


class Node:
    """One row of the tree."""

    __slots__ = ("children", "data", "parent", "row")

    def __init__(self, data: dict[str, Any], parent: Node | None, row: int) -> None:
        self.data = data
        self.parent = parent
        self.row = row
        self.children: list[Node] = []


def _build(raw: dict[str, Any], parent: Node | None, row: int) -> Node:
    data = {k: v for k, v in raw.items() if k != "children"}
    node = Node(data, parent, row)
    node.children = [_build(c, node, i) for i, c in enumerate(raw.get("children", []))]
    if data.get("level") != "grid":
        # A division's counts are the sums over its grids.
        data["open"] = sum(c.data.get("open", 0) for c in node.children)
        data["overdue"] = sum(c.data.get("overdue", 0) for c in node.children)
        data["grids"] = sum(
            1 if c.data.get("level") == "grid" else c.data.get("grids", 0) for c in node.children
        )
        data["households"] = sum(c.data.get("households", 0) or 0 for c in node.children)
        data["population"] = sum(c.data.get("population", 0) or 0 for c in node.children)
    data["label"] = short_name(data["name"]) if data.get("level") == "village" else data["name"]
    return node


def build_nodes(tree: list[dict[str, Any]]) -> list[Node]:
    """The model's nodes for ``Store.grid_tree()``'s result (plain Python: any thread)."""
    return [_build(raw, None, i) for i, raw in enumerate(tree)]


class GridTreeModel(QAbstractItemModel):
    """The division and grid tree of the open store."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._roots: list[Node] = []

    def set_tree(self, tree: Sequence[dict[str, Any] | Node]) -> None:
        """Replace the tree with ``Store.grid_tree()``'s result (or :func:`build_nodes` of it,
        made in a worker thread so the GUI thread only swaps it in)."""
        roots: list[Node] = []
        for i, item in enumerate(tree):
            roots.append(item if isinstance(item, Node) else _build(item, None, i))
        self.beginResetModel()
        self._roots = roots
        self.endResetModel()

    def node(self, index: Index) -> Node | None:
        if not index.isValid():
            return None
        return index.internalPointer()

    def find(self, code: str) -> QModelIndex:
        """The index of the node with this code (column 0), or an invalid index."""
        stack = list(self._roots)
        while stack:
            node = stack.pop()
            if node.data.get("code") == code:
                return self.createIndex(node.row, 0, node)
            stack.extend(node.children)
        return QModelIndex()

    # -- QAbstractItemModel ---------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if column < 0 or column >= len(HEADERS) or row < 0:
            return QModelIndex()
        siblings = self._roots if not parent.isValid() else parent.internalPointer().children
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()
        if row >= len(siblings):
            return QModelIndex()
        return self.createIndex(row, column, siblings[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node: Node = index.internalPointer()
        if node.parent is None:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self._roots)
        if parent.column() != 0:
            return 0
        return len(parent.internalPointer().children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(HEADERS)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return self.rowCount(parent) > 0

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(HEADERS)
        ):
            return QCoreApplication.translate("GridTreeModel", str(HEADERS[section]))
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        node = self.node(index)
        if node is None:
            return None
        d = node.data
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return d["label"]
            if column == 1:
                return str(d.get("open", 0))
            if column == 2:
                return str(d.get("overdue", 0))
        elif role == NODE_ROLE:
            return d
        elif role == SEARCH_ROLE:
            return f"{d['name']} {d['label']} {d['code']}"
        elif role == Qt.ItemDataRole.ToolTipRole and column == 0:
            if d.get("level") == "grid":
                tip = f"{d['name']} ({d['code']}) · {labels.grid_kind(d.get('kind'))}"
                if d.get("oversize"):
                    tip += "\n" + QCoreApplication.translate(
                        "GridTreeModel", "Far above the standard size for its kind"
                    )
                return tip
            return f"{d['name']} ({d['code']})"
        elif role == Qt.ItemDataRole.ForegroundRole:
            if column == 2 and d.get("overdue"):
                return QBrush(QColor("#c5221f"))
            if column == 0 and d.get("oversize"):
                return QBrush(QColor("#b06000"))
        elif role == Qt.ItemDataRole.FontRole and column == 2 and d.get("overdue"):
            font = QFont()
            font.setBold(True)
            return font
        elif role == Qt.ItemDataRole.TextAlignmentRole and column in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
