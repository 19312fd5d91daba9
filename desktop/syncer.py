"""The background sync driver: syncs with the county whenever it is reachable, never on the GUI
thread.

* **When**: soon after the window opens, every ``sync_interval_s`` seconds, and
  ``sync_after_change_s`` seconds after a local change (measured from the first change, so a
  busy desk still syncs), and when a person presses 立即同步. A change made while a sync runs
  queues one more sync after it.
* **Where**: on a dedicated network thread (:class:`NetworkWorker`) with its *own* store
  connection — never the store's write worker, so a slow 2G exchange never holds up a click.
  The result comes back to the GUI thread by signal.
* **Progress is observed, not pushed**: the client reports ``(done, total)`` into a
  :class:`~desktop.ops.Progress`; a timer polls it while a sync runs. Cancelling (the page's
  Cancel, or quitting) makes the client stop between rounds — everything done so far is kept
  and the rest goes next time — and cuts any backoff wait short.
* **Honest**: :attr:`Syncer.view` says what the status bar and the 同步 page show — demo,
  not enrolled, syncing, online, offline, signed out — with the store's own figures.

After a sync that brought changes, the other connections of the app catch up with
:func:`sync.store.replica.refresh_clock` (the write worker's through an ordinary write, so it is
serialised with the user's steps), and every page is told that cases changed.
"""

from __future__ import annotations

import contextlib
import queue
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal

from sync import logs
from sync.client.route import Router
from sync.client.service import AUTH_CODES, Cancelled, SyncReport, SyncService, SyncStatus
from sync.client.tokens import MemoryTokens, TokenStore, default_tokens
from sync.store import Store, replica

from .context import AppContext
from .ops import Progress

#: How long after the window opens the first sync starts (the window paints first).
START_DELAY_MS = 500
#: How often the progress of a running sync is read.
POLL_MS = 200
#: The desktop's transport settings: a shorter backoff than ``gridroom sync`` waits, because the
#: next background sync comes anyway and a person should learn soon that the county is away
#: (a refused connection shows as offline in under a second). A dead link that answers nothing
#: is bounded by the ``sync_deadline_s`` setting, as for ``gridroom sync``.
TRANSPORT_OPTIONS: dict[str, Any] = {"attempts": 3, "backoff": 0.25}
#: How long quitting waits for a running sync to stop before leaving it to die with the app.
SHUTDOWN_WAIT_S = 5.0

_MEMORY_TOKENS: MemoryTokens | None = None


def shared_tokens() -> TokenStore:
    """Where this process keeps sign-in tokens: the OS keyring, or — where there is none — one
    in-memory store shared by the sign-in dialog and the syncer for the life of the app."""
    global _MEMORY_TOKENS
    tokens = default_tokens()
    if isinstance(tokens, MemoryTokens):
        if _MEMORY_TOKENS is None:
            _MEMORY_TOKENS = tokens
        return _MEMORY_TOKENS
    return tokens


