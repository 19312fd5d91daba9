"""The 同步 page: where this computer stands with the county, and what needs a person.

At the top, in sentences: the county server and account, online/offline/syncing, what waits to
go, the last successful sync, conflicts and refused records — with 立即同步, Cancel and 登录.
Below, four tabs: conflicts side by side with the choices that settle them, refused records
(quarantine) with retry and discard, what waits to go, and the history of sync runs.

Everything is read in one background read (:func:`load_page`) when the page is shown, after
each sync, and after local changes while it is visible; the link line follows the
:class:`~desktop.syncer.Syncer` as it changes. On the demo township the page says plainly that
the demo works offline only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from sync.bundlefile import BundleError
from sync.client import bundle as usb
from sync.store import Store, replica
from sync.store.queries import CaseQuery

from .. import labels
from ..context import AppContext
from ..errors import show_error
from ..statusbar import LocalTruth, read_local_truth
from ..syncer import Syncer, SyncView, link_line
from .conflicts import CaseConflicts, ConflictsPanel, load_conflicts
from .history import HistoryPanel, WaitingPanel
from .quarantine import QuarantinePanel, Refused, load_quarantine

#: How many waiting records the page lists (the count is always exact).
WAITING_LISTED = 500
HISTORY_LISTED = 50


@dataclass
class PageData:
    """Everything the page shows, read in one go in a worker."""

    truth: LocalTruth
    state: dict[str, str]
    synthetic: bool
    history: list[dict[str, Any]] = field(default_factory=list)
    waiting: list[dict[str, Any]] = field(default_factory=list)
    waiting_total: int = 0
    conflicts: list[CaseConflicts] = field(default_factory=list)
    quarantined: list[Refused] = field(default_factory=list)


def load_page(store: Store) -> PageData:
    """Read the page's figures and lists (runs in a worker)."""
    return PageData(
        truth=read_local_truth(store),
        state=replica.state(store),
        synthetic=store.synthetic,
        history=replica.history(store, HISTORY_LISTED),
        waiting=replica.outbox_items(store, WAITING_LISTED),
        waiting_total=replica.waiting(store)["changes"],
        conflicts=load_conflicts(store),
        quarantined=load_quarantine(store),
    )


