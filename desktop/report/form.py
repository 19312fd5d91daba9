"""新建事件: the quick report form.

Built for an operator with a caller on the line and for a grid worker on patrol: the category
and the place are searchable trees, photos come from a file dialog or are dragged onto the form,
and a grid worker can record a small matter already handled on the spot (自行处置, "小事不出格").

Nothing typed is lost: the form saves a draft (debounced, a second after the last change) to a
JSON file in the user's config folder, restores it when the form opens again — after a crash, a
power cut, a failed save — and deletes it only once the report is committed. Photos in a draft
are kept by path and checked again on restore.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QHideEvent, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from sync.model.clock import now_millis
from sync.model.records import Action, Actor, Role, Source, Urgency
from sync.model.workflow import ROLES
from sync.store import Store

from .. import names as names_module
from .. import refusals, words
from ..cases.photos import (
    PhotoOutcome,
    PhotoPicker,
    attach_checked,
    check_photos,
    local_paths,
    newest_entry_id,
)
from ..context import AppContext
from ..map.point import PointField
from .pickers import CategoryPicker, GridPicker

log = logging.getLogger(__name__)

DRAFT_VERSION = 1
# Digits with the usual separators: 13812345678, 0570-1234567, +86 138 1234 5678.
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{3,18}[0-9]$")

_DEFAULT_SOURCE = {
    Role.GRID_WORKER: Source.PATROL,
    Role.OPERATOR: Source.HOTLINE,
    Role.DEPARTMENT: Source.DEPARTMENT,
}


def _has_popup(widget: QObject) -> bool:
    """An open combo box list takes Esc for itself (closing the list, not the form)."""
    return isinstance(widget, QComboBox) and widget.view().isVisible()


def drafts_dir(ctx: AppContext) -> Path:
    """``<user config>/drafts``: beside settings.json (``sync.settings.user_config_dir()``)."""
    return ctx.settings.user_path.parent / "drafts"


def draft_path(ctx: AppContext, actor: Actor) -> Path:
    """One report draft per account, so a shared command-room PC keeps each shift's own."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", actor.id) or "account"
    return drafts_dir(ctx) / f"report-{safe}.json"


