"""The sign-in dialog against a real county server on loopback: online sign-in enrols the
store and keeps the token in the keyring (an in-memory backend here), a wrong password is
told in plain words, and when the county is away a known user signs in offline against this
computer's scrypt verifier (a wrong password refused, an unknown user told to go online first).
Captive portals, certificate problems and an unreachable server are told apart. Then the app's
start: after ``gridroom login`` or the dialog, ``gridroom`` opens the enrolled store as the
account that signed in."""

from __future__ import annotations

import io
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from desktop import app as app_module
from desktop.login import LoginDialog, enrolled_actor, needs_sign_in
from desktop.sync import offline
from sync.client.enrol import default_store_path
from sync.client.tokens import KeyringTokens
from sync.settings import Settings, user_data_dir
from sync.store import Store, replica

from .sync_fixtures import *  # noqa: F403 (its fixtures: county, memory_keyring, responder …)
from .sync_fixtures import (
    FAST,
    OP,
    SUP,
    TOWNSHIP_A,
    CountyServer,
    MemoryKeyring,
    running_county,
)


@pytest.fixture(autouse=True)
def _chinese(chinese_app: Any) -> None:
    """Every test here runs in Chinese, as a command room does."""


def _dialog(qtbot: Any, settings: Settings, **kw: Any) -> LoginDialog:
    # A short backoff between connection retries: an unreachable county shows in a second.
    dialog = LoginDialog(settings, transport_options=FAST, **kw)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _sign_in(qtbot: Any, dialog: LoginDialog, server: str, user: str, password: str) -> None:
    """Type and press 登录; wait until the dialog has an answer."""
    if server and not dialog.server.isReadOnly():
        dialog.server.setText(server)
    dialog.user.setText(user)
    dialog.password.setText(password)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- online ----------------------------------------------------------------------------------------


def test_signing_in_enrols_the_store_and_keeps_the_token(
    county: CountyServer, memory_keyring: MemoryKeyring, settings: Settings, qtbot
) -> None:
    dialog = _dialog(qtbot, settings)
    assert dialog.windowTitle() == "登录县级平台"
    with qtbot.waitSignal(dialog.signed_in, timeout=30_000) as signed:
        _sign_in(qtbot, dialog, county.url, OP, county.password(OP))
    outcome = signed.args[0]
    account = county.account(OP)
    assert outcome.online and outcome.actor.id == account["id"]
    assert outcome.store_path == default_store_path(TOWNSHIP_A, user_data_dir())
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    # The token is in the keyring, under this server and this device.
    with Store.open(outcome.store_path) as store:
        device = store.device_id
        assert replica.state(store)["account_id"] == account["id"]
        # A verifier for offline sign-in is kept — and not the password itself.
        kept = store.meta(offline.PREFIX + OP) or ""
        assert kept and county.password(OP) not in kept
        assert json.loads(kept)["kdf"] == "scrypt"
    assert memory_keyring.items[("gridroom", f"{county.url}#{device}")]
    # The app will sign in as this account next time (its county id, not the login name).
    assert settings.get("account") == account["id"]
    assert settings.get("township") == TOWNSHIP_A
    assert settings.get("server_url") == county.url


def test_a_wrong_password_is_told_in_plain_words(
    county: CountyServer, memory_keyring: MemoryKeyring, settings: Settings, qtbot
) -> None:
    dialog = _dialog(qtbot, settings)
    _sign_in(qtbot, dialog, county.url, SUP, "not-the-password")
    assert dialog.isVisible() and dialog.outcome is None
    assert dialog.message.text() == "账号或密码不正确。"
    assert memory_keyring.items == {}
    assert not list(user_data_dir().glob("township-*.sqlite"))  # nothing enrolled
    # Empty fields are caught before anything is sent.
    dialog.password.clear()
    dialog.sign_in_button.click()
    assert dialog.message.text() == "请填写服务器地址、账号和密码。"


def test_the_server_address_locked_by_it_cannot_be_changed(
    county: CountyServer, memory_keyring: MemoryKeyring, tmp_path: Path, qtbot
) -> None:
    site = tmp_path / "site.toml"
    site.write_text(
        f'server_url = "{county.url}"\n\n[policy]\nlocked = ["server_url"]\n', encoding="utf-8"
    )
    settings = Settings(site, tmp_path / "config")
    dialog = _dialog(qtbot, settings)
    assert dialog.server.text() == county.url
    assert not dialog.server.isEnabled() and dialog.server.isReadOnly()
    assert dialog.server_note.isVisible()
    assert dialog.server_note.text() == "由信息化管理员统一设置，此处不能修改。"
    with qtbot.waitSignal(dialog.signed_in, timeout=30_000):
        _sign_in(qtbot, dialog, "", SUP, county.password(SUP))
    assert settings.get("server_url") == county.url  # still IT's value


