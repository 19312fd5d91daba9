"""The case list as a lazy table model: keyset pages fetched in the background, never all rows.

A county store holds a million cases. The model keeps only the rows the user has scrolled to,
asks for the next page (``Store.cases(query, limit, after=(sort value, rowid))``) when the view
reaches the bottom, and counts the whole result separately. Both run as background reads: a page
is fast for indexed sorts, but sorting by title or category, or a rare text filter, can make
SQLite scan the table, and the GUI thread must never wait for that. Results of a query the user
has since replaced are dropped by generation number.

The worker also turns each row into the words the table shows, so painting a screenful is a
tuple look-up per cell; and the model stops at :data:`MAX_ROWS` (a person does not read past
that; the count says how many more there are, and the Excel export takes them all), which keeps
memory flat however far someone drags the scroll bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap

from sync.store.queries import SORTABLE, CaseQuery

from .. import labels
from ..context import AppContext
from ..county.queue import status_marks
from ..names import Names
from ..names import of as names_of

Index = QModelIndex | QPersistentModelIndex

LIGHT_COLOURS = {
    "red": QColor("#d93025"),
    "yellow": QColor("#f2a600"),
    "green": QColor("#1e8e3e"),
    "none": QColor("#c0c4cc"),
}


@dataclass(frozen=True)
class Column:
    key: str
    title: str  # English source text; translated in headerData
    sort: str | None  # the CaseQuery.sort key, or None when the column cannot sort


COLUMNS: tuple[Column, ...] = (
    Column("light", str(QT_TRANSLATE_NOOP("CaseListModel", "Deadline")), "due_at"),
    Column("case_no", str(QT_TRANSLATE_NOOP("CaseListModel", "Case no.")), "case_no"),
    Column("title", str(QT_TRANSLATE_NOOP("CaseListModel", "Title")), "title"),
    Column("category", str(QT_TRANSLATE_NOOP("CaseListModel", "Category")), "category"),
    Column("village", str(QT_TRANSLATE_NOOP("CaseListModel", "Village")), "village_code"),
    Column("grid", str(QT_TRANSLATE_NOOP("CaseListModel", "Grid")), "grid_code"),
    Column("status", str(QT_TRANSLATE_NOOP("CaseListModel", "Status")), "status"),
    Column("due_at", str(QT_TRANSLATE_NOOP("CaseListModel", "Due")), "due_at"),
    Column("level", str(QT_TRANSLATE_NOOP("CaseListModel", "Level")), "level"),
    Column("lead", str(QT_TRANSLATE_NOOP("CaseListModel", "Handled by")), None),
    Column("source", str(QT_TRANSLATE_NOOP("CaseListModel", "Source")), None),
    Column("reported_at", str(QT_TRANSLATE_NOOP("CaseListModel", "Reported")), "reported_at"),
)
assert all(c.sort is None or c.sort in SORTABLE for c in COLUMNS)

#: Role that carries a row's case id.
CASE_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
#: Role that carries a row's deadline light (``red``/``yellow``/``green``/``none``).
LIGHT_ROLE = int(Qt.ItemDataRole.UserRole) + 2

#: Rows the model holds at most (100 pages of 200).
MAX_ROWS = 20_000

#: The columns a list row needs from the store (the sort keys among them).
READ_COLUMNS = (
    "rowid",
    "id",
    "case_no",
    "title",
    "category",
    "village_code",
    "grid_code",
    "address",
    "source",
    "status",
    "level",
    "lead",
    "escalation",  # 上报待受理 / 上级交办 (desktop.county.queue.status_marks)
    "pending",  # 待审批
    "reported_at",
    "due_at",
    "updated_at",
)
assert set(SORTABLE) <= set(READ_COLUMNS)

# Plain ints: data() is called thousands of times per repaint.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_LIGHT_COLUMN = 0
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_KEYS = tuple(c.key for c in COLUMNS)
_DUE_COLUMN = _KEYS.index("due_at")
_TITLE_COLUMN = _KEYS.index("title")
_CATEGORY_COLUMN = _KEYS.index("category")

_DOTS: dict[str, QIcon] = {}


def light_icon(light: str) -> QIcon:
    """A filled dot in the light's colour (drawn once, then reused)."""
    icon = _DOTS.get(light)
    if icon is None:
        pixmap = QPixmap(14, 14)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(LIGHT_COLOURS.get(light, LIGHT_COLOURS["none"]))
        painter.drawEllipse(1, 1, 12, 12)
        painter.end()
        icon = QIcon(pixmap)
        _DOTS[light] = icon
    return icon


