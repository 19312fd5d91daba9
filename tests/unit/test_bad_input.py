"""Bad input gets a clear error in plain words, and loses nothing.

Each test feeds the real thing something wrong — a township code that does not exist, files
that are not databases or not spreadsheets, a database another process has locked, a disk that
is full, a store from a newer Gridroom — through the store API and the real ``gridroom`` CLI,
then checks the message and that nothing was changed: file bytes, store digests, no stray
``-wal``/``-shm`` files.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from sync import cli
from sync.model.records import Actor
from sync.store import (
    DiskFull,
    NewerSchema,
    NotADatabase,
    Store,
    StoreCorrupt,
    StoreError,
    StoreLocked,
)
from sync.store import schema as store_schema
from sync.store.errors import ReadOnly, UnknownScope
from sync.store.ledger import LedgerError, export_ledger
from sync.store.ledger_import import import_ledger
from tests.conftest import ZHANGWANG, Clock

HEADER = "标题,事件类型,村/社区,上报时间\r\n"
GOOD_ROW = "楼上漏水,矛盾纠纷/邻里纠纷,张王村,2025-06-01 14:05\r\n"


def run_cli(argv: Sequence[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run ``gridroom ARGV`` in process; return (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def siblings(path: Path) -> list[str]:
    """Files next to ``path`` that SQLite could have left: -wal, -shm, -journal."""
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(path.name + "-"))


def report(store: Store, actor: Actor, title: str = "路灯不亮", **extra: str) -> str:
    fields = {"title": title, "category": "0604", "village_code": ZHANGWANG, **extra}
    return store.report(actor, fields).case_id


# -- unknown township codes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("330899999", "'330899999' is not the code of a county or township of 衢州市"),
        ("东华街道", "is not the code of a county or township"),
        ("330825002222", "330825002222 (张王村村民委员会) is a village, not a township or county"),
    ],
)
def test_store_create_refuses_an_unknown_township_in_plain_words(
    tmp_path: Path, code: str, words: str
) -> None:
    path = tmp_path / "new.db"
    with pytest.raises(UnknownScope, match=words.replace("(", r"\(").replace(")", r"\)")):
        Store.create(path, scope=code)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_unknown_scope_is_also_a_value_error_for_older_callers(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Store.create(tmp_path / "x.db", scope="999")


def test_demo_refuses_an_unknown_township(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "demo.db"
    code, _, err = run_cli(
        ["demo", "--township", "330899999", "--out", str(out), "--cases", "10", "--quiet"],
        capsys,
    )
    assert code == 2
    assert "330899999" in err and "Traceback" not in err
    assert not out.exists()


# -- spreadsheets that cannot be imported -----------------------------------------------------


def _xlsx_bytes(tmp_path: Path) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER.strip().split(","))
    ws.append(GOOD_ROW.strip().split(","))
    wb.save(tmp_path / "real.xlsx")
    wb.close()
    return (tmp_path / "real.xlsx").read_bytes()


def _docx_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "letter.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    return path.read_bytes()


MALFORMED: dict[str, tuple[str, Callable[[Path], bytes], str]] = {
    # name: (file name, content, words the message must contain)
    "renamed pdf": (
        "工单.xlsx",
        lambda _: b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        "is a PDF document, not a spreadsheet",
    ),
    "html saved as xls": (
        "工单.xls",
        lambda _: "<html><body><table><tr><td>标题</td></tr></table></body></html>".encode(),
        "is a web page (HTML), not a spreadsheet",
    ),
    "html saved as xlsx": (
        "工单.xlsx",
        lambda _: b"<!DOCTYPE html>\n<html><head><title>12345</title></head></html>",
        "is a web page (HTML)",
    ),
    "empty file": ("工单.xlsx", lambda _: b"", "is empty (0 bytes)"),
    "blank csv": ("工单.csv", lambda _: b"\r\n,,,\r\n", "is empty: no rows at all"),
    "old xls": (
        "工单.xls",
        lambda _: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
        "is an old Excel 97-2003 workbook (.xls) or a password-protected one",
    ),
    "truncated xlsx": (
        "工单.xlsx",
        lambda tmp: _xlsx_bytes(tmp)[:700],
        "looks like an Excel workbook but is damaged",
    ),
    "word document": ("工单.xlsx", _docx_bytes, "is a Word document, not an Excel workbook"),
    "no header row": (
        "工单.csv",
        lambda _: ("楼上漏水,矛盾纠纷/邻里纠纷,张王村\r\n" * 3).encode(),
        "no usable header row — missing the column(s) 标题 or 描述; 事件类型 or 大类; "
        "村/社区 or 网格. Found in row 1: 楼上漏水, 矛盾纠纷/邻里纠纷, 张王村",
    ),
    "wrong columns": (
        "工单.csv",
        lambda _: "标题,地址,电话\r\n漏水,张王村5号,13900001111\r\n".encode(),
        "missing the column(s) 事件类型 or 大类; 村/社区 or 网格. Found in row 1: 标题, 地址, 电话",
    ),
    "unknown encoding": (
        "工单.csv",
        lambda _: HEADER.encode() + b"\xff\xfe\x80 broken\r\n",
        "cannot tell its text encoding (it is neither UTF-8 nor GBK/GB18030)",
    ),
    "binary junk": (
        "工单.csv",
        lambda _: bytes(range(256)) * 8,
        "is not a spreadsheet (it holds binary data)",
    ),
    "a gridroom store": (
        "工单.xlsx",
        lambda _: b"SQLite format 3\x00" + b"\0" * 4080,
        "is a database file (a Gridroom store?), not a spreadsheet",
    ),
    "bad date": (
        "工单.csv",
        lambda _: (HEADER + GOOD_ROW + "噪音,矛盾纠纷/邻里纠纷,张王村,下周二\r\n").encode("gbk"),
        "row 3: 上报时间 '下周二' is not a date and time like 2026-11-22 14:05",
    ),
}


@pytest.mark.parametrize("name", list(MALFORMED))
def test_import_of_a_malformed_spreadsheet_says_why_and_changes_nothing(
    store: Store,
    actors: dict[str, Actor],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    store_digest: Callable[[Path], str],
    name: str,
) -> None:
    report(store, actors["operator"])  # something to lose
    file_name, content, words = MALFORMED[name]
    path = tmp_path / file_name
    path.write_bytes(content(tmp_path))
    before_bytes = path.read_bytes()
    store.close()  # the CLI opens the store itself
    before, count = store_digest(store.path), 1

    code, out, err = run_cli(["import", "--db", str(store.path), str(path)], capsys)

    assert code == 2, (out, err)
    assert words in err
    assert "Traceback" not in err
    assert store_digest(store.path) == before
    assert path.read_bytes() == before_bytes
    with Store.open(store.path) as again:
        assert again.count() == count
        assert again.read("SELECT count(*) FROM imported_rows")[0][0] == 0


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda p: p / "missing.xlsx", "does not exist"),
        (lambda p: p, "is a folder, not a spreadsheet"),
    ],
)
def test_import_of_a_file_that_cannot_be_opened(
    store: Store,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    words: str,
) -> None:
    store.close()
    code, _, err = run_cli(["import", "--db", str(store.path), str(make(tmp_path))], capsys)
    assert code == 2 and words in err


# -- files that are not (our) databases -------------------------------------------------------


def _truncated(store_path: Path, size: int) -> bytes:
    return store_path.read_bytes()[:size]


def _rollback_journal_copy(store_path: Path, tmp_path: Path, user_version: int | None) -> bytes:
    copy = tmp_path / "copy.db"
    shutil.copy(store_path, copy)
    conn = sqlite3.connect(copy)
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        if user_version is not None:
            conn.execute(f"PRAGMA user_version = {user_version}")
    finally:
        conn.close()
    data = copy.read_bytes()
    copy.unlink()
    return data


def _foreign_sqlite(tmp_path: Path) -> bytes:
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    try:
        conn.execute("CREATE TABLE addresses (name TEXT)")
        conn.execute("INSERT INTO addresses VALUES ('张王村')")
        conn.commit()
    finally:
        conn.close()
    data = other.read_bytes()
    other.unlink()
    return data


NEWER = store_schema.SCHEMA_VERSION + 1
NOT_DATABASES: dict[str, tuple[Callable[[Path, Path], bytes], type[StoreError], str]] = {
    "random bytes": (
        lambda s, t: os.urandom(8192),
        NotADatabase,
        "This file is not a Gridroom database, or it is encrypted and needs its key",
    ),
    "html page": (
        lambda s, t: b"<!DOCTYPE html><html><body>Login</body></html>",
        NotADatabase,
        "This file is not a Gridroom database",
    ),
    "empty file": (lambda s, t: b"", NotADatabase, "This file is empty (0 bytes)"),
    "store cut after its header": (
        lambda s, t: _truncated(s, 100),
        StoreCorrupt,
        "The database is damaged",
    ),
    "store cut in half": (
        lambda s, t: _truncated(s, s.stat().st_size // 2),
        StoreCorrupt,
        "The database is damaged",
    ),
    "another program's sqlite file": (
        lambda s, t: _foreign_sqlite(t),
        NotADatabase,
        "This is an SQLite database but not a Gridroom store",
    ),
    "newer schema (wal)": (
        lambda s, t: _newer_wal(s, t),
        NewerSchema,
        f"written by a newer Gridroom (schema {NEWER}",
    ),
    "newer schema (rollback journal)": (
        lambda s, t: _rollback_journal_copy(s, t, NEWER),
        NewerSchema,
        "Update Gridroom; the file was not changed",
    ),
}


def _newer_wal(store_path: Path, tmp_path: Path) -> bytes:
    copy = tmp_path / "newer.db"
    shutil.copy(store_path, copy)
    conn = sqlite3.connect(copy)
    try:
        conn.execute(f"PRAGMA user_version = {NEWER}")
    finally:
        conn.close()
    data = copy.read_bytes()
    copy.unlink()
    return data


@pytest.mark.parametrize("name", list(NOT_DATABASES))
def test_opening_what_is_not_a_usable_store_is_refused_and_leaves_the_file_alone(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    make, error, words = NOT_DATABASES[name]
    path = tmp_path / "suspect" / "case.db"
    path.parent.mkdir()
    data = make(store_path, tmp_path)
    path.write_bytes(data)

    with pytest.raises(error) as caught:
        Store.open(path)
    assert words in str(caught.value)
    assert caught.value.path == str(path)  # the desktop names the file from this
    assert path.read_bytes() == data
    assert siblings(path) == []

    # The CLI says the same in one line, exit 3, no traceback; still nothing changed.
    code, _, err = run_cli(["stats", "--db", str(path)], capsys)
    assert code == 3 and words in err and "Traceback" not in err
    assert path.read_bytes() == data and siblings(path) == []


def test_a_missing_store_is_not_created_by_opening_it(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.db"
    with pytest.raises(NotADatabase, match="There is no Gridroom database at"):
        Store.open(path)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_import_into_a_newer_store_is_refused_untouched(
    store_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = tmp_path / "newer.db"
    newer.write_bytes(_newer_wal(store_path, tmp_path))
    sheet = tmp_path / "a.csv"
    sheet.write_text(HEADER + GOOD_ROW, encoding="utf-8")
    data = newer.read_bytes()
    code, _, err = run_cli(["import", "--db", str(newer), str(sheet)], capsys)
    assert code == 3 and "written by a newer Gridroom" in err
    assert newer.read_bytes() == data and siblings(newer) == []


# -- a database another program holds ---------------------------------------------------------


HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "exclusive-mode":
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
if sys.argv[2] == "exclusive-mode":
    conn.execute("CREATE TABLE held (x)")  # takes the WAL write lock for real
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
print("released", flush=True)
"""


