"""The main window and what surrounds the pages: navigation and shortcuts, the status bar's
local truth, the sync and settings pages, startup, and errors in plain words (a locked store,
a corrupt one, a failed write) — on real store files, real locks, real widgets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

from desktop import app as app_module
from desktop.errors import ErrorDialog, explain
from desktop.mainwindow import MainWindow, Placeholder
from desktop.ops import Cancelled
from sync.model.records import Action
from sync.model.workflow import Refused
from sync.settings import Settings
from sync.store import Store
from sync.store.errors import (
    DiskFull,
    NewerSchema,
    NotADatabase,
    StoreCorrupt,
    StoreError,
    StoreLocked,
)
from sync.store.queries import CaseQuery
from tests.conftest import ACCOUNTS

from .conftest import wait_idle


def dialogs(parent=None) -> list[ErrorDialog]:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, ErrorDialog)]
    if parent is not None:
        found += parent.findChildren(ErrorDialog)
    return [d for d in dict.fromkeys(found) if d.isVisible()]


#: Another program holding a lock on the store until its stdin closes.
LOCK_HOLDER = r"""
import sys, sqlcipher3
conn = sqlcipher3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "exclusive-mode":
    # A program that keeps the whole file to itself: even readers are shut out.
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("UPDATE meta SET value = value WHERE key = 'scope'")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
conn.close()
"""


class LockHolder:
    """Runs :data:`LOCK_HOLDER` in another process (a real lock, as another program holds it)."""

    def __init__(self, path: Path, mode: str = "write") -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", LOCK_HOLDER, str(path), mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> LockHolder:
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.close()
        self.process.wait(timeout=10)
        self.process.stdout.close()


def corrupt(path: Path) -> None:
    """Overwrite every page but the header page with noise, as a failing disk would."""
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.seek(4096)
        fh.write(os.urandom(size - 4096))


# -- the window ----------------------------------------------------------------------------------


def test_window_title_names_the_township(window):
    assert window.windowTitle() == "网格通·指挥室 — 东华街道"
    assert window.page_keys() == [
        "dashboard",
        "cases",
        "new_case",
        "grids",
        "map",
        "stats",
        "fieldwork",
        "sync",
        "settings",
    ]
    titles = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert titles == [
        "工作台",
        "事件",
        "新建事件",
        "网格",
        "地图",
        "统计",
        "走访巡查",
        "同步",
        "设置",
    ]
    # Each nav item tells its shortcut.
    assert window.nav.item(1).toolTip() == "事件 (Ctrl+2)"


def test_ctrl_digits_navigate_and_menus_show_shortcuts(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    for digit, key in (
        (2, "cases"),
        (4, "grids"),
        (5, "map"),
        (6, "stats"),
        (7, "fieldwork"),
        (8, "sync"),
        (9, "settings"),
        (1, "dashboard"),
    ):
        qtbot.keyClick(window, getattr(Qt.Key, f"Key_{digit}"), Qt.KeyboardModifier.ControlModifier)
        assert window.current_page() == key
    lines = dict((text, keys) for keys, text in window.shortcut_lines())
    assert lines["新建事件"] == "Ctrl+N"
    assert lines["打开下一件超期事件"] == "F8"
    assert lines["查找事件"] == "Ctrl+F"
    assert lines["执行当前事件的主要操作"] == "Ctrl+回车"  # Qt names keys in Chinese too
    assert window.next_overdue_action.toolTip() == "打开下一件超期事件 (F8)"


def test_ctrl_n_and_ctrl_f(window, qtbot):
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() == "new_case"
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page() == "cases"
    assert window.cases.list.filters.search.hasFocus()
    wait_idle(qtbot, window.ctx)


def test_f8_opens_the_overdue_cases_one_after_another(window, ctx, case_store_path, clock, qtbot):
    with Store.open(case_store_path, clock=clock) as store:
        red = CaseQuery(light="red", sort="due_at", descending=False)
        expected = [r["id"] for r in store.cases(red, limit=1000)]
    assert len(expected) >= 2
    opened: list[str] = []
    ctx.open_case_requested.connect(opened.append)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=2000)
    qtbot.keyClick(window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=5000)
    qtbot.keyClick(window, Qt.Key.Key_F8)
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=5000)
    # Most overdue first, then the next; the case shows on the cases page.
    assert opened == expected[:2]
    assert window.current_page() == "cases"
    assert window.cases.shown_case == expected[1]
    wait_idle(qtbot, ctx)


def test_primary_action_needs_an_open_case(window, qtbot):
    window.go("cases")
    window.primary_action()
    assert window.statusBar().currentMessage() == "请先打开一个事件。"


def test_window_starts_without_the_detail_and_report_modules(ctx, qtbot, monkeypatch):
    import desktop.mainwindow as mainwindow

    monkeypatch.setattr(mainwindow, "optional_class", lambda module, name: None)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    assert isinstance(win.cases.detail, Placeholder)
    assert isinstance(win.report, Placeholder)
    win.open_case("0000-case")
    assert "0000-case" in win.cases.detail.label.text()
    assert win.current_page() == "cases"
    win.close()


def test_window_remembers_its_geometry(ctx, qtbot):
    first = MainWindow(ctx)
    qtbot.addWidget(first)
    first.resize(1000, 640)
    first.show()
    size = (first.width(), first.height())
    assert size != (1440, 900)  # not the default
    first.close()
    assert ctx.settings.get("window_geometry")
    second = MainWindow(ctx)
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == size
    second.close()


# -- local truth ---------------------------------------------------------------------------------


def test_status_bar_shows_the_local_truth(window, ctx, case_store_path, clock, operator, qtbot):
    status = window.status
    qtbot.waitUntil(lambda: status.truth is not None, timeout=5000)
    with Store.open(case_store_path, clock=clock) as store:
        outbox = store.outbox_size()
        case_id = store.cases(CaseQuery(statuses=("reported",)), limit=1)[0]["id"]
    assert status.online.text() == "● 离线 — 未配置县级平台"
    assert status.waiting.text() == f"{outbox} 条变更待同步"
    assert status.last_sync.text() == "上次同步：从未"
    assert status.conflicts.text() == "无冲突"
    assert status.account.text().startswith("当前账号：王丽（")
    with qtbot.waitSignal(status.refreshed, timeout=10_000):
        ctx.ops.write(lambda store: store.accept(case_id, operator)).run()
    assert status.waiting.text() == f"{outbox + 1} 条变更待同步"
    ctx.settings.set("server_url", "https://grid.example.gov.cn")
    assert status.online.text() == "● 离线 — 尚未连接县级平台"
    status.set_link(True, "grid.example.gov.cn")
    assert status.online.text() == "● 在线 — grid.example.gov.cn"


def test_sync_page_explains_what_waits(window, ctx, case_store_path, clock, qtbot):
    with qtbot.waitSignal(window.sync.refreshed, timeout=10_000):
        window.go("sync")
    with Store.open(case_store_path, clock=clock) as store:
        outbox = store.outbox_size()
    assert window.sync.outbox.text() == f"{outbox} 条变更"
    assert window.sync.last_sync.text() == "从未同步"
    assert window.sync.conflicts.text() == "0 件"
    assert not window.sync.show_conflicts.isEnabled()
    assert window.sync.device.text() == "TEST"
    assert "未配置" in window.sync.server.text()


# -- settings ------------------------------------------------------------------------------------


def test_language_setting_is_saved_for_the_next_start(window, ctx):
    page = window.settings_page
    page.language.setCurrentIndex(page.language.findData("en"))
    assert ctx.settings.get("language") == "en"
    assert Settings(ctx.settings.site_path, ctx.settings.user_path.parent).get("language") == "en"
    assert "重新启动" in page.language_note.text()


def test_settings_locked_by_it_are_shown_disabled(make_ctx, case_store_path, qtbot, tmp_path):
    site = tmp_path / "site.toml"
    site.write_text(
        'language = "zh_CN"\nserver_url = "https://grid.lyx.gov.cn"\n\n'
        '[policy]\nlocked = ["language", "server_url"]\n',
        encoding="utf-8",
    )
    ctx = make_ctx(case_store_path)
    ctx.settings = Settings(site, tmp_path / "config")
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    page = win.settings_page
    assert not page.language.isEnabled()
    assert not page.server_url.isEnabled()
    assert page.server_url.text() == "https://grid.lyx.gov.cn"
    assert not page.locked_notes["language"].isHidden()
    assert page.locked_notes["language"].text() == "由信息化管理员统一设置，此处不能修改。"
    assert page.page_size.isEnabled() and page.locked_notes["page_size"].isHidden()
    win.close()


def test_switching_account(window, ctx):
    page = window.settings_page
    supervisor = ACCOUNTS["supervisor"]
    page.accounts.setCurrentIndex(
        next(i for i in range(page.accounts.count()) if page.accounts.itemData(i).id == "sup-li")
    )
    page.switch_button.click()
    assert ctx.actor == supervisor
    assert ctx.settings.get("account") == "sup-li"
    assert "李建国" in window.status.account.text()
    assert page.signed_in.text().startswith("李建国")


# -- errors in plain words -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "headline"),
    [
        (StoreLocked("The database is in use by another program (x)."), "数据库正被其他程序占用。"),
        (StoreCorrupt("The database is damaged (x)."), "数据库已损坏。"),
        (NotADatabase("This file is not a Gridroom database (x)."), "该文件不是网格通数据库。"),
        (DiskFull("The disk is full (x)."), "磁盘空间已满。"),
        (NewerSchema("newer"), "该数据库由更新版本的网格通创建。"),
    ],
)
def test_store_errors_are_explained_in_chinese(chinese_app, error, headline):
    words = explain(error)
    assert words.headline == headline
    assert words.known
    assert "Traceback" not in words.headline + words.advice
    assert f"code: {error.code}" in words.details


def test_a_bug_keeps_its_traceback_behind_the_details(chinese_app):
    try:
        {}["missing"]
    except KeyError as exc:
        words = explain(exc)
    assert words.headline == "网格通内部出现错误。"
    assert not words.known
    assert "Traceback" not in words.headline + words.advice
    assert "Traceback" in words.details  # for IT, behind "Show Details…"


def test_a_refused_step_is_explained_with_its_reason(chinese_app):
    reason = "only a case awaiting acceptance can be accepted, rejected or merged"
    words = explain(Refused(Action.ACCEPT, reason))
    assert words.headline == "当前不能执行此操作。"
    assert words.known and words.advice  # the reason, in Chinese where the case pages know it
    assert "Traceback" not in words.advice


def test_locked_store_write_fails_in_plain_words_and_changes_nothing(
    make_ctx, case_store_path, clock, operator, qtbot
):
    # A write gives up after 0.2 s instead of the usual 5 s wait for the lock.
    ctx = make_ctx(case_store_path, busy_timeout_ms=200)
    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    wait_idle(qtbot, ctx)
    with Store.open(case_store_path, clock=clock) as store:
        case_id = store.cases(CaseQuery(statuses=("reported",)), limit=1)[0]["id"]
        before = store.outbox_size()
    with LockHolder(case_store_path):  # another program holds the write lock
        ctx.ops.write(lambda store: store.accept(case_id, operator)).run()
        qtbot.waitUntil(lambda: bool(dialogs(win)), timeout=10_000)
    dialog = dialogs(win)[0]
    assert dialog.text() == "数据库正被其他程序占用。"
    assert "没有做任何更改" in dialog.informativeText()
    assert "Traceback" not in dialog.text() + dialog.informativeText()
    assert "code: locked" in dialog.detailedText()
    dialog.close()
    wait_idle(qtbot, ctx)
    with Store.open(case_store_path, clock=clock) as store:
        assert store.case_row(case_id)["status"] == "reported"
        assert store.outbox_size() == before
    win.close()


def test_store_damaged_mid_session_is_explained(window, ctx, case_store_path, qtbot):
    wait_idle(qtbot, ctx)
    corrupt(case_store_path)
    window.show_cases(CaseQuery(text="漏水"))  # the search index is read for the first time
    qtbot.waitUntil(lambda: bool(dialogs(window)), timeout=10_000)
    texts = {d.text() for d in dialogs(window)}
    assert "数据库已损坏。" in texts
    for d in dialogs(window):
        assert "Traceback" not in d.text() + d.informativeText()
        d.close()
    wait_idle(qtbot, ctx)


def _run_and_capture(argv: list[str], qtbot) -> tuple[int, list[tuple[str, str]]]:
    """Run the app's startup in-process; close (and record) any modal box it shows."""
    seen: list[tuple[str, str]] = []

    def close_modal() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append((box.text(), box.informativeText()))
            box.done(0)
        else:
            QTimer.singleShot(50, close_modal)

    QTimer.singleShot(50, close_modal)
    code = app_module.run_gui(argv)
    return code, seen


