"""Background operations: the one way widgets reach the store without blocking the GUI thread.

Modelled on Anki's ``CollectionOp``/``QueryOp``::

    ops.write(lambda store: store.accept(case_id, actor)) \\
        .success(self.show_case).failure(self.show_error).run()

    ops.read(lambda store, progress: export(store, path, query, progress)) \\
        .with_progress(self, self.tr("Exporting…")).success(done).run()

Writes are serialised on one worker thread that owns the writing connection; reads run on a
small pool, each thread with its own read connection (WAL lets them read while a write is in
progress). The function runs in the worker with a ``Store``; its result or exception comes back
to the GUI thread by a queued signal, where the callbacks run — a worker never touches a widget.

Long work is observed, not pushed: a function that accepts a second argument gets a
:class:`Progress` it may update and whose ``cancelled`` flag it should check; the GUI polls it
on a timer to drive a progress dialog with a Cancel button.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from sync.store import Store

T = TypeVar("T")


class Progress:
    """Thread-safe progress a core function reports and the GUI polls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.done = 0
        self.total = 0
        self.label = ""
        self.cancelled = False

    def update(self, done: int, total: int = 0, label: str = "") -> bool:
        """Record progress; returns False once the user asked to cancel (core's cue to stop)."""
        with self._lock:
            self.done, self.total = done, total or self.total
            if label:
                self.label = label
            return not self.cancelled

    def __call__(self, done: int, total: int = 0) -> bool:
        return self.update(done, total)

    def cancel(self) -> None:
        self.cancelled = True


class Cancelled(Exception):
    """Raised by a core function that stopped because the user cancelled."""


class _Relay(QObject):
    """Lives in the GUI thread; worker threads emit on it, slots run in the GUI thread."""

    finished = Signal(object, object, object)  # op, result, error


class Op(Generic[T]):
    """One background operation; configure it, then :meth:`run` it."""

    def __init__(self, ops: Ops, fn: Callable[..., T], *, write: bool) -> None:
        self._ops = ops
        self._fn = fn
        self._write = write
        self._success: Callable[[T], Any] | None = None
        self._failure: Callable[[BaseException], Any] | None = None
        self._progress_parent: QWidget | None = None
        self._progress_label = ""
        self.progress = Progress()
        self._dialog: QProgressDialog | None = None
        self._timer: QTimer | None = None

    def success(self, callback: Callable[[T], Any]) -> Op[T]:
        self._success = callback
        return self

    def failure(self, callback: Callable[[BaseException], Any]) -> Op[T]:
        self._failure = callback
        return self

    def with_progress(self, parent: QWidget, label: str) -> Op[T]:
        self._progress_parent = parent
        self._progress_label = label
        return self

    def run(self) -> Op[T]:
        if self._progress_parent is not None:
            self._open_dialog()
        self._ops._submit(self)
        return self

    # -- in the worker ----------------------------------------------------------------------

    def _call(self, store: Store) -> T:
        try:
            wants_progress = len(inspect.signature(self._fn).parameters) >= 2
        except (TypeError, ValueError):
            wants_progress = False
        if wants_progress:
            return self._fn(store, self.progress)
        return self._fn(store)

    # -- in the GUI thread ------------------------------------------------------------------

    def _open_dialog(self) -> None:
        dialog = QProgressDialog(self._progress_label, "", 0, 0, self._progress_parent)
        dialog.setCancelButtonText(dialog.tr("Cancel"))
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)
        dialog.canceled.connect(self.progress.cancel)
        self._dialog = dialog
        timer = QTimer(dialog)
        timer.setInterval(100)
        timer.timeout.connect(self._poll)
        timer.start()
        self._timer = timer

    def _poll(self) -> None:
        if self._dialog is None:
            return
        p = self.progress
        if p.total:
            self._dialog.setMaximum(p.total)
            self._dialog.setValue(min(p.done, p.total))
        if p.label:
            self._dialog.setLabelText(p.label)

    def _finish(self, result: Any, error: BaseException | None) -> None:
        if self._timer is not None:
            self._timer.stop()
        if self._dialog is not None:
            self._dialog.reset()
            self._dialog.deleteLater()
            self._dialog = None
        if error is None:
            if self._success is not None and _alive(self._success):
                self._success(result)
        elif self._failure is not None:
            if _alive(self._failure):
                self._failure(error)
        else:
            self._ops.unhandled(error)