# -- the county away -------------------------------------------------------------------------------


def test_offline_sign_in_with_the_kept_verifier(
    memory_keyring: MemoryKeyring, settings: Settings, qtbot, tmp_path: Path
) -> None:
    (tmp_path / "county").mkdir()
    with running_county("sqlite", tmp_path / "county") as server:
        url, password = server.url, server.password(OP)
        dialog = _dialog(qtbot, settings)
        with qtbot.waitSignal(dialog.signed_in, timeout=30_000) as signed:
            _sign_in(qtbot, dialog, url, OP, password)
        online = signed.args[0]
        dialog.close()
    # The county is gone now.
    dialog = _dialog(qtbot, settings)
    assert dialog.server.text() == url  # remembered
    _sign_in(qtbot, dialog, url, OP, "wrong-password")
    assert dialog.outcome is None
    assert dialog.message.text().startswith(
        "密码不正确（连不上县级平台，已按本机保存的登录记录核对）。"
    )
    assert "无法连接县级平台" in dialog.message.text()
    _sign_in(qtbot, dialog, url, SUP, "whatever")
    assert dialog.message.text().startswith("连不上县级平台，而且该账号从未在这台电脑上联网登录过")
    with qtbot.waitSignal(dialog.signed_in, timeout=30_000) as signed:
        _sign_in(qtbot, dialog, url, OP, password)
    outcome = signed.args[0]
    assert not outcome.online
    assert outcome.actor == online.actor  # the same account, as the county described it
    assert outcome.store_path == online.store_path
    assert outcome.reason_code == "offline"
    # The app opens the enrolled store as that account; the store is where work queues.
    actor, probe = app_module.open_store(outcome.store_path, settings.get("account"))
    probe.close()
    assert actor.id == online.actor.id


def test_a_disabled_account_loses_its_offline_sign_in(
    county: CountyServer, memory_keyring: MemoryKeyring, settings: Settings, qtbot
) -> None:
    login_name = f"{TOWNSHIP_A}-shift"
    added = county.admin(
        "add",
        "--login",
        login_name,
        "--role",
        "operator",
        "--township",
        TOWNSHIP_A,
        "--name",
        "夜班值班员",
        "--password-stdin",
        stdin="pw-shift-123\n",
    )
    assert added.returncode == 0, added.stderr
    dialog = _dialog(qtbot, settings)
    with qtbot.waitSignal(dialog.signed_in, timeout=30_000) as signed:
        _sign_in(qtbot, dialog, county.url, login_name, "pw-shift-123")
    path = signed.args[0].store_path
    assert county.admin("disable", "--login", login_name).returncode == 0
    dialog = _dialog(qtbot, settings)
    _sign_in(qtbot, dialog, county.url, login_name, "pw-shift-123")
    assert dialog.message.text() == "该账号已被停用，请联系县级信息化管理员。"
    with Store.open(path) as store:
        assert not store.meta(offline.PREFIX + login_name)
        assert login_name not in [k.login for k in offline.known(store)]
    county.admin("enable", "--login", login_name)


@pytest.mark.parametrize("kind", ["unreachable", "certificate", "captive portal", "login page"])
def test_network_problems_are_told_apart(
    kind: str, memory_keyring: MemoryKeyring, settings: Settings, responder, qtbot
) -> None:
    if kind == "unreachable":
        url = f"http://127.0.0.1:{_free_port()}"
        expected = "无法连接县级平台：请检查网络和服务器地址。"
    elif kind == "certificate":
        plain = responder(200, b"{}", {"Content-Type": "application/json"})
        url = plain.url.replace("http://", "https://")  # TLS to a server that speaks none
        expected = "服务器证书未被接受"
    elif kind == "captive portal":
        portal = responder(302, b"", {"Location": "http://login.hotel.example/portal"})
        url = portal.url
        expected = "浏览器中完成上网认证"
    else:  # a Wi-Fi sign-in page answering in the county's place
        page = responder(200, "<html>请先登录</html>".encode(), {"Content-Type": "text/html"})
        url = page.url
        expected = "浏览器中完成上网认证"  # told as a portal, or as "not the county's answer"
    dialog = _dialog(qtbot, settings)
    _sign_in(qtbot, dialog, url, OP, "pw")
    text = dialog.message.text()
    # Never signed in here: it cannot go offline either, and says why the county was away.
    assert text.startswith(
        "连不上县级平台，而且该账号从未在这台电脑上联网登录过：第一次登录需要联网。"
    )
    assert expected in text, text
    assert "Traceback" not in text


