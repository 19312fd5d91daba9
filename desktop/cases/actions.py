"""The action forms of the case detail: one small dialog per step of the closed loop.

Each form validates its input before anything is written and says what is missing in plain
words, next to the field. A valid form runs its step through ``ctx.ops.write``; when the store
refuses it (``Refused``: the case moved on meanwhile, the role may not …) or cannot write (locked,
read-only, disk full) the reason is shown in the form, in the user's language, and the form stays
open with everything typed still there. Enter or Ctrl+Enter submits, Esc cancels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QCoreApplication, QDate, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from sync.model.calendar import SHANGHAI, WorkCalendar
from sync.model.clock import Millis, to_millis
from sync.model.records import (
    Action,
    Actor,
    AssigneeKind,
    Entry,
    Level,
    Role,
    Satisfaction,
    Source,
    Status,
    TaskState,
    Urgency,
)
from sync.model.workflow import OPENING, CaseState, Task
from sync.store import Store
from sync.store.queries import CaseQuery

from .. import refusals, words
from ..context import AppContext
from ..names import Names
from ..report.pickers import CategoryPicker, GridPicker
from .photos import PhotoOutcome, PhotoPicker, attach_checked, check_photos, newest_entry_id
from .timeline import TimelineInfo, describe

# Roles that may see a resident's phone number in full (on an explicit click).
PHONE_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR})


@dataclass
class Snapshot:
    """One case as the detail shows it — what every action form works from."""

    state: CaseState
    entries: list[Entry]
    names: Names
    info: TimelineInfo
    now: Millis
    calendar: WorkCalendar

    @property
    def case_id(self) -> str:
        return self.state.case_id


class Invalid(Exception):
    """Input a form refuses before writing anything; ``widget`` is where to fix it."""

    def __init__(self, message: str, widget: QWidget | None = None) -> None:
        super().__init__(message)
        self.widget = widget


Job = Callable[[Store], Any]


def _text(widget: QLineEdit | QPlainTextEdit) -> str:
    if isinstance(widget, QLineEdit):
        return widget.text().strip()
    return widget.toPlainText().strip()


def _box(parent: QWidget, placeholder: str = "", height: int = 72) -> QPlainTextEdit:
    box = QPlainTextEdit(parent)
    box.setTabChangesFocus(True)  # keyboard-first: Tab leaves the box instead of typing a tab
    box.setPlaceholderText(placeholder)
    box.setFixedHeight(height)
    return box


def _qdate(ms: Millis) -> QDate:
    day = words.local_date(ms)
    return QDate(day.year, day.month, day.day)


def _end_of(day: QDate) -> Millis:
    """23:59:59 of ``day`` in Shanghai: what "by the 25th" means to a command room."""
    return to_millis(dt.datetime(day.year(), day.month(), day.day(), 23, 59, 59, tzinfo=SHANGHAI))


def _start_of(day: QDate) -> Millis:
    return to_millis(dt.datetime(day.year(), day.month(), day.day(), tzinfo=SHANGHAI))


def _date_edit(parent: QWidget, value: QDate, minimum: QDate) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(minimum)
    edit.setDate(value)
    return edit


class ActionForm(QDialog):
    """Base of the action forms: a form layout, a message line, Submit and Cancel.

    Signals:
        step_done(object): the step was recorded; carries the store's result (a ``CaseState`` or a
            :class:`PhotoOutcome` when photos went with it).
    """

    step_done = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        snapshot: Snapshot,
        action: Action,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.snapshot = snapshot
        self.action = action
        self.actor: Actor = ctx.actor
        self.busy = False
        self.setObjectName(f"form_{action.value}")
        self.setWindowTitle(words.action(action))
        self.setMinimumWidth(460)

        self.intro = QLabel(self)
        self.intro.setWordWrap(True)
        self.intro.hide()
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()
        self.buttons = QDialogButtonBox(self)
        self.submit_button = self.buttons.addButton(
            words.action(action), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.submit_button.setObjectName("submit")
        self.submit_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(
            self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.activated.connect(self.submit)

        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.build()

    # -- for subclasses ---------------------------------------------------------------------

    def build(self) -> None:
        """Add the form's fields."""

    def job(self) -> Job:
        """Validate the input and return the write to run; raise :class:`Invalid` if not ok."""
        raise NotImplementedError

    def set_intro(self, text: str) -> None:
        self.intro.setText(text)
        self.intro.setVisible(bool(text))

    @property
    def state(self) -> CaseState:
        return self.snapshot.state

    @property
    def case_id(self) -> str:
        return self.snapshot.case_id

    def act(self, payload: dict[str, Any], action: Action | None = None) -> Job:
        """The write for a plain step: ``store.act(case, action, actor, payload)``."""
        case_id, chosen, actor = self.case_id, action or self.action, self.actor
        return lambda store: store.act(case_id, chosen, actor, payload)

    # -- submitting -------------------------------------------------------------------------

    def submit(self) -> None:
        if self.busy:
            return
        self.show_error("")
        try:
            job = self.job()
        except Invalid as exc:
            self.show_error(str(exc))
            if exc.widget is not None:
                exc.widget.setFocus()
            return
        self._set_busy(True)
        self.ctx.ops.write(job).success(self._succeeded).failure(self._failed).run()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.submit_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)

    def _succeeded(self, result: Any) -> None:
        if not isValid(self):
            return
        self._set_busy(False)
        self.step_done.emit(result)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if not isValid(self):
            return
        self._set_busy(False)
        self.show_error(refusals.message(exc))

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def error_text(self) -> str:
        return self.error.text() if self.error.isVisible() else ""

    def reject(self) -> None:
        if self.busy:
            return  # the step is being written; its outcome must be seen
        super().reject()


