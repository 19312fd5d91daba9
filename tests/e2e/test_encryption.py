"""Encryption at rest, as a county deploys it: ``require_encryption = true`` locked in site.toml,
``gridroom login`` and ``gridroom sync`` run as real processes against a real county server on
loopback, with a real keyring backend (the file one the fault tests use, so that the processes
share it) — or with none at all, where the password protects the key.

Afterwards the store file, its -wal and its attachments folder are searched byte by byte: no case
text, no ID number, no phone number, no JPEG or PNG header, no file named by a photo's sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from sync.client import SyncService, login
from sync.client.tokens import KeyringTokens
from sync.client.transport import TransportError
from sync.store import Store, attachments, keys

from .conftest import (
    REPO,
    TOWNSHIP_A,
    CountyServer,
    Device,
    MemoryKeyring,
    attach,
    photo,
    report_case,
    running_county,
)

OP = f"{TOWNSHIP_A}-op"
SUP = f"{TOWNSHIP_A}-sup"
TITLE = "楼道漏水严重请速处理"
ID_NUMBER = "330825199001011234"
PHONE = "13905701234"
#: JPEG (JFIF/Exif) and PNG signatures; FF D8 FF alone turns up by chance in ciphertext.
SIGNATURES = (b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\xff\xd8\xff\xe1", b"\x89PNG\r\n\x1a\n")


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CountyServer]:
    with running_county("sqlite", tmp_path_factory.mktemp("county")) as server:
        yield server


@pytest.fixture
def case_with_photo(
    devices: Callable[..., Device],
) -> tuple[str, bytes]:
    """A case with an ID number and a phone in its text and a photo, synced to the county by
    another device of the township (its supervisor's)."""
    other = devices(SUP)
    case_id = report_case(
        other,
        TITLE,
        description=f"住户身份证号 {ID_NUMBER}",
        reporter_phone=PHONE,
    )
    data = photo(120_000, seed=int.from_bytes(os.urandom(4), "big"))  # new to the county
    attach(other, case_id, data)
    report = other.sync()
    assert report.status == "ok" and report.uploaded_files == 1, report.to_json()
    return case_id, data


def environment(tmp_path: Path, *, keyring_file: Path | None) -> dict[str, str]:
    site = tmp_path / "site.toml"
    site.write_text(
        '[policy]\nrequire_encryption = true\nlocked = ["require_encryption"]\n', encoding="utf-8"
    )
    env = {
        **os.environ,
        "GRIDROOM_CONFIG_DIR": str(tmp_path / "config"),
        "GRIDROOM_SITE_CONFIG": str(site),
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    if keyring_file is None:
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
        env.pop("GRIDROOM_TEST_KEYRING", None)
    else:
        env["PYTHONPATH"] = str(REPO)  # where the test backend lives
        env["PYTHON_KEYRING_BACKEND"] = "tests.faults.filekeyring.FileKeyring"
        env["GRIDROOM_TEST_KEYRING"] = str(keyring_file)
    return env


def gridroom(
    args: list[str], env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("gridroom")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "desktop.cli"]
    return subprocess.run(
        command + args, cwd=REPO, env=env, input=stdin, capture_output=True, text=True, timeout=180
    )


def assert_reveals_nothing(db: Path, sha: str) -> None:
    files = [p for p in (db, db.with_name(db.name + "-wal")) if p.exists()]
    folder = db.with_name(db.name + ".files")
    photos = sorted(p for p in folder.rglob("*") if p.is_file())
    assert photos, "the photo arrived"
    files += photos
    everything = b"".join(p.read_bytes() for p in files)
    assert not db.read_bytes().startswith(b"SQLite format 3")
    for needle in (TITLE.encode(), ID_NUMBER.encode(), PHONE.encode(), *SIGNATURES):
        assert needle not in everything, needle
    for path in photos:
        assert path.read_bytes()[:3] != b"\xff\xd8\xff" and sha not in str(path)
    # and what the sqlite3 tool would say
    sqlite = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3,sys; sqlite3.connect(sys.argv[1]).execute("
            "'select * from cases').fetchall()",
            str(db),
        ],
        capture_output=True,
        text=True,
    )
    assert sqlite.returncode != 0 and "not a database" in sqlite.stderr


def test_login_and_sync_with_a_keyring_leave_nothing_readable(
    county: CountyServer, tmp_path: Path, case_with_photo: tuple[str, bytes]
) -> None:
    case_id, data = case_with_photo
    ring = tmp_path / "keyring.json"
    env = environment(tmp_path, keyring_file=ring)
    out = gridroom(
        ["login", "--server", county.url, "--user", OP, "--password-stdin", "--json"],
        env,
        stdin=county.password(OP) + "\n",
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert info["token_kept"] is True and "OS keyring" in info["key_storage"]
    db = Path(info["store"])
    out = gridroom(["sync", "--db", str(db)], env)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["downloaded_files"] >= 1
    sha = hashlib.sha256(data).hexdigest()
    assert_reveals_nothing(db, sha)
    # The key is in the keyring file (the test's stand-in for the OS keyring), not beside it.
    side = keys.read_sidecar(db)
    assert side is not None and side["home"] == "keyring"
    assert json.loads(ring.read_text())[f"gridroom\nstore-key#{side['store_id']}"]
    # doctor says so, and where the key is.
    out = gridroom(["doctor", "--offline", "--db", str(db)], env)
    assert "encrypted; key in the OS keyring" in out.stdout, out.stdout
    # Through Gridroom it is all there: stats in another process, and the photo here.
    out = gridroom(["stats", "--db", str(db), "--json"], env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["tables"]["cases"] >= 1
    from tests.faults.filekeyring import FileKeyring

    key = bytes.fromhex(FileKeyring(ring).get_password("gridroom", f"store-key#{side['store_id']}"))
    with Store.open(db, key=key) as store:
        (att,) = attachments.attachments(store, case_id)
        assert attachments.photo_bytes(store, att) == data
        assert attachments.thumbnail_bytes(store, att)[:3] == b"\xff\xd8\xff"  # kept: encrypted
        assert store.read("SELECT title FROM cases WHERE id = ?", [case_id]) == [(TITLE,)]
    assert_reveals_nothing(db, sha)
    assert len(list(db.with_name(db.name + ".files").rglob("*.grb"))) >= 2
    # A wrong key (the keyring now holds another one) is told in plain words; nothing changes.
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    FileKeyring(ring).set_password("gridroom", f"store-key#{side['store_id']}", "00" * 32)
    out = gridroom(["stats", "--db", str(db)], env)
    assert out.returncode == 3
    assert "The database key is wrong" in out.stderr and "Traceback" not in out.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_without_a_keyring_the_password_opens_the_store(
    county: CountyServer, tmp_path: Path, case_with_photo: tuple[str, bytes]
) -> None:
    _case_id, data = case_with_photo
    env = environment(tmp_path, keyring_file=None)
    password = county.password(OP) + "\n"
    out = gridroom(
        [
            "login",
            *("--server", county.url, "--user", OP),
            *("--password-stdin", "--pin-stdin", "--json"),
        ],
        env,
        stdin=password + "2468\n",
    )
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout)
    assert "wrapped by the password" in info["key_storage"]
    assert keys.describe(Path(info["store"])).endswith("with a PIN copy")
    db = Path(info["store"])
    # Without the password, sync says how to give it (and changes nothing).
    out = gridroom(["sync", "--db", str(db)], env)
    assert out.returncode == 4 and "--password-stdin" in out.stderr
    out = gridroom(["sync", "--db", str(db), "--password-stdin"], env, stdin=password)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["downloaded_files"] >= 1
    assert_reveals_nothing(db, hashlib.sha256(data).hexdigest())
    side = keys.sidecar_path(db).read_text(encoding="utf-8")
    assert county.password(OP) not in side
    # A wrong password: plain words, exit 3, the store untouched.
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    out = gridroom(["stats", "--db", str(db), "--password-stdin"], env, stdin="wrong\n")
    assert out.returncode == 3
    assert "The password does not open" in out.stderr and "Traceback" not in out.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before
    out = gridroom(["stats", "--db", str(db), "--password-stdin", "--json"], env, stdin=password)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["tables"]["attachments"] >= 1
    # The PIN opens it too (quick unlock), and a wrong one says how many tries are left.
    out = gridroom(["stats", "--db", str(db), "--pin-stdin", "--json"], env, stdin="2468\n")
    assert out.returncode == 0, out.stderr
    out = gridroom(["stats", "--db", str(db), "--pin-stdin"], env, stdin="1357\n")
    assert out.returncode == 3 and "Wrong PIN: 4 tries left" in out.stderr
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def test_a_lost_key_sets_the_store_aside_and_enrols_afresh(
    county: CountyServer, tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "lost.sqlite"
    tokens = KeyringTokens()
    login(county.url, OP, county.password(OP), tokens=tokens, store_path=path)
    memory_keyring.items.clear()  # the keyring was reset (or this is another Windows account)
    keys.forget_unlocked()
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(keys.KeyLost, match="the county has the data"):
        Store.open(path)
    # A refused sign-in moves nothing.
    with pytest.raises(TransportError):
        login(county.url, OP, "not-the-password", tokens=tokens, store_path=path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    result = login(county.url, OP, county.password(OP), tokens=tokens, store_path=path)
    assert result.created_store and result.set_aside is not None
    # The unreadable store is kept aside, with its key file, not deleted.
    assert hashlib.sha256(result.set_aside.read_bytes()).hexdigest() == before
    assert keys.sidecar_path(result.set_aside).exists()
    with Store.open(path) as store:
        report = SyncService(tokens=tokens).sync_once(store)
        assert report.status == "ok", report.to_json()
        # the county's data for the township came back into the fresh store
        assert store.account(county.account(OP)["id"]) is not None
    assert not keys.is_plaintext(path)