class NetworkWorker(QObject):
    """One daemon thread for network work (sync, sign-in), apart from the store's workers.

    ``submit(fn, success, failure)`` runs ``fn()`` on the thread; ``success(result)`` or
    ``failure(exception)`` runs in the GUI thread. A daemon thread, so a request stuck on a
    dead link cannot keep the app from quitting.
    """

    _done = Signal(object, object, object)  # (success, failure), result, error

    def __init__(self, name: str = "gridroom-net", parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: queue.Queue[Any] = queue.Queue()
        self._closed = False
        self._pending = 0
        self._done.connect(self._finish, Qt.ConnectionType.QueuedConnection)
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def submit(
        self,
        fn: Callable[[], Any],
        success: Callable[[Any], Any] | None = None,
        failure: Callable[[BaseException], Any] | None = None,
    ) -> bool:
        """Queue ``fn``; False once the worker is shut down."""
        if self._closed:
            return False
        self._pending += 1
        self._queue.put((fn, success, failure))
        return True

    def busy(self) -> bool:
        return self._pending > 0

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            fn, success, failure = item
            result: Any = None
            error: BaseException | None = None
            try:
                result = fn()
            except BaseException as exc:  # handed to the GUI thread, not swallowed
                error = exc
            if self._closed:
                continue  # nobody listens any more
            # The GUI side may be gone (the app is quitting): nothing to tell then.
            with contextlib.suppress(RuntimeError):
                self._done.emit((success, failure), result, error)

    def _finish(self, callbacks: tuple[Any, Any], result: Any, error: BaseException | None) -> None:
        self._pending -= 1
        if self._closed:
            return
        success, failure = callbacks
        if error is None:
            if success is not None:
                success(result)
        elif failure is not None:
            failure(error)
        else:
            raise error

    def shutdown(self, timeout: float, last: Callable[[], Any] | None = None) -> bool:
        """Stop taking work; run ``last`` on the thread after what is queued (to close what the
        thread holds); wait up to ``timeout`` seconds. True when the thread has ended."""
        if not self._closed:
            self._closed = True
            if last is not None:
                self._queue.put((last, None, None))
            self._queue.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()


@dataclass(frozen=True)
class SyncView:
    """What the status bar and the 同步 page show about sync, at one moment."""

    #: ``demo`` (synthetic data, never syncs), ``unenrolled`` (no county), ``enrolled``
    mode: str
    syncing: bool = False
    done: int = 0
    total: int = 0
    status: SyncStatus | None = None
    #: the error code of the last attempt ("" when it succeeded or none was made)
    error_code: str = ""
    #: the last run in this session
    report: SyncReport | None = None
    #: the person signed in offline (checked against this computer's copy)
    offline_login: bool = False
    #: why sync cannot run at all here (a store problem), in plain words
    problem: str = ""

    @property
    def enrolled(self) -> bool:
        return self.mode == "enrolled"

    @property
    def signed_out(self) -> bool:
        return self.error_code in AUTH_CODES


def link_line(view: SyncView) -> tuple[str, str]:
    """The status bar's link words and tone (green, grey, yellow, blue, red) for ``view``."""
    # Each sentence written out with its context, so lupdate sees it.
    translate = QCoreApplication.translate
    if view.mode == "demo":
        return translate(
            "Syncer", "Demo data — works on this computer only, never with the county"
        ), "grey"
    if view.syncing:
        text = translate("Syncer", "Syncing with the county…")
        if view.total:
            text += f" {min(view.done, view.total)}/{view.total}"
        return text, "blue"
    if view.problem:
        return translate("Syncer", "Sync cannot run: %1").replace("%1", view.problem), "red"
    status = view.status
    if view.signed_out:
        if view.offline_login:
            return translate(
                "Syncer", "Signed in offline — sign in again when the county is reachable"
            ), "yellow"
        return translate("Syncer", "Not signed in to the county — sign in to sync"), "yellow"
    if status is None or status.online is None:
        if view.offline_login:
            return translate("Syncer", "Signed in offline — changes wait on this computer"), "grey"
        return translate("Syncer", "Not connected to the county platform yet"), "grey"
    if status.online:
        from .sync.words import host

        return translate("Syncer", "Online — %1").replace("%1", host(status.server_url)), "green"
    if view.offline_login:
        return translate(
            "Syncer", "Offline (signed in offline) — changes wait on this computer"
        ), "grey"
    return translate("Syncer", "Offline — cannot reach the county platform"), "grey"


def read_status(service: SyncService, store: Store) -> tuple[SyncStatus, str]:
    """The store's sync status and the last error code (no network; runs in a worker)."""
    return service.status(store), replica.state(store).get("last_error_code", "")


class Syncer(QObject):
    """Drives background sync of the open store with its county.

    Signals:
        changed(object): a new :class:`SyncView` (link, progress, figures).
        sync_started(): a sync began.
        sync_finished(object): a sync ended with this :class:`SyncReport` (None: it could
            not run at all — the store is locked or damaged; see ``view.problem``).
    """

    changed = Signal(object)
    sync_started = Signal()
    sync_finished = Signal(object)

    def __init__(
        self,
        ctx: AppContext,
        *,
        tokens: TokenStore | None = None,
        transport_options: dict[str, Any] | None = None,
        key: str | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._tokens = tokens
        self._transport_options = dict(
            TRANSPORT_OPTIONS if transport_options is None else transport_options
        )
        self._key = key
        self._service: SyncService | None = None
        self._worker: NetworkWorker | None = None
        self._net_store: Store | None = None  # touched on the network thread only
        self._progress = Progress()
        self._cancel = threading.Event()
        self._again = False
        self._skip_change = False
        self._closed = False
        self._report_count = 0
        self._offset = 0  # the clock offset the app's connections use
        self.view = SyncView(mode="unknown")
        self._interval = QTimer(self)
        self._interval.timeout.connect(self.sync_now)
        self._after_change = QTimer(self)
        self._after_change.setSingleShot(True)
        self._after_change.timeout.connect(self.sync_now)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._poll_progress)
        ctx.ops.store_changed.connect(self._local_change)
        ctx.settings.on_change(self._setting_changed)

    # -- configuration --------------------------------------------------------------------------

    @property
    def tokens(self) -> TokenStore:
        if self._tokens is None:
            self._tokens = shared_tokens()
        return self._tokens

    @property
    def service(self) -> SyncService:
        if self._service is None:
            options = {**self._transport_options, "sleep": self._sleep}
            self._service = SyncService(
                tokens=self.tokens,
                ca_file=self._ctx.settings.get("ca_file") or None,
                transport_options=options,
                deadline_s=self._ctx.settings.get("sync_deadline_s"),
            )
        return self._service

    def start(self) -> None:
        """Look at the store (demo? enrolled?) and start syncing if it is enrolled."""
        if self._closed:
            return
        try:
            store = self._ctx.ops.gui_store()
            enrolled = bool(replica.state(store).get("server_url"))
            mode = "demo" if store.synthetic else ("enrolled" if enrolled else "unenrolled")
        except Exception as exc:  # a store problem: said in the status line, app still runs
            from .errors import explain

            self._set_view(replace(self.view, mode="unenrolled", problem=explain(exc).headline))
            return
        self._offset = replica.clock_offset(store)
        self._set_view(replace(self.view, mode=mode, problem=""))
        if mode != "enrolled":
            self._interval.stop()
            return
        if self._worker is None:
            self._worker = NetworkWorker(parent=self)
        self._apply_intervals()
        self.refresh()
        QTimer.singleShot(START_DELAY_MS, self, self._first_sync)  # dropped if self goes

    def _first_sync(self) -> None:
        if not self._closed and self.view.enrolled and self._report_count == 0:
            self.sync_now()

    def set_offline_login(self, offline: bool) -> None:
        """The person signed in offline (the status line says so until a sync succeeds)."""
        self._set_view(replace(self.view, offline_login=offline))

    def _apply_intervals(self) -> None:
        settings = self._ctx.settings
        interval = max(int(settings.get("sync_interval_s")), 5) * 1000
        self._interval.start(interval)
        self._after_change.setInterval(max(int(settings.get("sync_after_change_s")), 0) * 1000)

    def _setting_changed(self, name: str, _value: Any) -> None:
        if self._closed:
            return
        if name in ("sync_interval_s", "sync_after_change_s") and self.view.enrolled:
            self._apply_intervals()
        elif name in ("ca_file", "sync_deadline_s"):
            self._service = None  # built again with the new value on the next sync

    # -- syncing --------------------------------------------------------------------------------

    @property
    def syncing(self) -> bool:
        return self.view.syncing

    def sync_now(self) -> bool:
        """Start a sync now (False when one runs already — another follows it — or there is
        nothing to sync with)."""
        if self._closed or not self.view.enrolled or self._worker is None:
            return False
        if self.view.syncing:
            self._again = True
            return False
        self._after_change.stop()
        self._progress = Progress()
        self._cancel.clear()
        progress, service = self._progress, self.service
        self._set_view(replace(self.view, syncing=True, done=0, total=0))
        self.sync_started.emit()
        self._poll.start()
        self._worker.submit(lambda: self._sync_job(service, progress), self._finished, self._failed)
        return True

    def cancel(self) -> None:
        """Ask a running sync to stop between rounds (what was done is kept)."""
        self._progress.cancel()
        self._cancel.set()

    def _sleep(self, seconds: float) -> None:
        # The transport's backoff between retries: cut short when the sync is cancelled.
        if self._cancel.wait(seconds):
            raise Cancelled()

    def _sync_job(
        self, service: SyncService, progress: Progress
    ) -> tuple[SyncReport, SyncStatus, str]:
        """On the network thread: one full sync on the thread's own connection."""
        if self._net_store is None:
            self._net_store = Store.open(self._ctx.store_path, key=self._key)
        store = self._net_store
        # The token this sync sends: never in a log line, whatever prints it.
        server = replica.state(store).get("server_url") or store.meta("server_url") or ""
        if server:
            logs.add_secret(self.tokens.get(server, store.device_id))
        # The county when it answers, else the township relay IT preset (sync.client.route).
        settings = self._ctx.settings
        router = Router(
            service,
            relay_url=settings.get("relay_url") or "",
            discovery=bool(settings.get("relay_discovery")),
        )
        report = router.sync_once(store, progress)
        status, code = read_status(service, store)
        return report, status, code

    def _close_net_store(self) -> None:
        if self._net_store is not None:
            self._net_store.close()
            self._net_store = None

    def _poll_progress(self) -> None:
        p = self._progress
        if self.view.syncing and (p.done, p.total) != (self.view.done, self.view.total):
            self._set_view(replace(self.view, done=p.done, total=p.total))

    def _finished(self, outcome: tuple[SyncReport, SyncStatus, str]) -> None:
        report, status, code = outcome
        self._report_count += 1
        self._poll.stop()
        offline_login = self.view.offline_login and report.status not in ("ok", "partial")
        self._set_view(
            replace(
                self.view,
                syncing=False,
                status=status,
                error_code="" if report.status in ("ok", "partial") else code,
                report=report,
                offline_login=offline_login,
                problem="",
            )
        )
        # A new clock offset from the county matters to every connection that stamps steps.
        offset_moved = report.reached_server and report.clock_offset_ms != self._offset
        self._offset = report.clock_offset_ms if report.reached_server else self._offset
        if _brought_changes(report) or offset_moved:
            self._catch_up(report)
        self.sync_finished.emit(report)
        if self._again:
            self._again = False
            self._after_change.start()

    def _failed(self, exc: BaseException) -> None:
        """The sync could not run at all (the store is locked, damaged …): said in words."""
        from .errors import explain

        self._poll.stop()
        self._set_view(replace(self.view, syncing=False, problem=explain(exc).headline))
        self.sync_finished.emit(None)
        if self._again:
            self._again = False
            self._after_change.start()

    def _catch_up(self, report: SyncReport) -> None:
        """Bring the app's other connections and pages up to date with what the sync wrote."""
        ctx = self._ctx
        # The GUI thread's own read connection: only this thread uses it.
        with contextlib.suppress(Exception):
            replica.refresh_clock(ctx.ops.gui_store())
        # The write worker's connection, in line with the user's steps; its store_changed tells
        # every page that cases changed — but it is not a local change to sync again.
        ctx.ops.write(replica.refresh_clock).success(self._caught_up).failure(
            lambda _exc: None
        ).run()
        if report.reference_updated:
            from . import names

            names.reload(ctx)
            current = ctx.actor
            ctx.ops.read(lambda store: store.account(current.id)).success(
                self._actor_reloaded
            ).failure(lambda _exc: None).run()

    def _caught_up(self, _result: object) -> None:
        # Runs right before this write's store_changed is emitted (same call, GUI thread).
        self._skip_change = True

    def _actor_reloaded(self, actor: Any) -> None:
        if actor is not None and actor != self._ctx.actor and actor.id == self._ctx.actor.id:
            self._ctx.set_actor(actor)

    def _local_change(self, _ids: object) -> None:
        if self._skip_change:
            self._skip_change = False
            return
        if self._closed or not self.view.enrolled:
            return
        self.refresh()
        if self.view.syncing:
            self._again = True
        elif not self._after_change.isActive():
            self._after_change.start()

    # -- status ---------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the store's sync figures again (no network)."""
        if self._closed or not self.view.enrolled:
            return
        service = self.service
        self._ctx.ops.read(lambda store: read_status(service, store)).success(
            self._status_read
        ).failure(lambda _exc: None).run()

    def _status_read(self, outcome: tuple[SyncStatus, str]) -> None:
        if self._closed:
            return
        status, code = outcome
        self._set_view(replace(self.view, status=status, error_code=code))

    def _set_view(self, view: SyncView) -> None:
        self.view = view
        self.changed.emit(view)

    # -- quitting -------------------------------------------------------------------------------

    def shutdown(self, timeout: float = SHUTDOWN_WAIT_S) -> bool:
        """Stop the timers, cancel a running sync and close the network thread's connection.
        True when everything stopped within ``timeout`` seconds."""
        if self._closed:
            return True
        self._closed = True
        for timer in (self._interval, self._after_change, self._poll):
            timer.stop()
        self.cancel()
        if self._worker is None:
            return True
        stopped = self._worker.shutdown(timeout, last=self._close_net_store)
        if not stopped:
            # A request stuck on a dead link: the daemon thread ends with the app; SQLite keeps
            # the store consistent whatever point it is stopped at.
            print(
                "gridroom: a sync was still waiting for the county; left to stop", file=sys.stderr
            )
        return stopped


def _brought_changes(report: SyncReport) -> bool:
    """Whether a sync wrote anything the rest of the app must see."""
    return bool(
        report.pulled_entries
        or report.pulled_attachments
        or report.pulled_visits
        or report.removed_cases
        or report.repaired
        or report.restamped
        or report.reference_updated
        or report.downloaded_files
    )
