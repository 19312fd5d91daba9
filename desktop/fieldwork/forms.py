"""The field-work dialogs: a new visit or patrol, 转为事件 (a follow-up becomes a case), and the
supervisor's sign-off of a ledger.

A form keeps everything typed when the store refuses it: the reason is shown under the fields in
plain words and the dialog stays open (nothing is lost).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sync.store.attachments import AttachmentError
from sync.store.fieldwork import FieldWorkRefused

from .. import refusals


def refusal_words(exc: BaseException) -> str:
    """Why field work was refused, in the user's language (one sentence, no traceback)."""
    if isinstance(exc, FieldWorkRefused):
        code = exc.code
        # Written out one by one so lupdate sees every sentence.
        if code == "no_subject":
            return QCoreApplication.translate(
                "FieldWork", "Say who was visited (or which place was patrolled)."
            )
        if code == "no_content":
            return QCoreApplication.translate("FieldWork", "Write notes or at least one follow-up.")
        if code == "bad_location":
            return QCoreApplication.translate(
                "FieldWork",
                "The location is not a longitude and latitude in degrees "
                "(for example 119.17,29.04).",
            )
        if code == "unknown_place":
            return QCoreApplication.translate(
                "FieldWork", "The grid is not a grid of this township."
            )
        if code == "out_of_scope":
            return QCoreApplication.translate(
                "FieldWork", "This is outside your scope: another grid or another township."
            )
        if code == "not_allowed":
            if "sign" in exc.reason:
                return QCoreApplication.translate(
                    "FieldWork", "Only a supervisor may sign off another worker's ledger."
                )
            return QCoreApplication.translate(
                "FieldWork", "Your role does not record visits or patrols."
            )
        if code == "not_yours":
            return QCoreApplication.translate(
                "FieldWork",
                "Only the worker who recorded it, on the device that recorded it, adds to it.",
            )
        if code == "already_case":
            return QCoreApplication.translate("FieldWork", "This follow-up is already a case.")
        if code == "unknown_item":
            return QCoreApplication.translate("FieldWork", "The visit has no such follow-up.")
        if code == "unknown_visit":
            return QCoreApplication.translate(
                "FieldWork", "There is no such visit on this computer."
            )
        if code == "unknown_actor":
            return QCoreApplication.translate("FieldWork", "There is no such worker.")
        if code == "malformed":
            return QCoreApplication.translate(
                "FieldWork", "The period or the record is not valid: %1"
            ).replace("%1", exc.reason)
        if code == "too_many":
            return QCoreApplication.translate("FieldWork", "A visit holds at most 50 follow-ups.")
        if code == "refused":
            return refusals.translate(exc.reason)
        return exc.reason
    if isinstance(exc, AttachmentError):
        return refusals.photo_problem(exc)
    return refusals.message(exc)


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _names(text: str) -> list[str]:
    for sep in ("，", ",", "；", ";"):
        text = text.replace(sep, "、")
    return [p.strip() for p in text.split("、") if p.strip()]