class SyncPage(QWidget):
    """Sync status, conflicts, quarantine, what waits and the history of the open store.

    Signals:
        refreshed(object): new :class:`LocalTruth` is on screen (the lists too).
    """

    refreshed = Signal(object)

    def __init__(
        self, ctx: AppContext, parent: QWidget | None = None, *, syncer: Syncer | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("syncPage")
        self._ctx = ctx
        self.syncer = syncer
        self._loading = False
        self._again = False
        self.truth: LocalTruth | None = None
        self.data: PageData | None = None
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

        # -- the summary
        self.server = QLabel(self)
        self.server.setObjectName("syncServer")
        self.server.setWordWrap(True)
        self.account = QLabel(self)
        self.account.setObjectName("syncAccount")
        self.link = QLabel(self)
        self.link.setObjectName("syncLink")
        self.link.setWordWrap(True)
        self.outbox = QLabel(self)
        self.outbox.setObjectName("syncOutbox")
        self.last_sync = QLabel(self)
        self.last_sync.setObjectName("syncLast")
        self.conflicts = QLabel(self)
        self.conflicts.setObjectName("syncConflicts")
        self.quarantine = QLabel(self)
        self.quarantine.setObjectName("syncQuarantine")
        self.store_path = QLabel(str(ctx.store_path), self)
        self.store_path.setObjectName("syncStorePath")
        self.store_path.setWordWrap(True)
        self.device = QLabel(self)
        self.device.setObjectName("syncDevice")
        self.last_error = QLabel(self)
        self.last_error.setObjectName("syncLastError")
        self.last_error.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("syncProgress")
        self.progress.setVisible(False)

        # -- actions
        self.sync_button = QPushButton(self.tr("Sync now"), self)
        self.sync_button.setObjectName("syncNow")
        self.sync_button.clicked.connect(self.sync_now)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setObjectName("cancelSync")
        self.cancel_button.clicked.connect(self._cancel)
        self.sign_in_button = QPushButton(self.tr("Sign in…"), self)
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.clicked.connect(self.sign_in)
        self.show_conflicts = QPushButton(self.tr("Show cases with conflicts"), self)
        self.show_conflicts.setObjectName("showConflicts")
        self.show_conflicts.clicked.connect(lambda: ctx.show_cases(CaseQuery(conflicts_only=True)))
        self.refresh_button = QPushButton(self.tr("Check again"), self)
        self.refresh_button.clicked.connect(self.refresh)
        # No link at all: the outbox to the county on a USB stick, and its answer back.
        self.export_bundle_button = QPushButton(self.tr("Export sync bundle…"), self)
        self.export_bundle_button.setObjectName("exportBundle")
        self.export_bundle_button.clicked.connect(self.export_bundle)
        self.import_bundle_button = QPushButton(self.tr("Import sync bundle…"), self)
        self.import_bundle_button.setObjectName("importBundle")
        self.import_bundle_button.clicked.connect(self.import_bundle)
        self.bundle_status = QLabel(self.tr("None yet"), self)
        self.bundle_status.setObjectName("bundleStatus")
        self.bundle_status.setWordWrap(True)

        form = QFormLayout()
        form.addRow(self.tr("County server:"), self.server)
        form.addRow(self.tr("Signed in to the county as:"), self.account)
        form.addRow(self.tr("Link:"), self.link)
        form.addRow(self.tr("Waiting to sync:"), self.outbox)
        form.addRow(self.tr("Last successful sync:"), self.last_sync)
        form.addRow(self.tr("Last problem:"), self.last_error)
        form.addRow(self.tr("Conflicts to settle:"), self.conflicts)
        form.addRow(self.tr("Refused by the county:"), self.quarantine)
        form.addRow(self.tr("This computer's code:"), self.device)
        form.addRow(self.tr("Database file:"), self.store_path)
        form.addRow(self.tr("USB stick (sync bundle):"), self.bundle_status)
        buttons = QHBoxLayout()
        for b in (
            self.sync_button,
            self.cancel_button,
            self.sign_in_button,
            self.show_conflicts,
            self.refresh_button,
            self.export_bundle_button,
            self.import_bundle_button,
        ):
            buttons.addWidget(b)
        self.progress.setMaximumWidth(320)
        buttons.addWidget(self.progress)
        buttons.addStretch(1)

        # -- the lists
        self.conflicts_panel = ConflictsPanel(ctx, self)
        self.conflicts_panel.settled.connect(lambda _id: self.refresh())
        self.conflicts_panel.open_case.connect(ctx.open_case)
        self.quarantine_panel = QuarantinePanel(ctx, self)
        self.quarantine_panel.changed.connect(self.refresh)
        self.waiting_panel = WaitingPanel(self)
        self.history_panel = HistoryPanel(self)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("syncTabs")
        self.tabs.addTab(self.conflicts_panel, "")
        self.tabs.addTab(self.quarantine_panel, "")
        self.tabs.addTab(self.waiting_panel, "")
        self.tabs.addTab(self.history_panel, "")
        self._tab_titles(0, 0, 0)

        box = QVBoxLayout(self)
        box.setContentsMargins(16, 12, 16, 12)
        box.addWidget(title)
        box.addWidget(intro)
        summary = QWidget(self)
        summary.setMaximumWidth(960)  # long sentences stay readable
        summary.setLayout(form)
        box.addWidget(summary)
        box.addLayout(buttons)
        box.addWidget(self.tabs, 1)

        ctx.cases_changed.connect(lambda _ids: self.refresh() if self.isVisible() else None)
        ctx.settings.on_change(
            lambda name, _v: self._show_server() if name == "server_url" else None
        )
        ctx.actor_changed.connect(lambda _a: self._show_account())
        if syncer is not None:
            syncer.changed.connect(self._show_view)
            syncer.sync_finished.connect(lambda _r: self.refresh() if self.isVisible() else None)
            self._show_view(syncer.view)
        else:
            self._show_view(SyncView(mode="unenrolled"))
        self._show_server()
        self._show_account()

    # -- the summary ------------------------------------------------------------------------

    def _mode(self) -> str:
        if self.syncer is not None and self.syncer.view.mode != "unknown":
            return self.syncer.view.mode
        if self.data is not None:
            if self.data.synthetic:
                return "demo"
            return "enrolled" if self.data.state.get("server_url") else "unenrolled"
        return "unenrolled"

    def _show_server(self) -> None:
        mode = self._mode()
        if mode == "demo":
            self.server.setText(
                self.tr(
                    "None: this is the demo township. It works offline only, on this computer, "
                    "and never syncs with a county."
                )
            )
            return
        url = ""
        if self.data is not None:
            url = self.data.state.get("server_url", "")
        url = url or self._ctx.settings.get("server_url")
        if url:
            self.server.setText(url)
        else:
            self.server.setText(
                self.tr(
                    "None configured: this computer works offline. Your IT department sets the "
                    "county server (or enter it under Settings)."
                )
            )

    def _show_account(self) -> None:
        mode = self._mode()
        state = self.data.state if self.data is not None else {}
        if mode != "enrolled":
            self.account.setText(self.tr("Not signed in (this computer is not enrolled)"))
            return
        login = state.get("account_login", "")
        name = state.get("account_name", "")
        text = f"{name} ({login})" if name and login else name or login
        if self._ctx.actor.id != state.get("account_id"):
            text = (
                self.tr("%1; working as %2").replace("%1", text).replace("%2", self._ctx.actor.name)
            )
        self.account.setText(text)

    def _show_view(self, view: SyncView) -> None:
        mode = self._mode()
        enrolled = mode == "enrolled"
        if view.mode in ("unenrolled", "unknown") and mode != "demo":
            self.link.setText(self.tr("Offline: this computer is not enrolled with a county."))
        else:
            self.link.setText(link_line(view)[0])
        self.sync_button.setVisible(enrolled)
        self.sync_button.setEnabled(enrolled and not view.syncing)
        self.cancel_button.setVisible(enrolled and view.syncing)
        self.sign_in_button.setVisible(mode != "demo")
        self.sign_in_button.setText(
            self.tr("Sign in again…") if view.signed_out else self.tr("Sign in…")
        )
        self.progress.setVisible(view.syncing)
        if view.syncing:
            self.progress.setMaximum(view.total or 0)
            self.progress.setValue(min(view.done, view.total) if view.total else 0)
        status = view.status
        if status is not None and status.last_error and view.error_code:
            from .words import error

            self.last_error.setText(error(view.error_code, status.last_error))
            self.last_error.setToolTip(status.last_error)
        else:
            self.last_error.setText(self.tr("None"))
            self.last_error.setToolTip("")

    # -- reading ------------------------------------------------------------------------------

    def loading(self) -> bool:
        return self._loading

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def refresh(self) -> None:
        """Read the figures and lists again in the background."""
        if self._loading:
            self._again = True
            return
        self._loading = True
        self._ctx.ops.read(load_page).success(self._show).failure(self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        show_error(self, exc, self.tr("Reading the sync state"))

    def _show(self, data: PageData) -> None:
        self._loading = False
        self.data = data
        truth = data.truth
        self.truth = truth
        waiting = truth.outbox
        self.outbox.setText(self.tr("%n change(s)", "", waiting))
        self.last_sync.setText(
            self.tr("Never") if truth.last_sync is None else labels.when(truth.last_sync)
        )
        conflicted = truth.conflicts
        self.conflicts.setText(self.tr("%n case(s)", "", conflicted))
        refused = len(data.quarantined)
        self.quarantine.setText(self.tr("%n record(s)", "", refused))
        self.show_conflicts.setEnabled(conflicted > 0)
        self.device.setText(truth.device_code)
        self.conflicts_panel.show_conflicts(data.conflicts)
        self.quarantine_panel.show_items(data.quarantined)
        self.waiting_panel.show_items(data.waiting, data.waiting_total)
        self.history_panel.show_runs(data.history)
        self._tab_titles(len(data.conflicts), refused, data.waiting_total)
        self._show_server()
        self._show_account()
        if self.syncer is not None:
            self._show_view(self.syncer.view)
        self.refreshed.emit(truth)
        if self._again:
            self._again = False
            self.refresh()

    def _tab_titles(self, conflicts: int, refused: int, waiting: int) -> None:
        self.tabs.setTabText(0, self.tr("Conflicts (%1)").replace("%1", str(conflicts)))
        self.tabs.setTabText(1, self.tr("Refused (%1)").replace("%1", str(refused)))
        self.tabs.setTabText(2, self.tr("Waiting to go (%1)").replace("%1", str(waiting)))
        self.tabs.setTabText(3, self.tr("History"))

    # -- actions ------------------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.syncer is not None:
            self.syncer.sync_now()

    def _cancel(self) -> None:
        if self.syncer is not None:
            self.syncer.cancel()

    def sign_in(self) -> None:
        """Sign in to the county (again, or as another person on this computer)."""
        from ..login import LoginDialog

        dialog = LoginDialog(
            self._ctx.settings,
            store_path=self._ctx.store_path,
            tokens=self.syncer.tokens if self.syncer is not None else None,
            parent=self,
        )
        dialog.signed_in.connect(self._signed_in)
        dialog.setModal(True)
        dialog.open()
        self.login_dialog = dialog

    def _signed_in(self, outcome: Any) -> None:
        if outcome.store_path.resolve() != self._ctx.store_path.resolve():
            return  # another township's store: it opens at the next start
        if outcome.actor != self._ctx.actor:
            self._ctx.set_actor(outcome.actor)
        if self.syncer is not None:
            self.syncer.set_offline_login(not outcome.online)
            self.syncer.start()
            if outcome.online:
                self.syncer.sync_now()
        self.refresh()

    # -- USB sync bundles ---------------------------------------------------------------------

    def export_bundle(self) -> None:
        """Ask where (a USB stick), then write the bundle there in the background."""
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Where to write the sync bundle (a USB stick)")
        )
        if folder:
            self.export_bundle_to(Path(folder))

    def export_bundle_to(self, folder: Path) -> Any:
        def work(store: Store, progress: Any) -> usb.ExportResult:
            return usb.export_bundle(store, folder, progress=progress)

        self.export_bundle_button.setEnabled(False)
        return (
            self._ctx.ops.write(work)
            .with_progress(self, self.tr("Writing the sync bundle…"))
            .success(self._exported)
            .failure(self._bundle_failed)
            .run()
        )

    def _exported(self, result: usb.ExportResult) -> None:
        self.export_bundle_button.setEnabled(True)
        self.bundle_status.setText(
            self.tr(
                "Written %1: %2 change(s) and %3 photo(s). Take it to the county platform, then "
                "import the answer it gives you here."
            )
            .replace("%1", Path(result.path).name)
            .replace("%2", str(result.records))
            .replace("%3", str(result.files))
        )
        self.refresh()

    def import_bundle(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            self.tr("The county's answer (sync bundle)"),
            "",
            self.tr("Sync bundles (*.bundle)"),
        )
        if path:
            self.import_bundle_from(Path(path))

    def import_bundle_from(self, path: Path) -> Any:
        self.import_bundle_button.setEnabled(False)
        return (
            self._ctx.ops.write(lambda store: usb.import_return(store, path))
            .with_progress(self, self.tr("Importing the county's answer…"))
            .success(self._imported)
            .failure(self._bundle_failed)
            .run()
        )

    def _imported(self, result: usb.ReturnResult) -> None:
        self.import_bundle_button.setEnabled(True)
        if result.acknowledged_batches == 0 and not result.pull_applied:
            text = self.tr(
                "That answer was imported already, or this computer has synced since: nothing "
                "more to do."
            )
        else:
            pulled = result.pulled_entries + result.pulled_visits + result.pulled_attachments
            text = (
                self.tr(
                    "The county's answer is imported: %1 change(s) received by the county, %2 "
                    "new from the county."
                )
                .replace("%1", str(result.pushed + result.duplicates))
                .replace("%2", str(pulled))
            )
        self.bundle_status.setText(text)
        self.refresh()

    def _bundle_failed(self, exc: BaseException) -> None:
        self.export_bundle_button.setEnabled(True)
        self.import_bundle_button.setEnabled(True)
        if not isinstance(exc, BundleError):
            show_error(self, exc, self.tr("The sync bundle"))
            return
        self.bundle_status.setText(self._bundle_words(exc))

    def _bundle_words(self, exc: BundleError) -> str:
        """A refused or unwritable bundle in the user's words (nothing was applied or lost)."""
        if exc.code == "cancelled":
            return self.tr("Cancelled: no bundle was written, nothing is lost.")
        if exc.code == "write_failed":
            return self.tr(
                "The bundle could not be written: is the stick full or removed? Nothing is lost; "
                "try again."
            )
        if exc.code == "not_ready":
            return self.tr(
                "This computer has no bundle key yet: sign in once while online, then try again."
            )
        if exc.code == "truncated":
            return self.tr(
                "The file is incomplete (the stick was removed or full while it was written). "
                "Nothing was imported."
            )
        if exc.code == "tampered":
            return self.tr("The file has been changed since it was made. Nothing was imported.")
        if exc.code == "wrong_device":
            return self.tr(
                "This is the county's answer to another computer. Nothing was imported."
            )
        if exc.code == "wrong_kind":
            return self.tr(
                "This is a bundle this computer made for the county, not the county's answer."
            )
        if exc.code == "foreign_county":
            return self.tr("This bundle comes from another county. Nothing was imported.")
        return self.tr("This file is not a sync bundle Gridroom can read. Nothing was imported.")