def test_a_server_address_without_https_is_refused(
    memory_keyring: MemoryKeyring, settings: Settings, qtbot
) -> None:
    dialog = _dialog(qtbot, settings)
    _sign_in(qtbot, dialog, "grid.lyx.gov.cn", OP, "pw")
    assert dialog.message.text() == "服务器地址须以 https://（或 http://）开头。"


# -- the app's start -------------------------------------------------------------------------------


def test_gridroom_after_gridroom_login_opens_the_enrolled_store_as_that_account(
    county: CountyServer, memory_keyring: MemoryKeyring, monkeypatch, chinese_app
) -> None:
    from sync import cli

    monkeypatch.setattr("sys.stdin", io.StringIO(county.password(SUP) + "\n"))
    code = cli.main(["login", "--server", county.url, "--user", SUP, "--password-stdin"])
    assert code == 0
    settings = Settings()
    path = app_module.choose_store(app_module.parse_args([]), settings)
    assert path == default_store_path(TOWNSHIP_A, user_data_dir())
    assert not needs_sign_in(path, KeyringTokens())  # the token is kept: no dialog at start
    supervisor = county.account(SUP)["id"]
    assert settings.get("account") == supervisor
    actor, probe = app_module.open_store(path, settings.get("account"))
    probe.close()
    # Before any sync the store holds no accounts: the sign-in's own account is used.
    assert (actor.id, actor.role.value) == (supervisor, "supervisor")
    # Settings written by an older gridroom login hold the login name: the same account.
    with Store.open(path) as store:
        assert enrolled_actor(store, SUP).id == supervisor  # type: ignore[union-attr]
        assert enrolled_actor(store, "demo-operator").id == supervisor  # type: ignore[union-attr]
    # Signed out (the token gone), the app asks for the password first.
    memory_keyring.items.clear()
    assert needs_sign_in(path, KeyringTokens())


def test_first_start_signs_in_enrols_and_opens_the_store(
    county: CountyServer, memory_keyring: MemoryKeyring, chinese_app, qtbot
) -> None:
    settings = Settings()
    seen: list[str] = []

    def drive() -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QMessageBox) and modal.objectName() == "welcome":
            seen.append(modal.text())
            button = next(b for b in modal.buttons() if b.text() == "登录县级平台…")
            button.click()
        elif isinstance(modal, LoginDialog):
            modal.server.setText(county.url)
            modal.user.setText(OP)
            modal.password.setText(county.password(OP))
            modal.sign_in_button.click()
            return
        QTimer.singleShot(30, drive)

    QTimer.singleShot(30, drive)
    path = app_module.choose_store(app_module.parse_args([]), settings)
    assert seen == ["本机尚未接入县级平台。"]
    assert path == default_store_path(TOWNSHIP_A, user_data_dir()) and path.exists()
    actor, probe = app_module.open_store(path, Settings().get("account"))
    probe.close()
    assert actor.id == county.account(OP)["id"]


# -- the verifier ----------------------------------------------------------------------------------


def test_the_offline_verifier_is_salted_memory_hard_and_refuses_damage(store: Store) -> None:
    account = {"id": "acc-1", "login": "330825002-op", "name": "王丽", "role": "operator"}
    offline.remember(store, "330825002-op", "pw-1", account, "https://grid.example.gov.cn")
    first = json.loads(store.meta(offline.PREFIX + "330825002-op") or "")
    offline.remember(store, "330825002-op", "pw-1", account, "https://grid.example.gov.cn")
    second = json.loads(store.meta(offline.PREFIX + "330825002-op") or "")
    assert first["salt"] != second["salt"] and first["hash"] != second["hash"]
    # scrypt's memory: 128 · N · r bytes, 32 MiB with the chosen cost.
    assert 128 * second["n"] * second["r"] >= 32 * 1024 * 1024
    kept = offline.check(store, "330825002-op", "pw-1")
    assert kept.actor.id == "acc-1" and kept.actor.name == "王丽"
    with pytest.raises(offline.OfflineRefused) as wrong:
        offline.check(store, "330825002-op", "pw-2")
    assert wrong.value.code == "password"
    with pytest.raises(offline.OfflineRefused) as unknown:
        offline.check(store, "330825002-gw", "pw-1")
    assert unknown.value.code == "unknown"
    store.set_meta({offline.PREFIX + "330825002-op": '{"kdf": "scrypt", "salt": 1}'})
    with pytest.raises(offline.OfflineRefused) as damaged:
        offline.check(store, "330825002-op", "pw-1")
    assert damaged.value.code == "damaged"
    offline.forget(store, "330825002-op")
    assert offline.known(store) == []