class VisitForm(QDialog):
    """A new 走访 (``kind="visit"``) or 巡查 (``kind="patrol"``).

    ``save(values)`` is called with the form's values and returns nothing; it raises to refuse
    (the reason is shown and the dialog stays open). It is run by the caller's writer thread:
    ``submit`` hands it over and calls back ``done(error)``.
    """

    def __init__(
        self,
        kind: str,
        grids: Sequence[tuple[str, str]],
        submit: Callable[[dict[str, Any], Callable[[BaseException | None], None]], None],
        parent: QWidget | None = None,
        *,
        location_of: Callable[[str], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self._submit = submit
        self._location_of = location_of
        self.setObjectName("patrolForm" if kind == "patrol" else "visitForm")
        self.setWindowTitle(self.tr("New patrol") if kind == "patrol" else self.tr("New visit"))
        self.setMinimumWidth(560)
        form = QFormLayout()
        self.grid = QComboBox(self)
        self.grid.setObjectName("grid")
        for code, name in grids:
            self.grid.addItem(name, code)
        form.addRow(self.tr("Grid"), self.grid)
        self.subject_kind = QComboBox(self)
        self.subject_kind.setObjectName("subjectKind")
        if kind == "patrol":
            self.subject_kind.addItem(self.tr("Place"), "place")
        else:
            self.subject_kind.addItem(self.tr("Household"), "household")
            self.subject_kind.addItem(self.tr("Organisation"), "organisation")
        form.addRow(self.tr("Visited"), self.subject_kind)
        self.household = QLineEdit(self)
        self.household.setObjectName("household")
        self.household.setPlaceholderText(
            self.tr("Road section, market, river bank …")
            if kind == "patrol"
            else self.tr("Household or organisation, e.g. 3组15号 李家")
        )
        form.addRow(self.tr("Place") if kind == "patrol" else self.tr("Who"), self.household)
        self.subject_id = QLineEdit(self)
        self.subject_id.setObjectName("subjectId")
        self.subject_id.setPlaceholderText(self.tr("Household or organisation number (optional)"))
        if kind != "patrol":
            form.addRow(self.tr("Record number"), self.subject_id)
        else:
            self.subject_id.hide()
        self.people = QLineEdit(self)
        self.people.setObjectName("people")
        self.people.setPlaceholderText(self.tr("Names, separated by 、"))
        self.checked = QLineEdit(self)
        self.checked.setObjectName("checked")
        self.checked.setPlaceholderText(self.tr("Fire exits, railings, waste points …"))
        if kind == "patrol":
            form.addRow(self.tr("Checked"), self.checked)
            self.people.hide()
        else:
            form.addRow(self.tr("People met"), self.people)
            self.checked.hide()
        self.notes = QPlainTextEdit(self)
        self.notes.setObjectName("notes")
        self.notes.setFixedHeight(90)
        form.addRow(self.tr("Notes"), self.notes)
        self.items = QPlainTextEdit(self)
        self.items.setObjectName("items")
        self.items.setFixedHeight(70)
        self.items.setPlaceholderText(self.tr("One per line; each can become a case later"))
        form.addRow(self.tr("Findings") if kind == "patrol" else self.tr("Follow-ups"), self.items)
        self.location = QLineEdit(self)
        self.location.setObjectName("location")
        self.location.setPlaceholderText(
            self.tr("Longitude,latitude — read from a photo if it has GPS")
        )
        form.addRow(self.tr("Location"), self.location)
        self.photos = QListWidget(self)
        self.photos.setObjectName("photos")
        self.photos.setFixedHeight(56)
        add = QPushButton(self.tr("Add photos…"), self)
        add.setObjectName("addPhotos")
        add.clicked.connect(self._pick_photos)
        row = QHBoxLayout()
        row.addWidget(self.photos, 1)
        row.addWidget(add)
        form.addRow(self.tr("Photos"), row)
        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        self.buttons = QDialogButtonBox(self)
        self.save_button = self.buttons.addButton(
            self.tr("Save"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.save_button.setObjectName("save")
        self.buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addWidget(self.buttons)

    def add_photo_paths(self, paths: Sequence[str]) -> None:
        for p in paths:
            self.photos.addItem(p)
            if self._location_of is not None and not self.location.text().strip():
                found = self._location_of(p)
                if found:
                    self.location.setText(found)

    def _pick_photos(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Add photos"), "", self.tr("Images (*.jpg *.jpeg *.png *.heic *.webp)")
        )
        self.add_photo_paths(paths)

    def values(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "grid": self.grid.currentData() or "",
            "subject_kind": self.subject_kind.currentData() or "",
            "household": self.household.text(),
            "subject_id": self.subject_id.text(),
            "people": _names(self.people.text()),
            "checked": self.checked.text(),
            "content": self.notes.toPlainText(),
            "items": _lines(self.items.toPlainText()),
            "location": self.location.text(),
            "photos": [self.photos.item(i).text() for i in range(self.photos.count())],
        }

    def save(self) -> None:
        self.save_button.setEnabled(False)
        self.error.hide()
        self._submit(self.values(), self._done)

    def _done(self, error: BaseException | None) -> None:
        self.save_button.setEnabled(True)
        if error is None:
            self.accept()
            return
        self.error.setText(refusal_words(error))
        self.error.show()


Submit = Callable[[dict[str, Any], Callable[[BaseException | None], None]], None]


class _SubmitDialog(QDialog):
    """A dialog whose OK hands its values to ``submit`` and closes only when it succeeded."""

    ok: QPushButton
    error: QLabel

    def __init__(self, submit: Submit, parent: QWidget | None) -> None:
        super().__init__(parent)
        self._submit = submit

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def _save(self) -> None:
        self.ok.setEnabled(False)
        self.error.hide()
        self._submit(self.values(), self._done)

    def _done(self, error: BaseException | None) -> None:
        self.ok.setEnabled(True)
        if error is None:
            self.accept()
        else:
            self.show_error(refusal_words(error))

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class ConvertDialog(_SubmitDialog):
    """转为事件: the category, title and urgency of the case a follow-up becomes."""

    def __init__(
        self,
        item_text: str,
        categories: Sequence[tuple[str, str]],
        submit: Submit,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(submit, parent)
        self.setObjectName("convertDialog")
        self.setWindowTitle(self.tr("Turn into a case"))
        self.setMinimumWidth(480)
        form = QFormLayout()
        self.title = QLineEdit(item_text[:200], self)
        self.title.setObjectName("title")
        form.addRow(self.tr("Title"), self.title)
        self.category = QComboBox(self)
        self.category.setObjectName("category")
        self.category.setEditable(False)
        for code, name in categories:
            self.category.addItem(name, code)
        form.addRow(self.tr("Category"), self.category)
        self.urgent = QCheckBox(self.tr("Urgent"), self)
        self.urgent.setObjectName("urgent")
        form.addRow("", self.urgent)
        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        buttons = QDialogButtonBox(self)
        self.ok = buttons.addButton(
            self.tr("Report the case"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.ok.setObjectName("reportCase")
        buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        box = QVBoxLayout(self)
        note = QLabel(
            self.tr("The case is reported in the visit's grid and names the visit it came from."),
            self,
        )
        note.setWordWrap(True)
        box.addWidget(note)
        box.addLayout(form)
        box.addWidget(self.error)
        box.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        return {
            "category": self.category.currentData() or "",
            "title": self.title.text().strip() or None,
            "urgency": "urgent" if self.urgent.isChecked() else "normal",
        }


class SignOffDialog(_SubmitDialog):
    """审核签字: a supervisor's remarks on a worker's ledger of one period."""

    def __init__(
        self,
        worker: str,
        period: str,
        summary: str,
        submit: Submit,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(submit, parent)
        self.setObjectName("signOffDialog")
        self.setWindowTitle(self.tr("Sign off the ledger"))
        self.setMinimumWidth(460)
        box = QVBoxLayout(self)
        head = QLabel(self.tr("Ledger of %1, %2").replace("%1", worker).replace("%2", period), self)
        head.setObjectName("signOffHead")
        head.setStyleSheet("font-weight: bold;")
        box.addWidget(head)
        counts = QLabel(summary, self)
        counts.setWordWrap(True)
        box.addWidget(counts)
        box.addWidget(QLabel(self.tr("Remarks"), self))
        self.remarks = QPlainTextEdit(self)
        self.remarks.setObjectName("remarks")
        self.remarks.setFixedHeight(90)
        self.remarks.setPlaceholderText(self.tr("What is good, what must be done again …"))
        box.addWidget(self.remarks)
        self.error = QLabel(self)
        self.error.setObjectName("formError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        box.addWidget(self.error)
        buttons = QDialogButtonBox(self)
        self.ok = buttons.addButton(self.tr("Sign off"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("signOff")
        buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        box.addWidget(buttons)

    def values(self) -> dict[str, Any]:
        return {"remarks": self.remarks.toPlainText()}