@dataclass
class Holder:
    """Another process holding ``BEGIN EXCLUSIVE`` on a database until :meth:`release`."""

    process: subprocess.Popen[str]

    def release(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None and self.process.stdout is not None
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            assert self.process.stdout.readline().strip() == "released"
            self.process.wait(timeout=30)
            self.process.stdin.close()
            self.process.stdout.close()


@pytest.fixture
def hold() -> Iterator[Callable[[Path, str], Holder]]:
    """Start a process that locks a database (``mode``: "transaction" or "exclusive-mode")."""
    holders: list[Holder] = []

    def start(path: Path, mode: str = "transaction") -> Holder:
        process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        holder = Holder(process)
        holders.append(holder)
        return holder

    yield start
    for holder in holders:
        holder.release()


def test_a_locked_store_refuses_writes_after_the_busy_timeout_then_works_again(
    store_path: Path,
    actors: dict[str, Actor],
    clock: Clock,
    tmp_path: Path,
    hold: Callable[[Path, str], Holder],
) -> None:
    with Store.open(store_path, clock=clock) as store:
        report(store, actors["operator"], "锁前")
    holder = hold(store_path, "transaction")
    with Store.open(store_path, clock=clock, busy_timeout_ms=150) as store:
        assert store.count() == 1  # WAL: reading goes on while another program writes
        with pytest.raises(StoreLocked, match="in use by another program") as caught:
            report(store, actors["operator"], "锁中")
        assert str(store_path) in str(caught.value)
        sheet = tmp_path / "a.csv"
        sheet.write_text(HEADER + GOOD_ROW, encoding="utf-8")
        with pytest.raises(StoreLocked):
            import_ledger(store, sheet)
        assert store.count() == 1
        holder.release()
        report(store, actors["operator"], "锁后")
        assert len(import_ledger(store, sheet).imported) == 1
        assert store.count() == 3


def test_a_store_held_in_exclusive_mode_cannot_be_opened_and_is_left_alone(
    store_path: Path, clock: Clock, hold: Callable[[Path, str], Holder]
) -> None:
    holder = hold(store_path, "exclusive-mode")
    data = store_path.read_bytes()
    with pytest.raises(StoreLocked, match="in use by another program"):
        Store.open(store_path, clock=clock, busy_timeout_ms=150)
    assert store_path.read_bytes() == data
    holder.release()
    with Store.open(store_path, clock=clock) as store:
        assert store.count() == 0


# -- a full disk ------------------------------------------------------------------------------


@dataclass
class SmallDisk:
    """A tiny filesystem (tmpfs) to fill up; ``fill()`` takes every free byte."""

    root: Path

    def fill(self) -> None:
        with (self.root / "filler").open("wb", buffering=0) as fh:
            block = b"\0" * 65536
            try:
                while True:
                    fh.write(block)
            except OSError:
                pass
            try:
                while True:
                    fh.write(b"\0" * 512)
            except OSError:
                pass

    def free(self) -> None:
        (self.root / "filler").unlink(missing_ok=True)

    def read_only(self) -> None:
        """Remount read-only, like a write-protected USB stick."""
        subprocess.run(["mount", "-o", "remount,ro", str(self.root)], check=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk | None]:
    """A 2 MiB tmpfs mounted under tmp_path (we run as root in CI), or None where mounting is
    not allowed — tests then fall back to ``PRAGMA max_page_count``."""
    root = tmp_path / "disk"
    root.mkdir()
    if shutil.which("mount") is None:
        yield None
        return
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(root)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        yield None
        return
    try:
        yield SmallDisk(root)
    finally:
        if subprocess.run(["umount", str(root)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(root)], capture_output=True)


def _store_on(root: Path, clock: Clock, actors: dict[str, Actor]) -> Store:
    from tests.conftest import ACCOUNTS, GRIDS, TOWNSHIP

    store = Store.create(root / "store.db", scope=TOWNSHIP, clock=clock)
    store.put_grids(GRIDS)
    store.put_accounts(ACCOUNTS.values())
    return store


def _make_full(store: Store, disk: SmallDisk | None) -> None:
    if disk is not None:
        disk.fill()
    else:
        # No tmpfs here: cap the database at its current size, which SQLite reports the same way.
        pages = store.read("PRAGMA page_count")[0][0]
        store.read(f"PRAGMA max_page_count = {pages}")


def test_a_write_on_a_full_disk_fails_with_disk_full_and_keeps_what_was_committed(
    small_disk: SmallDisk | None,
    tmp_path: Path,
    clock: Clock,
    actors: dict[str, Actor],
) -> None:
    root = small_disk.root if small_disk is not None else tmp_path
    store = _store_on(root, clock, actors)
    committed = [report(store, actors["operator"], f"事件{n}") for n in range(5)]
    _make_full(store, small_disk)
    with pytest.raises(DiskFull, match="The disk is full") as caught:
        for n in range(40):  # big descriptions: the next page cannot be had
            report(store, actors["operator"], f"大事件{n}", description="漏水" * 20000)
    assert "nothing was saved" in str(caught.value)
    assert store.count() == 5
    store.close()

    with Store.open(root / "store.db", clock=clock) as again:  # still opens, on a full disk
        assert {c["id"] for c in again.cases(limit=100)} == set(committed)
        assert again.integrity() == "ok"
    if small_disk is not None:
        small_disk.free()
    with Store.open(root / "store.db", clock=clock) as again:
        report(again, actors["operator"], "有空间了")
        assert again.count() == 6


def test_an_import_on_a_full_disk_imports_nothing(
    small_disk: SmallDisk | None,
    tmp_path: Path,
    clock: Clock,
    actors: dict[str, Actor],
) -> None:
    root = small_disk.root if small_disk is not None else tmp_path
    store = _store_on(root, clock, actors)
    report(store, actors["operator"], "已有")
    sheet = tmp_path / "big.csv"
    rows = [f"事件{n},矛盾纠纷/邻里纠纷,张王村,2025-06-01 14:05\r\n" for n in range(400)]
    sheet.write_text("标题,事件类型,村/社区,上报时间\r\n" + "".join(rows), encoding="utf-8")
    _make_full(store, small_disk)
    try:
        with pytest.raises(DiskFull):
            import_ledger(store, sheet)
        assert store.count() == 1
        assert store.read("SELECT count(*) FROM imported_rows")[0][0] == 0
    finally:
        store.close()


def test_an_export_to_a_full_disk_leaves_no_partial_file(
    small_disk: SmallDisk | None, store: Store, actors: dict[str, Actor]
) -> None:
    if small_disk is None:
        pytest.skip("needs a tmpfs mount (root); the store-side disk-full tests still ran")
    with store.write():
        for n in range(300):
            report(store, actors["operator"], f"事件{n}", description="描述" * 200)
    small_disk.fill()
    out = small_disk.root / "台账.csv"
    with pytest.raises(LedgerError, match="The disk is full"):
        export_ledger(store, out)
    assert list(p.name for p in small_disk.root.iterdir()) == ["filler"]


def test_a_store_on_a_read_only_disk_is_refused_as_read_only_not_as_a_foreign_file(
    small_disk: SmallDisk | None,
    clock: Clock,
    actors: dict[str, Actor],
    capsys: pytest.CaptureFixture[str],
) -> None:
    if small_disk is None:
        pytest.skip("needs a tmpfs mount (root)")
    store = _store_on(small_disk.root, clock, actors)
    report(store, actors["operator"])
    store.close()
    path = small_disk.root / "store.db"
    data = path.read_bytes()
    small_disk.read_only()
    with pytest.raises(ReadOnly, match=r"cannot be written .* copy it to a writable folder"):
        Store.open(path, clock=clock)
    # gridroom stats only reads: it opens the store read-only and works (issue 9).
    code, out, err = run_cli(["stats", "--db", str(path)], capsys)
    assert code == 0, err
    assert "integrity:  ok" in out and "cases" in out
    assert path.read_bytes() == data and siblings(path) == []