class ReportForm(QWidget):
    """The quick report form.

    Signals:
        reported(str): a new case was committed; carries its id.
        cancelled(): the user pressed Esc; the draft is kept for next time.
    """

    reported = Signal(str)
    cancelled = Signal()

    # Debounce of the draft autosave after a change, in milliseconds.
    AUTOSAVE_MS = 1000

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("reportForm")
        self.setAcceptDrops(True)
        self.busy = False
        self._loading = False
        self._pending_actor: Actor | None = None
        self.actor = ctx.actor
        self.draft_file = draft_path(ctx, self.actor)
        self.names = names_module.of(ctx)
        self._build()
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(self.AUTOSAVE_MS)
        self._autosave.timeout.connect(self.save_draft)
        self._connect_changes()
        self._apply_role()
        self.restore_draft()
        ctx.actor_changed.connect(self._on_actor_changed)
        app = QCoreApplication.instance()
        if app is not None:
            # A normal quit must not lose the last second of typing to the autosave debounce.
            app.aboutToQuit.connect(self._flush_draft)

    # -- layout -----------------------------------------------------------------------------

    def _build(self) -> None:
        assert self.names.taxonomy is not None
        self.title = QLineEdit(self)
        self.title.setObjectName("title")
        self.title.setPlaceholderText(self.tr("What happened, in a few words"))
        self.category = CategoryPicker(self.names.taxonomy, self)
        self.place = GridPicker(self.names, self)
        self.address = QLineEdit(self)
        self.address.setObjectName("address")
        self.address.setPlaceholderText(self.tr("Street, house number, landmark"))
        self.location = PointField(self.ctx, self)
        self.description = QPlainTextEdit(self)
        self.description.setObjectName("description")
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(96)
        self.description.setPlaceholderText(self.tr("Who, what, since when; what the caller asks"))
        self.urgency = QComboBox(self)
        self.urgency.setObjectName("urgency")
        for u in Urgency:
            self.urgency.addItem(words.urgency(u), u.value)
        self.source = QComboBox(self)
        self.source.setObjectName("source")
        for src in Source:
            self.source.addItem(words.source(src), src.value)
        self.reporter_name = QLineEdit(self)
        self.reporter_name.setObjectName("reporterName")
        self.reporter_phone = QLineEdit(self)
        self.reporter_phone.setObjectName("reporterPhone")
        self.reporter_phone.setPlaceholderText(self.tr("e.g. 13812345678"))
        self.photos = PhotoPicker(self.ctx, self)
        self.self_handled = QCheckBox(self.tr("Already handled on the spot (自行处置)"), self)
        self.self_handled.setObjectName("selfHandled")
        self.self_handled_note = QLabel(self)
        self.self_handled_note.setObjectName("selfHandledNote")
        self.self_handled_note.setWordWrap(True)
        self.self_handled_note.setStyleSheet("color: #777;")
        self.result = QPlainTextEdit(self)
        self.result.setObjectName("result")
        self.result.setTabChangesFocus(True)
        self.result.setFixedHeight(72)
        self.result.setPlaceholderText(self.tr("What was done on the spot, and the outcome"))
        self.result_label = QLabel(self.tr("Handling result"), self)

        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()
        self.message = QLabel(self)
        self.message.setObjectName("formMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.submit_button = QPushButton(self.tr("Report"), self)
        self.submit_button.setObjectName("submit")
        self.submit_button.setToolTip(self.tr("Report the case (Ctrl+Enter)"))
        self.clear_button = QPushButton(self.tr("Clear"), self)
        self.clear_button.setObjectName("clear")
        self.clear_button.setToolTip(self.tr("Empty the form and discard the draft"))
        self.submit_button.clicked.connect(self.submit)
        self.clear_button.clicked.connect(self.discard)

        left = QFormLayout()
        left.addRow(self.tr("Title"), self.title)
        left.addRow(self.tr("Category"), self.category)
        left.addRow(self.tr("Village / grid"), self.place)
        right = QFormLayout()
        right.addRow(self.tr("Address"), self.address)
        right.addRow(self.tr("Location"), self.location)
        right.addRow(self.tr("Description"), self.description)
        right.addRow(self.tr("Urgency"), self.urgency)
        right.addRow(self.tr("Source"), self.source)
        right.addRow(self.tr("Reporter"), self.reporter_name)
        right.addRow(self.tr("Reporter's phone"), self.reporter_phone)
        right.addRow(self.tr("Photos"), self.photos)
        right.addRow(self.self_handled)
        right.addRow(self.self_handled_note)
        right.addRow(self.result_label, self.result)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        inner = QWidget(self)
        inner_layout = QVBoxLayout(inner)
        inner_layout.addLayout(columns)
        inner_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        # Widgets were made with the form as parent; the scroll area's content adopts them.
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 3)
        buttons.addStretch(1)  # keeps the buttons their natural size when there is no message
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.submit_button)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        order = [
            self.title,
            self.category.search,
            self.category.tree,
            self.place.search,
            self.place.tree,
            self.address,
            self.location.edit,
            self.location.pick_button,
            self.description,
            self.urgency,
            self.source,
            self.reporter_name,
            self.reporter_phone,
            self.photos.list,
            self.photos.add_button,
            self.photos.remove_button,
            self.self_handled,
            self.result,
            self.submit_button,
            self.clear_button,
        ]
        for first, second in itertools.pairwise(order):
            QWidget.setTabOrder(first, second)
        # Ctrl+Enter submits and Esc cancels from any field. Not QShortcuts: the main window
        # binds Ctrl+Enter to the case's primary step, and two shortcuts on one key in one
        # window are ambiguous (neither fires). The focused field claims the keys instead.
        for child in self.findChildren(QWidget):
            child.installEventFilter(self)
        self.self_handled.toggled.connect(self._update_result)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(
            event, QKeyEvent
        ):
            key = event.key()
            submit = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and bool(
                event.modifiers() & Qt.KeyboardModifier.ControlModifier
            )
            cancel = key == Qt.Key.Key_Escape and not _has_popup(watched)
            if submit or cancel:
                if kind == QEvent.Type.ShortcutOverride:
                    event.accept()  # deliver the key to the field, not to a window shortcut
                elif submit:
                    self.submit()
                else:
                    self.cancel()
                return True
        return super().eventFilter(watched, event)

    def _connect_changes(self) -> None:
        for line in (
            self.title, self.address, self.location.edit, self.reporter_name, self.reporter_phone
        ):
            line.textChanged.connect(self._changed)
        for box in (self.description, self.result):
            box.textChanged.connect(self._changed)
        for combo in (self.urgency, self.source):
            combo.currentIndexChanged.connect(self._changed)
        self.category.changed.connect(self._changed)
        self.place.changed.connect(self._changed)
        self.photos.photos_changed.connect(self._changed)
        self.self_handled.toggled.connect(self._changed)

    # -- roles ------------------------------------------------------------------------------

    def may_self_handle(self) -> bool:
        return self.actor.role in ROLES[Action.SELF_HANDLE]

    def _apply_role(self) -> None:
        allowed = self.may_self_handle()
        self.self_handled.setEnabled(allowed)
        if not allowed:
            self.self_handled.setChecked(False)
            self.self_handled_note.setText(
                self.tr(
                    "Only grid workers record matters handled on the spot. A case reported "
                    "here is accepted and dispatched by the command room."
                )
            )
        else:
            self.self_handled_note.setText(
                self.tr("For a small matter you have already solved yourself (小事不出格).")
            )
        self._update_result()
        if not self._loading:
            with self._quietly():
                default = _DEFAULT_SOURCE.get(self.actor.role, Source.WALK_IN)
                self.source.setCurrentIndex(max(self.source.findData(default.value), 0))
                if self.actor.grid_ids and self.place.value() == (None, None):
                    self.place.set_value(grid=self.actor.grid_ids[0])

    def _update_result(self, *_: object) -> None:
        on = self.self_handled.isChecked()
        self.result.setVisible(on)
        self.result_label.setVisible(on)
        self.submit_button.setText(words.action(Action.SELF_HANDLE) if on else self.tr("Report"))

    def _on_actor_changed(self, actor: Actor) -> None:
        """Another account signs in: keep this one's draft, show that one's (if any)."""
        if self.busy:
            # The running save belongs to the previous account: switch once it is done.
            self._pending_actor = actor
            return
        self._pending_actor = None
        self.save_draft()
        self.actor = actor
        self.draft_file = draft_path(self.ctx, actor)
        self.clear()
        self.restore_draft()

    # -- values -----------------------------------------------------------------------------

    def fields(self) -> dict[str, Any]:
        """The case fields as typed (empty ones left out)."""
        village, grid = self.place.value()
        out = {
            "title": self.title.text().strip(),
            "category": self.category.value(),
            "village_code": village,
            "grid_id": grid,
            "address": self.address.text().strip(),
            "location": self.location.value(),
            "description": self.description.toPlainText().strip(),
            "urgency": self.urgency.currentData(),
            "source": self.source.currentData(),
            "reporter_name": self.reporter_name.text().strip(),
            "reporter_phone": self.reporter_phone.text().strip(),
        }
        return {k: v for k, v in out.items() if v}

    def problems(self) -> list[tuple[str, QWidget]]:
        """What must be fixed before the report can be saved, with where to fix it."""
        out: list[tuple[str, QWidget]] = []
        if not self.title.text().strip():
            out.append((self.tr("Give the case a title."), self.title))
        if not self.category.value():
            out.append((self.tr("Choose a category (大类 → 小类)."), self.category))
        if self.place.value() == (None, None):
            out.append((self.tr("Choose the village or grid where it happened."), self.place))
        village, grid = self.place.value()
        township = (grid or village or "")[:9] or self.ctx.ops.gui_store().scope
        where = self.location.problem(township)
        if where is not None:
            out.append((where, self.location.edit))
        phone = self.reporter_phone.text().strip()
        if phone and not PHONE.match(phone):
            out.append(
                (
                    self.tr("The phone number should be digits only (e.g. 13812345678)."),
                    self.reporter_phone,
                )
            )
        if self.self_handled.isChecked():
            if not self.may_self_handle():
                out.append(
                    (self.tr("Only grid workers record matters handled on the spot."), self.title)
                )
            elif not self.result.toPlainText().strip():
                out.append((self.tr("Describe what was done on the spot."), self.result))
        return out

    # -- submitting -------------------------------------------------------------------------

    def submit(self) -> None:
        if self.busy:
            return
        self.show_error("")
        problems = self.problems()
        if problems:
            self.show_error("\n".join(text for text, _ in problems))
            problems[0][1].setFocus()
            return
        fields = self.fields()
        paths = self.photos.paths()
        result = self.result.toPlainText().strip() if self.self_handled.isChecked() else None
        actor = self.actor
        self.save_draft()  # whatever happens next, the input is on disk

        def run(store: Store) -> PhotoOutcome:
            photos = check_photos(paths)  # a bad photo refuses before anything is written
            state = store.report(actor, fields, self_handled_result=result)
            outcome = PhotoOutcome(state.case_id, state)
            if photos:
                entry = newest_entry_id(store, state.case_id, state.last_hlc)
                attach_checked(store, outcome, photos, actor, entry)
            return outcome

        self._set_busy(True)
        self.ctx.ops.write(run).success(self._succeeded).failure(self._failed).run()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.submit_button.setEnabled(not busy)
        self.clear_button.setEnabled(not busy)

    def _switch_if_asked(self) -> None:
        if self._pending_actor is not None:
            self._on_actor_changed(self._pending_actor)

    def _succeeded(self, outcome: PhotoOutcome) -> None:
        if not isValid(self):
            return
        self._set_busy(False)
        self.delete_draft()
        number = getattr(outcome.state, "case_no", "")
        text = self.tr("Reported as case %1.").replace("%1", number)
        if outcome.problems:
            text += "\n" + self.tr("Some photos were not saved:") + "\n"
            text += "\n".join(refusals.message(p) for p in outcome.problems)
        self.clear(keep_message=True)
        self.show_message(text)
        self.reported.emit(outcome.case_id)
        self._switch_if_asked()

    def _failed(self, exc: BaseException) -> None:
        if not isValid(self):
            return
        self._set_busy(False)
        self.show_error(refusals.message(exc))
        self.save_draft()
        self._switch_if_asked()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def error_text(self) -> str:
        return self.error.text() if self.error.isVisible() else ""

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def cancel(self) -> None:
        """Esc: leave the form; the draft stays for next time."""
        self.save_draft()
        self.cancelled.emit()

    def discard(self) -> None:
        """清空: empty the form and delete its draft."""
        self.clear()
        self.delete_draft()

    def clear(self, *, keep_message: bool = False) -> None:
        with self._quietly():
            self.title.clear()
            self.category.set_value(None)
            self.place.set_value()
            self.address.clear()
            self.location.clear()
            self.description.clear()
            self.urgency.setCurrentIndex(0)
            self.reporter_name.clear()
            self.reporter_phone.clear()
            self.photos.clear()
            self.self_handled.setChecked(False)
            self.result.clear()
            self.category.search.clear()
            self.place.search.clear()
        self._apply_role()
        self.show_error("")
        if not keep_message:
            self.show_message("")
        self.title.setFocus()

    # -- drafts -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _quietly(self) -> Any:
        """Change fields without scheduling an autosave (restoring, clearing)."""
        was = self._loading
        self._loading = True
        try:
            yield
        finally:
            self._loading = was

    def _changed(self, *_: object) -> None:
        if not self._loading:
            self._autosave.start()

    def draft_data(self) -> dict[str, Any]:
        village, grid = self.place.value()
        return {
            "version": DRAFT_VERSION,
            "saved_at": now_millis(),
            "account": self.actor.id,
            "title": self.title.text(),
            "category": self.category.value(),
            "village": village,
            "grid": grid,
            "address": self.address.text(),
            "location": self.location.text(),
            "description": self.description.toPlainText(),
            "urgency": self.urgency.currentData(),
            "source": self.source.currentData(),
            "reporter_name": self.reporter_name.text(),
            "reporter_phone": self.reporter_phone.text(),
            "photos": self.photos.paths(),
            "self_handled": self.self_handled.isChecked(),
            "result": self.result.toPlainText(),
        }

    def _is_empty(self) -> bool:
        typed = (
            self.title.text(),
            self.address.text(),
            self.location.text(),
            self.description.toPlainText(),
            self.reporter_name.text(),
            self.reporter_phone.text(),
            self.result.toPlainText(),
            self.category.value(),
        )
        return not any(t.strip() for t in typed) and not self.photos.paths()

    def _flush_draft(self) -> None:
        if isValid(self) and self._autosave.isActive():
            self.save_draft()

    def hideEvent(self, event: QHideEvent) -> None:
        # Leaving the page (or closing the window) saves what is pending right away.
        self._flush_draft()
        super().hideEvent(event)

    def save_draft(self) -> None:
        """Write the draft now (atomically, readable by this user only); none when empty."""
        self._autosave.stop()
        if self._is_empty():
            self.delete_draft()
            return
        data = json.dumps(self.draft_data(), ensure_ascii=False, indent=1)
        path = self.draft_file
        tmp = path.with_name(path.name + ".tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # The draft may hold a resident's phone number: not for other users of the PC.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            log.warning("report draft not saved: %s", exc)
            self.show_message(
                self.tr("The draft could not be saved (%1); keep this window open.").replace(
                    "%1", exc.strerror or str(exc)
                )
            )

    def delete_draft(self) -> None:
        self._autosave.stop()
        with contextlib.suppress(FileNotFoundError):
            self.draft_file.unlink()

    def restore_draft(self) -> bool:
        """Fill the form from the saved draft, if there is one; photos are checked again."""
        path = self.draft_file
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return False
        except OSError as exc:
            self.show_message(
                self.tr("The saved draft could not be read: %1").replace(
                    "%1", exc.strerror or str(exc)
                )
            )
            return False
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            # Keep the damaged file for IT, out of the way of the next autosave.
            bad = path.with_name(path.name + ".damaged")
            with contextlib.suppress(OSError):
                os.replace(path, bad)
            self.show_message(
                self.tr(
                    "The saved draft was damaged and could not be restored (kept as %1)."
                ).replace("%1", bad.name)
            )
            return False
        self._apply_draft(data)
        saved = data.get("saved_at")
        self.show_message(
            self.tr("Restored the unsent draft from %1.").replace(
                "%1", words.when(saved) if isinstance(saved, int) else "?"
            )
        )
        return True

    def _apply_draft(self, data: dict[str, Any]) -> None:
        def text(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        with self._quietly():
            self.title.setText(text("title"))
            self.category.set_value(text("category") or None)
            self.place.set_value(grid=text("grid") or None, village=text("village") or None)
            self.address.setText(text("address"))
            self.location.set_text(text("location"))
            self.description.setPlainText(text("description"))
            index = self.urgency.findData(text("urgency"))
            if index >= 0:
                self.urgency.setCurrentIndex(index)
            index = self.source.findData(text("source"))
            if index >= 0:
                self.source.setCurrentIndex(index)
            self.reporter_name.setText(text("reporter_name"))
            self.reporter_phone.setText(text("reporter_phone"))
            self.self_handled.setChecked(bool(data.get("self_handled")) and self.may_self_handle())
            self.result.setPlainText(text("result"))
            photos = [p for p in data.get("photos") or () if isinstance(p, str)]
            # Re-checked in the background: a photo moved or damaged since is named and dropped.
            self.photos.set_paths(photos)

    # -- drag and drop ----------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData().urls())
        if paths:
            event.acceptProposedAction()
            self.photos.add_paths(paths)
