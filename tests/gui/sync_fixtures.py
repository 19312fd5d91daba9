"""Fixtures for the sync tests of the app: a real ``gridroom-county serve`` on loopback (the
end-to-end tests' server, SQLite backend), stores enrolled by really signing in, and the real
main window on them with the real background syncer.

Tokens go to the end-to-end tests' in-memory keyring backend (``keyring.set_keyring``), never
to the machine's keyring. The syncer's transport makes one attempt with short backoff here, so
"the county is unreachable" is learnt in a second rather than after the desktop's retries.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import shiboken6

from sync.client import SyncService, login
from sync.client.tokens import KeyringTokens
from sync.model.records import Actor
from sync.settings import Settings
from sync.store import Store
from tests.e2e.conftest import (
    TOWNSHIP_A,
    CountyServer,
    Device,
    MemoryKeyring,
    memory_keyring,
    running_county,
)

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"
FAST = {"attempts": 1, "backoff": 0.05, "connect_timeout": 3.0, "read_timeout": 20.0}

__all__ = [
    "FAST",
    "OP",
    "SUP",
    "App",
    "CountyServer",
    "Device",
    "MemoryKeyring",
    "Responder",
    "county",
    "enrol",
    "fast_transport",
    "first_sync_done",
    "json_error",
    "memory_keyring",
    "open_app",
    "responder",
    "running_county",
    "sync_settings",
]


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyServer]:
    """One real county server (SQLite) per test module."""
    with running_county("sqlite", tmp_path_factory.mktemp("county")) as server:
        yield server


@pytest.fixture
def fast_transport(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The syncer's transport: one attempt, short backoff (an unreachable county shows fast)."""
    monkeypatch.setattr("desktop.syncer.TRANSPORT_OPTIONS", FAST)
    return FAST


@pytest.fixture
def sync_settings(settings: Settings) -> Settings:
    """Settings with a quick sync after a change and no interval sync during a test."""
    settings.set("sync_after_change_s", 1)
    settings.set("sync_interval_s", 3600)
    return settings


def enrol(county: CountyServer, login_name: str, path: Path) -> Path:
    """Sign in as ``login_name`` (enrolling a new store at ``path``) and sync it once, as
    ``gridroom login`` and ``gridroom sync`` would; the token goes to the current keyring."""
    tokens = KeyringTokens()
    login(county.url, login_name, county.password(login_name), tokens=tokens, store_path=path)
    with Store.open(path) as store:
        report = SyncService(tokens=tokens).sync_once(store)
    assert report.status == "ok", report.to_json()
    return path


@dataclass
class App:
    """The app on one store: its context and main window."""

    ctx: Any
    window: Any

    @property
    def syncer(self) -> Any:
        return self.window.syncer

    @property
    def actor(self) -> Actor:
        return self.ctx.actor


@pytest.fixture
def open_app(
    chinese_app: Any, qtbot: Any, sync_settings: Settings, fast_transport: dict[str, Any]
) -> Iterator[Callable[[Path], App]]:
    """Open the main window on a store as the app does (real clock, real workers, real
    syncer); closed and shut down after the test."""
    from desktop.app import open_store
    from desktop.context import AppContext
    from desktop.mainwindow import MainWindow
    from desktop.ops import Ops

    opened: list[App] = []

    def make(path: Path) -> App:
        actor, probe = open_store(path, sync_settings.get("account") or None)
        probe.close()
        ops = Ops(path)
        ctx = AppContext(ops, actor, sync_settings, store_path=path)
        window = MainWindow(ctx)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        app = App(ctx, window)
        opened.append(app)
        return app

    yield make
    for app in opened:
        # Let the pages' reads land while they exist, then close (which stops the syncer).
        qtbot.waitUntil(lambda a=app: not a.ctx.ops.busy(), timeout=10_000)
        # pytest-qt closed the window already (it closes what qtbot.addWidget holds, then
        # deletes it later): the wait above may have let that deletion happen.
        if shiboken6.isValid(app.window):
            app.window.close()
        qtbot.waitUntil(lambda a=app: not a.ctx.ops.busy(), timeout=10_000)
        app.ctx.ops.shutdown()


def first_sync_done(qtbot: Any, app: App, timeout: int = 30_000) -> Any:
    """Wait for the sync the window starts on opening; its report."""
    qtbot.waitUntil(
        lambda: app.syncer.view.report is not None and not app.syncer.syncing, timeout=timeout
    )
    return app.syncer.view.report


class Responder:
    """A tiny real HTTP server on loopback that answers every request the same way (a captive
    portal, a faulty county …), counting the requests it saw."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        outer = self
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def responder() -> Iterator[Callable[..., Responder]]:
    """Factory: ``responder(status, body, headers)`` starts a :class:`Responder`."""
    made: list[Responder] = []

    def make(status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Responder:
        r = Responder(status, body, headers or {})
        made.append(r)
        return r

    yield make
    for r in made:
        with contextlib.suppress(OSError):
            r.close()


def json_error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "retry": True}}).encode()
