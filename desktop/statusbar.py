"""The status bar: the local truth about sync — online or not, what waits to go, last sync,
conflicts — refreshed whenever cases change and once a minute.

"Online" is honest about what the app knows: no county server configured means offline; with a
server configured the client reports through :meth:`set_link`; on an enrolled store the
background :class:`~desktop.syncer.Syncer` drives it (:meth:`attach_syncer`): syncing, online,
offline, signed out, demo — and how many records the county refused.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from sync.store import Store, replica
from sync.store.queries import CaseQuery

from . import labels
from .context import AppContext

if TYPE_CHECKING:
    from .syncer import Syncer, SyncView

REFRESH_MS = 60_000

#: Meta keys the sync client records its last success under (first one present wins).
LAST_SYNC_KEYS = ("last_sync_at", "last_sync", "last_pull_at")


@dataclass(frozen=True)
class LocalTruth:
    """What the store itself says about sync."""

    outbox: int
    last_sync: int | None  # UTC ms of the last successful sync, None for never
    conflicts: int  # cases with unsettled conflicts
    device_code: str


def read_local_truth(store: Store) -> LocalTruth:
    """Read the sync facts (runs in a worker thread)."""
    last: int | None = None
    # The sync state table first: meta is cached per connection, and the sync writes on its own.
    success = replica.state(store).get("last_success")
    if success:
        last = int(success)
    for key in LAST_SYNC_KEYS if last is None else ():
        value = store.meta(key)
        if value:
            try:
                last = int(float(value))
            except ValueError:
                continue
            break
    return LocalTruth(
        outbox=store.outbox_size(),
        last_sync=last,
        conflicts=store.count(CaseQuery(conflicts_only=True)),
        device_code=store.device_code,
    )


class StatusBar(QStatusBar):
    """Online/offline, changes waiting, last sync, conflicts.

    Signals:
        refreshed(object): new :class:`LocalTruth` is on screen.
        conflicts_clicked(): the user clicked the conflicts figure.
    """

    refreshed = Signal(object)
    conflicts_clicked = Signal()
    #: the user clicked the refused-records figure (show the 同步 page)
    sync_clicked = Signal()

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._link: tuple[bool, str] | None = None
        self._loading = False
        self.truth: LocalTruth | None = None
        self.online = QLabel(self)
        self.online.setObjectName("linkState")
        self.waiting = QLabel(self)
        self.waiting.setObjectName("outboxSize")
        self.last_sync = QLabel(self)
        self.last_sync.setObjectName("lastSync")
        self.conflicts = QLabel(self)
        self.conflicts.setObjectName("conflictCount")
        self.conflicts.linkActivated.connect(lambda _link: self.conflicts_clicked.emit())
        self.account = QLabel(self)
        self.account.setObjectName("signedIn")
        # Records the county refused (sync): hidden while there are none.
        self.quarantine = QLabel(self)
        self.quarantine.setObjectName("quarantineCount")
        self.quarantine.setVisible(False)
        self.quarantine.linkActivated.connect(lambda _link: self.sync_clicked.emit())
        self._sync_view: SyncView | None = None
        for w in (self.online, self.waiting, self.last_sync, self.conflicts, self.quarantine):
            self.addWidget(w)
        self.addPermanentWidget(self.account)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        ctx.cases_changed.connect(lambda _ids: self.refresh())
        ctx.actor_changed.connect(lambda _actor: self._show_account())
        ctx.settings.on_change(self._setting_changed)
        self._show_link()
        self._show_account()

    def _setting_changed(self, name: str, _value: Any) -> None:
        if name == "server_url":
            self._show_link()

    def set_link(self, online: bool, detail: str = "") -> None:
        """The sync client's word on the link to the county (overrides the settings guess)."""
        self._link = (online, detail)
        self._show_link()

    def attach_syncer(self, syncer: Syncer) -> None:
        """Follow the background sync: the link line, refused records, fresh figures after
        each run."""
        syncer.changed.connect(self._sync_changed)
        syncer.sync_finished.connect(lambda _report: self.refresh())
        self._sync_changed(syncer.view)

    def _sync_changed(self, view: SyncView) -> None:
        from .sync.words import quarantine_link

        self._sync_view = view if view.mode in ("demo", "enrolled") else None
        status = view.status if self._sync_view is not None else None
        refused = status.quarantined if status is not None else 0
        self.quarantine.setVisible(refused > 0)
        if refused:
            self.quarantine.setText(quarantine_link(refused))
        self._show_link()

    def _show_link(self) -> None:
        if self._sync_view is not None:
            from .syncer import link_line

            text, tone = link_line(self._sync_view)
            self.online.setProperty("tone", tone)
        elif self._link is not None:
            online, detail = self._link
            text = self.tr("Online") if online else self.tr("Offline")
            if detail:
                text = f"{text} — {detail}"
            self.online.setProperty("tone", "green" if online else "grey")
        elif not self._ctx.settings.get("server_url"):
            text = self.tr("Offline — no county server configured")
            self.online.setProperty("tone", "grey")
        else:
            text = self.tr("Offline — not connected to the county server yet")
            self.online.setProperty("tone", "grey")
        self.online.setText("● " + text)
        self.online.style().unpolish(self.online)
        self.online.style().polish(self.online)

    def _show_account(self) -> None:
        actor = self._ctx.actor
        self.account.setText(
            self.tr("Signed in: %1 (%2)")
            .replace("%1", actor.name)
            .replace("%2", labels.role(actor.role.value))
        )

    def refresh(self) -> None:
        """Read the local truth again in the background."""
        if self._loading:
            return
        self._loading = True
        self._ctx.ops.read(read_local_truth).success(self._show).failure(self._failed).run()

    def _failed(self, exc: BaseException) -> None:
        self._loading = False
        self.waiting.setText(self.tr("Sync state unknown: the database could not be read"))

    def _show(self, truth: LocalTruth) -> None:
        self._loading = False
        self.truth = truth
        self.waiting.setText(self.tr("%n change(s) waiting to sync", "", truth.outbox))
        if truth.last_sync is None:
            self.last_sync.setText(self.tr("Last sync: never"))
        else:
            from .sync.words import clock_time

            now = time.time_ns() // 1_000_000
            self.last_sync.setText(
                self.tr("Last sync: %1").replace("%1", clock_time(truth.last_sync, now))
            )
            self.last_sync.setToolTip(labels.when(truth.last_sync))
        if truth.conflicts:
            self.conflicts.setText(
                '<a href="#conflicts">'
                + self.tr("%n case(s) with conflicts", "", truth.conflicts)
                + "</a>"
            )
        else:
            self.conflicts.setText(self.tr("No conflicts"))
        self.refreshed.emit(truth)
