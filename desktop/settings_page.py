"""The 设置 page: language, account, data folder, county server, list page size.

Settings are declared once in ``sync.settings``; this page edits the user layer. A setting that
county IT locked in the site config is shown disabled with a note saying so. Language and the
data folder take effect when Gridroom restarts, and the page says so.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from sync.model.records import Actor
from sync.settings import SettingsError, user_data_dir

from . import labels
from .context import AppContext
from .errors import show_error

LANGUAGES = (("zh_CN", "简体中文"), ("en", "English"))


def _readable_column(page: QWidget, width: int = 960) -> QWidget:
    """A column of at most ``width`` pixels on the left of ``page``: long lines stay readable."""
    column = QWidget(page)
    column.setMaximumWidth(width)
    outer = QHBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(column, 1)
    outer.addStretch(0)
    return column


class SettingsPage(QWidget):
    """Edits the user's settings.

    Signals:
        restart_needed(): a changed setting takes effect only after a restart.
    """

    restart_needed = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._settings = ctx.settings
        title = QLabel(self.tr("Settings"), self)
        title.setObjectName("pageTitle")

        # -- language
        self.language = QComboBox(self)
        self.language.setObjectName("languageSetting")
        for code, name in LANGUAGES:
            self.language.addItem(name, code)
        self.language.setCurrentIndex(
            max(self.language.findData(self._settings.get("language")), 0)
        )
        self.language.currentIndexChanged.connect(self._language_changed)
        self.language_note = QLabel(self.tr("Takes effect when Gridroom restarts."), self)
        self.language_note.setObjectName("note")

        # -- account
        self.signed_in = QLabel(self)
        self.signed_in.setObjectName("signedInAs")
        self.accounts = QComboBox(self)
        self.accounts.setObjectName("accountChoice")
        self.switch_button = QPushButton(self.tr("Switch account"), self)
        self.switch_button.setObjectName("switchAccount")
        self.switch_button.clicked.connect(self._switch)
        account_note = QLabel(
            self.tr(
                "Until this computer signs in to the county platform, you may work as any "
                "account stored on it."
            ),
            self,
        )
        account_note.setObjectName("note")
        account_note.setWordWrap(True)

        # -- data folder
        self.data_dir = QLineEdit(self)
        self.data_dir.setObjectName("dataDirSetting")
        self.data_dir.setPlaceholderText(str(user_data_dir()))
        self.data_dir.setText(self._settings.get("data_dir"))
        self.data_dir.editingFinished.connect(self._data_dir_changed)
        self.browse = QPushButton(self.tr("Choose…"), self)
        self.browse.clicked.connect(self._choose_data_dir)
        self.store_file = QLabel(str(ctx.store_path), self)
        self.store_file.setObjectName("storeFile")
        self.store_file.setWordWrap(True)
        self.data_note = QLabel(self.tr("Takes effect when Gridroom restarts."), self)
        self.data_note.setObjectName("note")

        # -- county server and lists
        self.server_url = QLineEdit(self)
        self.server_url.setObjectName("serverUrlSetting")
        self.server_url.setPlaceholderText("https://grid.example.gov.cn")
        self.server_url.setText(self._settings.get("server_url"))
        self.server_url.editingFinished.connect(
            lambda: self._set("server_url", self.server_url.text().strip())
        )
        self.page_size = QSpinBox(self)
        self.page_size.setObjectName("pageSizeSetting")
        self.page_size.setRange(50, 2000)
        self.page_size.setSingleStep(50)
        self.page_size.setValue(int(self._settings.get("page_size")))
        self.page_size.editingFinished.connect(
            lambda: self._set("page_size", self.page_size.value())
        )

        self.locked_notes: dict[str, QLabel] = {}
        language_box = QGroupBox(self.tr("Language"), self)
        lf = QFormLayout(language_box)
        lf.addRow(self.tr("Interface language:"), self._with_note("language", self.language))
        lf.addRow("", self.language_note)
        account_box = QGroupBox(self.tr("Account"), self)
        af = QFormLayout(account_box)
        af.addRow(self.tr("Signed in as:"), self.signed_in)
        row = QHBoxLayout()
        row.addWidget(self.accounts, 1)
        row.addWidget(self.switch_button)
        af.addRow(self.tr("Work as:"), row)
        af.addRow("", account_note)
        data_box = QGroupBox(self.tr("Data"), self)
        df = QFormLayout(data_box)
        data_row = QHBoxLayout()
        data_row.addWidget(self.data_dir, 1)
        data_row.addWidget(self.browse)
        df.addRow(self.tr("Data folder:"), self._with_note("data_dir", data_row))
        df.addRow("", self.data_note)
        df.addRow(self.tr("Open database:"), self.store_file)
        sync_box = QGroupBox(self.tr("County platform and lists"), self)
        sf = QFormLayout(sync_box)
        sf.addRow(self.tr("County server:"), self._with_note("server_url", self.server_url))
        sf.addRow(self.tr("Rows per page:"), self._with_note("page_size", self.page_size))
        box = QVBoxLayout(_readable_column(self))
        box.setContentsMargins(16, 12, 16, 12)
        box.addWidget(title)
        for group in (language_box, account_box, data_box, sync_box):
            box.addWidget(group)
        box.addStretch(1)

        self._lock("language", self.language)
        self._lock("data_dir", self.data_dir, self.browse)
        self._lock("server_url", self.server_url)
        self._lock("page_size", self.page_size)
        self._fill_accounts()
        ctx.actor_changed.connect(lambda _a: self._fill_accounts())

    # -- locked settings ------------------------------------------------------------------------

    def _with_note(self, name: str, field: QWidget | QHBoxLayout) -> QWidget:
        holder = QWidget(self)
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        if isinstance(field, QWidget):
            box.addWidget(field)
        else:
            box.addLayout(field)
        note = QLabel(self.tr("Set by your IT department; it cannot be changed here."), holder)
        note.setObjectName("lockedNote")
        note.setVisible(False)
        box.addWidget(note)
        self.locked_notes[name] = note
        return holder

    def _lock(self, name: str, *widgets: QWidget) -> None:
        locked = self._settings.is_locked(name)
        for w in widgets:
            w.setEnabled(not locked)
            if locked:
                w.setToolTip(self.tr("Set by your IT department"))
        self.locked_notes[name].setVisible(locked)

    # -- changes --------------------------------------------------------------------------------

    def _set(self, name: str, value: Any) -> bool:
        if self._settings.get(name) == value:
            return True
        try:
            self._settings.set(name, value)
        except (SettingsError, OSError) as exc:
            show_error(self, exc, self.tr("Saving a setting"))
            return False
        return True

    def _language_changed(self) -> None:
        if self._set("language", self.language.currentData()):
            self.language_note.setProperty("tone", "yellow")
            self.language_note.setText(
                self.tr("Saved. The new language shows when Gridroom restarts.")
            )
            self.restart_needed.emit()

    def _data_dir_changed(self) -> None:
        text = self.data_dir.text().strip()
        if text and not Path(text).is_absolute():
            self.data_note.setText(
                self.tr("Enter a full path, e.g. %1").replace("%1", str(user_data_dir()))
            )
            return
        if self._set("data_dir", text):
            self.data_note.setText(self.tr("Saved. Gridroom uses this folder after a restart."))
            self.restart_needed.emit()

    def _choose_data_dir(self) -> None:
        start = self.data_dir.text() or str(user_data_dir())
        folder = QFileDialog.getExistingDirectory(self, self.tr("Data folder"), start)
        if folder:
            self.data_dir.setText(os.path.normpath(folder))
            self._data_dir_changed()

    def _fill_accounts(self) -> None:
        actor = self._ctx.actor
        self.signed_in.setText(f"{actor.name} · {labels.role(actor.role.value)}")
        try:
            accounts = self._ctx.ops.gui_store().accounts()
        except Exception as exc:  # shown in words; the page stays usable
            show_error(self, exc, self.tr("Reading accounts"))
            accounts = []
        self.accounts.blockSignals(True)
        self.accounts.clear()
        for a in accounts:
            self.accounts.addItem(f"{a.name} · {labels.role(a.role.value)}", a)
        for i in range(self.accounts.count()):
            if self.accounts.itemData(i).id == actor.id:
                self.accounts.setCurrentIndex(i)
        self.accounts.blockSignals(False)
        self.switch_button.setEnabled(self.accounts.count() > 1)

    def switch_to(self, actor: Actor) -> None:
        """Work as ``actor`` from now on (and next time Gridroom starts)."""
        self._ctx.set_actor(actor)
        self._set("account", actor.id)

    def _switch(self) -> None:
        actor = self.accounts.currentData()
        if isinstance(actor, Actor) and actor.id != self._ctx.actor.id:
            self.switch_to(actor)
