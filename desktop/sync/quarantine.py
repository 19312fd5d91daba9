"""Records the county refused, with the reason: retry them or discard them.

A refused record never blocks the rest — it leaves the outbox for quarantine and everything
else flows on (:mod:`sync.store.replica`). Here a person sees each one in words ("事件
330825002-… · 受理 — 该账号的角色不能执行此操作"), and either sends it again (after the county
fixed an account, say) or gives it up: discarding removes it from this computer, and a refused
report takes its whole case with it (nothing of it ever reached the county).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from sync.store import Store, replica

from .. import labels
from .. import words as loop_words
from ..context import AppContext
from ..errors import show_error
from . import words


@dataclass(frozen=True)
class Refused:
    """One quarantined record, readable."""

    entity: str
    entity_id: str
    case_id: str | None
    case_no: str
    title: str
    action: str
    code: str
    reason: str
    attempts: int
    at: int


def load_quarantine(store: Store) -> list[Refused]:
    """The quarantined records with their case number, title and step (runs in a worker)."""
    out = []
    for q in replica.quarantined(store):
        case_no = title = action = ""
        if q.case_id:
            row = store.case_row(q.case_id)
            if row is not None:
                case_no, title = str(row.get("case_no") or ""), str(row.get("title") or "")
            if q.entity == "case_event":
                found = next((e for e in store.timeline(q.case_id) if e.id == q.entity_id), None)
                action = found.action.value if found is not None else ""
        out.append(
            Refused(
                q.entity,
                q.entity_id,
                q.case_id,
                case_no,
                title,
                action,
                q.code,
                q.reason,
                q.attempts,
                q.quarantined_at,
            )
        )
    return out


def record_text(entity: str, case_no: str, action: str, fallback: str) -> str:
    """``事件 330825002-261122-K7Q2-0003 · 受理`` — a record as a person recognises it."""
    kind = words.entity(entity)
    if entity == "case_event" and case_no:
        return f"{kind} {case_no} · {loop_words.action(action)}" if action else f"{kind} {case_no}"
    if entity == "attachment" and case_no:
        return f"{kind} · {words.entity('case_event')} {case_no}"
    return f"{kind} {fallback}".strip()


class QuarantinePanel(QWidget):
    """The quarantined records and what can be done with them.

    Signals:
        changed(): a record was retried or discarded.
    """

    changed = Signal()

    COLUMNS = ("record", "title", "reason", "attempts", "when")

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self.items: list[Refused] = []
        self.note = QLabel(
            self.tr(
                "The county refused these records. Everything else went on. Send one again "
                "once the reason is fixed (for example, the county re-enabled an account), or "
                "discard it: it is then removed from this computer."
            ),
            self,
        )
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(self.COLUMNS), self)
        self.table.setObjectName("quarantineTable")
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Record"),
                self.tr("Case title"),
                self.tr("Why the county refused it"),
                self.tr("Tries"),
                self.tr("Refused at"),
            ]
        )
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.retry_button = QPushButton(self.tr("Send again"), self)
        self.retry_button.setObjectName("retryQuarantined")
        self.retry_button.clicked.connect(self.retry_selected)
        self.discard_button = QPushButton(self.tr("Discard…"), self)
        self.discard_button.setObjectName("discardQuarantined")
        self.discard_button.clicked.connect(self.ask_discard)
        self.message = QLabel(self)
        self.message.setObjectName("quarantineMessage")
        buttons = QHBoxLayout()
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.message, 1)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 8, 0, 0)
        box.addWidget(self.note)
        box.addWidget(self.table, 1)
        box.addLayout(buttons)
        self._selection_changed()

    def show_items(self, items: list[Refused]) -> None:
        selected = self.selected()
        self.items = items
        self.table.setRowCount(len(items))
        for row, q in enumerate(items):
            cells = (
                record_text(q.entity, q.case_no, q.action, q.entity_id[:13]),
                q.title,
                words.reject(q.code, q.reason),
                str(q.attempts),
                labels.when(q.at),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column == 2:
                    item.setToolTip(f"{q.code}: {q.reason}")  # the county's words, for IT
                self.table.setItem(row, column, item)
        for column in (0, 1, 3, 4):  # the reason takes the rest
            self.table.resizeColumnToContents(column)
        keys = [(q.entity, q.entity_id) for q in items]
        if selected is not None and (selected.entity, selected.entity_id) in keys:
            self.table.selectRow(keys.index((selected.entity, selected.entity_id)))
        elif items:
            self.table.selectRow(0)
        self._selection_changed()

    def selected(self) -> Refused | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.items):
            return None
        return self.items[rows[0].row()]

    def _selection_changed(self) -> None:
        has = self.selected() is not None
        self.retry_button.setEnabled(has)
        self.discard_button.setEnabled(has)

    def retry_selected(self) -> None:
        q = self.selected()
        if q is None:
            return
        self._busy()
        self._ctx.ops.write(lambda store: replica.retry(store, q.entity, q.entity_id)).success(
            lambda n: self._done(self.tr("Queued again: goes with the next sync."))
        ).failure(self._failed).run()

    def ask_discard(self) -> None:
        """Ask before discarding (it cannot be undone)."""
        q = self.selected()
        if q is None:
            return
        box = QMessageBox(self)
        box.setObjectName("confirmDiscard")
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(self.tr("Discard a refused record"))
        box.setText(
            self.tr("Discard %1?").replace(
                "%1", record_text(q.entity, q.case_no, q.action, q.entity_id[:13])
            )
        )
        box.setInformativeText(
            self.tr(
                "It is removed from this computer and never sent to the county. Discarding a "
                "refused report removes its whole case."
            )
        )
        discard = box.addButton(self.tr("Discard"), QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(self.tr("Keep it"), QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: self.discard(q) if button is discard else None)
        box.open()

    def discard(self, q: Refused) -> None:
        self._busy()
        self._ctx.ops.write(lambda store: replica.discard(store, q.entity, q.entity_id)).success(
            lambda n: self._done(self.tr("Discarded."))
        ).failure(self._failed).run()

    def _busy(self) -> None:
        self.retry_button.setEnabled(False)
        self.discard_button.setEnabled(False)

    def _done(self, text: str) -> None:
        self.message.setText(text)
        self._selection_changed()
        self.changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self._selection_changed()
        show_error(self, exc, self.tr("Quarantined records"))