def test_corrupt_store_at_startup_is_explained(case_store_path, qtbot, chinese_app, capsys):
    corrupt(case_store_path)
    code, seen = _run_and_capture(["--db", str(case_store_path)], qtbot)
    assert code == 3
    assert seen and seen[0][0] == "数据库已损坏。"
    err = capsys.readouterr().err
    assert "数据库已损坏" in err and "Traceback" not in err


def test_locked_store_at_startup_is_explained(case_store_path, qtbot, chinese_app, monkeypatch):
    monkeypatch.setattr(app_module, "STARTUP_BUSY_TIMEOUT_MS", 200)
    with LockHolder(case_store_path, "exclusive-mode"):
        code, seen = _run_and_capture(["--db", str(case_store_path)], qtbot)
    assert code == 3
    assert seen and seen[0][0] == "数据库正被其他程序占用。"


def test_a_file_that_is_not_a_store_is_explained(tmp_path, qtbot, chinese_app):
    bogus = tmp_path / "notes.sqlite"
    bogus.write_text("这不是数据库", encoding="utf-8")
    code, seen = _run_and_capture(["--db", str(bogus)], qtbot)
    assert code == 3
    assert seen[0][0] == "该文件不是网格通数据库。"


def test_startup_opens_the_store_as_the_chosen_account(case_store_path, tmp_path, chinese_app):
    """The whole startup path, ending in --screenshots (which renders and exits)."""
    out = tmp_path / "shots"
    code = app_module.run_gui(
        ["--db", str(case_store_path), "--account", "sup-li", "--screenshots", str(out)]
    )
    assert code == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert "dashboard.png" in names and "cases.png" in names and "grids.png" in names
    assert "stats.png" in names
    assert all((out / n).stat().st_size > 10_000 for n in names)


