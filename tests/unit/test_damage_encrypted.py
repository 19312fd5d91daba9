"""Damage inside an encrypted store is damage, not a wrong key.

SQLCipher checks each page's HMAC as it reads it. A damaged page fails that check, and the
driver then says "not a database" (page 1, or the schema's pages while opening) or refuses every
write as "readonly": taken at their word, these blame the key or the permissions. A real
encrypted store (a demo store converted the way enrolment converts, its key wrapped by a password
because there is no keyring), 64 bytes flipped in one page, and the real commands run on it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest
import sqlcipher3

from sync.store import Store, WrongKey, health, keys
from sync.store.errors import StoreCorrupt
from tests.unit.test_damage import ledger_csv

REPO = Path(__file__).resolve().parents[2]
TOWNSHIP = "330825002"
PASSWORD = "村里的密码-2026"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def encrypted_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    import datetime as dt

    from sync.demo.build import build
    from sync.model.calendar import SHANGHAI
    from sync.model.clock import to_millis

    path = tmp_path_factory.mktemp("encrypted") / "store.sqlite"
    now = to_millis(dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    build(path, township=TOWNSHIP, cases=600, seed=1, now=now)
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        key = keys.encrypt_in_place(path, password=PASSWORD)
    finally:
        keyring.set_keyring(previous)
        keys.forget_unlocked()
    assert not keys.is_plaintext(path)
    return path, key


@pytest.fixture
def encrypted(encrypted_template: tuple[Path, bytes], tmp_path: Path) -> Iterator[Path]:
    template, _key = encrypted_template
    path = tmp_path / "store.sqlite"
    shutil.copy(template, path)
    shutil.copy(keys.sidecar_path(template), keys.sidecar_path(path))
    yield path
    health.forget(path)
    keys.forget_unlocked()


def page_of(path: Path, key: bytes, table: str) -> tuple[int, int]:
    """(root page of ``table``, page size), read with the key."""
    conn = sqlcipher3.connect(str(path))
    try:
        conn.execute(f"PRAGMA key = \"{keys.sqlcipher_key(key)}\"")
        root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", [table])
        page = int(root.fetchone()[0])
        size = int(conn.execute("PRAGMA cipher_page_size").fetchone()[0])
    finally:
        conn.close()
    return page, size


def flip_page(path: Path, page: int, page_size: int, n: int = 64) -> None:
    """Invert ``n`` ciphertext bytes in the middle of ``page`` (as a bad sector would)."""
    offset = (page - 1) * page_size + 1000
    data = path.read_bytes()
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(bytes(b ^ 0xFF for b in data[offset : offset + n]))


def gridroom(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("gridroom")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "desktop.cli"]
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "GRIDROOM_CONFIG_DIR": str(tmp_path / "config"),
        "GRIDROOM_SITE_CONFIG": str(tmp_path / "no-site.toml"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "GRIDROOM_LOG_DIR": str(tmp_path / "logs"),
    }
    return subprocess.run(
        command + list(args),
        cwd=REPO,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=180,
    )


def assert_damage_words(err: str) -> None:
    assert "The database is damaged" in err, err
    assert "fails its integrity check (HMAC)" in err, err
    assert "key" not in err.split("Gridroom will not write")[0], err  # not blamed on the key
    assert "permissions" not in err and "ERROR CORE" not in err, err
    assert "Traceback" not in err, err


@pytest.mark.parametrize("where", ["cases", "first page"])
def test_stats_import_and_sync_say_damaged_not_wrong_key_and_write_nothing(
    encrypted: Path, encrypted_template: tuple[Path, bytes], tmp_path: Path, where: str
) -> None:
    _template, key = encrypted_template
    page, size = page_of(encrypted, key, "cases")
    flip_page(encrypted, 1 if where == "first page" else page, size)
    before = sha256(encrypted)
    sheet = ledger_csv(tmp_path)
    for command in (
        ["stats", "--db", str(encrypted), "--password-stdin"],
        ["import", "--db", str(encrypted), "--password-stdin", str(sheet)],
        ["sync", "--db", str(encrypted), "--password-stdin"],
    ):
        out = gridroom(*command, tmp_path=tmp_path)
        assert out.returncode == 3, (command, out.stdout, out.stderr)
        assert_damage_words(out.stderr)
        assert sha256(encrypted) == before, command
    wal = Path(f"{encrypted}-wal")
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_write_after_a_damaged_page_is_refused_as_damage_not_as_permissions(
    encrypted: Path, encrypted_template: tuple[Path, bytes]
) -> None:
    _template, key = encrypted_template
    page, size = page_of(encrypted, key, "cases")
    with Store.open(encrypted, key=key) as store:
        actor = store.accounts()[0]
        case_id = store.read("SELECT id FROM cases LIMIT 1")[0][0]
    flip_page(encrypted, page, size)
    before = sha256(encrypted)
    with Store.open(encrypted, key=key) as store:
        # The key opens the file (page 1 and the schema are sound) …
        assert store.read("SELECT value FROM meta WHERE key = 'scope'") == [(TOWNSHIP,)]
        # … the damaged page does not: damage, in the damage words.
        with pytest.raises(StoreCorrupt, match=f"page {page} fails its integrity check"):
            store.read("SELECT count(*), sum(length(title)) FROM cases")
        # SQLCipher now refuses writes as "readonly": still damage, and the store is marked.
        with pytest.raises(StoreCorrupt, match="will not write"):
            store.comment(case_id, actor, "损坏后再写")
        assert health.damaged(encrypted) is not None
    assert sha256(encrypted) == before


def test_the_integrity_check_reads_every_pages_hmac(
    encrypted: Path, encrypted_template: tuple[Path, bytes]
) -> None:
    """A page that opening the store does not read (one of the timeline's) is found by the
    store check, by its number."""
    _template, key = encrypted_template
    last, size = page_of(encrypted, key, "case_events")
    flip_page(encrypted, last, size)
    with Store.open(encrypted, key=key) as store:
        found = health.check(store)
    assert found == [f"page {last} fails its integrity check (HMAC): its bytes were changed"]
    assert health.damaged(encrypted) == found[0]


def test_a_wrong_key_is_still_a_wrong_key(encrypted: Path) -> None:
    with pytest.raises(WrongKey):
        Store.open(encrypted, key=keys.new_key())
    assert health.damaged(encrypted) is None


def test_doctor_reads_an_encrypted_store_whose_key_is_at_hand_and_reports_the_damage(
    encrypted: Path, encrypted_template: tuple[Path, bytes]
) -> None:
    from sync.cli.doctor import FAIL, OK, check_store

    _template, key = encrypted_template
    page, size = page_of(encrypted, key, "cases")
    keys.forget_unlocked()
    # The key not at hand (wrapped by the password, none given): described, not read.
    check, info = check_store(encrypted)
    assert check.status == OK and "integrity" not in info
    keys.key_for(encrypted, password=PASSWORD)  # unlocked in this process
    check, info = check_store(encrypted)
    assert check.status == OK and info["integrity"] == "ok", check
    assert info["counts"]["cases"] == 600 and info["sync_history"] == []
    flip_page(encrypted, page, size)
    check, info = check_store(encrypted)
    assert check.status == FAIL and "is damaged" in check.summary, check
    assert f"page {page} fails its integrity check" in check.summary


# The offscreen platform cannot pass a dialog's size hints to a window manager it lacks.
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_app_says_damaged_and_refuses_writes(
    qtbot,  # type: ignore[no-untyped-def]
    encrypted: Path,
    encrypted_template: tuple[Path, bytes],
) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.app import check_store_health
    from desktop.errors import explain
    from desktop.ops import Ops

    _template, key = encrypted_template
    page, size = page_of(encrypted, key, "cases")
    keys.key_for(encrypted, password=PASSWORD)  # signed in: the key unlocked by the password
    with Store.open(encrypted) as store:
        case_id = store.read("SELECT id FROM cases LIMIT 1")[0][0]
        actor = store.accounts()[0]
    flip_page(encrypted, page, size)
    before = sha256(encrypted)
    ops = Ops(encrypted)
    try:
        check_store_health(ops, None)

        def dialogs() -> list[QMessageBox]:
            return [
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.objectName() == "errorDialog" and w.isVisible()
            ]

        qtbot.waitUntil(lambda: bool(dialogs()), timeout=20000)
        shown = dialogs()[0]
        words = explain(StoreCorrupt("damaged"))
        assert (shown.text(), shown.informativeText()) == (words.headline, words.advice)
        shown.close()
        failures: list[BaseException] = []
        ops.write(lambda s: s.comment(case_id, actor, "损坏后再写")).failure(failures.append).run()
        qtbot.waitUntil(lambda: bool(failures), timeout=20000)
        assert isinstance(failures[0], StoreCorrupt), failures
    finally:
        ops.shutdown()
    assert sha256(encrypted) == before
