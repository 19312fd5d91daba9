"""Conflicts side by side, and settling them.

Two kinds, as :mod:`sync.model.workflow` records them after a merge:

* **Field conflicts** — the same descriptive field (title, address …) edited on two devices
  from the same base. Both values are shown next to each other, with who changed it and when;
  a person keeps mine, keeps theirs, or edits a merged value. Each choice is an ordinary
  ``edit`` made with the conflict in view (``Store.edit``), which settles it on every device
  once it has synced.
* **Workflow conflicts** — a step that no longer fits the merged timeline (closing a case the
  township re-dispatched meanwhile). Shown beside the step it clashes with; a person chooses
  the step that stands, and a ``settle`` entry (``Store.settle``) voids the other. Before
  offering "this step stands", the page replays the timeline without the other step to check
  that it then fits; if it would still not, the choice is disabled and says why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from sync.model.clock import HlcStamp
from sync.model.records import Action, Entry, Role
from sync.model.workflow import OPENING, ROLES, project
from sync.store import Store, replica

from .. import labels, words
from ..context import AppContext
from ..errors import show_error
from ..names import of as names_of

#: Steps that move a case along (the ones that can clash); notes and edits never do.
QUIET = frozenset({Action.COMMENT, Action.EDIT, Action.URGE, Action.SETTLE})
#: Fields a person may type a merged value into (the others are codes: pick one side).
TEXT_FIELDS = ("title", "description", "address", "reporter_name", "reporter_phone")


def device_of(entry: Entry) -> str:
    """The device that stamped an entry (its hybrid-clock stamp names it)."""
    try:
        return HlcStamp.decode(entry.hlc).device
    except ValueError:
        return ""


@dataclass(frozen=True)
class Side:
    """One side of a conflict: the entry, its value (field conflicts), who, when, where."""

    entry_id: str
    actor_id: str
    at: int
    device: str
    mine: bool
    action: str = ""
    value: Any = None
    current: bool = False  # the provisional winner everyone sees now


@dataclass(frozen=True)
class FieldChoice:
    field: str
    left: Side
    right: Side


@dataclass(frozen=True)
class StepChoice:
    flagged: Side
    reason: str
    other: Side | None
    #: whether voiding ``other`` lets the flagged step fit (replayed before it is offered)
    flagged_can_stand: bool


@dataclass(frozen=True)
class CaseConflicts:
    case_id: str
    case_no: str
    title: str
    fields: list[FieldChoice] = field(default_factory=list)
    steps: list[StepChoice] = field(default_factory=list)
    waiting_for_report: bool = False

    @property
    def count(self) -> int:
        return len(self.fields) + len(self.steps)


def _side(entry: Entry | None, entry_id: str, me: str, **kw: Any) -> Side:
    if entry is None:
        return Side(entry_id, "", 0, "", False, **kw)
    device = device_of(entry)
    return Side(
        entry.id,
        entry.actor_id,
        entry.at,
        device,
        bool(me) and device == me,
        action=entry.action.value,
        **kw,
    )


def _rival(timeline: Sequence[Entry], flagged: Entry, voided: set[str]) -> Entry | None:
    """The step a flagged step clashes with: the latest step before it that moved the case,
    made on another device (or, failing that, on any)."""
    # The report is never a rival: voiding it would void the case.
    before = [
        e
        for e in timeline
        if (e.hlc, e.id) < (flagged.hlc, flagged.id)
        and e.id not in voided
        and e.action not in QUIET
        and e.action not in OPENING
    ]
    mine = device_of(flagged)
    for e in reversed(before):
        if device_of(e) != mine:
            return e
    return before[-1] if before else None


def _fits_without(store: Store, timeline: Sequence[Entry], flagged_id: str, void: str) -> bool:
    """Replay the timeline as if ``void`` were voided: does the flagged step then fit?"""
    trial = Entry(
        "~trial",
        timeline[0].case_id,
        Action.SETTLE,
        "~",
        Role.OPERATOR,
        0,
        "9999999999999.9999.~",
        {"void": [void]},
    )
    try:
        state = project([*timeline, trial], store.rules)
    except ValueError:  # nothing would be left to open the case
        return False
    return flagged_id not in {c.entry_id for c in state.conflicts}


def load_conflicts(store: Store) -> list[CaseConflicts]:
    """Every case with conflicts, both sides of each (runs in a worker)."""
    me = store.device_code
    out: list[CaseConflicts] = []
    for item in replica.conflicts(store):
        case_id = str(item["case_id"])
        head = (case_id, str(item.get("case_no") or ""), str(item.get("title") or ""))
        if item.get("waiting_for_report"):
            out.append(CaseConflicts(*head, waiting_for_report=True))
            continue
        timeline = sorted(store.timeline(case_id), key=lambda e: (e.hlc, e.id))
        by_id = {e.id: e for e in timeline}
        state = store.case(case_id)
        voided = set(state.voided) if state is not None else set()
        fields = []
        for f in item["fields"]:
            winner = _side(
                by_id.get(f["winner_entry"]),
                f["winner_entry"],
                me,
                value=f["winner_value"],
                current=True,
            )
            loser = _side(by_id.get(f["loser_entry"]), f["loser_entry"], me, value=f["loser_value"])
            # Mine on the left when one side is this computer's; else the value shown now.
            left, right = (loser, winner) if loser.mine and not winner.mine else (winner, loser)
            fields.append(FieldChoice(str(f["field"]), left, right))
        steps = []
        for w in item["workflow"]:
            flagged = by_id.get(w["entry_id"])
            if flagged is None:
                continue
            rival = _rival(timeline, flagged, voided)
            steps.append(
                StepChoice(
                    _side(flagged, flagged.id, me),
                    str(w["reason"]),
                    _side(rival, rival.id, me) if rival is not None else None,
                    rival is not None and _fits_without(store, timeline, flagged.id, rival.id),
                )
            )
        out.append(CaseConflicts(*head, fields=fields, steps=steps))
    return out


# -- widgets --------------------------------------------------------------------------------------


def _selectable(text: str, parent: QWidget, name: str = "") -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    if name:
        label.setObjectName(name)
    return label


class ConflictsPanel(QWidget):
    """Cases with conflicts on the left; the chosen case's conflicts side by side on the right.

    Signals:
        settled(str): a choice was written for this case id (sync takes it to the county).
        open_case(str): the person wants the case's detail.
    """

    settled = Signal(str)
    open_case = Signal(str)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.items: list[CaseConflicts] = []
        self.boxes: list[QGroupBox] = []
        self.cases = QListWidget(self)
        self.cases.setObjectName("conflictCases")
        self.cases.currentRowChanged.connect(self._show_row)
        self.empty = QLabel(self.tr("No conflicts: nothing to settle."), self)
        self.empty.setObjectName("noConflicts")
        self.detail = QWidget(self)
        self.detail.setObjectName("conflictDetail")
        self._detail_box = QVBoxLayout(self.detail)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.detail)
        split = QSplitter(Qt.Orientation.Horizontal, self)
        split.addWidget(self.cases)
        split.addWidget(scroll)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 3)
        split.setSizes([320, 960])  # the sides need the room, the list little
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 8, 0, 0)
        box.addWidget(self.empty)
        box.addWidget(split, 1)
        self._split = split

    # -- filling ------------------------------------------------------------------------------

    def show_conflicts(self, items: list[CaseConflicts]) -> None:
        current = self.current_case()
        self.items = items
        self.cases.blockSignals(True)
        self.cases.clear()
        for c in items:
            count = c.count
            text = f"{c.case_no} {c.title}\n" + self.tr("%n conflict(s)", "", count)
            if c.waiting_for_report:
                text = f"{c.case_no or c.case_id}\n" + self.tr("Waiting for the case's report")
            item = QListWidgetItem(text, self.cases)
            item.setData(Qt.ItemDataRole.UserRole, c.case_id)
        self.cases.blockSignals(False)
        self.empty.setVisible(not items)
        self._split.setVisible(bool(items))
        rows = [c.case_id for c in items]
        row = rows.index(current) if current in rows else (0 if rows else -1)
        self.cases.setCurrentRow(row)
        self._show_row(row)

    def current_case(self) -> str | None:
        item = self.cases.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def select(self, case_id: str) -> None:
        for i in range(self.cases.count()):
            if self.cases.item(i).data(Qt.ItemDataRole.UserRole) == case_id:
                self.cases.setCurrentRow(i)

    def _clear_detail(self) -> None:
        while self._detail_box.count():
            item = self._detail_box.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.boxes = []

    def _show_row(self, row: int) -> None:
        self._clear_detail()
        if row < 0 or row >= len(self.items):
            return
        c = self.items[row]
        head = QHBoxLayout()
        title = _selectable(f"{c.case_no}  {c.title}", self.detail, "conflictCaseTitle")
        title.setProperty("role", "heading")
        open_button = QPushButton(self.tr("Open the case"), self.detail)
        open_button.clicked.connect(lambda: self.open_case.emit(c.case_id))
        head_widget = QWidget(self.detail)
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(title, 1)
        head.addWidget(open_button)
        head_widget.setLayout(head)
        self._detail_box.addWidget(head_widget)
        if c.waiting_for_report:
            self._detail_box.addWidget(
                _selectable(
                    self.tr(
                        "Steps of this case arrived before its report. They settle by "
                        "themselves when the report arrives with the next sync."
                    ),
                    self.detail,
                )
            )
        role = self._ctx.actor.role
        if (c.fields and role not in ROLES[Action.EDIT]) or (
            c.steps and role not in ROLES[Action.SETTLE]
        ):
            note = _selectable(
                self.tr(
                    "Your role cannot settle this; an operator or a supervisor settles conflicts."
                ),
                self.detail,
                "conflictRoleNote",
            )
            self._detail_box.addWidget(note)
        for choice in c.fields:
            box = FieldConflictBox(self, c.case_id, choice, role in ROLES[Action.EDIT])
            self.boxes.append(box)
            self._detail_box.addWidget(box)
        for step in c.steps:
            sbox = StepConflictBox(self, c.case_id, step, role in ROLES[Action.SETTLE])
            self.boxes.append(sbox)
            self._detail_box.addWidget(sbox)
        self._detail_box.addStretch(1)

    # -- words --------------------------------------------------------------------------------

    def who(self, side: Side) -> str:
        """``王丽 · 2025-06-02 10:42 · 本机`` for one side."""
        names = names_of(self._ctx)
        where = (
            self.tr("this computer")
            if side.mine
            else self.tr("device %1").replace("%1", side.device or "?")
        )
        parts = [names.account(side.actor_id) or "?", labels.when(side.at) if side.at else ""]
        return " · ".join(p for p in [*parts, where] if p)

    def value_text(self, name: str, value: Any) -> str:
        if value is None or value == "":
            return self.tr("(empty)")
        names = names_of(self._ctx)
        text = str(value)
        if name == "category":
            return names.category(text)
        if name == "grid_id":
            return names.grid(text)
        if name == "village_code":
            return names.village(text)
        if name == "township_code":
            return names.divisions.get(text, text)
        if name == "urgency":
            return labels.urgency(text)
        if name == "source":
            return labels.source(text)
        return text

    # -- settling -----------------------------------------------------------------------------

    def keep(self, case_id: str, name: str, value: Any) -> None:
        """Settle a field conflict with ``value`` (an edit made with the conflict in view)."""
        actor = self._ctx.actor
        self._write(lambda store: store.edit(case_id, actor, {name: value}), case_id)

    def settle(self, case_id: str, void: list[str], note: str) -> None:
        """Settle a workflow conflict: the steps in ``void`` do not stand."""
        actor = self._ctx.actor
        self._write(lambda store: store.settle(case_id, actor, void=void, note=note), case_id)

    def _write(self, fn: Callable[[Store], Any], case_id: str) -> None:
        for box in self.boxes:
            box.setEnabled(False)
        self._ctx.ops.write(fn).success(lambda _state: self.settled.emit(case_id)).failure(
            self._failed
        ).run()

    def _failed(self, exc: BaseException) -> None:
        for box in self.boxes:
            box.setEnabled(True)
        show_error(self, exc, self.tr("Settling a conflict"))


class FieldConflictBox(QGroupBox):
    """One field edited on two devices: both values, keep either, or type a merged one."""

    def __init__(
        self, panel: ConflictsPanel, case_id: str, choice: FieldChoice, allowed: bool
    ) -> None:
        super().__init__()
        self.setTitle(self.tr("Field: %1").replace("%1", words.field_name(choice.field)))
        self.setObjectName("fieldConflict")
        self.choice = choice
        grid = QGridLayout(self)
        self.buttons: list[QPushButton] = []
        for column, side in enumerate((choice.left, choice.right)):
            if side.mine:
                heading = self.tr("My change (this computer)")
            elif choice.left.mine or choice.right.mine:
                heading = self.tr("Their change (device %1)").replace("%1", side.device or "?")
            else:
                heading = self.tr("Change on device %1").replace("%1", side.device or "?")
            if side.current:
                heading += " " + self.tr("— shown now")
            head = QLabel(heading, self)
            head.setObjectName("sideHeading")
            value = _selectable(panel.value_text(choice.field, side.value), self, "sideValue")
            value.setProperty("side", "left" if column == 0 else "right")
            who = _selectable(panel.who(side), self, "sideWho")
            if side.mine:
                text = self.tr("Keep mine")
            elif choice.left.mine or choice.right.mine:
                text = self.tr("Keep theirs")
            else:
                text = self.tr("Keep this one")
            button = QPushButton(text, self)
            button.setObjectName("keepLeft" if column == 0 else "keepRight")
            button.setEnabled(allowed)
            chosen = side.value
            button.clicked.connect(lambda _c=False, v=chosen: panel.keep(case_id, choice.field, v))
            self.buttons.append(button)
            grid.addWidget(head, 0, column)
            grid.addWidget(value, 1, column)
            grid.addWidget(who, 2, column)
            grid.addWidget(button, 3, column, Qt.AlignmentFlag.AlignLeft)
        self.merged: QLineEdit | QPlainTextEdit | None = None
        if choice.field in TEXT_FIELDS:
            current = choice.left.value if choice.left.current else choice.right.value
            if choice.field == "description":
                editor: QLineEdit | QPlainTextEdit = QPlainTextEdit(str(current or ""), self)
                editor.setMaximumHeight(90)
            else:
                editor = QLineEdit(str(current or ""), self)
            editor.setObjectName("mergedValue")
            editor.setEnabled(allowed)
            self.merged = editor
            self.save_merged = QPushButton(self.tr("Save the merged value"), self)
            self.save_merged.setObjectName("saveMerged")
            self.save_merged.setEnabled(allowed)
            self.save_merged.clicked.connect(
                lambda: panel.keep(case_id, choice.field, self.merged_text())
            )
            grid.addWidget(QLabel(self.tr("Or merge them:"), self), 4, 0, 1, 2)
            grid.addWidget(editor, 5, 0, 1, 2)
            grid.addWidget(self.save_merged, 6, 0, 1, 2, Qt.AlignmentFlag.AlignLeft)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)

    def merged_text(self) -> str:
        if isinstance(self.merged, QPlainTextEdit):
            return self.merged.toPlainText().strip()
        return self.merged.text().strip() if self.merged is not None else ""


class StepConflictBox(QGroupBox):
    """A step that no longer fits, beside the step it clashes with: choose the one that stands."""

    def __init__(
        self, panel: ConflictsPanel, case_id: str, step: StepChoice, allowed: bool
    ) -> None:
        super().__init__()
        self.setTitle(
            self.tr("Steps that clash: %1").replace("%1", words.action(step.flagged.action))
        )
        self.setObjectName("stepConflict")
        self.step = step
        grid = QGridLayout(self)
        flagged, other = step.flagged, step.other
        grid.addWidget(QLabel(self.tr("The step that no longer fits"), self), 0, 0)
        grid.addWidget(_selectable(words.action(flagged.action), self, "flaggedAction"), 1, 0)
        grid.addWidget(_selectable(panel.who(flagged), self, "sideWho"), 2, 0)
        why = _selectable(
            self.tr("Why: %1").replace("%1", _refusal(step.reason)), self, "flaggedReason"
        )
        grid.addWidget(why, 3, 0)
        self.flagged_stands = QPushButton(self.tr("This step stands"), self)
        self.flagged_stands.setObjectName("flaggedStands")
        grid.addWidget(self.flagged_stands, 4, 0, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(QLabel(self.tr("The step it clashes with"), self), 0, 1)
        self.other_stands = QPushButton(self.tr("This step stands"), self)
        self.other_stands.setObjectName("otherStands")
        if other is not None:
            grid.addWidget(_selectable(words.action(other.action), self, "otherAction"), 1, 1)
            grid.addWidget(_selectable(panel.who(other), self, "sideWho"), 2, 1)
            self.flagged_stands.setEnabled(allowed and step.flagged_can_stand)
            if not step.flagged_can_stand:
                self.flagged_stands.setToolTip(
                    self.tr("Even without the other step this one would not fit the case.")
                )
            rival = other.entry_id
            self.flagged_stands.clicked.connect(
                lambda: panel.settle(
                    case_id,
                    [rival],
                    f"{words.action(flagged.action)} > {words.action(other.action)}",
                )
            )
        else:
            grid.addWidget(_selectable(self.tr("(none found)"), self, "otherAction"), 1, 1)
            self.flagged_stands.setEnabled(False)
        self.other_stands.setText(
            self.tr("This step stands") if other is not None else self.tr("Drop the step")
        )
        self.other_stands.setEnabled(allowed)
        self.other_stands.clicked.connect(
            lambda: panel.settle(
                case_id,
                [flagged.entry_id],
                words.action(other.action) if other is not None else "",
            )
        )
        grid.addWidget(self.other_stands, 4, 1, Qt.AlignmentFlag.AlignLeft)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)


def _refusal(reason: str) -> str:
    """The loop's reason in the UI language (the case pages translate refusals)."""
    try:
        from ..refusals import translate
    except ImportError:  # a build without the case pages
        return reason
    return str(translate(reason))
