"""Store keys and encryption at rest, on real SQLCipher files and real keyring backends.

The keyrings are the test backends the other suites use (the in-memory one of
``tests/e2e/conftest.py``, the file one of ``tests/faults/filekeyring.py`` where a second process
must find the key) and keyring's own ``fail`` backend, which is what a machine without a keyring
service has.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.fail
import pytest

from sync.model.records import Actor
from sync.store import Store, WrongKey, attachments, keys
from tests.e2e.conftest import MemoryKeyring, photo
from tests.faults.filekeyring import FileKeyring

REPO = Path(__file__).resolve().parents[2]
TITLE = "楼道漏水严重"
ID_NUMBER = "330825199001011234"


@pytest.fixture(autouse=True)
def _fresh_process_memory() -> Iterator[None]:
    keys.forget_unlocked()
    yield
    keys.forget_unlocked()


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``require_encryption = true``, locked by IT in site.toml."""
    site = tmp_path / "site.toml"
    site.write_text(
        '[policy]\nrequire_encryption = true\nlocked = ["require_encryption"]\n', encoding="utf-8"
    )
    monkeypatch.setenv("GRIDROOM_SITE_CONFIG", str(site))
    monkeypatch.setenv("GRIDROOM_CONFIG_DIR", str(tmp_path / "config"))
    return site


def fill(store: Store, actor: Actor, n: int = 3, photos: int = 2) -> dict[str, bytes]:
    """``n`` cases with an ID number in the text and ``photos`` photos; sha256 → photo bytes."""
    grid = store.grids()[0]
    ids = []
    for i in range(n):
        ids.append(
            store.report(
                actor,
                {
                    "title": f"{TITLE}{i}",
                    "description": f"住户身份证号 {ID_NUMBER}，电话 13905701234",
                    "category": "0604",
                    "grid_id": grid.id,
                },
            ).case_id
        )
    kept = {}
    for i in range(photos):
        data = photo(90_000 + 40_000 * i, seed=i)
        att = attachments.add_attachment(store, ids[i % n], data, f"现场{i}.png", actor)
        kept[att.sha256] = data
    return kept


#: What photos give themselves away by: a JPEG (JFIF or Exif) and a PNG signature. Three bytes
#: (FF D8 FF) alone turn up by chance in a megabyte of ciphertext; these do not.
IMAGE_SIGNATURES = (b"\xff\xd8\xff\xe0\x00\x10JFIF", b"\xff\xd8\xff\xe1", b"\x89PNG\r\n\x1a\n")


def every_file(store_path: Path) -> list[Path]:
    """The store file, its -wal, and every file in its attachments folder."""
    found = [p for p in (store_path, store_path.with_name(store_path.name + "-wal")) if p.exists()]
    folder = store_path.with_name(store_path.name + ".files")
    if folder.is_dir():
        found += sorted(p for p in folder.rglob("*") if p.is_file())
    return found


def assert_reveals_nothing(store_path: Path, shas: list[str]) -> None:
    files = every_file(store_path)
    data = b"".join(p.read_bytes() for p in files)
    assert not store_path.read_bytes().startswith(keys.SQLITE_HEADER)
    for path in files:
        assert path.read_bytes()[:3] != b"\xff\xd8\xff", path
    for needle in (TITLE.encode(), ID_NUMBER.encode(), *IMAGE_SIGNATURES):
        assert needle not in data, needle
    names = " ".join(str(p) for p in store_path.parent.rglob("*"))
    for sha in shas:
        assert sha not in names, "a file name tells which photo this disk holds"