def row_words(row: dict[str, Any], names: Names) -> tuple[str, ...]:
    """The text of each column for one case row (runs in the worker thread)."""
    light = row.get("light") or "none"
    out = []
    for key in _KEYS:
        if key == "light":
            out.append(labels.light(light) if light in ("red", "yellow") else "")
        elif key == "case_no":
            out.append(row.get("case_no") or "")
        elif key == "title":
            out.append(
                row.get("title")
                or QCoreApplication.translate("CaseListModel", "(waiting for the report to arrive)")
            )
        elif key == "category":
            out.append(names.category_short(row.get("category")))
        elif key == "village":
            out.append(names.village(row.get("village_code")))
        elif key == "grid":
            out.append(names.grid(row.get("grid_code")))
        elif key == "status":
            marks = status_marks(row)  # 上报待受理 · 待审批 … (desktop.county.queue)
            status = labels.status(row.get("status"))
            out.append(f"{status} · {marks}" if marks else status)
        elif key == "level":
            out.append(labels.level(row.get("level")))
        elif key == "lead":
            out.append(names.assignee(row.get("lead")))
        elif key == "source":
            out.append(labels.source(row.get("source")))
        elif key == "reported_at":
            out.append(labels.when(row.get("reported_at")))
        elif key == "due_at":
            out.append(labels.when(row.get("due_at")))
        else:
            out.append("")
    return tuple(out)