# -- simple steps: a note or a reason ----------------------------------------------------------


class NoteForm(ActionForm):
    """Steps that need at most a line of text: accept, reject, urge, archive, resume, comment,
    and the supervisor's decisions on requests to extend or to park."""

    REQUIRED = frozenset({Action.REJECT, Action.COMMENT, Action.DENY_EXTENSION, Action.DENY_PARK})
    REASON_KEYS = frozenset({Action.REJECT, Action.DENY_EXTENSION, Action.DENY_PARK})

    def build(self) -> None:
        a = self.action
        s = self.state
        intros = {
            Action.ACCEPT: self.tr(
                "Accept this case into the loop. Its handling deadline starts now."
            ),
            Action.REJECT: self.tr(
                "The case leaves the loop as rejected (invalid or out of scope). Say why."
            ),
            Action.RESUME: self.tr("Take the case off the parked list and continue handling."),
            Action.ARCHIVE: self.tr(
                "Archive this closed case. It can then be evaluated, but no longer edited."
            ),
        }
        intro = intros.get(a, "")
        if a == Action.ACCEPT and s.awaiting_county and s.status != Status.REPORTED:
            intro = self.tr(
                "Take in this case escalated by the township: the county command centre holds "
                "it from now on. Its handling deadline runs on."
            )
        if a in (Action.APPROVE_EXTENSION, Action.DENY_EXTENSION) and s.extension_pending:
            pending = s.extension_pending
            intro = (
                self.tr("Requested: new deadline %1. Reason: %2")
                .replace("%1", words.day(int(pending.get("until", 0))))
                .replace("%2", str(pending.get("reason", "")))
            )
            due = s.handle_due
            if due is not None and (s.overdue_at is not None or due < self.snapshot.now):
                intro += "\n" + self.tr(
                    "The deadline %1 has passed: the case stays on record as not closed on time."
                ).replace("%1", words.when(s.overdue_at or due))
        if a in (Action.APPROVE_PARK, Action.DENY_PARK) and s.park_pending:
            pending = s.park_pending
            intro = (
                self.tr("Requested: park the case, review on %1. Reason: %2")
                .replace("%1", words.day(int(pending.get("review_on", 0))))
                .replace("%2", str(pending.get("reason", "")))
            )
        self.set_intro(intro)
        if a == Action.COMMENT:
            label = self.tr("Comment")
        elif a in self.REASON_KEYS:
            label = self.tr("Reason")
        else:
            label = self.tr("Note (optional)")
        self.note = _box(self, height=64)
        self.note.setObjectName("note")
        self.form.addRow(label, self.note)

    def job(self) -> Job:
        text = _text(self.note)
        if self.action in self.REQUIRED and not text:
            if self.action == Action.COMMENT:
                raise Invalid(self.tr("Write the comment."), self.note)
            raise Invalid(self.tr("Give a reason."), self.note)
        if self.action in self.REASON_KEYS:
            key = "reason"
        elif self.action == Action.COMMENT:
            key = "text"
        else:
            key = "note"
        return self.act({key: text} if text else {})


# -- steps about one sub-task ------------------------------------------------------------------


