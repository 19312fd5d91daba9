"""The app's own secrets never reach its log file: the password typed into the real sign-in
dialog and the token the county hands out (signing in against a real county server on
loopback), and the token the app's syncer sends on its first sync.

Whatever prints them — a library's debug line, an exception's message, a careless log call —
the log file holds ``<redacted>`` instead, because the dialog and the syncer tell
:func:`sync.logs.add_secret` about them as the commands do. The careless call is made here on
purpose, after the secrets were handled, and the real log file is read back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop.login import LoginDialog
from sync import logs
from sync.settings import Settings
from sync.store import Store

from .sync_fixtures import *  # noqa: F403 (its fixtures: county, memory_keyring, open_app …)
from .sync_fixtures import (
    FAST,
    OP,
    SUP,
    App,
    CountyServer,
    MemoryKeyring,
    enrol,
    first_sync_done,
)

WRONG_PASSWORD = "typed-wrong-密码-2026"


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The app's real log file, in a temporary folder, at debug level."""
    folder = tmp_path / "logs"
    monkeypatch.setenv("GRIDROOM_LOG_DIR", str(folder))
    logs.shutdown()
    path = logs.setup(crash_file=False, log_level=logging.DEBUG)
    assert path is not None
    try:
        yield path
    finally:
        logs.shutdown()


def _careless(*values: str) -> None:
    """What must never leak, printed anyway (as a library or a bug would)."""
    logging.getLogger("gridroom.careless").warning("values in hand: %s", " | ".join(values))
    for handler in logging.getLogger().handlers:
        handler.flush()


def _token(keyring: MemoryKeyring, server: str, path: Path) -> str:
    with Store.open(path) as store:
        device = store.device_id
    token = keyring.items[("gridroom", f"{server}#{device}")]
    assert len(token) >= 20
    return token


def test_the_password_typed_into_the_dialog_and_the_token_never_reach_the_log(
    county: CountyServer,
    memory_keyring: MemoryKeyring,
    settings: Settings,
    qtbot: Any,
    log_file: Path,
) -> None:
    password = county.password(SUP)
    dialog = LoginDialog(settings, transport_options=FAST)
    qtbot.addWidget(dialog)
    dialog.show()
    # First a mistyped password, then the right one, as a person does.
    dialog.server.setText(county.url)
    dialog.user.setText(SUP)
    dialog.password.setText(WRONG_PASSWORD)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
    assert dialog.result() != LoginDialog.DialogCode.Accepted
    dialog.password.setText(password)
    with qtbot.waitSignal(dialog.signed_in, timeout=30_000) as signed:
        dialog.sign_in_button.click()
    outcome = signed.args[0]
    token = _token(memory_keyring, county.url, outcome.store_path)
    _careless(WRONG_PASSWORD, password, token)
    text = log_file.read_text(encoding="utf-8")
    assert "values in hand: <redacted> | <redacted> | <redacted>" in text, text[-2000:]
    for secret in (WRONG_PASSWORD, password, token, token[:16]):
        assert secret not in text, secret


def test_the_token_the_apps_syncer_sends_never_reaches_the_log(
    county: CountyServer,
    memory_keyring: MemoryKeyring,
    open_app: Callable[[Path], App],
    sync_settings: Settings,
    qtbot: Any,
    tmp_path: Path,
    log_file: Path,
) -> None:
    # Enrolled as `gridroom login` does (another process: this one never saw the token) …
    path = enrol(county, OP, tmp_path / "township.sqlite")
    sync_settings.set("account", county.account(OP)["id"])
    token = _token(memory_keyring, county.url, path)
    # … then the app opens the store and its syncer syncs with the kept token.
    app = open_app(path)
    report = first_sync_done(qtbot, app)
    assert report.status == "ok", report.to_json()
    _careless(token)
    text = log_file.read_text(encoding="utf-8")
    assert "values in hand: <redacted>" in text
    assert token not in text and token[:16] not in text
