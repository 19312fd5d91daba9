"""A damaged, locked or read-only store file, for real: bytes flipped inside a page of the cases
table, a lock held by another process, a file and folder nobody may write (``chattr +i``: the
tests run as root, whom ``chmod`` does not stop). What each command and the app do with it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlcipher3

from sync.demo.build import build
from sync.model.clock import to_millis
from sync.store import Store, health
from sync.store.errors import (
    ReadOnly,
    StoreCorrupt,
    StoreError,
    StoreLocked,
    classify,
)

REPO = Path(__file__).resolve().parents[2]
TOWNSHIP = "330825002"
FLIPPED = 64


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real demo store with enough cases to fill many pages of the cases table."""
    import datetime as dt

    from sync.model.calendar import SHANGHAI

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    now = to_millis(dt.datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI))
    build(path, township=TOWNSHIP, cases=600, seed=1, now=now)
    return path


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "store.sqlite"
    shutil.copy(demo_template, path)
    yield path
    health.forget(path)  # the finding is per process; the next test's file is a new one


def cases_leaf_page(path: Path) -> tuple[int, int]:
    """(page number, page size) of a leaf page in the middle of the cases table's b-tree,
    found by walking the b-tree from its root page (no dbstat needed)."""
    conn = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        page = int(
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'cases'").fetchone()[0]
        )
    finally:
        conn.close()
    data = path.read_bytes()
    while True:
        start = (page - 1) * page_size
        header = start + (100 if page == 1 else 0)
        kind = data[header]
        if kind == 0x0D:  # a table leaf
            return page, page_size
        assert kind == 0x05, f"page {page} is not part of a table b-tree ({kind:#x})"
        cells = int.from_bytes(data[header + 3 : header + 5], "big")
        pointer = header + 12 + 2 * (cells // 2)  # the middle cell's left child
        cell = start + int.from_bytes(data[pointer : pointer + 2], "big")
        page = int.from_bytes(data[cell : cell + 4], "big")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """SQLite's big-endian varint at ``at``: (value, position after it)."""
    value = 0
    for i in range(9):
        byte = data[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            return value, at + i + 1
    raise AssertionError("unreachable")


def flip_bytes_in_a_cases_page(path: Path, n: int = FLIPPED) -> int:
    """Invert ``n`` bytes of a row's values (case number, title …) in a leaf page in the middle
    of the cases table: the page's header, its cell pointers and the cells' own headers stay
    intact, as when a disk returns a bad sector's worth of someone's data. Returns the offset."""
    page, page_size = cases_leaf_page(path)
    data = path.read_bytes()
    start = (page - 1) * page_size
    cells = int.from_bytes(data[start + 3 : start + 5], "big")
    pointer = start + 8 + 2 * (cells // 2)
    cell = start + int.from_bytes(data[pointer : pointer + 2], "big")
    _size, at = _varint(data, cell)  # the payload's size
    _rowid, record = _varint(data, at)
    header_size, _ = _varint(data, record)
    offset = record + header_size  # the first column's value
    assert offset + n <= start + page_size, "the row does not fit the flip"
    with path.open("r+b") as fh:
        fh.seek(offset)
        fh.write(bytes(b ^ 0xFF for b in data[offset : offset + n]))
    return offset


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
        command + list(args), cwd=REPO, env=env, capture_output=True, text=True, timeout=180
    )


def ledger_csv(tmp_path: Path) -> Path:
    path = tmp_path / "hotline.csv"
    path.write_text(
        "标题,事件类型,村/社区,描述,联系电话\n路灯不亮,0604,张王村,村口路灯坏了三天,13812345678\n",
        encoding="utf-8",
    )
    return path


# -- damage inside a data page -----------------------------------------------------------------


def test_flipped_bytes_pass_quick_check_but_not_the_store_check(demo: Path) -> None:
    flip_bytes_in_a_cases_page(demo)
    conn = sqlcipher3.connect(f"file:{demo}?mode=ro", uri=True)
    try:
        # What the store used to rely on: the b-tree's shape is intact, so quick_check is happy.
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        found = health.problems(conn, ["cases"])
    finally:
        conn.close()
    assert found and all("cases" in line for line in found), found


def test_import_refuses_a_damaged_store_and_leaves_it_byte_for_byte(
    demo: Path, tmp_path: Path
) -> None:
    sheet = ledger_csv(tmp_path)
    good = tmp_path / "good.sqlite"
    shutil.copy(demo, good)
    flip_bytes_in_a_cases_page(demo)
    before = sha256(demo)
    out = gridroom("import", "--db", str(demo), str(sheet), tmp_path=tmp_path)
    assert out.returncode == 3, out.stderr
    assert "The database is damaged" in out.stderr
    assert "Gridroom will not write to it" in out.stderr and "backup" in out.stderr
    assert "Traceback" not in out.stderr
    assert sha256(demo) == before
    assert not Path(f"{demo}-wal").exists() or Path(f"{demo}-wal").stat().st_size == 0
    # The same import into the undamaged copy goes through: the check refuses damage only.
    out = gridroom("import", "--db", str(good), str(sheet), tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "1 imported" in out.stdout
    # Both runs left their trail, without the reporter's phone from the sheet.
    log = (tmp_path / "logs" / "gridroom-cli.log").read_text(encoding="utf-8")
    assert "gridroom import: The database is damaged" in log and "(corrupt)" in log
    assert "1 imported, 0 already present, 0 invalid" in log
    assert "13812345678" not in log


def test_stats_reports_the_damage(demo: Path, tmp_path: Path) -> None:
    out = gridroom("stats", "--db", str(demo), "--json", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["integrity"] == "ok"
    flip_bytes_in_a_cases_page(demo)
    before = sha256(demo)
    out = gridroom("stats", "--db", str(demo), tmp_path=tmp_path)
    assert out.returncode == 3
    assert "integrity:  DAMAGED: row" in out.stdout and "cases" in out.stdout
    assert "The database is damaged" in out.stderr and "backup" in out.stderr
    out = gridroom("stats", "--db", str(demo), "--json", tmp_path=tmp_path)
    assert out.returncode == 3
    problems = json.loads(out.stdout)["integrity"]
    assert isinstance(problems, list) and problems
    assert sha256(demo) == before


def test_sync_refuses_a_damaged_store_before_it_writes(demo: Path, tmp_path: Path) -> None:
    flip_bytes_in_a_cases_page(demo)
    before = sha256(demo)
    out = gridroom("sync", "--db", str(demo), tmp_path=tmp_path)
    assert out.returncode == 3, out.stdout + out.stderr
    assert "The database is damaged" in out.stderr
    assert sha256(demo) == before


def test_the_headless_sync_checks_the_whole_file_at_most_daily(demo: Path) -> None:
    day = health.PERIODIC_MS
    with Store.open(demo) as store:
        health.guard_periodic(store, now_ms=10 * day)  # clean: remembered in the store's meta
        assert store.meta("integrity_ok_at") == str(10 * day)
    flip_bytes_in_a_cases_page(demo)
    with Store.open(demo) as store:
        # Within the day the check is not repeated (the app's check after opening still runs).
        health.guard_periodic(store, now_ms=10 * day + day // 2)
        before = sha256(demo)
        # A day on (or a clock set back), the whole file is checked again and the damage found.
        with pytest.raises(StoreCorrupt):
            health.guard_periodic(store, now_ms=11 * day)
        with pytest.raises(StoreCorrupt):
            health.guard_periodic(store, now_ms=10 * day + day // 2)  # now known damaged
    assert sha256(demo) == before


def test_doctor_reports_the_damage(demo: Path, tmp_path: Path) -> None:
    flip_bytes_in_a_cases_page(demo)
    out = gridroom("doctor", "--offline", "--db", str(demo), "--json", tmp_path=tmp_path)
    assert out.returncode == 1
    store = next(c for c in json.loads(out.stdout)["checks"] if c["name"] == "store")
    assert store["status"] == "fail" and "is damaged" in store["summary"]


def test_a_store_found_damaged_refuses_every_write_in_the_process(demo: Path) -> None:
    flip_bytes_in_a_cases_page(demo)
    with Store.open(demo) as store, Store.open(demo) as other:
        case_id = store.read("SELECT id FROM cases LIMIT 1")[0][0]
        actor = store.accounts()[0]
        with pytest.raises(StoreCorrupt):
            health.guard(store)
        before = sha256(demo)
        # Another connection to the same file (the app's writer thread) is refused too.
        with pytest.raises(StoreCorrupt, match="will not write"):
            other.comment(case_id, actor, "还在写吗")
    assert sha256(demo) == before


# The offscreen platform cannot pass a dialog's size hints to a window manager it lacks.
@pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")
def test_the_app_checks_after_opening_shows_the_damage_and_refuses_writes(
    qtbot,
    demo: Path,  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop.app import check_store_health
    from desktop.errors import explain
    from desktop.ops import Ops

    with Store.open(demo) as store:
        case_id = store.read("SELECT id FROM cases LIMIT 1")[0][0]
        actor = store.accounts()[0]
    flip_bytes_in_a_cases_page(demo)
    before = sha256(demo)
    ops = Ops(demo)
    try:
        check_store_health(ops, None)

        def dialog() -> QMessageBox:
            found = [
                w
                for w in QApplication.topLevelWidgets()
                if isinstance(w, QMessageBox) and w.objectName() == "errorDialog" and w.isVisible()
            ]
            assert found
            return found[0]

        qtbot.waitUntil(lambda: bool(dialog()), timeout=20000)
        shown = dialog()
        # In the UI language (Chinese when an earlier test installed it): the store's words.
        words = explain(StoreCorrupt("damaged"))
        assert shown.text() == words.headline
        assert shown.informativeText() == words.advice
        assert "will not write" in words.advice or "不会再写入" in words.advice
        shown.close()
        failures: list[BaseException] = []
        ops.write(lambda s: s.comment(case_id, actor, "损坏后再写")).failure(failures.append).run()
        qtbot.waitUntil(lambda: bool(failures), timeout=20000)
        assert isinstance(failures[0], StoreCorrupt)
    finally:
        ops.shutdown()
    assert sha256(demo) == before


def test_the_damage_words_are_translated(qapp) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QCoreApplication

    from desktop.app import install_translations
    from desktop.errors import explain

    app = qapp
    install_translations(app, "zh_CN")
    try:
        words = explain(StoreCorrupt("damaged"))
        assert words.headline == "数据库已损坏。"
        assert "备份" in words.advice and "不会再写入" in words.advice
        assert QCoreApplication.translate("App", "Checking the database") != (
            "Checking the database"
        )
    finally:
        install_translations(app, "en")


# -- error codes, not words --------------------------------------------------------------------

HOLD_LOCK = """
import sys, time, sqlcipher3
conn = sqlcipher3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE meta SET value = value WHERE key = 'scope'")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
"""


def test_a_lock_held_by_another_process_is_store_locked(demo: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(demo)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with Store.open(demo, busy_timeout_ms=200) as store:
            actor = store.accounts()[0]
            case_id = store.read("SELECT id FROM cases LIMIT 1")[0][0]
            started = time.monotonic()
            with pytest.raises(StoreLocked) as caught:
                store.comment(case_id, actor, "另一个程序正在写")
            assert time.monotonic() - started < 5
        cause = caught.value.__cause__
        assert getattr(cause, "sqlite_errorname", None) == "SQLITE_BUSY"
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
        if holder.stdout is not None:
            holder.stdout.close()


def test_a_real_corrupt_file_is_store_corrupt(demo: Path) -> None:
    # Wreck the cases table's root page: any read of it fails with SQLITE_CORRUPT.
    conn = sqlcipher3.connect(f"file:{demo}?mode=ro", uri=True)
    try:
        page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
        root = int(
            conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'cases'").fetchone()[0]
        )
    finally:
        conn.close()
    with demo.open("r+b") as fh:
        fh.seek((root - 1) * page_size)
        fh.write(b"\x0d" + b"\xff" * 63)
    with Store.open(demo) as store, pytest.raises(StoreCorrupt) as caught:
        store.read("SELECT count(*), max(title) FROM cases")
    assert getattr(caught.value.__cause__, "sqlite_errorname", "").startswith("SQLITE_CORRUPT")


def test_an_sql_error_that_mentions_busy_is_not_a_lock(demo: Path) -> None:
    # Matching the English text called this "in use by another program"; it is a bug.
    with Store.open(demo) as store, pytest.raises(sqlcipher3.OperationalError):
        store.read("SELECT busy FROM cases")
    with Store.open(demo) as store, pytest.raises(sqlcipher3.OperationalError):
        store.read("SELECT * FROM corrupt_malformed_readonly")


def test_classification_reads_the_code_not_the_words() -> None:
    locked = sqlcipher3.OperationalError("la base de données est verrouillée")
    locked.sqlite_errorcode = 5  # type: ignore[attr-defined]
    assert isinstance(classify(locked, None), StoreLocked)
    snapshot = sqlcipher3.OperationalError("database is locked")
    snapshot.sqlite_errorcode = 517  # SQLITE_BUSY_SNAPSHOT: an extended code of SQLITE_BUSY
    assert isinstance(classify(snapshot, None), StoreLocked)
    plain = sqlcipher3.OperationalError("database is locked")  # no code: not from SQLite
    assert classify(plain, None) is None
    readonly = sqlcipher3.OperationalError("attempt to write a readonly database")
    readonly.sqlite_errorcode = 8  # type: ignore[attr-defined]
    assert isinstance(classify(readonly, None), ReadOnly)


# -- a read-only file and folder ---------------------------------------------------------------


@pytest.fixture
def read_only_store(demo: Path) -> Iterator[Path]:
    """The demo store with the file 444 and its folder 555, made immutable (``chattr +i``) so
    that root, who runs the tests and whom modes do not stop, cannot write them either."""
    folder = demo.parent / "readonly"
    folder.mkdir()
    path = folder / "store.sqlite"
    shutil.move(demo, path)
    for extra in ("-wal", "-shm"):
        Path(f"{demo}{extra}").unlink(missing_ok=True)
    path.chmod(0o444)
    folder.chmod(0o555)
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done = subprocess.run(["chattr", "+i", str(path), str(folder)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i does not work here: {done.stderr!r}")
    try:
        # Really read-only, for root too.
        with pytest.raises(PermissionError):
            path.open("r+b")
        with pytest.raises(PermissionError):
            (folder / "probe").write_bytes(b"")
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path), str(folder)], check=False)
        folder.chmod(0o755)
        path.chmod(0o644)


def test_stats_export_and_doctor_read_a_read_only_store(
    read_only_store: Path, tmp_path: Path
) -> None:
    before = sha256(read_only_store)
    out = gridroom("stats", "--db", str(read_only_store), "--json", tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    assert stats["tables"]["cases"] == 600 and stats["integrity"] == "ok"
    sheet = tmp_path / "ledger.csv"
    out = gridroom("export", "--db", str(read_only_store), "--out", str(sheet), tmp_path=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "Exported 600 cases" in out.stdout and sheet.stat().st_size > 0
    out = gridroom("doctor", "--offline", "--db", str(read_only_store), "--json", tmp_path=tmp_path)
    store = next(c for c in json.loads(out.stdout)["checks"] if c["name"] == "store")
    assert store["status"] == "ok", store
    assert sha256(read_only_store) == before
    assert sorted(p.name for p in read_only_store.parent.iterdir()) == ["store.sqlite"]


def test_a_write_to_a_read_only_store_is_refused_in_plain_words(
    read_only_store: Path, tmp_path: Path
) -> None:
    out = gridroom(
        "import", "--db", str(read_only_store), str(ledger_csv(tmp_path)), tmp_path=tmp_path
    )
    assert out.returncode == 3
    assert "cannot be written" in out.stderr and "Traceback" not in out.stderr
    with Store.open_read_only(read_only_store) as store:
        actor = store.accounts()[0]
        case_id = store.read("SELECT id FROM cases LIMIT 1")[0][0]
        with pytest.raises(StoreError):
            store.comment(case_id, actor, "只读")
