"""The case list's filter bar: search box, filter pickers, and saved filters.

The bar turns what the user picked into a :class:`CaseQuery` (it owns the filters; the list owns
the sort order). Another page can land the user on a query the bar has no picker for (the
dashboard's 办结率 asks for closed statuses of this month): such conditions are kept as
"also filtered by …" with a button to drop them, so what the list shows is always explained.

Saved filters live in the ``saved_filters`` setting as JSON: a list of ``{"name", "state"}``
where ``state`` is the bar's own picker state, so "last 7 days" means the last seven days on the
day the filter is used, not on the day it was saved.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import fields as dc_fields
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sync.model.calendar import SHANGHAI
from sync.model.clock import Millis, to_millis
from sync.model.records import Level, Source, Status, Urgency
from sync.store.queries import CaseQuery

from .. import labels
from ..context import AppContext
from ..county.queue import QueueCombo, hidden_parts
from ..names import of as names_of

SEARCH_DEBOUNCE_MS = 300

#: CaseQuery fields the bar shows as pickers; any other non-default field is "also filtered".
_SHOWN = {
    "text",
    "statuses",
    "open_only",
    "category",
    "village_code",
    "grid_code",
    "level",
    "source",
    "urgency",
    "light",
    "reported_from",
    "reported_to",
    "assignee",
    "reporter_id",
    "pending_approval",
    "escalation",
    "sort",
    "descending",
    "extra",
}
_DEFAULT = CaseQuery()


def query_to_dict(q: CaseQuery) -> dict[str, Any]:
    """The non-default fields of a query, JSON-ready (tuples become lists)."""
    out: dict[str, Any] = {}
    for f in dc_fields(q):
        if f.name == "extra":
            continue
        value = getattr(q, f.name)
        if value != getattr(_DEFAULT, f.name):
            out[f.name] = list(value) if isinstance(value, tuple) else value
    return out


def query_from_dict(data: dict[str, Any]) -> CaseQuery:
    """The inverse of :func:`query_to_dict`; unknown keys (from a newer version) are ignored."""
    known = {f.name for f in dc_fields(CaseQuery)} - {"extra"}
    kwargs: dict[str, Any] = {
        k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known
    }
    return CaseQuery(**kwargs)


def _day_start(day: dt.date) -> Millis:
    return to_millis(dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI))


def _as_date(value: QDate) -> dt.date:
    return dt.date(value.year(), value.month(), value.day())


def _today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


class _TextCommit(QObject):
    """Treats a committed input-method string (Chinese typed with a pinyin IME) like an edit."""

    def __init__(self, bar: FilterBar) -> None:
        super().__init__(bar)
        self._bar = bar

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.InputMethod:
            QTimer.singleShot(0, self._bar._text_edited)
        return False


class FilterBar(QWidget):
    """Pickers over a case list.

    Signals:
        changed(object): the user changed a filter; carries the new :class:`CaseQuery`.
        saved_filters_changed(): the list of saved filters changed.
    """

    changed = Signal(object)
    saved_filters_changed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._names = names_of(ctx)
        self._hidden: dict[str, Any] = {}
        self._quiet = 0  # >0 while the bar sets its own pickers

        self.search = QLineEdit(self)
        self.search.setObjectName("caseSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(
            self.tr("Search title, description, address or case no. (%1)").replace(
                "%1",
                QKeySequence(QKeySequence.StandardKey.Find).toString(
                    QKeySequence.SequenceFormat.NativeText
                ),
            )
        )
        self.search.setMinimumWidth(180)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(SEARCH_DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit)
        self.search.textEdited.connect(self._text_edited)
        self.search.returnPressed.connect(self._emit_now)
        self.search.installEventFilter(_TextCommit(self))

        self.status = self._combo("statusFilter", self.tr("Status"))
        self.status.addItem(self.tr("All statuses"), "")
        self.status.addItem(self.tr("Open (in the loop)"), "open")
        for s in Status:
            self.status.addItem(labels.status(s.value), s.value)

        self.light = self._combo("lightFilter", self.tr("Deadline light"))
        self.light.addItem(self.tr("Any deadline"), "")
        self.light.addItem(labels.light("red"), "red")
        self.light.addItem(labels.light("yellow"), "yellow")
        self.light.addItem(self.tr("Overdue or due soon"), "due")

        self.major = self._combo("majorFilter", self.tr("Category"))
        self.major.addItem(self.tr("All categories"), "")
        taxonomy = self._names.taxonomy
        for c in sorted(taxonomy.majors() if taxonomy else [], key=lambda c: c.code):
            self.major.addItem(c.name, c.code)
        self.minor = self._combo("minorFilter", self.tr("Sub-category"))
        self.major.currentIndexChanged.connect(self._fill_minors)

        self.village = self._combo("villageFilter", self.tr("Village or community"))
        self.village.addItem(self.tr("All villages"), "")
        for code in self._names.village_order:
            self.village.addItem(self._names.village(code), code)
        self.grid = self._combo("gridFilter", self.tr("Grid"))
        self.village.currentIndexChanged.connect(self._fill_grids)

        self.level = self._combo("levelFilter", self.tr("Level"))
        self.level.addItem(self.tr("All levels"), None)
        for lv in Level:
            self.level.addItem(labels.level(int(lv)), int(lv))

        self.source = self._combo("sourceFilter", self.tr("Source"))
        self.source.addItem(self.tr("All sources"), "")
        for src in Source:
            self.source.addItem(labels.source(src.value), src.value)

        self.urgency = self._combo("urgencyFilter", self.tr("Urgency"))
        self.urgency.addItem(self.tr("Any urgency"), "")
        for u in Urgency:
            self.urgency.addItem(labels.urgency(u.value), u.value)

        self.dates = self._combo("dateFilter", self.tr("Reported"))
        self.dates.addItem(self.tr("Reported any time"), "")
        self.dates.addItem(self.tr("Reported today"), "today")
        self.dates.addItem(self.tr("Last 7 days"), "7d")
        self.dates.addItem(self.tr("Last 30 days"), "30d")
        self.dates.addItem(self.tr("This month"), "month")
        self.dates.addItem(self.tr("Date range…"), "custom")
        self.date_from = QDateEdit(self)
        self.date_to = QDateEdit(self)
        for edit, tip in (
            (self.date_from, self.tr("Reported on or after")),
            (self.date_to, self.tr("Reported on or before")),
        ):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setDate(QDate.currentDate())
            edit.setToolTip(tip)
            edit.setVisible(False)
            edit.dateChanged.connect(self._picked)
        self.dates.currentIndexChanged.connect(self._dates_changed)

        # Work queues (待审批, 上报待受理 …): desktop.county.queue.
        self.queue = QueueCombo(self, county=len(self._names.scope) == 6)
        self.queue.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.queue.setMinimumContentsLength(6)
        self.queue.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

        self.mine = self._combo("mineFilter", self.tr("Whose cases"))
        self._fill_mine()
        ctx.actor_changed.connect(lambda _actor: self._fill_mine())

        self.saved = self._combo("savedFilters", self.tr("Saved filters"))
        self.saved.activated.connect(self._apply_saved)
        self.save_button = QToolButton(self)
        self.save_button.setObjectName("saveFilter")
        self.save_button.setText(self.tr("Save…"))
        self.save_button.setToolTip(self.tr("Save these filters under a name"))
        self.save_button.clicked.connect(self._ask_save)
        self.delete_button = QToolButton(self)
        self.delete_button.setObjectName("deleteFilter")
        self.delete_button.setText(self.tr("Delete"))
        self.delete_button.setToolTip(self.tr("Delete the chosen saved filter"))
        self.delete_button.clicked.connect(self._delete_saved)
        self._fill_saved()
        self.reset_button = QPushButton(self.tr("Clear filters"), self)
        self.reset_button.setObjectName("clearFilters")
        self.reset_button.clicked.connect(self.reset)

        self.hidden_label = QLabel(self)
        self.hidden_label.setObjectName("hiddenFilters")
        self.hidden_label.setWordWrap(True)
        self.hidden_clear = QToolButton(self)
        self.hidden_clear.setText(self.tr("Drop these conditions"))
        self.hidden_clear.clicked.connect(self._drop_hidden)

        for combo in (
            self.status,
            self.light,
            self.major,
            self.minor,
            self.village,
            self.grid,
            self.level,
            self.source,
            self.urgency,
            self.mine,
            self.queue,
        ):
            combo.currentIndexChanged.connect(self._picked)

        # Three short rows rather than two long ones: the window must fit a 1024-pixel screen.
        row1 = QHBoxLayout()
        row1.setContentsMargins(0, 0, 0, 0)
        row1.addWidget(self.search, 3)
        row1.addWidget(self.queue, 2)
        row1.addSpacing(12)
        row1.addWidget(QLabel(self.tr("Saved:"), self))
        row1.addWidget(self.saved, 1)
        row1.addWidget(self.save_button)
        row1.addWidget(self.delete_button)
        row1.addWidget(self.reset_button)
        row2 = QHBoxLayout()
        row2.setContentsMargins(0, 0, 0, 0)
        for w in (self.status, self.light, self.major, self.minor, self.village, self.grid):
            row2.addWidget(w, 1)
        row3 = QHBoxLayout()
        row3.setContentsMargins(0, 0, 0, 0)
        for w in (self.level, self.source, self.urgency, self.dates):
            row3.addWidget(w, 1)
        row3.addWidget(self.date_from)
        row3.addWidget(self.date_to)
        row3.addWidget(self.mine, 2)
        row4 = QHBoxLayout()
        row4.setContentsMargins(0, 0, 0, 0)
        row4.addWidget(self.hidden_label, 1)
        row4.addWidget(self.hidden_clear)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(4)
        for row in (row1, row2, row3, row4):
            box.addLayout(row)
        self._fill_minors()
        self._fill_grids()
        self._show_hidden()

    # -- building -------------------------------------------------------------------------------

    def _combo(self, name: str, tip: str) -> QComboBox:
        combo = QComboBox(self)
        combo.setObjectName(name)
        combo.setToolTip(tip)
        combo.setAccessibleName(tip)
        # Shrinkable: the window must fit a 1024-pixel screen; wider screens show whole words.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(4)
        combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        return combo

    def _fill_minors(self) -> None:
        major = self.major.currentData()
        self._quiet += 1
        try:
            self.minor.clear()
            self.minor.addItem(self.tr("All sub-categories"), "")
            taxonomy = self._names.taxonomy
            if major and taxonomy is not None:
                for c in sorted(taxonomy.minors(major), key=lambda c: c.code):
                    self.minor.addItem(c.name, c.code)
            self.minor.setEnabled(bool(major))
        finally:
            self._quiet -= 1

    def _fill_grids(self) -> None:
        village = self.village.currentData()
        self._quiet += 1
        try:
            self.grid.clear()
            self.grid.addItem(self.tr("All grids"), "")
            if village:
                for code in self._names.grids_of(village):
                    self.grid.addItem(self._names.grid(code), code)
            self.grid.setEnabled(bool(village))
        finally:
            self._quiet -= 1

    def _fill_mine(self) -> None:
        actor = self._ctx.actor
        current = self.mine.currentData() if self.mine.count() else ""
        self._quiet += 1
        try:
            self.mine.clear()
            self.mine.addItem(self.tr("Everyone's cases"), "")
            self.mine.addItem(self.tr("Reported by me"), "reported")
            if actor.department_code:
                self.mine.addItem(
                    self.tr("Assigned to my department (%1)").replace(
                        "%1", self._names.assignee(actor.department_code)
                    ),
                    f"unit:{actor.department_code}",
                )
            for grid in actor.grid_ids:
                self.mine.addItem(
                    self.tr("Assigned to my grid (%1)").replace("%1", self._names.grid(grid)),
                    f"unit:{grid}",
                )
            found = self.mine.findData(current)
            self.mine.setCurrentIndex(max(found, 0))
        finally:
            self._quiet -= 1

    def _fill_saved(self) -> None:
        self._quiet += 1
        try:
            self.saved.clear()
            self.saved.addItem(self.tr("(none)"), None)
            for item in self.saved_filters():
                self.saved.addItem(item["name"], item["name"])
            self.delete_button.setEnabled(self.saved.count() > 1)
        finally:
            self._quiet -= 1

    # -- reacting -------------------------------------------------------------------------------

    def _text_edited(self, _text: str = "") -> None:
        if not self._quiet:
            self._debounce.start()

    def _emit_now(self) -> None:
        self._debounce.stop()
        self._emit()

    def _picked(self, *_args: object) -> None:
        if not self._quiet:
            self._emit()

    def _dates_changed(self) -> None:
        custom = self.dates.currentData() == "custom"
        self.date_from.setVisible(custom)
        self.date_to.setVisible(custom)
        self._picked()

    def _emit(self) -> None:
        self._debounce.stop()
        self.changed.emit(self.query())

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    # -- the query ------------------------------------------------------------------------------

    def query(self) -> CaseQuery:
        """The filters picked now, as a query with the default sort."""
        kw: dict[str, Any] = dict(self._hidden)
        kw["text"] = self.search.text().strip()
        status = self.status.currentData()
        if status == "open":
            kw["open_only"] = True
        elif status:
            kw["statuses"] = (status,)
        kw["category"] = self.minor.currentData() or self.major.currentData() or None
        kw["village_code"] = self.village.currentData() or None
        kw["grid_code"] = self.grid.currentData() or None
        kw["level"] = self.level.currentData()
        kw["source"] = self.source.currentData() or None
        kw["urgency"] = self.urgency.currentData() or None
        kw["light"] = self.light.currentData() or None
        kw.update(self._date_range())
        kw.update(self.queue.fields())
        mine = self.mine.currentData() or ""
        if mine == "reported":
            kw["reporter_id"] = self._ctx.actor.id
        elif mine.startswith("unit:"):
            kw["assignee"] = mine[5:]
        return CaseQuery(**{k: v for k, v in kw.items() if v is not None})

    def _date_range(self) -> dict[str, Millis]:
        preset = self.dates.currentData()
        today = _today()
        if preset == "today":
            return {"reported_from": _day_start(today)}
        if preset == "7d":
            return {"reported_from": _day_start(today - dt.timedelta(days=6))}
        if preset == "30d":
            return {"reported_from": _day_start(today - dt.timedelta(days=29))}
        if preset == "month":
            return {"reported_from": _day_start(today.replace(day=1))}
        if preset == "custom":
            start = _as_date(self.date_from.date())
            end = _as_date(self.date_to.date())
            if end < start:
                start, end = end, start
            return {
                "reported_from": _day_start(start),
                "reported_to": _day_start(end + dt.timedelta(days=1)),
            }
        return {}

    def set_query(self, q: CaseQuery) -> None:
        """Show ``q`` in the pickers (conditions without a picker become "also filtered")."""
        self._quiet += 1
        try:
            hidden: dict[str, Any] = {}
            self.search.setText(q.text)
            if len(q.statuses) == 1 and not q.open_only:
                self._select(self.status, q.statuses[0])
            elif q.open_only and not q.statuses:
                self._select(self.status, "open")
            else:
                self._select(self.status, "")
                if q.statuses:
                    hidden["statuses"] = q.statuses
                if q.open_only:
                    hidden["open_only"] = True
            category = q.category or ""
            taxonomy = self._names.taxonomy
            found = taxonomy.get(category) if taxonomy is not None and category else None
            if found is None and category:
                hidden["category"] = category
                category = ""
            major = (found.parent or found.code) if found is not None else ""
            self._select(self.major, major)
            self._fill_minors()
            self._select(self.minor, category if found is not None and found.parent else "")
            village = q.village_code or (
                self._names.village_of_grid(q.grid_code) if q.grid_code else None
            )
            if village and self.village.findData(village) < 0:
                hidden["village_code"] = q.village_code
                if q.grid_code:
                    hidden["grid_code"] = q.grid_code
                village = None
            self._select(self.village, village or "")
            self._fill_grids()
            if village and q.grid_code:
                self._select(self.grid, q.grid_code)
            elif q.grid_code and not village:
                hidden["grid_code"] = q.grid_code
            self._select(self.level, q.level)
            self._select(self.source, q.source or "")
            self._select(self.urgency, q.urgency or "")
            self._select(self.light, q.light or "")
            self._set_dates(q.reported_from, q.reported_to)
            actor = self._ctx.actor
            mine = ""
            if q.reporter_id:
                if q.reporter_id == actor.id:
                    mine = "reported"
                else:
                    hidden["reporter_id"] = q.reporter_id
            if q.assignee:
                if self.mine.findData(f"unit:{q.assignee}") >= 0 and not mine:
                    mine = f"unit:{q.assignee}"
                else:
                    hidden["assignee"] = q.assignee
            self._select(self.mine, mine)
            hidden.update(self.queue.select_for(q))
            for f in dc_fields(q):
                if f.name in _SHOWN:
                    continue
                value = getattr(q, f.name)
                if value != getattr(_DEFAULT, f.name):
                    hidden[f.name] = value
            self._hidden = hidden
            self._show_hidden()
        finally:
            self._quiet -= 1

    def _set_dates(self, start: Millis | None, end: Millis | None) -> None:
        if start is None and end is None:
            self._select(self.dates, "")
        else:
            self._select(self.dates, "custom")
            first = labels.local(start).date() if start is not None else dt.date(2000, 1, 1)
            last = labels.local(end - 1).date() if end is not None else _today()
            self.date_from.setDate(QDate(first.year, first.month, first.day))
            self.date_to.setDate(QDate(last.year, last.month, last.day))
        custom = self.dates.currentData() == "custom"
        self.date_from.setVisible(custom)
        self.date_to.setVisible(custom)

    @staticmethod
    def _select(combo: QComboBox, value: Any) -> None:
        found = combo.findData(value)
        combo.setCurrentIndex(found if found >= 0 else 0)

    def reset(self) -> None:
        """Clear every filter (the search text too) and show all cases."""
        self.set_query(CaseQuery())
        self._emit()

    def _drop_hidden(self) -> None:
        self._hidden = {}
        self._show_hidden()
        self._emit()

    def _show_hidden(self) -> None:
        parts = []
        h = self._hidden
        if h.get("statuses"):
            parts.append(
                self.tr("status is %1").replace(
                    "%1", self.tr(" or ").join(labels.status(s) for s in h["statuses"])
                )
            )
        if h.get("open_only"):
            parts.append(self.tr("still in the loop"))
        if h.get("closed_from") is not None or h.get("closed_to") is not None:
            start = labels.day(h.get("closed_from")) or "…"
            end = labels.day(h["closed_to"] - 1) if h.get("closed_to") is not None else "…"
            parts.append(self.tr("closed %1 – %2").replace("%1", start).replace("%2", end))
        if h.get("self_handled") is True:
            parts.append(self.tr("self-handled in the grid"))
        if h.get("self_handled") is False:
            parts.append(self.tr("not self-handled"))
        if h.get("conflicts_only"):
            parts.append(self.tr("with sync conflicts to settle"))
        if h.get("category"):
            parts.append(self.tr("category %1").replace("%1", h["category"]))
        if h.get("village_code"):
            parts.append(self._names.village(h["village_code"]) or h["village_code"])
        if h.get("grid_code"):
            parts.append(self._names.grid(h["grid_code"]))
        if h.get("assignee"):
            parts.append(
                self.tr("assigned to %1").replace("%1", self._names.assignee(h["assignee"]))
            )
        if h.get("dispatched_to"):
            parts.append(
                self.tr("ever dispatched to %1").replace(
                    "%1", self._names.assignee(h["dispatched_to"])
                )
            )
        if h.get("township_code"):
            code = h["township_code"]
            parts.append(self._names.divisions.get(code, code))
        parts.extend(hidden_parts(h))
        if h.get("reporter_id"):
            parts.append(
                self.tr("reported by %1").replace("%1", self._names.account(h["reporter_id"]))
            )
        self.hidden_label.setText(
            self.tr("Also filtered: %1").replace("%1", self.tr("; ").join(parts)) if parts else ""
        )
        self.hidden_label.setVisible(bool(parts))
        self.hidden_clear.setVisible(bool(parts))

    # -- saved filters --------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The pickers' state (what a saved filter remembers)."""
        return {
            "text": self.search.text(),
            "status": self.status.currentData(),
            "light": self.light.currentData(),
            "major": self.major.currentData(),
            "minor": self.minor.currentData(),
            "village": self.village.currentData(),
            "grid": self.grid.currentData(),
            "level": self.level.currentData(),
            "source": self.source.currentData(),
            "urgency": self.urgency.currentData(),
            "dates": self.dates.currentData(),
            "date_from": self.date_from.date().toString("yyyy-MM-dd"),
            "date_to": self.date_to.date().toString("yyyy-MM-dd"),
            "mine": self.mine.currentData(),
            "queue": self.queue.currentData(),
            "hidden": query_to_dict(CaseQuery(**self._hidden)),
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore pickers from :meth:`state` and apply them."""
        self._quiet += 1
        try:
            self.search.setText(str(state.get("text") or ""))
            self._select(self.status, state.get("status") or "")
            self._select(self.light, state.get("light") or "")
            self._select(self.major, state.get("major") or "")
            self._fill_minors()
            self._select(self.minor, state.get("minor") or "")
            self._select(self.village, state.get("village") or "")
            self._fill_grids()
            self._select(self.grid, state.get("grid") or "")
            self._select(self.level, state.get("level"))
            self._select(self.source, state.get("source") or "")
            self._select(self.urgency, state.get("urgency") or "")
            for edit, key in ((self.date_from, "date_from"), (self.date_to, "date_to")):
                date = QDate.fromString(str(state.get(key) or ""), "yyyy-MM-dd")
                if date.isValid():
                    edit.setDate(date)
            self._select(self.dates, state.get("dates") or "")
            custom = self.dates.currentData() == "custom"
            self.date_from.setVisible(custom)
            self.date_to.setVisible(custom)
            self._select(self.mine, state.get("mine") or "")
            self._select(self.queue, state.get("queue") or "")
            hidden = state.get("hidden") or {}
            self._hidden = {
                k: v
                for k, v in query_to_dict(query_from_dict(hidden)).items()
                if k not in _SHOWN or k in ("statuses", "open_only")
            }
            self._hidden = {
                k: tuple(v) if isinstance(v, list) else v for k, v in self._hidden.items()
            }
            self._show_hidden()
        finally:
            self._quiet -= 1
        self._emit()

    def saved_filters(self) -> list[dict[str, Any]]:
        """The saved filters from settings; a damaged setting reads as none (and is logged)."""
        try:
            data = json.loads(self._ctx.settings.get("saved_filters") or "[]")
        except (TypeError, ValueError):
            return []
        if not isinstance(data, list):
            return []
        return [d for d in data if isinstance(d, dict) and isinstance(d.get("name"), str)]

    def save_current(self, name: str) -> None:
        """Save the pickers under ``name`` (replacing a saved filter of that name)."""
        name = name.strip()
        if not name:
            return
        items = [d for d in self.saved_filters() if d["name"] != name]
        items.append({"name": name, "state": self.state()})
        items.sort(key=lambda d: d["name"])
        self._ctx.settings.set("saved_filters", json.dumps(items, ensure_ascii=False))
        self._fill_saved()
        self._select(self.saved, name)
        self.saved_filters_changed.emit()

    def apply_saved(self, name: str) -> bool:
        for item in self.saved_filters():
            if item["name"] == name:
                self.set_state(item.get("state") or {})
                self._quiet += 1
                self._select(self.saved, name)
                self._quiet -= 1
                return True
        return False

    def delete_saved(self, name: str) -> None:
        items = [d for d in self.saved_filters() if d["name"] != name]
        self._ctx.settings.set("saved_filters", json.dumps(items, ensure_ascii=False))
        self._fill_saved()
        self.saved_filters_changed.emit()

    def _apply_saved(self, index: int) -> None:
        name = self.saved.itemData(index)
        if name:
            self.apply_saved(name)

    def _ask_save(self) -> None:
        name, ok = QInputDialog.getText(
            self, self.tr("Save filters"), self.tr("Name for these filters:")
        )
        if ok and name.strip():
            self.save_current(name)

    def _delete_saved(self) -> None:
        name = self.saved.currentData()
        if name:
            self.delete_saved(name)