def file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_encrypted_store_and_its_photos_reveal_nothing_without_the_key(
    tmp_path: Path, memory_keyring: MemoryKeyring, actors: dict[str, Actor], store_path: Path
) -> None:
    path = tmp_path / "enc.sqlite"
    key = keys.new_key()
    assert keys.keep(path, key) == "keyring"
    with Store.create(path, scope="330825002", key=key) as store:
        # the reference data of the plain fixture store, copied through the store's own API
        with Store.open(store_path) as plain:
            store.put_grids(plain.grids())
            store.put_accounts(plain.accounts())
        kept = fill(store, actors["operator"])
        for sha, data in kept.items():
            assert attachments.read_blob(store, sha) == data
        # While it is open, the changes sit in the -wal: encrypted pages too.
        wal = path.with_name(path.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        assert_reveals_nothing(path, list(kept))
    assert_reveals_nothing(path, list(kept))
    # The key file beside it names the keyring, and holds no key.
    side = keys.sidecar_path(path).read_text(encoding="utf-8")
    assert json.loads(side)["home"] == "keyring" and key.hex() not in side
    # Another process (no key in memory) opens it through the keyring, the one way.
    keys.forget_unlocked()
    with Store.open(path) as store:
        assert store.key == key
        assert store.read("SELECT count(*) FROM cases WHERE title = ?", [f"{TITLE}0"]) == [(1,)]
        for sha, data in kept.items():
            assert attachments.read_blob(store, sha) == data
    assert "OS keyring" in keys.describe(path)


def test_a_wrong_key_gets_a_plain_message_and_the_store_is_untouched(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "enc.sqlite"
    key = keys.new_key()
    keys.keep(path, key)
    Store.create(path, scope="330825002", key=key).close()
    before = file_sha(path)
    store_id = json.loads(keys.sidecar_path(path).read_text())["store_id"]
    memory_keyring.set_password("gridroom", f"store-key#{store_id}", keys.new_key().hex())
    keys.forget_unlocked()
    with pytest.raises(WrongKey, match="The database key is wrong"):
        Store.open(path)
    assert file_sha(path) == before
    assert not path.with_name(path.name + "-wal").exists()
    # The keyring lost it altogether: says so, and what to do.
    memory_keyring.delete_password("gridroom", f"store-key#{store_id}")
    keys.forget_unlocked()
    with pytest.raises(keys.KeyLost, match="sign in again"):
        Store.open(path)
    assert file_sha(path) == before


def test_without_a_keyring_the_password_wraps_the_key(tmp_path: Path, no_keyring: None) -> None:
    path = tmp_path / "enc.sqlite"
    key = keys.new_key()
    with pytest.raises(keys.NotEncrypted, match="nowhere safe to keep the key"):
        keys.keep(path, key)
    assert keys.keep(path, key, password="s3cret-pass") == "password"
    Store.create(path, scope="330825002", key=key).close()
    side = keys.sidecar_path(path).read_text(encoding="utf-8")
    assert key.hex() not in side and "wrapped" in side
    keys.forget_unlocked()
    before = file_sha(path)
    assert keys.password_needed(path)
    with pytest.raises(keys.KeyNeeded, match="protected by your password"):
        Store.open(path)
    with pytest.raises(keys.WrongPassword, match="does not open"):
        keys.key_for(path, password="not-it")
    assert file_sha(path) == before
    assert keys.key_for(path, password="s3cret-pass") == key
    with Store.open(path) as store:  # unlocked for this process now
        assert store.scope == "330825002"
    assert "wrapped by the password" in keys.describe(path)


def test_a_pin_unlocks_until_too_many_wrong_tries(tmp_path: Path, no_keyring: None) -> None:
    path = tmp_path / "enc.sqlite"
    key = keys.new_key()
    keys.keep(path, key, password="s3cret-pass")
    Store.create(path, scope="330825002", key=key).close()
    with pytest.raises(keys.StoreError, match="4 to 12 digits"):
        keys.set_pin(path, "12a4", password="s3cret-pass")
    keys.set_pin(path, "2468", password="s3cret-pass")
    assert keys.has_pin(path)
    keys.forget_unlocked()
    assert keys.key_for(path, pin="2468") == key
    keys.forget_unlocked()
    for left in range(keys.PIN_ATTEMPTS - 1, 0, -1):
        with pytest.raises(keys.WrongPin) as wrong:
            keys.key_for(path, pin="0000")
        assert wrong.value.left == left
    # A right PIN now still works and resets the count …
    assert keys.key_for(path, pin="2468") == key
    keys.forget_unlocked()
    for _ in range(keys.PIN_ATTEMPTS - 1):
        with pytest.raises(keys.WrongPin):
            keys.key_for(path, pin="1111")
    # … and the last wrong one deletes the PIN copy: only the password opens it.
    with pytest.raises(keys.WrongPin, match="PIN was removed") as gone:
        keys.key_for(path, pin="1111")
    assert gone.value.left == 0 and not keys.has_pin(path)
    with pytest.raises(keys.WrongPin, match="use the password"):
        keys.key_for(path, pin="2468")
    assert keys.key_for(path, password="s3cret-pass") == key


def _plain_store(store_path: Path, actors: dict[str, Actor]) -> dict[str, bytes]:
    with Store.open(store_path, require_encryption=False) as store:
        kept = fill(store, actors["operator"], n=40, photos=3)
        # a change still in the WAL (not checkpointed) must survive too
        store.report(
            actors["operator"],
            {"title": "最后一条", "category": "0604", "grid_id": store.grids()[0].id},
        )
    return kept


def _contents(path: Path) -> tuple[int, int, list[str]]:
    with Store.open(path, require_encryption=False) as store:
        cases = store.read("SELECT count(*) FROM cases")[0][0]
        events = store.read("SELECT count(*) FROM case_events")[0][0]
        titles = sorted(r[0] for r in store.read("SELECT title FROM cases"))
    return cases, events, titles


def test_a_plaintext_store_is_converted_in_place_keeping_everything(
    store_path: Path,
    actors: dict[str, Actor],
    memory_keyring: MemoryKeyring,
    policy: Path,
    store_digest,
) -> None:
    kept = _plain_store(store_path, actors)
    before = _contents(store_path)
    plain_digest = store_digest(store_path)
    # Policy requires encryption: a plain store is refused until converted (nothing changed).
    with pytest.raises(keys.NotEncrypted, match="require_encryption"):
        Store.open(store_path)
    assert keys.needs_conversion(store_path)
    phases: list[str] = []
    keys.prepare(store_path, progress=lambda done, total, phase: phases.append(phase))
    assert {"checkpoint", "verify", "replace", "photos"} <= set(phases)
    assert not keys.needs_conversion(store_path)
    assert_reveals_nothing(store_path, list(kept))
    leftovers = [p.name for p in store_path.parent.iterdir() if "encrypting" in p.name]
    assert leftovers == []
    keys.forget_unlocked()
    assert _contents(store_path) == before
    with Store.open(store_path) as store:
        for sha, data in kept.items():
            assert attachments.read_blob(store, sha) == data
        (att, *_rest) = attachments.attachments(store, store.read("SELECT id FROM cases")[0][0])
        assert attachments.thumbnail_bytes(store, att)[:3] == b"\xff\xd8\xff"
    assert plain_digest  # (the plain file is gone: its rows are what _contents compared)


def test_a_cancelled_conversion_leaves_the_original_as_it_was(
    store_path: Path, actors: dict[str, Actor], memory_keyring: MemoryKeyring, store_digest
) -> None:
    kept = _plain_store(store_path, actors)
    before = store_digest(store_path)
    for stop_at in ("copy", "verify", "replace"):

        def progress(done: int, total: int, phase: str, stop_at: str = stop_at) -> bool:
            return phase != stop_at

        with pytest.raises(keys.Cancelled):
            keys.encrypt_in_place(store_path, progress=progress)
        assert keys.is_plaintext(store_path), stop_at
        assert store_digest(store_path) == before, stop_at
    keys.encrypt_in_place(store_path)
    with Store.open(store_path) as store:
        for sha, data in kept.items():
            assert attachments.read_blob(store, sha) == data


KILLER = """
import os, signal, sys
from sync.store import keys
target, after = sys.argv[2], int(sys.argv[3])
def progress(done, total, phase):
    if phase == target and done >= after:
        os.kill(os.getpid(), signal.SIGKILL)
    return True
keys.prepare(sys.argv[1], require=True, progress=progress)
"""


@pytest.mark.parametrize(("phase", "after"), [("copy", 1), ("replace", 0), ("photos", 1)])
def test_kill_9_mid_conversion_loses_nothing(
    phase: str,
    after: int,
    store_path: Path,
    actors: dict[str, Actor],
    tmp_path: Path,
    store_digest,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    kept = _plain_store(store_path, actors)
    before = _contents(store_path)
    plain_digest = store_digest(store_path)
    ring = tmp_path / "keyring.json"
    env = {
        **os.environ,
        "PYTHON_KEYRING_BACKEND": "tests.faults.filekeyring.FileKeyring",
        "GRIDROOM_TEST_KEYRING": str(ring),
        "GRIDROOM_SITE_CONFIG": str(tmp_path / "no-site.toml"),
    }
    run = subprocess.run(
        [sys.executable, "-c", KILLER, str(store_path), phase, str(after)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == -signal.SIGKILL, run.stderr
    monkeypatch.setenv("GRIDROOM_TEST_KEYRING", str(ring))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(ring))
    try:
        if phase in ("copy", "replace"):  # before the rename: the original, byte for byte
            assert keys.is_plaintext(store_path)
            assert store_digest(store_path) == plain_digest
        else:  # after it: encrypted, some photos still to convert
            assert not keys.is_plaintext(store_path)
            assert keys.needs_conversion(store_path)
        keys.prepare(store_path, require=True)
        assert not keys.needs_conversion(store_path)
        assert_reveals_nothing(store_path, list(kept))
        keys.forget_unlocked()
        assert _contents(store_path) == before
        with Store.open(store_path) as store:
            for sha, data in kept.items():
                assert attachments.read_blob(store, sha) == data
    finally:
        keyring.set_keyring(previous)


def test_policy_refuses_a_new_plain_store_but_the_demo_may_stay_plain(
    tmp_path: Path, policy: Path, no_keyring: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDROOM_SITE_CONFIG", str(tmp_path / "none.toml"))
    old = tmp_path / "old.sqlite"
    Store.create(old, scope="330825002").close()  # made before IT set the policy
    monkeypatch.setenv("GRIDROOM_SITE_CONFIG", str(policy))
    before = file_sha(old)
    # No keyring and no password: it cannot be converted now, and it is not opened either.
    with pytest.raises(keys.NotEncrypted, match="nowhere safe"):
        keys.prepare(old)
    with pytest.raises(keys.NotEncrypted, match="require_encryption"):
        Store.open(old)
    assert keys.password_needed(old)
    assert file_sha(old) == before and not keys.sidecar_path(old).exists()
    # With the password, it is.
    keys.prepare(old, password="s3cret-pass")
    assert "wrapped by the password" in keys.describe(old)
    with pytest.raises(keys.NotEncrypted, match="only encrypted stores"):
        Store.create(tmp_path / "plain.sqlite", scope="330825002")
    assert not (tmp_path / "plain.sqlite").exists()
    demo = tmp_path / "demo.sqlite"
    Store.create(demo, scope="330825002", synthetic=True).close()
    assert keys.prepare(demo) is None  # no keyring, no password: and none needed
    with Store.open(demo) as store:
        assert store.synthetic
    assert "demo store" in keys.describe(demo)
    assert not keys.needs_conversion(demo)


def test_big_photos_stream_in_records_and_damage_is_detected(
    tmp_path: Path, memory_keyring: MemoryKeyring, actors: dict[str, Actor], store_path: Path
) -> None:
    path = tmp_path / "enc.sqlite"
    key = keys.new_key()
    keys.keep(path, key)
    data = photo(1_500_000, seed=9)  # 23 records
    sha = hashlib.sha256(data).hexdigest()
    with Store.create(path, scope="330825002", key=key) as store:
        with attachments.receive_blob(store, sha) as incoming:
            for start in range(0, len(data), 100_000):  # as a download brings it
                incoming.append(data[start : start + 100_000])
            assert incoming.finish()
        with attachments.open_blob(store, sha) as blob:
            assert blob.size == len(data)
            assert blob.read_at(1_000_000, 70_000) == data[1_000_000:1_070_000]
        assert attachments.read_blob(store, sha) == data
        on_disk = attachments.blob_path(store, sha)
        raw = bytearray(on_disk.read_bytes())
        assert 0 < len(raw) - len(data) < len(data) // 1000  # 32 bytes a record, no padding
        raw[500_000] ^= 0xFF
        on_disk.write_bytes(bytes(raw))
        with pytest.raises(keys.StoreError, match="damaged"):
            attachments.read_blob(store, sha)
        # The wrong bytes arriving by sync are refused, not kept.
        other = "0" * 64
        with attachments.receive_blob(store, other) as incoming:
            incoming.append(data[:1000])
            assert not incoming.finish()
        assert not attachments.blob_exists(store, other)


def test_another_password_can_be_added_while_the_store_is_unlocked(
    tmp_path: Path, no_keyring: None
) -> None:
    path = tmp_path / "enc.sqlite"
    key = keys.new_key()
    keys.keep(path, key, password="enrolled-by-a")
    Store.create(path, scope="330825002", key=key).close()
    keys.forget_unlocked()
    assert not keys.add_password(path, "account-b")  # locked: nothing to wrap
    keys.key_for(path, password="enrolled-by-a")
    assert keys.add_password(path, "account-b")
    assert not keys.add_password(path, "account-b")  # already opens it
    side = keys.sidecar_path(path).read_text(encoding="utf-8")
    assert key.hex() not in side and "account-b" not in side
    for password in ("enrolled-by-a", "account-b"):
        keys.forget_unlocked()
        assert keys.key_for(path, password=password) == key
    keys.forget_unlocked()
    with pytest.raises(keys.WrongPassword):
        keys.key_for(path, password="account-c")


def test_signing_out_forgets_the_key_this_process_unlocked(
    no_keyring: None, tmp_path: Path
) -> None:
    """On a shared PC without a keyring the password unlocks the store for the process; after
    sign-out the next opener needs the password again. Another store's key stays unlocked."""
    from sync.client import logout
    from sync.client.tokens import MemoryTokens

    paths = [tmp_path / "a.sqlite", tmp_path / "b.sqlite"]
    for path in paths:
        key = keys.new_key()
        keys.keep(path, key, password="pw-共用电脑")
        Store.create(path, scope="330825002", key=key).close()
    keys.forget_unlocked()
    for path in paths:
        keys.key_for(path, password="pw-共用电脑")
    with Store.open(paths[0]) as store:  # unlocked: no password asked
        assert logout(store, MemoryTokens()) is False  # no token kept here: nothing to revoke
    with pytest.raises(keys.KeyNeeded):
        Store.open(paths[0])
    Store.open(paths[1]).close()  # the other store is still unlocked