class CaseListModel(QAbstractTableModel):
    """Cases matching a :class:`CaseQuery`, loaded page by page.

    Signals:
        page_loaded(int): a page arrived; carries how many rows are now loaded.
        count_changed(int): the total number of matching cases is known.
        query_changed(object): the model now shows another :class:`CaseQuery`.
        failed(object): a page or count could not be read (the exception).
    """

    page_loaded = Signal(int)
    count_changed = Signal(int)
    query_changed = Signal(object)
    failed = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        parent: Any = None,
        *,
        page_size: int | None = None,
        max_rows: int = MAX_ROWS,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._names: Names = names_of(ctx)
        self._page = int(page_size or ctx.settings.get("page_size") or 200)
        self._max_rows = max_rows
        self._query = CaseQuery()
        self._rows: list[dict[str, Any]] = []
        self._words: list[tuple[str, ...]] = []
        self._generation = 0
        self._pending = False
        self._exhausted = False
        self._started = False
        self._total: int | None = None

    # -- the query ------------------------------------------------------------------------------

    @property
    def query(self) -> CaseQuery:
        return self._query

    @property
    def total(self) -> int | None:
        """How many cases match (None while counting)."""
        return self._total

    @property
    def capped(self) -> bool:
        """Whether the model stopped at its row limit with more cases left to show."""
        return len(self._rows) >= self._max_rows and (self._total or 0) > len(self._rows)

    @property
    def max_rows(self) -> int:
        return self._max_rows

    def loading(self) -> bool:
        return self._pending

    @property
    def started(self) -> bool:
        """Whether a query was set (the model shows nothing before the page is first used)."""
        return self._started

    def set_query(self, query: CaseQuery) -> None:
        """Show another query: drop the rows, then fetch its first page and its count."""
        self._generation += 1
        self._query = query
        self.beginResetModel()
        self._rows = []
        self._words = []
        self._pending = False
        self._exhausted = False
        self._total = None
        self.endResetModel()
        self._started = True
        self.query_changed.emit(query)
        self._fetch()
        self._count()

    def refresh(self) -> None:
        """Re-read what is shown after cases changed, keeping as many rows as were loaded."""
        if not self._started:
            return
        self._generation += 1
        generation, query = self._generation, self._query
        want = min(max(len(self._rows), self._page), self._max_rows)
        self._pending = True
        self._read(query, want, None).success(
            lambda result: self._replaced(generation, want, result)
        ).failure(lambda exc: self._failed(generation, exc)).run()
        self._count()

    def case_id(self, row: int) -> str | None:
        return self._rows[row]["id"] if 0 <= row < len(self._rows) else None

    def row_of(self, case_id: str) -> int | None:
        for i, r in enumerate(self._rows):
            if r["id"] == case_id:
                return i
        return None

    def row_data(self, row: int) -> dict[str, Any]:
        """The stored values of a loaded row (the columns in :data:`READ_COLUMNS` + light)."""
        return dict(self._rows[row])

    # -- paging ---------------------------------------------------------------------------------

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008 (Qt's own default)
        return (
            not parent.isValid()
            and self._started
            and not self._exhausted
            and not self._pending
            and len(self._rows) < self._max_rows
        )

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._fetch()

    def _read(self, query: CaseQuery, limit: int, after: tuple[Any, int] | None) -> Any:
        names = self._names

        def page(store: Any) -> list[tuple[dict[str, Any], tuple[str, ...]]]:
            rows = store.cases(query, limit=limit, after=after, columns=READ_COLUMNS)
            return [(r, row_words(r, names)) for r in rows]

        return self._ctx.ops.read(page)

    def _fetch(self) -> None:
        generation, query = self._generation, self._query
        limit = min(self._page, self._max_rows - len(self._rows))
        after = None
        if self._rows:
            last = self._rows[-1]
            after = (last[SORTABLE[query.sort]], last["rowid"])
        self._pending = True
        self._read(query, limit, after).success(
            lambda result: self._arrived(generation, limit, result)
        ).failure(lambda exc: self._failed(generation, exc)).run()

    def _arrived(self, generation: int, limit: int, result: list[tuple[dict, tuple]]) -> None:
        if generation != self._generation:
            return  # the user has moved on to another query
        if len(result) < limit:
            self._exhausted = True
        if result:
            # Still "pending" while rows go in: a view (or qtmodeltester) that calls fetchMore
            # from rowsAboutToBeInserted must not start a page after the old last row.
            first = len(self._rows)
            self.beginInsertRows(QModelIndex(), first, first + len(result) - 1)
            for row, words in result:
                self._rows.append(row)
                self._words.append(words)
            self.endInsertRows()
        self._pending = False
        self.page_loaded.emit(len(self._rows))

    def _replaced(self, generation: int, limit: int, result: list[tuple[dict, tuple]]) -> None:
        if generation != self._generation:
            return
        self._exhausted = len(result) < limit
        self.beginResetModel()
        self._rows = [row for row, _words in result]
        self._words = [words for _row, words in result]
        self.endResetModel()
        self._pending = False
        self.page_loaded.emit(len(self._rows))

    def _count(self) -> None:
        generation, query = self._generation, self._query

        def count(store: Any) -> int | None:
            # A count queued behind a newer query is skipped rather than run for nothing.
            if generation != self._generation:
                return None
            return int(store.count(query))

        self._ctx.ops.read(count).success(lambda n: self._counted(generation, n)).failure(
            lambda exc: self._failed(generation, exc)
        ).run()

    def _counted(self, generation: int, n: int | None) -> None:
        if generation != self._generation or n is None:
            return
        self._total = n
        self.count_changed.emit(n)

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._pending = False
        self._exhausted = True  # do not hammer a broken store with retries from the view
        self.failed.emit(exc)

    # -- the table ------------------------------------------------------------------------------

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        column = COLUMNS[section]
        if role == _DISPLAY:
            return QCoreApplication.translate("CaseListModel", column.title)
        if role == _TOOLTIP:
            if column.sort is None:
                return QCoreApplication.translate("CaseListModel", "This column cannot be sorted")
            return QCoreApplication.translate("CaseListModel", "Click to sort")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _FLAGS

    def data(self, index: Index, role: int = _DISPLAY) -> Any:
        # Hot path: called for every cell and role on every repaint.
        row, col = index.row(), index.column()
        if row < 0 or row >= len(self._words) or col < 0 or col >= len(_KEYS):
            return None
        if role == _DISPLAY:
            return self._words[row][col]
        if role == CASE_ID_ROLE:
            return self._rows[row]["id"]
        light = self._rows[row].get("light") or "none"
        if role == LIGHT_ROLE:
            return light
        if col == _LIGHT_COLUMN:
            if role == _DECORATION:
                return light_icon(light)
            if role in (_TOOLTIP, _ACCESSIBLE):
                return labels.light(light)
        if role == _FOREGROUND and col in (_LIGHT_COLUMN, _DUE_COLUMN):
            if light in ("red", "yellow"):
                return _LIGHT_BRUSHES[light]
            return None
        if role == _TOOLTIP:
            if col == _TITLE_COLUMN:
                return self._rows[row].get("title") or None
            if col == _CATEGORY_COLUMN:
                return self._names.category(self._rows[row].get("category"))
        return None

    # -- sorting --------------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Header click: a new query sorted by the column (columns without a key are ignored)."""
        if not 0 <= column < len(COLUMNS) or COLUMNS[column].sort is None:
            return
        key = COLUMNS[column].sort
        descending = order == Qt.SortOrder.DescendingOrder
        if self._started and key == self._query.sort and descending == self._query.descending:
            return
        self.set_query(self._query.with_(sort=key, descending=descending))

    def sort_column(self) -> int:
        """The column showing the query's sort key (for the header's indicator)."""
        for i, c in enumerate(COLUMNS):
            if c.key != "light" and c.sort == self._query.sort:
                return i
        return -1


_LIGHT_BRUSHES = {light: QBrush(LIGHT_COLOURS[light].darker(115)) for light in ("red", "yellow")}
