"""The sign-in dialog and the app's start with encrypted stores, against a real county server:
on a PC without a keyring the password unlocks the store (online and offline) and the app's
connections then open it; a plaintext enrolled store is converted behind a progress dialog
when IT requires encryption."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QProgressDialog

from desktop import app as app_module
from desktop.login import LoginDialog, needs_sign_in
from desktop.ops import Ops
from desktop.syncer import shared_tokens
from sync.settings import Settings
from sync.store import Store, keys

from .sync_fixtures import *  # noqa: F403 (its fixtures: county, memory_keyring, responder …)
from .sync_fixtures import FAST, OP, CountyServer, MemoryKeyring, running_county


@pytest.fixture(autouse=True)
def _chinese(chinese_app: Any) -> Iterator[None]:
    keys.forget_unlocked()
    yield
    keys.forget_unlocked()


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


def _sign_in(
    qtbot: Any, settings: Settings, server: str, user: str, password: str, pin: str = ""
) -> Any:
    dialog = LoginDialog(settings, transport_options=FAST)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.server.setText(server)
    dialog.user.setText(user)
    dialog.password.setText(password)
    dialog.pin.setText(pin)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
    return dialog


def test_without_a_keyring_the_password_unlocks_the_store_online_and_offline(
    no_keyring: None, settings: Settings, qtbot: Any, tmp_path: Path
) -> None:
    (tmp_path / "county").mkdir()
    with running_county("sqlite", tmp_path / "county") as server:
        url, password = server.url, server.password(OP)
        dialog = _sign_in(qtbot, settings, url, OP, password)
        outcome = dialog.outcome
        assert outcome is not None and outcome.online, dialog.message.text()
    path = outcome.store_path
    assert "wrapped by the password" in keys.describe(path)
    assert not path.read_bytes().startswith(b"SQLite format 3")
    # The app's own connections (its workers, the GUI thread's) open it with the key unlocked.
    ops = Ops(path)
    try:
        assert ops.gui_store().scope == outcome.township
    finally:
        ops.shutdown()
    # A new start of the app: the key is not in memory, so it asks for the password first.
    keys.forget_unlocked()
    assert needs_sign_in(path, shared_tokens())
    # The county is away now: a wrong password is refused offline, the right one unlocks.
    dialog = _sign_in(qtbot, settings, url, OP, "wrong-password")
    assert dialog.outcome is None
    assert dialog.message.text().startswith("密码不正确")
    with pytest.raises(keys.KeyNeeded):
        Store.open(path)
    dialog = _sign_in(qtbot, settings, url, OP, password)
    assert dialog.outcome is not None and not dialog.outcome.online
    actor, probe = app_module.open_store(path, settings.get("account"))
    probe.close()
    assert actor.id == outcome.actor.id


def test_a_plain_enrolled_store_is_encrypted_at_start_behind_a_progress_dialog(
    county: CountyServer,
    memory_keyring: MemoryKeyring,
    settings: Settings,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    dialog = _sign_in(qtbot, settings, county.url, OP, county.password(OP))
    assert dialog.outcome is not None
    path = dialog.outcome.store_path
    key = keys.key_for(path)
    assert key is not None
    # Make it what an older Gridroom left: the same store, plaintext (its key forgotten).
    plain = tmp_path / "plain.sqlite"
    with Store.open(path) as store:
        store.conn.execute("ATTACH DATABASE ? AS plain KEY ''", [str(plain)])
        store.conn.execute("SELECT sqlcipher_export('plain')")
        version = store.conn.execute("PRAGMA user_version").fetchone()[0]
        store.conn.execute(f"PRAGMA plain.user_version = {version}")
        store.conn.execute("DETACH DATABASE plain")
    keys.forget(path)
    plain.replace(path)
    # IT locks require_encryption (the GUI tests' site config is this file).
    (tmp_path / "site.toml").write_text(
        '[policy]\nrequire_encryption = true\nlocked = ["require_encryption"]\n', encoding="utf-8"
    )
    assert keys.is_plaintext(path) and keys.needs_conversion(path)
    assert not needs_sign_in(path, shared_tokens())  # the token is kept: straight to the store
    with pytest.raises(keys.NotEncrypted):
        Store.open(path)
    shown: list[str] = []

    def watch() -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QProgressDialog):
            shown.append(modal.labelText())
        if keys.is_plaintext(path) or not shown:
            QTimer.singleShot(5, watch)

    QTimer.singleShot(0, watch)
    app_module.encrypt_if_needed(path, interactive=True)
    assert not keys.is_plaintext(path)
    assert shown and shown[0].startswith("正在")
    keys.forget_unlocked()
    actor, probe = app_module.open_store(path, settings.get("account"))
    probe.close()
    assert actor.id == dialog.outcome.actor.id
    # The keyring is reset: the key is lost, and the app asks to sign in (which enrols afresh).
    memory_keyring.items.clear()
    keys.forget_unlocked()
    assert needs_sign_in(path, shared_tokens())


def test_a_pin_unlocks_a_shared_pc_until_it_is_typed_wrong_too_often(
    no_keyring: None, settings: Settings, qtbot: Any, tmp_path: Path
) -> None:
    (tmp_path / "county").mkdir()
    with running_county("sqlite", tmp_path / "county") as server:
        url, password = server.url, server.password(OP)
        dialog = _sign_in(qtbot, settings, url, OP, password)
        note = dialog.findChild(QLabel, "pinNote")
        assert dialog.pin.isVisibleTo(dialog) and note.isVisibleTo(dialog)
        dialog = _sign_in(qtbot, settings, url, OP, password, pin="12")
        assert dialog.outcome is None and dialog.message.text() == "PIN 码应为 4 至 12 位数字。"
        dialog = _sign_in(qtbot, settings, url, OP, password, pin="2468")
        outcome = dialog.outcome
        assert outcome is not None and outcome.online, dialog.message.text()
    path = outcome.store_path
    assert keys.has_pin(path)
    keys.forget_unlocked()  # the next morning: a new start of the app
    dialog = _sign_in(qtbot, settings, "", "", "", pin="2468")
    assert dialog.outcome is not None, dialog.message.text()
    assert not dialog.outcome.online and dialog.outcome.reason_code == "pin"
    assert dialog.outcome.actor.id == outcome.actor.id
    actor, probe = app_module.open_store(path, settings.get("account"))
    probe.close()
    assert actor.id == outcome.actor.id
    keys.forget_unlocked()
    for left in range(keys.PIN_ATTEMPTS - 1, 0, -1):
        dialog = _sign_in(qtbot, settings, "", "", "", pin="1111")
        assert dialog.outcome is None
        assert dialog.message.text() == f"PIN 码错误：再错 {left} 次后将需要输入密码。"
    dialog = _sign_in(qtbot, settings, "", "", "", pin="1111")
    assert dialog.message.text() == "PIN 码错误次数过多，PIN 码已被删除。请用密码登录。"
    assert not keys.has_pin(path)
    dialog = _sign_in(qtbot, settings, "", "", "", pin="2468")
    assert dialog.message.text() == "本机未设置 PIN 码，请用密码登录。"
    with pytest.raises(keys.KeyNeeded):
        Store.open(path)


def test_with_a_keyring_no_pin_is_offered(
    county: CountyServer, memory_keyring: MemoryKeyring, settings: Settings, qtbot: Any
) -> None:
    dialog = LoginDialog(settings, transport_options=FAST)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.password.isVisible() and not dialog.pin.isVisibleTo(dialog)