def test_a_store_without_accounts_is_refused(store_path, chinese_app):
    with Store.open(store_path) as store:
        store.conn.execute("DELETE FROM accounts")
    with pytest.raises(StoreError, match="no accounts"):
        app_module.open_store(store_path, None)


# -- the demo township -----------------------------------------------------------------------------


def test_demo_is_built_on_first_run_and_reused(tmp_path, chinese_app, monkeypatch):
    monkeypatch.setattr(app_module, "DEMO_CASES", 150)  # 20,000 in the app; small for a test
    demo = app_module.demo_path()
    assert str(demo).startswith(str(tmp_path))  # the isolated user data folder
    assert not demo.exists()
    assert app_module.run_gui(["--demo", "--screenshots", str(tmp_path / "a")]) == 0
    assert demo.exists()
    built = demo.stat().st_mtime_ns
    with Store.open(demo) as store:
        assert store.synthetic and store.scope == "330825002"
        assert store.count(CaseQuery()) == 150
        assert store.account("demo-operator") is not None
    assert (tmp_path / "a" / "dashboard.png").exists()
    # The next start opens the same file instead of building again.
    again = app_module.choose_store(app_module.parse_args(["--demo"]), Settings())
    assert again == demo and demo.stat().st_mtime_ns == built


def test_cancelling_the_demo_build_leaves_nothing(tmp_path, chinese_app, qtbot):
    demo = tmp_path / "demo.sqlite"

    def press_cancel() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and dialog.objectName() == "buildProgress":
            button = dialog.findChild(QPushButton)
            assert button is not None and button.text() == "取消"
            button.click()
        else:
            QTimer.singleShot(20, press_cancel)

    QTimer.singleShot(20, press_cancel)
    with pytest.raises(Cancelled):
        app_module.run_in_background(
            None, "…", lambda progress: app_module.build_demo(demo, progress, 20_000)
        )
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert leftovers == []


def test_the_enrolled_store_is_found_where_login_puts_it(tmp_path, settings, case_store_path):
    from sync.client.enrol import default_store_path

    assert app_module.enrolled_path(settings) is None  # not enrolled
    settings.set("township", "330825002")
    settings.set("data_dir", str(tmp_path / "stores"))
    assert app_module.enrolled_path(settings) is None  # enrolled, store not there yet
    target = default_store_path("330825002", tmp_path / "stores")
    target.parent.mkdir(parents=True)
    case_store_path.replace(target)
    assert app_module.enrolled_path(settings) == target
