"""The case detail: everything about one case, and exactly the steps the signed-in account may
take on it now.

What is shown comes from the store's projection of the case's timeline (``Store.case``), read on
the GUI thread's fast connection — one case is small by construction. The buttons are
``workflow.allowed_actions(state, ctx.actor)``, no more and no fewer; each opens its form
(:mod:`desktop.cases.actions`), which writes through ``ctx.ops.write``. The resident's phone
number is masked (138****5678) and shown in full only on an explicit click, and only to
operators and supervisors.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from sync.model.calendar import WorkCalendar
from sync.model.clock import Millis
from sync.model.records import Action, Actor, Attachment, Entry, Light, Role, Status, TaskState
from sync.model.workflow import CaseState, allowed_actions
from sync.store import Store
from sync.store import attachments as photo_store
from sync.store.attachments import AttachmentError
from sync.store.errors import StoreError

from .. import names as names_module
from .. import refusals, words
from ..context import AppContext
from ..county import notes as county_notes
from ..map import show_on_map_text
from . import sheet
from .actions import PHONE_ROLES, ActionForm, Snapshot, form_for
from .photos import IMAGE_FILTER_PATTERNS, PhotoOutcome, PhotoStrip, attach_checked
from .sheet import task_row
from .timeline import TimelineInfo, TimelineView, describe

translate = QCoreApplication.translate

HOUR_MS = 3_600_000

# For each status, the steps a person most likely takes next, best first (Ctrl+Enter).
_PREFERRED: dict[Status, tuple[Action, ...]] = {
    Status.REPORTED: (Action.ACCEPT,),
    Status.ACCEPTED: (Action.DISPATCH,),
    Status.HANDLING: (Action.APPROVE_EXTENSION, Action.APPROVE_PARK, Action.FEEDBACK),
    Status.VERIFYING: (Action.VERIFY_PASS,),
    Status.PARKED: (Action.RESUME,),
    Status.CLOSED: (Action.ARCHIVE,),
    Status.ARCHIVED: (Action.EVALUATE,),
}

_LIGHT_COLOURS = {
    Light.GREEN: "#27ae60",
    Light.YELLOW: "#e67e22",
    Light.RED: "#c0392b",
    Light.NONE: "#95a5a6",
}


def due_text(state: CaseState, now: Millis, calendar: WorkCalendar) -> str:
    """``剩余 2 个工作日`` / ``剩余 3 小时`` / ``已超期 5 小时`` / ``已超期 3 天``; '' without a
    running deadline."""
    due = state.due_at
    if due is None:
        return ""
    if now > due:
        hours = (now - due) // HOUR_MS
        if hours < 48:
            # Counts are bound to plain names: lupdate skips plural calls whose count is an
            # attribute or a nested call, and the string would go untranslated.
            n = max(int(hours), 1)
            return translate("CaseDetail", "%n hour(s) overdue", "", n)
        n = int(hours // 24)
        return translate("CaseDetail", "%n day(s) overdue", "", n)
    left = due - now
    if left < HOUR_MS:
        n = max(int(left // 60_000), 1)
        return translate("CaseDetail", "%n minute(s) left", "", n)
    hours_left = int(left // HOUR_MS)
    if left < 24 * HOUR_MS:
        return translate("CaseDetail", "%n hour(s) left", "", hours_left)
    days = calendar.working_days_between(now, due)
    if days >= 1:
        return translate("CaseDetail", "%n working day(s) left", "", days)
    return translate("CaseDetail", "%n hour(s) left", "", hours_left)


def preferred_action(
    state: CaseState, allowed: Sequence[Action], role: Role | None = None
) -> Action | None:
    """The step a person most likely takes next on this case, among those allowed."""
    if (state.conflicts or state.field_conflicts) and Action.SETTLE in allowed:
        return Action.SETTLE
    for action in _PREFERRED.get(state.status, ()):
        # An operator may feed back on a unit's behalf, but that is not their usual next step.
        if action == Action.FEEDBACK and role == Role.OPERATOR:
            continue
        if action in allowed:
            return action
    return None


class CaseDetail(QWidget):
    """One case: its fields, deadline, dispatch, conflicts, photos, timeline and actions.

    Signals:
        case_changed(str): a step (or a photo) was recorded on the shown case; carries its id.
    """

    case_changed = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("caseDetail")
        self._case_id: str | None = None
        self._state: CaseState | None = None
        self._snapshot: Snapshot | None = None
        self._signature: tuple[Any, ...] | None = None
        self._phone_revealed = False
        self._buttons: dict[Action, QPushButton] = {}
        self._allowed: list[Action] = []
        self.current_form: ActionForm | None = None
        self.print_dialog: QPrintDialog | None = None  # while open (tests close it)

        self.pages = QStackedWidget(self)
        self.placeholder = QLabel(self.tr("Choose a case to see its details."), self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setObjectName("detailPlaceholder")
        self.pages.addWidget(self.placeholder)
        scroll = QScrollArea(self)
        self.scroll_area = scroll
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        # The detail fits the panel's width and scrolls only down.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._build_content())
        self.pages.addWidget(scroll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

        # The deadline text moves with the clock even when nothing is written.
        self._clock = QTimer(self)
        self._clock.setInterval(60_000)
        self._clock.timeout.connect(self.update_deadline)
        self._clock.start()

        ctx.cases_changed.connect(self._on_cases_changed)
        ctx.actor_changed.connect(self._on_actor_changed)

    # -- building ---------------------------------------------------------------------------

    def _build_content(self) -> QWidget:
        content = QWidget(self)
        outer = QVBoxLayout(content)

        self.title = QLabel(content)
        self.title.setObjectName("caseTitle")
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.title.setFont(font)
        outer.addWidget(self.title)

        meta = QHBoxLayout()
        self.number = QLabel(content)
        self.number.setObjectName("caseNumber")
        self.number.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status = QLabel(content)
        self.status.setObjectName("caseStatus")
        bold = QFont(self.status.font())
        bold.setBold(True)
        self.status.setFont(bold)
        self.level = QLabel(content)
        self.level.setObjectName("caseLevel")
        self.light = QLabel(content)
        self.light.setObjectName("caseLight")
        self.deadline = QLabel(content)
        self.deadline.setObjectName("caseDeadline")
        # Two short rows rather than one long one: a label that does not wrap sets the panel's
        # minimum width, and one long line pushed the whole detail past the window's edge.
        meta.addWidget(self.number)
        meta.addStretch(1)
        self.print_button = QPushButton(self.tr("Print…"), content)
        self.print_button.setObjectName("printCase")
        self.print_button.setToolTip(self.tr("Print the case sheet, or save it as PDF"))
        self.print_button.clicked.connect(self.print_case)
        meta.addWidget(self.print_button)
        self.print_order_button = QPushButton(self.tr("Print dispatch orders…"), content)
        self.print_order_button.setObjectName("printDispatchOrders")
        self.print_order_button.setToolTip(
            self.tr("One dispatch order (交办单) per unit handling the case, for it to sign")
        )
        self.print_order_button.clicked.connect(self.print_dispatch_orders)
        meta.addWidget(self.print_order_button)
        self.map_button = QPushButton(show_on_map_text(), content)
        self.map_button.setObjectName("caseShowOnMap")
        self.map_button.clicked.connect(self._show_on_map)
        meta.addWidget(self.map_button)
        outer.addLayout(meta)
        state_row = QHBoxLayout()
        for w in (self.status, self.level, self.light, self.deadline):
            state_row.addWidget(w)
        self.deadline.setWordWrap(True)
        state_row.addStretch(1)
        outer.addLayout(state_row)

        self.notice = QLabel(content)
        self.notice.setObjectName("detailNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #c0392b;")
        self.notice.hide()
        outer.addWidget(self.notice)

        # 五级贯通: escalated to the county, taken in, handed down (desktop.county.notes).
        self.county_note = QLabel(content)
        self.county_note.setObjectName("countyNote")
        self.county_note.setWordWrap(True)
        self.county_note.setStyleSheet(
            "background: #eaf2fb; border-left: 4px solid #2e86de; padding: 6px;"
        )
        self.county_note.hide()
        outer.addWidget(self.county_note)

        self.actions_box = QGroupBox(self.tr("Actions"), content)
        self.actions_box.setObjectName("caseActions")
        self.actions_grid = QGridLayout(self.actions_box)
        self.no_actions = QLabel(self.tr("Your account has no step to take on this case now."))
        self.no_actions.setWordWrap(True)
        self.read_only = QLabel(self.actions_box)
        self.read_only.setObjectName("readOnlyReason")
        self.read_only.setWordWrap(True)
        self.read_only.hide()
        outer.addWidget(self.actions_box)

        info = QGroupBox(self.tr("Case"), content)
        form = QFormLayout(info)
        self.fields: dict[str, QLabel] = {}
        rows = (
            ("category", self.tr("Category")),
            ("place", self.tr("Village / grid")),
            ("address", self.tr("Address")),
            ("source", self.tr("Source")),
            ("urgency", self.tr("Urgency")),
            ("reported", self.tr("Reported")),
            ("description", self.tr("Description")),
        )
        for key, label in rows:
            value = QLabel(info)
            value.setObjectName(f"field_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = value
            form.addRow(label, value)
        reporter_row = QHBoxLayout()
        self.reporter = QLabel(info)
        self.reporter.setObjectName("field_reporter")
        self.phone = QLabel(info)
        self.phone.setObjectName("field_phone")
        self.phone.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.phone_button = QToolButton(info)
        self.phone_button.setObjectName("revealPhone")
        self.phone_button.clicked.connect(self.toggle_phone)
        reporter_row.addWidget(self.reporter)
        reporter_row.addWidget(self.phone)
        reporter_row.addWidget(self.phone_button)
        reporter_row.addStretch(1)
        form.addRow(self.tr("Reporter"), reporter_row)
        self.fields["reporter"] = self.reporter
        self.fields["phone"] = self.phone
        outer.addWidget(info)

        self.notes = QLabel(content)
        self.notes.setObjectName("caseNotes")
        self.notes.setWordWrap(True)
        outer.addWidget(self.notes)

        self.dispatch_box = QGroupBox(self.tr("Dispatch"), content)
        dispatch_layout = QVBoxLayout(self.dispatch_box)
        self.tasks = QTreeWidget(self.dispatch_box)
        self.tasks.setObjectName("caseTasks")
        self.tasks.setRootIsDecorated(False)
        self.tasks.setHeaderLabels(
            [self.tr("Unit"), self.tr("State"), self.tr("Feedback / reason"), self.tr("Time")]
        )
        self.tasks.setMaximumHeight(140)
        header = self.tasks.header()
        for column in (0, 1, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        dispatch_layout.addWidget(self.tasks)
        outer.addWidget(self.dispatch_box)

        self.conflicts_box = QGroupBox(self.tr("Conflicts to settle"), content)
        self.conflicts_box.setObjectName("caseConflicts")
        self.conflicts_box.setStyleSheet("QGroupBox { color: #c0392b; font-weight: bold; }")
        conflicts_layout = QVBoxLayout(self.conflicts_box)
        self.conflicts = QLabel(self.conflicts_box)
        self.conflicts.setWordWrap(True)
        self.conflicts.setStyleSheet("color: #c0392b; font-weight: normal;")
        conflicts_layout.addWidget(self.conflicts)
        outer.addWidget(self.conflicts_box)

        photos_box = QGroupBox(self.tr("Photos"), content)
        photos_layout = QVBoxLayout(photos_box)
        self.photos = PhotoStrip(self.ctx, photos_box)
        self.photos.files_dropped.connect(self.add_photos)
        self.add_photo_button = QPushButton(self.tr("Add photos…"), photos_box)
        self.add_photo_button.setObjectName("addCasePhotos")
        self.add_photo_button.clicked.connect(self._choose_photos)
        photos_layout.addWidget(self.photos)
        photos_layout.addWidget(self.add_photo_button, 0, Qt.AlignmentFlag.AlignLeft)
        outer.addWidget(photos_box)

        timeline_box = QGroupBox(self.tr("History"), content)
        timeline_layout = QVBoxLayout(timeline_box)
        self.timeline = TimelineView(timeline_box)
        self.timeline.setMinimumHeight(180)
        timeline_layout.addWidget(self.timeline)
        outer.addWidget(timeline_box, 1)
        return content

    # -- printing ---------------------------------------------------------------------------

    def sheet_html(self) -> str | None:
        """The 事件处置单 of the case on show, as printed (None when no case is shown)."""
        snap = self._snapshot
        if snap is None:
            return None
        return sheet.sheet_html(snap.state, snap.entries, snap.info, self.ctx.ops.gui_store().now())

    def dispatch_orders_html(self) -> str | None:
        """The 交办单 of the case on show, one page per unit (None when not dispatched)."""
        snap = self._snapshot
        if snap is None:
            return None
        now = self.ctx.ops.gui_store().now()
        return sheet.dispatch_order_html(snap.state, snap.entries, snap.info, now)

    def _show_on_map(self) -> None:
        if self._case_id:
            self.ctx.show_on_map("case", self._case_id)

    def print_case(self) -> None:
        """Print the case sheet through Qt's print dialog (to a printer, or to a PDF file)."""
        self._print(self.sheet_html(), self.tr("Print the case sheet"))

    def print_dispatch_orders(self) -> None:
        """Print a 交办单 for each unit handling the case, through Qt's print dialog."""
        self._print(self.dispatch_orders_html(), self.tr("Print dispatch orders"))

    def _print(self, html_text: str | None, title: str) -> None:
        if html_text is None:
            return
        printer = sheet.a4_printer(QPrinter(QPrinter.PrinterMode.HighResolution))
        dialog = QPrintDialog(printer, self)
        dialog.setObjectName("printDialog")
        dialog.setWindowTitle(title)
        self.print_dialog = dialog
        try:
            if dialog.exec() == QPrintDialog.DialogCode.Accepted:
                sheet.print_sheet(html_text, printer)
        finally:
            self.print_dialog = None

    # -- what is shown ----------------------------------------------------------------------

    def case_id(self) -> str | None:
        return self._case_id

    def state(self) -> CaseState | None:
        """The projected state on show (None before a case is shown or when it is gone)."""
        return self._state

    def show_case(self, case_id: str) -> None:
        """Show one case (reading it now), with the actions the signed-in account may take."""
        if case_id != self._case_id:
            self._phone_revealed = False
            self._close_form()
            self.notice.hide()
        new_case = case_id != self._case_id
        self._case_id = case_id
        self._signature = None
        self.reload()
        if new_case:
            # Another case (F8, a click in the list) opens at its header, not at the scroll
            # position the previous case was left at.
            self.scroll_area.verticalScrollBar().setValue(0)

    def reload(self) -> None:
        """Read the shown case again; rebuilds the view only when something changed."""
        if self._case_id is None:
            return
        store = self.ctx.ops.gui_store()
        try:
            state = store.case(self._case_id)
            entries = store.timeline(self._case_id) if state is not None else []
            photos = photo_store.attachments(store, self._case_id) if state is not None else []
            accounts = {a.id: a for a in store.accounts()}
            numbers = self._merge_numbers(store, entries)
            now = store.now()
            calendar = store.rules.calendar
        except StoreError as exc:
            self._show_missing(refusals.message(exc))
            return
        if state is None:
            self._show_missing(self.tr("This case is not on this computer (yet)."))
            return
        signature = (state.last_hlc, state.entries, len(photos), self.ctx.actor)
        if signature == self._signature:
            return
        self._signature = signature
        names = names_module.of(self.ctx)
        info = TimelineInfo(
            names=names,
            accounts=accounts,
            case_numbers=numbers,
            photos=Counter(a.entry_id for a in photos if a.entry_id),
        )
        self._state = state
        self._snapshot = Snapshot(state, entries, names, info, now, calendar)
        self.pages.setCurrentIndex(1)
        self._fill(state, entries, photos, info)

    @staticmethod
    def _merge_numbers(store: Store, entries: Sequence[Entry]) -> dict[str, str]:
        out = {}
        for e in entries:
            if e.action == Action.MERGE and e.payload.get("into"):
                row = store.case_row(str(e.payload["into"]))
                if row is not None:
                    out[str(e.payload["into"])] = str(row["case_no"])
        return out

    def _show_missing(self, text: str) -> None:
        self._state = None
        self._snapshot = None
        self._signature = None
        self.placeholder.setText(text)
        self.pages.setCurrentIndex(0)
        self._close_form()

    def _fill(
        self,
        s: CaseState,
        entries: Sequence[Entry],
        photos: Sequence[Attachment],
        info: TimelineInfo,
    ) -> None:
        names = info.names
        f = s.fields
        self.title.setText(str(f.get("title") or self.tr("(no title)")))
        self.number.setText(self.tr("No. %1").replace("%1", s.case_no or "—"))
        self.status.setText(words.status(s.status))
        self.level.setText(self.tr("Level: %1").replace("%1", words.level(s.level)))
        self.update_deadline()

        self.fields["category"].setText(names.category(f.get("category")))
        village = names.village(f.get("village_code"))
        grid = names.grid(f.get("grid_id")) if f.get("grid_id") else ""
        self.fields["place"].setText(" / ".join(p for p in (village, grid) if p))
        self.fields["address"].setText(str(f.get("address") or ""))
        self.fields["source"].setText(words.source(f.get("source")))
        self.fields["urgency"].setText(words.urgency(f.get("urgency") or "normal"))
        opening = next((e for e in sorted(entries, key=lambda e: e.sort_key)), None)
        reported = words.when(s.reported_at)
        if opening is not None:
            reported = f"{reported} {info.who(opening)}"
        self.fields["reported"].setText(reported)
        self.fields["description"].setText(str(f.get("description") or ""))
        self.reporter.setText(str(f.get("reporter_name") or ""))
        self._update_phone()

        county = county_notes.county_lines(s, {a.id: a.name for a in info.accounts.values()})
        self.county_note.setText("\n".join(county))
        self.county_note.setVisible(bool(county))
        self.notes.setText("\n".join(self._notes(s, info)))
        self.notes.setVisible(bool(self.notes.text()))
        self._fill_tasks(s, info)
        self._fill_conflicts(s, entries, info)
        self.photos.set_attachments(photos)
        self.timeline.set_timeline(entries, info, s)
        self._fill_actions(s)

    def update_deadline(self) -> None:
        """Redraw the light and the time left (the clock moves even when nothing is written)."""
        s = self._state
        if s is None:
            return
        now = self.ctx.ops.gui_store().now()
        light = s.light(now)
        colour = _LIGHT_COLOURS[light]
        self.light.setText(f"<span style='color:{colour}'>●</span> {words.light(light)}")
        due = s.due_at
        if due is None:
            self.deadline.setText("")
            return
        kind = (
            self.tr("Acceptance due %1")
            if s.status == Status.REPORTED
            else self.tr("Handling due %1")
        )
        calendar = self._snapshot.calendar if self._snapshot else WorkCalendar()
        self.deadline.setText(
            f"{kind.replace('%1', words.when(due))}（{due_text(s, now, calendar)}）"
        )

    def _notes(self, s: CaseState, info: TimelineInfo) -> list[str]:
        out = []
        # A case made from a visit's follow-up (转为事件) names its visit.
        from ..fieldwork.links import source_note

        source = source_note(self.ctx.ops.gui_store(), s.case_id)
        if source:
            out.append(source)
        if s.self_handled:
            out.append(self.tr("Handled on the spot by the grid worker."))
        if s.status == Status.REJECTED and s.reject_reason:
            out.append(self.tr("Rejected: %1").replace("%1", s.reject_reason))
        if s.status == Status.MERGED and s.merged_into:
            number = info.case_numbers.get(s.merged_into, s.merged_into)
            out.append(self.tr("Merged as a duplicate of %1").replace("%1", number))
        if s.extension_pending:
            p = s.extension_pending
            out.append(
                self.tr("Extension requested to %1, waiting for approval: %2")
                .replace("%1", words.day(int(p.get("until", 0))))
                .replace("%2", str(p.get("reason", "")))
            )
        if s.park_pending:
            p = s.park_pending
            out.append(
                self.tr("Parking requested (review on %1), waiting for approval: %2")
                .replace("%1", words.day(int(p.get("review_on", 0))))
                .replace("%2", str(p.get("reason", "")))
            )
        if s.status == Status.PARKED and s.park_review:
            out.append(self.tr("Parked; review on %1").replace("%1", words.day(s.park_review)))
        if s.overdue_at is not None:
            out.append(
                self.tr("Ran past its deadline of %1: counted as not closed on time.").replace(
                    "%1", words.when(s.overdue_at)
                )
            )
        if s.extensions:
            extensions = s.extensions
            out.append(translate("CaseDetail", "Extended %n time(s)", "", extensions))
        if s.urges:
            urges = s.urges
            out.append(translate("CaseDetail", "Urged %n time(s)", "", urges))
        if s.verify_failures:
            failures = s.verify_failures
            out.append(translate("CaseDetail", "Failed verification %n time(s)", "", failures))
        if s.evaluation:
            ev = s.evaluation
            out.append(
                self.tr("Evaluation: quality %1 of 5, %2, on time: %3")
                .replace("%1", str(ev.get("quality")))
                .replace("%2", words.satisfaction(ev.get("satisfaction")))
                .replace("%3", self.tr("yes") if ev.get("timely") else self.tr("no"))
            )
        return out

    def _fill_tasks(self, s: CaseState, info: TimelineInfo) -> None:
        self.tasks.clear()
        for task in s.tasks:
            cells = task_row(task, s, info)
            detail = cells[2]
            item = QTreeWidgetItem(cells)
            item.setToolTip(2, detail)
            self.tasks.addTopLevelItem(item)
        self.dispatch_box.setVisible(bool(s.tasks))
        self.print_order_button.setVisible(
            any(t.state == TaskState.ASSIGNED for t in s.active_tasks())
        )

    def _fill_conflicts(self, s: CaseState, entries: Sequence[Entry], info: TimelineInfo) -> None:
        by_id = {e.id: e for e in entries}
        lines = []
        for c in s.conflicts:
            entry = by_id.get(c.entry_id)
            step = describe(entry, info) if entry is not None else c.entry_id
            lines.append(
                self.tr("Workflow conflict: %1 — %2")
                .replace("%2", refusals.translate(c.reason))
                .replace("%1", step)
            )
        for fc in s.field_conflicts:
            lines.append(
                self.tr("Field conflict: %1 is “%2” for now; another device set “%3”")
                .replace("%3", str(fc.loser_value))
                .replace("%2", str(fc.winner_value))
                .replace("%1", words.field_name(fc.field))
            )
        self.conflicts.setText("\n".join(lines))
        self.conflicts_box.setVisible(bool(lines))

    def _fill_actions(self, s: CaseState) -> None:
        for button in self._buttons.values():
            self.actions_grid.removeWidget(button)
            button.hide()  # gone at once, not only when the event loop deletes it
            button.deleteLater()
        self._buttons = {}
        self.actions_grid.removeWidget(self.no_actions)
        self.no_actions.hide()
        self._allowed = allowed_actions(s, self.ctx.actor)
        primary = preferred_action(s, self._allowed, self.ctx.actor.role)
        columns = 4
        for index, action in enumerate(self._allowed):
            button = QPushButton(words.action(action), self.actions_box)
            button.setObjectName(f"action_{action.value}")
            button.setAutoDefault(False)
            button.setMinimumWidth(0)
            if action == primary:
                font = QFont(button.font())
                font.setBold(True)
                button.setFont(font)
                button.setToolTip(self.tr("The usual next step (Ctrl+Enter)"))
            button.clicked.connect(lambda _=False, a=action: self.open_action(a))
            self.actions_grid.addWidget(button, index // columns, index % columns)
            self._buttons[action] = button
        self.actions_grid.removeWidget(self.read_only)
        reason = county_notes.read_only_reason(s, self.ctx.actor)
        self.read_only.setText(reason)
        self.read_only.setVisible(bool(reason))
        if reason:
            # The steps are the county's: say so rather than show nothing (or only 备注).
            row = (len(self._allowed) + columns - 1) // columns
            self.actions_grid.addWidget(self.read_only, row, 0, 1, columns)
        elif not self._allowed:
            self.actions_grid.addWidget(self.no_actions, 0, 0, 1, columns)
            self.no_actions.show()

    # -- actions ----------------------------------------------------------------------------

    def shown_actions(self) -> list[Action]:
        """The actions offered as buttons now (exactly ``allowed_actions``)."""
        return list(self._buttons)

    def action_button(self, action: Action) -> QPushButton | None:
        return self._buttons.get(action)

    def preferred_action(self) -> Action | None:
        if self._state is None:
            return None
        return preferred_action(self._state, self._allowed, self.ctx.actor.role)

    def primary_action(self) -> Action | None:
        """Open the form of the most likely next step (受理, 派遣, 核查 …); None if none."""
        action = self.preferred_action()
        if action is None:
            return None
        self.open_action(action)
        return action

    def open_action(self, action: Action) -> ActionForm | None:
        """Open the form for ``action`` if the account may take it now."""
        if self._snapshot is None or action not in self._allowed:
            return None
        self._close_form()
        form = form_for(action, self.ctx, self._snapshot, self)
        # The case is bound now: another case may be on show when this step lands.
        form.step_done.connect(lambda result, cid=form.case_id: self._after_step(cid, result))
        form.finished.connect(lambda _=0, f=form: self._form_closed(f))
        self.current_form = form
        form.open()
        return form

    def _form_closed(self, form: ActionForm) -> None:
        if self.current_form is form:
            self.current_form = None
        form.deleteLater()

    def _close_form(self) -> None:
        form = self.current_form
        if form is not None and isValid(form) and not form.busy:
            form.reject()
        self.current_form = None

    def _after_step(self, case_id: str, result: object) -> None:
        if case_id == self._case_id:
            self.notice.hide()
            if isinstance(result, PhotoOutcome) and result.problems:
                self._show_notice(
                    self.tr("The step was saved, but some photos were not:")
                    + "\n"
                    + "\n".join(refusals.message(p) for p in result.problems)
                )
            self.reload()
        self.case_changed.emit(case_id)

    def _show_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()

    # -- photos -----------------------------------------------------------------------------

    def _choose_photos(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Add photos to the case"),
            "",
            self.tr("Photos (%1)").replace("%1", IMAGE_FILTER_PATTERNS),
        )
        if files:
            self.add_photos(files)

    def add_photos(self, paths: Sequence[str]) -> None:
        """Attach photos to the shown case; unreadable ones are named, the rest go in."""
        if self._case_id is None or not paths:
            return
        case_id, actor, wanted = self._case_id, self.ctx.actor, list(paths)

        def run(store: Store) -> PhotoOutcome:
            outcome = PhotoOutcome(case_id)
            good = []
            for path in wanted:
                try:
                    good.append(photo_store.load_photo(path))
                except AttachmentError as exc:
                    outcome.problems.append(exc)
            return attach_checked(store, outcome, good, actor, None)

        def done(outcome: PhotoOutcome) -> None:
            if not isValid(self):
                return
            if case_id == self._case_id:
                self.notice.hide()
                if outcome.problems:
                    self._show_notice("\n".join(refusals.message(p) for p in outcome.problems))
                self.reload()
            if outcome.added:
                self.case_changed.emit(case_id)

        def failed(exc: BaseException) -> None:
            if isValid(self) and case_id == self._case_id:
                self._show_notice(refusals.message(exc))

        self.add_photo_button.setEnabled(False)

        def finish(callback: Any) -> Any:
            def run_callback(value: Any) -> None:
                if isValid(self):
                    self.add_photo_button.setEnabled(True)
                callback(value)

            return run_callback

        self.ctx.ops.write(run).success(finish(done)).failure(finish(failed)).run()

    # -- the resident's phone ---------------------------------------------------------------

    def may_reveal_phone(self) -> bool:
        return self.ctx.actor.role in PHONE_ROLES

    def toggle_phone(self) -> None:
        """Show the full number (operators and supervisors only), or mask it again."""
        if not self.may_reveal_phone():
            self._phone_revealed = False
        else:
            self._phone_revealed = not self._phone_revealed
        self._update_phone()

    def _update_phone(self) -> None:
        phone = str((self._state.fields if self._state else {}).get("reporter_phone") or "")
        allowed = self.may_reveal_phone()
        if not allowed:
            self._phone_revealed = False
        self.phone.setText(phone if self._phone_revealed else words.mask_phone(phone))
        self.phone_button.setVisible(bool(phone))
        self.phone_button.setEnabled(allowed)
        self.phone_button.setText(self.tr("Hide") if self._phone_revealed else self.tr("Show"))
        self.phone_button.setToolTip(
            self.tr("Show the full number")
            if allowed
            else self.tr("Only operators and supervisors may see the full number.")
        )

    # -- reacting to the app ----------------------------------------------------------------

    def _on_cases_changed(self, ids: object) -> None:
        if self._case_id is None:
            return
        if not ids or (isinstance(ids, set | frozenset) and self._case_id in ids):
            self.reload()

    def _on_actor_changed(self, actor: Actor) -> None:
        self._phone_revealed = False
        self._close_form()
        self._signature = None
        self.reload()
