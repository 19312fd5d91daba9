"""The log files: real rotating files in a temporary folder, real uncaught exceptions (in a real
Qt app, a CLI process, another thread, a segfault), and secrets redacted on the way in."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync import logs

REPO = Path(__file__).resolve().parents[2]

#: What must never reach a log file, and where each one hides in a record.
TOKEN = "Zq3kR8vN1xT7mP2sW9yL4bH6cJ0dF5gA_-tOKEN"
PASSWORD = "hunter2-网格-Passw0rd"
ID_NUMBER = "33082519800101123X"
PHONE = "13812345678"
SECRETS = (TOKEN, PASSWORD, ID_NUMBER, PHONE, "138 1234 5678")


def log_text(folder: Path) -> str:
    return "".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(folder.glob("*.log*"))
        if p.is_file()
    )


@pytest.fixture
def log_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Logging set up for real into a temporary folder (``GRIDROOM_LOG_DIR``), torn down after."""
    folder = tmp_path / "logs"
    monkeypatch.setenv("GRIDROOM_LOG_DIR", str(folder))
    logs.shutdown()
    try:
        yield folder
    finally:
        logs.shutdown()


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_log_file_is_where_the_docs_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDROOM_LOG_DIR", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    if sys.platform != "win32":
        # docs/deploy.md §6: ~/.local/share/gridroom/logs/ (the data folder's "logs").
        assert logs.log_dir() == tmp_path / "data" / "gridroom" / "logs"
    monkeypatch.setenv("GRIDROOM_LOG_DIR", str(tmp_path / "elsewhere"))
    assert logs.log_dir() == tmp_path / "elsewhere"
    deploy = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert "~/.local/share/gridroom/logs/" in deploy and "GRIDROOM_LOG_DIR" in deploy
    # The doctor's bundle collects from the same folder.
    from sync.cli.doctor import log_dirs
    from sync.settings import Settings

    assert log_dirs(Settings())[0] == tmp_path / "elsewhere"


def test_secrets_never_reach_the_file_in_message_args_or_traceback(log_folder: Path) -> None:
    path = logs.setup(crash_file=False)
    assert path == log_folder / logs.LOG_FILE
    log = logging.getLogger("gridroom.test")
    log.info("request headers: {'Authorization': 'Bearer %s'}", TOKEN)
    log.info("answer %s", {"token": TOKEN, "device": "K7QX"})
    log.info('json body {"login": "op", "password": "%s"}', PASSWORD)
    log.info("resident %s, phone %s, also written 138 1234 5678", ID_NUMBER, PHONE)
    log.warning("url https://grid.example.gov.cn/v1/pull?access_token=%s&cursor=5", TOKEN)
    try:
        raise ValueError(f"could not save case for {ID_NUMBER} / {PHONE} with token={TOKEN}")
    except ValueError:
        log.exception("saving failed")
    log.info("stack for IT", stack_info=True)
    text = log_text(log_folder)
    for secret in SECRETS:
        assert secret not in text, secret
    # What was said is still there, with the secrets replaced, and so is the traceback.
    assert "<id-number>" in text and "<phone>" in text and "<redacted>" in text
    assert "Traceback (most recent call last)" in text and "ValueError: could not save" in text
    assert "resident <id-number>, phone <phone>" in text
    assert "cursor=5" in text  # the rest of the line is kept


def test_a_password_the_process_holds_is_redacted_anywhere(log_folder: Path) -> None:
    logs.setup(crash_file=False)
    logs.add_secret(PASSWORD)
    logging.getLogger("gridroom.test").warning("the user typed %s into the wrong box", PASSWORD)
    text = log_text(log_folder)
    assert PASSWORD not in text and "the user typed <redacted>" in text


def test_redaction_keeps_ordinary_numbers() -> None:
    # Millisecond timestamps, case numbers and HLC stamps are not phones or ID numbers.
    line = "case 20261122-0001 at 1764641234567 hlc 1764641234567.0003.K7QX grid 330825002222001"
    assert logs.redact(line) == line


