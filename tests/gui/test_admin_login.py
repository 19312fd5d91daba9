"""A computer county IT revoked (``gridroom-county device revoke``) is told so in Chinese at
its next sign-in, and loses its offline sign-in too: a stolen laptop must not go on working."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest

from desktop.login import LoginDialog
from desktop.sync import offline
from sync.settings import Settings
from sync.store import Store
from tests.e2e.conftest import REPO, county_command

from .sync_fixtures import *  # noqa: F403 (its fixtures: county, memory_keyring, responder …)
from .sync_fixtures import FAST, TOWNSHIP_A, CountyServer, MemoryKeyring


@pytest.fixture(autouse=True)
def _chinese(chinese_app: Any) -> None:
    """In Chinese, as a command room runs."""


def _sign_in(qtbot: Any, settings: Settings, server: str, user: str, password: str) -> Any:
    dialog = LoginDialog(settings, transport_options=FAST)
    qtbot.addWidget(dialog)
    dialog.show()
    if not dialog.server.isReadOnly():
        dialog.server.setText(server)
    dialog.user.setText(user)
    dialog.password.setText(password)
    dialog.sign_in_button.click()
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=30_000)
    return dialog


def test_a_revoked_computer_is_told_and_loses_its_offline_sign_in(
    county: CountyServer, memory_keyring: MemoryKeyring, settings: Settings, qtbot
) -> None:
    login_name = f"{TOWNSHIP_A}-lost"
    added = county.admin(
        "add",
        "--login",
        login_name,
        "--role",
        "operator",
        "--township",
        TOWNSHIP_A,
        "--password-stdin",
        stdin="pw-lost-1234\n",
    )
    assert added.returncode == 0, added.stderr
    dialog = LoginDialog(settings, transport_options=FAST)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.signed_in, timeout=30_000) as signed:
        dialog.server.setText(county.url)
        dialog.user.setText(login_name)
        dialog.password.setText("pw-lost-1234")
        dialog.sign_in_button.click()
    path = signed.args[0].store_path
    with Store.open(path) as store:
        device_id = store.device_id
        assert store.meta(offline.PREFIX + login_name)
    revoked = subprocess.run(
        [*county_command(), "device", "revoke", device_id, "--db", county.db_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env=county.env,
    )
    assert revoked.returncode == 0, revoked.stderr
    again = _sign_in(qtbot, settings, county.url, login_name, "pw-lost-1234")
    assert again.message.text() == "这台电脑已被县级信息化管理员吊销，请联系信息化管理员重新登记。"
    with Store.open(path) as store:
        assert not store.meta(offline.PREFIX + login_name)