class TaskChooser(QComboBox):
    """The open sub-tasks the actor may act on: their own unit's, or any for an operator."""

    def __init__(self, snapshot: Snapshot, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("task")
        mine = {actor.department_code, *actor.grid_ids} - {None}
        for task in snapshot.state.tasks:
            if task.state != TaskState.ASSIGNED:
                continue
            if actor.role != Role.OPERATOR and task.assignee not in mine:
                continue
            self.addItem(task_label(task, snapshot.info), task.assignee)

    def task(self) -> str:
        return str(self.currentData() or "")


class _TaskForm(ActionForm):
    def add_task_row(self) -> None:
        self.task = TaskChooser(self.snapshot, self.actor, self)
        self.form.addRow(self.tr("Handling unit"), self.task)

    def chosen_task(self) -> str:
        task = self.task.task()
        if not task:
            raise Invalid(
                self.tr("There is no open sub-task of your unit on this case."), self.task
            )
        return task


class ReturnForm(_TaskForm):
    """退单: the unit says the case was dispatched to the wrong place."""

    def build(self) -> None:
        self.set_intro(
            self.tr(
                "Return the dispatch when it does not belong to your unit. If the lead unit "
                "returns it, the whole case goes back to the command room for dispatch."
            )
        )
        self.add_task_row()
        self.reason = _box(self, self.tr("Why it is the wrong unit, and who should handle it"))
        self.reason.setObjectName("reason")
        self.form.addRow(self.tr("Reason"), self.reason)

    def job(self) -> Job:
        task = self.chosen_task()
        reason = _text(self.reason)
        if not reason:
            raise Invalid(self.tr("Give a reason for returning the dispatch."), self.reason)
        return self.act({"task": task, "reason": reason})


class ExtensionForm(_TaskForm):
    """申请延期: a new deadline (after the current one) and a reason."""

    def build(self) -> None:
        self.add_task_row()
        due = self.state.handle_due
        today = _qdate(self.snapshot.now)
        # A week past the current deadline — or, for an overdue case, a week from today (a
        # week past a deadline long gone would be in the past, and the date box showed today).
        start = _qdate(due) if due is not None and due > self.snapshot.now else today
        self.current_due = due
        if due is not None and due < self.snapshot.now:
            self.set_intro(
                self.tr(
                    "Current deadline: %1, already passed. An extension does not erase the "
                    "overdue: the case counts as not closed on time."
                ).replace("%1", words.when(due))
            )
        elif due is not None:
            self.set_intro(self.tr("Current deadline: %1").replace("%1", words.when(due)))
        self.until = _date_edit(self, start.addDays(7), today)
        self.until.setObjectName("until")
        self.form.addRow(self.tr("New deadline"), self.until)
        self.reason = _box(self, self.tr("Why more time is needed"))
        self.reason.setObjectName("reason")
        self.form.addRow(self.tr("Reason"), self.reason)

    def job(self) -> Job:
        task = self.chosen_task()
        until = _end_of(self.until.date())
        if self.current_due is not None and until <= self.current_due:
            raise Invalid(
                self.tr("The new deadline must be after the current one (%1).").replace(
                    "%1", words.when(self.current_due)
                ),
                self.until,
            )
        reason = _text(self.reason)
        if not reason:
            raise Invalid(self.tr("Give a reason for the extension."), self.reason)
        return self.act({"task": task, "until": until, "reason": reason})


class FeedbackForm(_TaskForm):
    """反馈: what was done, with photos as evidence."""

    def build(self) -> None:
        self.add_task_row()
        self.result_box = _box(self, self.tr("What was done, and the outcome"), height=96)
        self.result_box.setObjectName("result")
        self.form.addRow(self.tr("Result"), self.result_box)
        self.photos = PhotoPicker(self.ctx, self)
        self.form.addRow(self.tr("Photos"), self.photos)

    def job(self) -> Job:
        task = self.chosen_task()
        result = _text(self.result_box)
        if not result:
            raise Invalid(self.tr("Describe the result of the handling."), self.result_box)
        paths = self.photos.paths()
        case_id, actor = self.case_id, self.actor

        def run(store: Store) -> PhotoOutcome:
            photos = check_photos(paths)  # a bad photo refuses before anything is written
            payload = {"task": task, "result": result, "photos": [p.sha256 for p in photos]}
            state = store.act(case_id, Action.FEEDBACK, actor, payload)
            outcome = PhotoOutcome(case_id, state)
            if photos:
                entry = newest_entry_id(store, case_id, state.last_hlc)
                attach_checked(store, outcome, photos, actor, entry)
            return outcome

        return run


# -- the command room's decisions --------------------------------------------------------------


class DispatchForm(ActionForm):
    """派遣 / 联合处置: exactly one lead unit (a department or a grid) and any assisting
    departments, each of which gets its own sub-task and gives its own feedback."""

    def build(self) -> None:
        names = self.snapshot.names
        self.lead = QComboBox(self)
        self.lead.setObjectName("lead")
        self.lead.addItem(self.tr("— choose the lead unit —"), None)
        for code, name in self._departments():
            self.lead.addItem(name, f"{AssigneeKind.DEPARTMENT.value}:{code}")
        grid = self.state.fields.get("grid_id")
        if grid:
            # The case's own grid first among grids: the usual choice for a small matter.
            self.lead.insertSeparator(self.lead.count())
            self.lead.addItem(
                self.tr("Grid: %1").replace("%1", self.snapshot.info.unit(grid, "grid")),
                f"{AssigneeKind.GRID.value}:{grid}",
            )
        village = self.state.fields.get("village_code")
        for code in names.grids_of(village) if village else ():
            if code != grid:
                self.lead.addItem(
                    self.tr("Grid: %1").replace("%1", self.snapshot.info.unit(code, "grid")),
                    f"{AssigneeKind.GRID.value}:{code}",
                )
        self.form.addRow(self.tr("Lead unit"), self.lead)
        self.assisting = QListWidget(self)
        self.assisting.setObjectName("assisting")
        self.assisting.setMaximumHeight(150)
        for code, name in self._departments():
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.assisting.addItem(item)
        self.form.addRow(self.tr("Assisting departments"), self.assisting)
        self.note = QLineEdit(self)
        self.note.setObjectName("note")
        self.note.setPlaceholderText(self.tr("Instructions for the units (optional)"))
        self.form.addRow(self.tr("Note"), self.note)
        self.assisting.itemChanged.connect(self._update_title)
        self.lead.currentIndexChanged.connect(self._update_title)
        self.lead.currentIndexChanged.connect(self._hide_lead)
        if self.state.tasks:
            self.set_intro(
                self.tr("Dispatching again replaces the current dispatch and its sub-tasks.")
            )

    def _departments(self) -> list[tuple[str, str]]:
        """The departments that may take the case: a county bureau (县级部门) only a case at
        county level, and then first — the county's own 1+N before the township's units."""
        names = self.snapshot.names
        county = names.county_departments
        at_county = self.state.level >= Level.COUNTY
        return sorted(
            ((c, n) for c, n in names.departments.items() if at_county or c not in county),
            key=lambda cn: (cn[0] not in county, cn[0]),
        )

    def set_lead(self, kind: str, code: str) -> None:
        # Item data is "kind:code" text: Qt compares it, unlike a Python tuple.
        index = self.lead.findData(f"{kind}:{code}")
        self.lead.setCurrentIndex(max(index, 0))

    def set_assisting(self, codes: Sequence[str]) -> None:
        for i in range(self.assisting.count()):
            item = self.assisting.item(i)
            checked = item.data(Qt.ItemDataRole.UserRole) in codes
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def assisting_codes(self) -> list[str]:
        return [
            str(self.assisting.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.assisting.count())
            if self.assisting.item(i).checkState() == Qt.CheckState.Checked
        ]

    def _hide_lead(self, *_: object) -> None:
        """The lead department is not offered again as an assisting one (协办)."""
        lead = str(self.lead.currentData() or "")
        kind, _sep, code = lead.partition(":")
        chosen = code if kind == AssigneeKind.DEPARTMENT.value else None
        for i in range(self.assisting.count()):
            item = self.assisting.item(i)
            is_lead = item.data(Qt.ItemDataRole.UserRole) == chosen
            if is_lead and not item.isHidden():
                item.setCheckState(Qt.CheckState.Unchecked)
            item.setHidden(is_lead)

    def _update_title(self, *_: object) -> None:
        joint = bool(self.assisting_codes())
        self.setWindowTitle(self.tr("Joint handling") if joint else words.action(Action.DISPATCH))

    def job(self) -> Job:
        lead = self.lead.currentData()
        if not lead:
            raise Invalid(self.tr("Choose the lead unit."), self.lead)
        kind, code = str(lead).split(":", 1)
        helpers = self.assisting_codes()
        names = self.snapshot.names
        if code in helpers:
            raise Invalid(
                self.tr("The lead unit cannot also be an assisting unit: %1").replace(
                    "%1", names.departments.get(code, code)
                ),
                self.assisting,
            )
        twice = sorted({c for c in helpers if helpers.count(c) > 1})
        if twice:
            raise Invalid(
                self.tr("A unit is named twice: %1").replace(
                    "%1", self.tr(", ").join(names.departments.get(c, c) for c in twice)
                ),
                self.assisting,
            )
        case_id, actor, note = self.case_id, self.actor, _text(self.note)
        assisting = [(AssigneeKind.DEPARTMENT.value, c) for c in helpers]
        return lambda store: store.dispatch(case_id, actor, (kind, code), assisting, note)


class MergeForm(ActionForm):
    """合并: this case duplicates another; find that one by its number (or words)."""

    def build(self) -> None:
        self.set_intro(self.tr("This case is a duplicate. Find the case it duplicates."))
        row = QHBoxLayout()
        self.query = QLineEdit(self)
        self.query.setObjectName("query")
        self.query.setPlaceholderText(self.tr("Case number, or words from its title or address"))
        self.search_button = QPushButton(self.tr("Search"), self)
        self.search_button.setAutoDefault(False)
        row.addWidget(self.query, 1)
        row.addWidget(self.search_button)
        self.form.addRow(self.tr("Find"), row)
        self.results = QListWidget(self)
        self.results.setObjectName("results")
        self.results.setMaximumHeight(180)
        self.form.addRow(self.tr("Duplicate of"), self.results)
        self._searching_by_enter = False
        self.search_button.clicked.connect(self.search)
        self.query.returnPressed.connect(self._search_by_enter)
        self.searches = 0  # finished searches (tests wait on it; the UI shows the results)

    def search(self) -> None:
        text = self.query.text().strip()
        if not text:
            self.show_error(self.tr("Type a case number or words to search for."))
            return
        own = self.case_id

        def find(store: Store) -> list[dict[str, Any]]:
            rows = store.cases(CaseQuery(text=text), limit=30)
            return [r for r in rows if r["id"] != own]

        def show(rows: list[dict[str, Any]]) -> None:
            if not isValid(self):
                return
            self.results.clear()
            for r in rows:
                item = QListWidgetItem(
                    f"{r['case_no']}  {r['title']}  [{words.status(r['status'])}]"
                )
                item.setData(Qt.ItemDataRole.UserRole, r["id"])
                self.results.addItem(item)
            if rows:
                self.results.setCurrentRow(0)
                self.show_error("")
            else:
                self.show_error(self.tr("No other case matches “%1”.").replace("%1", text))
            self.searches += 1

        def failed(exc: BaseException) -> None:
            if isValid(self):
                self.show_error(refusals.message(exc))
                self.searches += 1

        self.ctx.ops.read(find).success(show).failure(failed).run()

    def submit(self) -> None:
        # Enter in the search box searches (returnPressed) and then reaches the dialog's
        # default button in the same key press: that one must not submit the merge.
        if self._searching_by_enter:
            self._searching_by_enter = False
            return
        super().submit()

    def _search_by_enter(self) -> None:
        self._searching_by_enter = True
        QTimer.singleShot(0, self._enter_handled)
        self.search()

    def _enter_handled(self) -> None:
        if isValid(self):
            self._searching_by_enter = False

    def job(self) -> Job:
        item = self.results.currentItem()
        if item is None:
            raise Invalid(
                self.tr("Search for and choose the case this one duplicates."), self.query
            )
        return self.act({"into": str(item.data(Qt.ItemDataRole.UserRole))})


class VerifyForm(ActionForm):
    """核查: passed (结案) or failed (退回重办, with the reason), by phone or on site."""

    def build(self) -> None:
        results = []
        for task in self.state.active_tasks():
            results.append(
                f"{self.snapshot.info.unit(task.assignee, task.kind.value)}："
                f"{task.result or words.task_state(task.state)}"
            )
        if results:
            self.set_intro(self.tr("Feedback:") + "\n" + "\n".join(results))
        self.passed = QRadioButton(words.action(Action.VERIFY_PASS), self)
        self.passed.setObjectName("passed")
        self.failed = QRadioButton(words.action(Action.VERIFY_FAIL), self)
        self.failed.setObjectName("failed")
        group = QButtonGroup(self)
        group.addButton(self.passed)
        group.addButton(self.failed)
        row = QHBoxLayout()
        row.addWidget(self.passed)
        row.addWidget(self.failed)
        row.addStretch(1)
        self.form.addRow(self.tr("Outcome"), row)
        self.method = QComboBox(self)
        self.method.setObjectName("method")
        for key in ("call", "site"):
            self.method.addItem(words.verify_method(key), key)
        self.form.addRow(self.tr("Verified"), self.method)
        self.note = _box(self, height=64)
        self.note.setObjectName("note")
        self.note_label = QLabel(self)
        self.form.addRow(self.note_label, self.note)
        (self.failed if self.action == Action.VERIFY_FAIL else self.passed).setChecked(True)
        self.passed.toggled.connect(self._update)
        self._update()

    def _update(self, *_: object) -> None:
        if self.passed.isChecked():
            self.note_label.setText(self.tr("Note (optional)"))
            self.note.setPlaceholderText(self.tr("e.g. the resident confirmed by phone"))
            self.submit_button.setText(words.action(Action.VERIFY_PASS))
        else:
            self.note_label.setText(self.tr("Reason"))
            self.note.setPlaceholderText(self.tr("What is not done; it goes back for handling"))
            self.submit_button.setText(words.action(Action.VERIFY_FAIL))

    def job(self) -> Job:
        text = _text(self.note)
        method = str(self.method.currentData())
        if self.passed.isChecked():
            self.action = Action.VERIFY_PASS
            return self.act({"note": text, "method": method}, Action.VERIFY_PASS)
        if not text:
            raise Invalid(self.tr("Say why the verification failed."), self.note)
        self.action = Action.VERIFY_FAIL
        return self.act({"reason": text, "method": method}, Action.VERIFY_FAIL)


class EscalateForm(ActionForm):
    """上报升级: pass the case up (网格 → 村 → 乡镇 → 县) with a reason."""

    def build(self) -> None:
        current = int(self.state.level)
        self.set_intro(self.tr("Now handled at: %1").replace("%1", words.level(current)))
        self.target = QComboBox(self)
        self.target.setObjectName("target")
        for level in Level:
            if int(level) > current:
                self.target.addItem(words.level(level), int(level))
        self.form.addRow(self.tr("Escalate to"), self.target)
        self.reason = _box(self, self.tr("Why this level cannot solve it"))
        self.reason.setObjectName("reason")
        self.form.addRow(self.tr("Reason"), self.reason)

    def job(self) -> Job:
        target = self.target.currentData()
        if target is None:
            raise Invalid(self.tr("The case is already at the highest level."), self.target)
        reason = _text(self.reason)
        if not reason:
            raise Invalid(self.tr("Give a reason for escalating."), self.reason)
        return self.act({"reason": reason, "to": int(target)})


class UrgeForm(ActionForm):
    """督办: urge the case as a whole, or one unit handling it (lead or assisting)."""

    def build(self) -> None:
        self.set_intro(self.tr("Urge the units handling this case (督办)."))
        self.unit = QComboBox(self)
        self.unit.setObjectName("unit")
        self.unit.addItem(self.tr("All units handling the case"), None)
        for task in self.state.active_tasks():
            self.unit.addItem(task_label(task, self.snapshot.info), task.assignee)
        self.form.addRow(self.tr("Unit urged"), self.unit)
        self.note = _box(self, height=64)
        self.note.setObjectName("note")
        self.form.addRow(self.tr("Note (optional)"), self.note)

    def job(self) -> Job:
        text = _text(self.note)
        payload: dict[str, Any] = {"note": text} if text else {}
        unit = self.unit.currentData()
        if unit:
            payload["unit"] = str(unit)
        return self.act(payload)


class ParkForm(ActionForm):
    """申请挂账: a case that cannot be solved now, with a reason and a date to look again."""

    def build(self) -> None:
        tomorrow = _qdate(self.snapshot.now).addDays(1)
        self.review = _date_edit(self, _qdate(self.snapshot.now).addDays(30), tomorrow)
        self.review.setObjectName("review")
        self.form.addRow(self.tr("Review on"), self.review)
        self.reason = _box(self, self.tr("Why the case cannot be solved now"))
        self.reason.setObjectName("reason")
        self.form.addRow(self.tr("Reason"), self.reason)

    def job(self) -> Job:
        reason = _text(self.reason)
        if not reason:
            raise Invalid(self.tr("Give a reason for parking the case."), self.reason)
        review = _start_of(self.review.date())
        if review <= self.snapshot.now:
            raise Invalid(self.tr("The review date must be in the future."), self.review)
        return self.act({"reason": reason, "review_on": review})


class EvaluateForm(ActionForm):
    """考核评价: quality 1–5 and the resident's satisfaction; timeliness is measured."""

    def build(self) -> None:
        on_time = self.state.on_time
        if on_time is not None:
            self.set_intro(
                self.tr("Closed on time: %1").replace(
                    "%1", self.tr("yes") if on_time else self.tr("no")
                )
            )
        self.quality = QComboBox(self)
        self.quality.setObjectName("quality")
        self.quality.addItem(self.tr("— choose —"), None)
        for score in range(5, 0, -1):
            self.quality.addItem(self.tr("%1 points").replace("%1", str(score)), score)
        self.form.addRow(self.tr("Quality"), self.quality)
        # A joint dispatch: each unit, lead and assisting, is scored on its own part.
        self.unit_scores: dict[str, QComboBox] = {}
        tasks = self.state.active_tasks()
        if len(tasks) > 1:
            for task in tasks:
                box = QComboBox(self)
                box.setObjectName(f"quality_{task.assignee}")
                box.addItem(self.tr("— choose —"), None)
                for score in range(5, 0, -1):
                    box.addItem(self.tr("%1 points").replace("%1", str(score)), score)
                self.unit_scores[task.assignee] = box
                self.form.addRow(
                    self.tr("Quality: %1").replace("%1", task_label(task, self.snapshot.info)),
                    box,
                )
        self.satisfaction = QComboBox(self)
        self.satisfaction.setObjectName("satisfaction")
        self.satisfaction.addItem(self.tr("— choose —"), None)
        for value in Satisfaction:
            self.satisfaction.addItem(words.satisfaction(value), value.value)
        self.form.addRow(self.tr("Resident satisfaction"), self.satisfaction)
        self.note = _box(self, height=56)
        self.note.setObjectName("note")
        self.form.addRow(self.tr("Note (optional)"), self.note)

    def job(self) -> Job:
        quality = self.quality.currentData()
        if quality is None:
            raise Invalid(self.tr("Score the quality from 1 to 5."), self.quality)
        units: dict[str, int] = {}
        for unit, box in self.unit_scores.items():
            score = box.currentData()
            if score is None:
                raise Invalid(
                    self.tr("Score each unit of the joint dispatch from 1 to 5."), box
                )
            units[unit] = int(score)
        satisfaction = self.satisfaction.currentData()
        if satisfaction is None:
            raise Invalid(self.tr("Choose the resident's satisfaction."), self.satisfaction)
        payload: dict[str, Any] = {
            "quality": int(quality),
            "satisfaction": str(satisfaction),
            "note": _text(self.note),
        }
        if units:
            payload["units"] = units
        return self.act(payload)


# -- descriptive fields and conflicts ----------------------------------------------------------


class EditForm(ActionForm):
    """修改事件信息: the descriptive fields. Only what changed is sent, each with the value it
    replaces, so concurrent edits on other devices merge per field."""

    def build(self) -> None:
        f = self.state.fields
        names = self.snapshot.names
        self.title = QLineEdit(str(f.get("title") or ""), self)
        self.title.setObjectName("title")
        self.form.addRow(self.tr("Title"), self.title)
        assert names.taxonomy is not None
        self.category = CategoryPicker(names.taxonomy, self, minors_only=False)
        self.category.set_value(f.get("category"))
        self.form.addRow(self.tr("Category"), self.category)
        self.place = GridPicker(names, self)
        self.place.set_value(grid=f.get("grid_id"), village=f.get("village_code"))
        self.form.addRow(self.tr("Place"), self.place)
        self.address = QLineEdit(str(f.get("address") or ""), self)
        self.address.setObjectName("address")
        self.form.addRow(self.tr("Address"), self.address)
        self.description = _box(self, height=80)
        self.description.setPlainText(str(f.get("description") or ""))
        self.description.setObjectName("description")
        self.form.addRow(self.tr("Description"), self.description)
        self.urgency = QComboBox(self)
        for u in Urgency:
            self.urgency.addItem(words.urgency(u), u.value)
        self.urgency.setCurrentIndex(max(self.urgency.findData(f.get("urgency") or "normal"), 0))
        self.form.addRow(self.tr("Urgency"), self.urgency)
        self.source = QComboBox(self)
        self.source.addItem(self.tr("— not recorded —"), None)
        for src in Source:
            self.source.addItem(words.source(src), src.value)
        self.source.setCurrentIndex(max(self.source.findData(f.get("source")), 0))
        self.form.addRow(self.tr("Source"), self.source)
        self.reporter = QLineEdit(str(f.get("reporter_name") or ""), self)
        self.form.addRow(self.tr("Reporter"), self.reporter)
        self.phone = QLineEdit(self)
        self.phone.setObjectName("phone")
        self.phone_visible = self.actor.role in PHONE_ROLES
        if self.phone_visible:
            self.phone.setText(str(f.get("reporter_phone") or ""))
        else:
            # Resident data stays masked for roles that may not see it; they cannot edit it.
            self.phone.setPlaceholderText(words.mask_phone(f.get("reporter_phone")))
            self.phone.setEnabled(False)
        self.form.addRow(self.tr("Reporter's phone"), self.phone)

    def changes(self) -> dict[str, Any]:
        f = self.state.fields
        village, grid = self.place.value()
        new: dict[str, Any] = {
            "title": self.title.text().strip(),
            "category": self.category.value() or f.get("category"),
            "address": self.address.text().strip(),
            "description": _text(self.description),
            "urgency": self.urgency.currentData(),
            "source": self.source.currentData(),
            "reporter_name": self.reporter.text().strip(),
        }
        if village is not None:
            new["village_code"] = village
            new["grid_id"] = grid
        if self.phone_visible:
            new["reporter_phone"] = self.phone.text().strip()
        out = {}
        for name, value in new.items():
            old = f.get(name)
            if (value or None) != (old or None):
                out[name] = value if value not in ("",) else None
        return out

    def job(self) -> Job:
        if not self.title.text().strip():
            raise Invalid(self.tr("A case needs a title."), self.title)
        changes = self.changes()
        if not changes:
            raise Invalid(self.tr("Nothing was changed."), self.title)
        case_id, actor = self.case_id, self.actor
        return lambda store: store.edit(case_id, actor, changes)


class SettleForm(ActionForm):
    """裁定冲突: for each workflow conflict, which step stands (the other is voided); for each
    field edited on two devices, which value is kept."""

    def build(self) -> None:
        s = self.state
        info = self.snapshot.info
        by_id = {e.id: e for e in self.snapshot.entries}
        self.set_intro(
            self.tr(
                "Two devices recorded steps that do not fit together. Decide what stands; "
                "nothing is deleted, the other step is marked void."
            )
        )
        self.step_choices: list[tuple[str, QComboBox]] = []
        ordered = sorted(self.snapshot.entries, key=lambda e: e.sort_key)
        conflicting = {c.entry_id for c in s.conflicts}
        for conflict in s.conflicts:
            entry = by_id.get(conflict.entry_id)
            choice = QComboBox(self)
            choice.setObjectName(f"conflict_{conflict.entry_id}")
            choice.addItem(self.tr("Void this step (the case stays as it is)"), conflict.entry_id)
            if entry is not None:
                earlier = [
                    e
                    for e in ordered
                    if e.sort_key < entry.sort_key
                    and e.action not in OPENING
                    and e.id not in s.voided
                    and e.id not in conflicting
                ]
                for other in reversed(earlier):
                    choice.addItem(
                        self.tr("Let it stand; void: %1").replace("%1", describe(other, info)),
                        other.id,
                    )
            label = QLabel(
                (describe(entry, info) if entry is not None else conflict.entry_id)
                + "\n"
                + refusals.translate(conflict.reason),
                self,
            )
            label.setWordWrap(True)
            label.setStyleSheet("color: #c0392b;")
            self.form.addRow(label)
            self.form.addRow(self.tr("Decision"), choice)
            self.step_choices.append((conflict.entry_id, choice))
        self.field_choices: list[tuple[Any, QComboBox]] = []
        for fc in s.field_conflicts:
            choice = QComboBox(self)
            choice.setObjectName(f"field_{fc.field}")
            choice.addItem(
                self.tr("Keep “%1” (shown now)").replace(
                    "%1", self._show(fc.field, fc.winner_value)
                ),
                "winner",
            )
            choice.addItem(
                self.tr("Use “%1”").replace("%1", self._show(fc.field, fc.loser_value)), "loser"
            )
            self.form.addRow(
                self.tr("Field conflict: %1").replace("%1", words.field_name(fc.field)), choice
            )
            self.field_choices.append((fc, choice))
        self.note = QLineEdit(self)
        self.note.setObjectName("note")
        self.form.addRow(self.tr("Note (optional)"), self.note)

    def _show(self, name: str, value: Any) -> str:
        names = self.snapshot.names
        if value is None:
            return self.tr("(empty)")
        if name == "category":
            return names.category(str(value))
        if name == "grid_id":
            return names.grid(str(value))
        if name == "village_code":
            return names.village(str(value))
        if name == "reporter_phone" and self.actor.role not in PHONE_ROLES:
            return words.mask_phone(str(value))
        if name == "source":
            return words.source(value)
        if name == "urgency":
            return words.urgency(value)
        return str(value)

    def job(self) -> Job:
        void = [str(choice.currentData()) for _, choice in self.step_choices]
        keep: list[str] = []
        use_other: dict[str, dict[str, Any]] = {}
        for fc, choice in self.field_choices:
            if choice.currentData() == "loser":
                # An edit made with the conflict in view settles the field with that value.
                use_other[fc.field] = {"value": fc.loser_value, "base": fc.winner_entry}
            else:
                keep.append(fc.field)
        if not void and not keep and not use_other:
            raise Invalid(self.tr("There is nothing to settle."))
        case_id, actor, note = self.case_id, self.actor, self.note.text().strip()

        def run(store: Store) -> CaseState:
            state = None
            if use_other:
                state = store.edit(case_id, actor, use_other)
            if void or keep:
                state = store.settle(case_id, actor, void=void, fields=keep, note=note)
            assert state is not None
            return state

        return run


_FORMS: dict[Action, type[ActionForm]] = {
    Action.ACCEPT: NoteForm,
    Action.REJECT: NoteForm,
    Action.MERGE: MergeForm,
    Action.DISPATCH: DispatchForm,
    Action.RETURN: ReturnForm,
    Action.REQUEST_EXTENSION: ExtensionForm,
    Action.APPROVE_EXTENSION: NoteForm,
    Action.DENY_EXTENSION: NoteForm,
    Action.FEEDBACK: FeedbackForm,
    Action.VERIFY_PASS: VerifyForm,
    Action.VERIFY_FAIL: VerifyForm,
    Action.ESCALATE: EscalateForm,
    Action.URGE: UrgeForm,
    Action.REQUEST_PARK: ParkForm,
    Action.APPROVE_PARK: NoteForm,
    Action.DENY_PARK: NoteForm,
    Action.RESUME: NoteForm,
    Action.ARCHIVE: NoteForm,
    Action.EVALUATE: EvaluateForm,
    Action.COMMENT: NoteForm,
    Action.EDIT: EditForm,
    Action.SETTLE: SettleForm,
}


def form_for(
    action: Action, ctx: AppContext, snapshot: Snapshot, parent: QWidget | None = None
) -> ActionForm:
    """The form for one loop action (every action a case can take after its report has one)."""
    if action == Action.HAND_DOWN:
        # 交办 is the county's: its form lives with the county's pages (and their strings).
        from ..county.forms import HandDownForm

        return HandDownForm(ctx, snapshot, action, parent)
    return _FORMS[action](ctx, snapshot, action, parent)


def task_label(task: Task, info: TimelineInfo) -> str:
    """``司法所（牵头）``: a sub-task's unit and its place in the dispatch."""
    return (
        QCoreApplication.translate("Actions", "%1 (%2)")
        .replace("%2", words.task_role(task.lead))
        .replace("%1", info.unit(task.assignee, task.kind.value))
    )