def test_the_log_rotates_and_keeps_a_few_files(log_folder: Path) -> None:
    logs.setup(crash_file=False)
    log = logging.getLogger("gridroom.test")
    line = "x" * 1000
    for _ in range((logs.MAX_BYTES * 2) // 1000 + 10):
        log.info(line)
    files = sorted(p.name for p in log_folder.glob("gridroom.log*"))
    assert files[:3] == ["gridroom.log", "gridroom.log.1", "gridroom.log.2"]
    assert all(p.stat().st_size <= logs.MAX_BYTES for p in log_folder.glob("gridroom.log*"))
    handler = logs._file_handler
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert handler.backupCount == logs.BACKUPS


def test_an_unwritable_log_folder_does_not_stop_the_program(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    try:
        assert logs.setup(blocker / "logs", crash_file=False) is None
    finally:
        logs.shutdown()
    assert "cannot write the log" in capsys.readouterr().err


@pytest.mark.qt_no_exception_capture
@pytest.mark.qt_log_ignore("gridroom test warning")
def test_an_exception_in_a_qt_slot_leaves_its_traceback_in_the_log(
    qtbot,
    log_folder: Path,  # type: ignore[no-untyped-def]
) -> None:
    from PySide6.QtCore import qWarning
    from PySide6.QtWidgets import QPushButton

    from desktop.app import install_logging

    seen: list[BaseException] = []
    before = sys.excepthook
    sys.excepthook = lambda _t, exc, _tb: seen.append(exc)  # what prints it (stderr) otherwise
    try:
        assert install_logging() == log_folder / logs.LOG_FILE
        button = QPushButton("保存")
        qtbot.addWidget(button)

        def save_clicked() -> None:
            raise RuntimeError(f"forced failure in a slot for resident {ID_NUMBER}")

        button.clicked.connect(save_clicked)
        button.click()
        qWarning("gridroom test warning from Qt")
    finally:
        logs.shutdown()
        sys.excepthook = before
    assert [type(e) for e in seen] == [RuntimeError]  # the previous hook still ran
    text = log_text(log_folder)
    assert "uncaught exception in the main thread" in text
    assert "Traceback (most recent call last)" in text
    assert "in save_clicked" in text and "RuntimeError: forced failure in a slot" in text
    assert ID_NUMBER not in text
    assert "gridroom.qt: gridroom test warning from Qt" in text
    assert "gridroom desktop" in text  # the start line


def test_an_unexpected_error_shown_in_a_dialog_is_logged_with_its_traceback(
    qtbot,
    log_folder: Path,  # type: ignore[no-untyped-def]
) -> None:
    from desktop.errors import ErrorDialog

    logs.setup(crash_file=False)

    def broken() -> None:
        raise KeyError(f"no such grid for {PHONE}")

    try:
        broken()
    except KeyError as exc:
        dialog = ErrorDialog(exc, None, "保存事件")
    qtbot.addWidget(dialog)
    assert str(log_folder / logs.LOG_FILE) in dialog.explained.details  # where IT looks
    text = log_text(log_folder)
    assert "保存事件: unexpected error" in text and "in broken" in text
    assert PHONE not in text


def test_a_cli_crash_leaves_its_traceback_in_the_log(tmp_path: Path) -> None:
    # The real entry point and the real excepthook; the crash is forced inside a subcommand.
    folder = tmp_path / "logs"
    result = run_python(
        f"""
        import sys
        from sync.cli import stats
        def run(args):
            raise ZeroDivisionError("forced crash while counting {ID_NUMBER}")
        stats.run = run
        from desktop.cli import main
        sys.exit(main(["stats", "--db", "nowhere.sqlite"]))
        """,
        {"GRIDROOM_LOG_DIR": str(folder)},
    )
    assert result.returncode == 1
    assert "ZeroDivisionError" in result.stderr  # still printed where it always was
    text = log_text(folder)
    assert (folder / logs.CLI_LOG_FILE).exists()  # the commands' own file, beside the app's
    assert re.search(r"gridroom stats \S+ started \(pid \d+", text)
    assert "uncaught exception in the main thread" in text
    assert "Traceback (most recent call last)" in text and "in run" in text
    assert "ZeroDivisionError: forced crash while counting <id-number>" in text
    assert ID_NUMBER not in text


def test_an_exception_in_another_thread_is_logged(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    result = run_python(
        """
        import threading
        from sync import logs
        logs.start("gridroom test")
        def work():
            raise OSError("the sync thread fell over")
        t = threading.Thread(target=work, name="gridroom-net")
        t.start(); t.join()
        """,
        {"GRIDROOM_LOG_DIR": str(folder)},
    )
    assert result.returncode == 0, result.stderr
    text = log_text(folder)
    assert "uncaught exception in the thread gridroom-net" in text
    assert "OSError: the sync thread fell over" in text


def test_a_hard_crash_leaves_every_threads_stack_in_the_crash_file(tmp_path: Path) -> None:
    folder = tmp_path / "logs"
    result = run_python(
        """
        import ctypes
        from sync import logs
        logs.start("gridroom test")
        def deep_in_the_engine():
            ctypes.string_at(0)  # a segfault, as a broken native library would cause
        deep_in_the_engine()
        """,
        {"GRIDROOM_LOG_DIR": str(folder)},
    )
    assert result.returncode != 0
    crash = (folder / logs.CRASH_FILE).read_text(encoding="utf-8")
    assert "Fatal Python error: Segmentation fault" in crash
    assert "deep_in_the_engine" in crash


def test_threading_hook_is_put_back(log_folder: Path) -> None:
    before = (sys.excepthook, threading.excepthook)
    logs.start("gridroom test")
    assert sys.excepthook is not before[0]
    logs.shutdown()
    assert (sys.excepthook, threading.excepthook) == before
