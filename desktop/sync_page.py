"""The 同步 page: the local truth about sync, in full sentences.

It shows what this computer knows without a network: the county server it is set to talk to,
how many changes wait to go, when the last sync succeeded, and how many cases hold conflicts a
person must settle (a link to them). The sync client adds its controls here when it is wired in.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from sync.store.queries import CaseQuery

from . import labels
from .context import AppContext
from .errors import show_error
from .statusbar import LocalTruth, read_local_truth


def _readable_column(page: QWidget, width: int = 960) -> QWidget:
    """A column of at most ``width`` pixels on the left of ``page``: long lines stay readable."""
    column = QWidget(page)
    column.setMaximumWidth(width)
    outer = QHBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(column, 1)
    outer.addStretch(0)
    return column


class SyncPage(QWidget):
    """Sync status of the open store.

    Signals:
        refreshed(object): new :class:`LocalTruth` is on screen.
    """

    refreshed = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._loading = False
        self.truth: LocalTruth | None = None
        title = QLabel(self.tr("Sync with the county platform"), self)
        title.setObjectName("pageTitle")
        intro = QLabel(
            self.tr(
                "Everything you do is saved on this computer first and works without a network. "
                "When a link to the county platform exists, waiting changes go up and other "
                "people's changes come down."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.server = QLabel(self)
        self.server.setObjectName("syncServer")
        self.server.setWordWrap(True)
        self.outbox = QLabel(self)
        self.outbox.setObjectName("syncOutbox")
        self.last_sync = QLabel(self)
        self.last_sync.setObjectName("syncLast")
        self.conflicts = QLabel(self)
        self.conflicts.setObjectName("syncConflicts")
        self.store_path = QLabel(str(ctx.store_path), self)
        self.store_path.setObjectName("syncStorePath")
        self.store_path.setWordWrap(True)
        self.device = QLabel(self)
        self.show_conflicts = QPushButton(self.tr("Show cases with conflicts"), self)
        self.show_conflicts.setObjectName("showConflicts")
        self.show_conflicts.clicked.connect(lambda: ctx.show_cases(CaseQuery(conflicts_only=True)))
        self.refresh_button = QPushButton(self.tr("Check again"), self)
        self.refresh_button.clicked.connect(self.refresh)
        form = QFormLayout()
        form.addRow(self.tr("County server:"), self.server)
        form.addRow(self.tr("Waiting to sync:"), self.outbox)
        form.addRow(self.tr("Last successful sync:"), self.last_sync)
        form.addRow(self.tr("Conflicts to settle:"), self.conflicts)
        form.addRow(self.tr("This computer's code:"), self.device)
        form.addRow(self.tr("Database file:"), self.store_path)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_conflicts)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        box = QVBoxLayout(_readable_column(self))
        box.setContentsMargins(16, 12, 16, 12)
        box.addWidget(title)
        box.addWidget(intro)
        box.addLayout(form)
        box.addLayout(buttons)
        box.addStretch(1)
        ctx.cases_changed.connect(lambda _ids: self.refresh() if self.isVisible() else None)
        ctx.settings.on_change(
            lambda name, _v: self._show_server() if name == "server_url" else None
        )
        self._show_server()

    def _show_server(self) -> None:
        url = self._ctx.settings.get("server_url")
        if url:
            self.server.setText(url)
        else:
            self.server.setText(
                self.tr(
                    "None configured: this computer works offline. Your IT department sets the "
                    "county server (or enter it under Settings)."
                )
            )

    def loading(self) -> bool:
        return self._loading

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        if self._loading:
            return
        self._loading = True
        self._ctx.ops.read(read_local_truth).success(self._show).failure(self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        show_error(self, exc, self.tr("Reading the sync state"))

    def _show(self, truth: LocalTruth) -> None:
        self._loading = False
        self.truth = truth
        self.outbox.setText(self.tr("%n change(s)", "", truth.outbox))
        self.last_sync.setText(
            self.tr("Never") if truth.last_sync is None else labels.when(truth.last_sync)
        )
        self.conflicts.setText(self.tr("%n case(s)", "", truth.conflicts))
        self.show_conflicts.setEnabled(truth.conflicts > 0)
        self.device.setText(truth.device_code)
        self.refreshed.emit(truth)