def _alive(callback: Callable[..., Any]) -> bool:
    """False for a method of a widget deleted while its operation ran (a page closed with a
    read in flight): its result has nowhere to go."""
    owner = getattr(callback, "__self__", None)
    return not isinstance(owner, QObject) or shiboken6.isValid(owner)


def _background_priority() -> None:
    """Run a worker thread at a lower CPU priority than the GUI thread (Linux: per-thread nice).

    A sort over a million rows keeps a core busy for a second; on a two-core office PC the GUI
    thread must still get the CPU the moment the user scrolls or types.
    """
    if hasattr(os, "setpriority") and hasattr(threading, "get_native_id"):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


class Ops(QObject):
    """The worker threads and their store connections for one open store."""

    #: A write finished; carries the ids of cases it touched (empty set: unknown/all).
    store_changed = Signal(object)
    #: An operation failed and nobody handled it; the main window shows it in plain words.
    error = Signal(object)

    def __init__(
        self,
        path: Path,
        *,
        key: str | None = None,
        clock: Callable[[], int] | None = None,
        busy_timeout_ms: int | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self._key = key
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._relay = _Relay(self)
        self._relay.finished.connect(self._on_finished, Qt.ConnectionType.QueuedConnection)
        self._writer = ThreadPoolExecutor(
            1, thread_name_prefix="gridroom-write", initializer=_background_priority
        )
        self._readers = ThreadPoolExecutor(
            2, thread_name_prefix="gridroom-read", initializer=_background_priority
        )
        self._local = threading.local()
        self._stores: list[Store] = []
        self._stores_lock = threading.Lock()
        self._pending: set[Op[Any]] = set()
        self._gui_store: Store | None = None
        self._closed = False

    def _store(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            kwargs: dict[str, Any] = {"key": self._key}
            if self._clock is not None:
                kwargs["clock"] = self._clock
            if self._busy_timeout_ms is not None:
                kwargs["busy_timeout_ms"] = self._busy_timeout_ms
            store = Store.open(self.path, **kwargs)
            self._local.store = store
            with self._stores_lock:
                self._stores.append(store)
        return store

    def gui_store(self) -> Store:
        """A read connection for the GUI thread, for queries that are fast by construction
        (one keyset page of a case list, one case's timeline). Anything that may take longer
        than a frame — counts over big filters, KPIs, exports — goes through :meth:`read`."""
        if self._gui_store is None:
            kwargs: dict[str, Any] = {"key": self._key}
            if self._clock is not None:
                kwargs["clock"] = self._clock
            if self._busy_timeout_ms is not None:
                kwargs["busy_timeout_ms"] = self._busy_timeout_ms
            self._gui_store = Store.open(self.path, **kwargs)
        return self._gui_store

    def write(self, fn: Callable[..., T]) -> Op[T]:
        return Op(self, fn, write=True)

    def read(self, fn: Callable[..., T]) -> Op[T]:
        return Op(self, fn, write=False)

    def _submit(self, op: Op[Any]) -> None:
        if self._closed:
            # A widget outliving the window (a view asking for one more page while it is torn
            # down) must not crash the app; nothing can run without the store any more.
            return
        self._pending.add(op)
        pool = self._writer if op._write else self._readers

        def work() -> None:
            try:
                result = op._call(self._store())
            except BaseException as exc:  # handed to the GUI thread, not swallowed
                self._relay.finished.emit(op, None, exc)
            else:
                self._relay.finished.emit(op, result, None)

        pool.submit(work)

    def _on_finished(self, op: Op[Any], result: Any, error: BaseException | None) -> None:
        self._pending.discard(op)
        op._finish(result, error)
        if op._write and error is None:
            touched = getattr(result, "case_id", None)
            self.store_changed.emit({touched} if isinstance(touched, str) else set())

    def unhandled(self, error: BaseException) -> None:
        self.error.emit(error)

    def busy(self) -> bool:
        return bool(self._pending)

    def shutdown(self) -> None:
        """Finish queued work, then close every worker connection (in its own thread)."""
        if self._closed:
            return
        self._closed = True

        def close() -> None:
            store = getattr(self._local, "store", None)
            if store is not None:
                store.close()
                self._local.store = None

        self._writer.submit(close).result()
        # One close per reader thread that may hold a connection.
        for _ in range(2):
            self._readers.submit(close)
        self._readers.shutdown(wait=True)
        self._writer.shutdown(wait=True)
        if self._gui_store is not None:
            self._gui_store.close()
            self._gui_store = None
        with self._stores_lock:
            for store in self._stores:
                store.close()  # closing twice is harmless
            self._stores.clear()
