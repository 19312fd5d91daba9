"""Sync in the app, against a real county server on loopback: background sync soon after a
change without freezing the window, an honest status bar online and offline, the 同步 page's
conflicts (field and workflow) settled side by side, quarantined records retried and discarded,
cancelling on quit, and the demo township saying it works offline only."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QPushButton

from sync.model.clock import new_id
from sync.model.records import Action, Entry, Status
from sync.store import Store, replica
from tests.conftest import ACCOUNTS, GRIDS, TOWNSHIP

from .sync_fixtures import *  # noqa: F403 (its fixtures: county, open_app, responder …)
from .sync_fixtures import (
    OP,
    SUP,
    App,
    CountyServer,
    Device,
    enrol,
    first_sync_done,
    json_error,
    running_county,
)


def _fields(device_or_app: Any, title: str, grid: str) -> dict[str, Any]:
    return {"title": title, "category": "0604", "grid_id": grid}


def _grid(store: Store) -> str:
    return store.grids()[0].code


def _state(store: Store, case_id: str) -> Any:
    """The case's state (it must exist)."""
    state = store.case(case_id)
    assert state is not None, f"no case {case_id}"
    return state


def _reporter(app: App, title: str) -> Any:
    """A write function that files a case titled ``title`` as the app's account."""
    return lambda store: store.report(app.actor, _fields(app, title, _grid(store)))


def _write(qtbot: Any, app: App, fn: Any) -> Any:
    """Run a write through the app's write worker (as a page does) and return its result."""
    got: dict[str, Any] = {}
    app.ctx.ops.write(fn).success(lambda r: got.setdefault("r", r)).failure(
        lambda e: got.setdefault("e", e)
    ).run()
    qtbot.waitUntil(lambda: bool(got), timeout=10_000)
    if "e" in got:
        raise got["e"]
    return got["r"]


class TickWatch:
    """A GUI-thread timer ticking every 10 ms; records the longest gap between ticks (how long
    the GUI thread was busy)."""

    def __init__(self) -> None:
        self.last = time.perf_counter()
        self.worst = 0.0
        self.ticks = 0
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.worst = max(self.worst, now - self.last)
        self.last = now
        self.ticks += 1

    def stop(self) -> None:
        self.timer.stop()


# -- background sync -------------------------------------------------------------------------------


def test_a_change_reaches_the_county_soon_and_the_gui_stays_live(
    county: CountyServer, memory_keyring, open_app, qtbot, tmp_path: Path
) -> None:
    path = enrol(county, OP, tmp_path / "desk.sqlite")
    other = Device(county, SUP, tmp_path / "other.sqlite")
    # Plenty for the app to pull, so its first sync takes a while: the GUI must stay live.
    for i in range(120):
        other.store.report(other.actor, _fields(other, f"路灯不亮 {i}号", _grid(other.store)))
    assert other.sync().pushed == 120
    watch = TickWatch()
    app = open_app(path)
    assert app.actor.id == county.account(OP)["id"]  # the account that signed in
    report = first_sync_done(qtbot, app)
    watch.stop()
    assert report.status == "ok" and report.pulled_entries == 120
    assert watch.ticks > 10
    # Generous on a shared machine: a blocked GUI thread would stall for the whole sync.
    assert watch.worst < 1.0, f"the GUI thread stalled for {watch.worst:.2f} s"

    status = app.window.status
    qtbot.waitUntil(lambda: status.waiting.text() == "0 条变更待同步", timeout=10_000)
    assert status.online.text().startswith("● 在线 — 127.0.0.1:")
    assert re.fullmatch(r"上次同步：\d\d:\d\d", status.last_sync.text())

    # A change in the app goes up about sync_after_change_s (1 s) later, without a click.
    watch = TickWatch()
    with qtbot.waitSignal(app.syncer.sync_started, timeout=15_000):
        state = _write(
            qtbot,
            app,
            lambda store: store.report(app.actor, _fields(app, "河道漂浮垃圾", _grid(store))),
        )
        changed_at = time.monotonic()
    started_after = time.monotonic() - changed_at
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        pass
    watch.stop()
    assert started_after >= 0.5  # it waited for more changes before going
    assert finished.args[0].pushed == 1 and finished.args[0].status == "ok"
    assert watch.worst < 1.0
    # The county has it: the other device receives it.
    assert other.sync().pulled_entries == 1
    assert _state(other.store, state.case_id).fields["title"] == "河道漂浮垃圾"
    qtbot.waitUntil(lambda: status.waiting.text() == "0 条变更待同步", timeout=10_000)
    assert re.fullmatch(r"上次同步：\d\d:\d\d", status.last_sync.text())
    # The history lists both runs in words.
    app.window.go("sync")
    page = app.window.sync
    qtbot.waitUntil(lambda: page.history_panel.table.rowCount() >= 2, timeout=10_000)
    table = page.history_panel.table
    assert table.item(0, 1).text() == "同步成功"
    assert table.item(0, 2).text() == "1"  # sent
    assert table.item(1, 3).text() == "120"  # received by the first run
    assert table.item(0, 4).text().startswith("↑")
    other.close()


def test_offline_the_status_bar_says_so_and_counts_what_waits(
    memory_keyring, open_app, qtbot, tmp_path: Path
) -> None:
    (tmp_path / "county").mkdir()
    with running_county("sqlite", tmp_path / "county") as server:
        path = enrol(server, OP, tmp_path / "desk.sqlite")
        app = open_app(path)
        first_sync_done(qtbot, app)
        status = app.window.status
        qtbot.waitUntil(lambda: status.online.text().startswith("● 在线"), timeout=10_000)
        last = status.last_sync.text()
    # The county is gone (the server process stopped). Work goes on and queues.
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        # (one function per title: a write function's second parameter gets the progress)
        _write(qtbot, app, _reporter(app, "楼道堆放杂物"))
        _write(qtbot, app, _reporter(app, "占道经营"))
    report = finished.args[0]
    assert report.status == "failed" and report.error_code == "offline"
    qtbot.waitUntil(lambda: status.waiting.text() == "2 条变更待同步", timeout=10_000)
    assert status.online.text() == "● 离线 — 无法连接县级平台"
    assert status.last_sync.text() == last  # the last *success* stays
    app.window.go("sync")
    page = app.window.sync
    qtbot.waitUntil(lambda: page.waiting_panel.table.rowCount() == 2, timeout=10_000)
    first = page.waiting_panel.table.item(0, 0).text()
    assert re.fullmatch(r"事件 330825102-\d{6}-\w+-\d{4} · 发现上报", first), first
    assert page.waiting_panel.table.item(1, 1).text() == "占道经营"
    assert page.tabs.tabText(2) == "待发送 (2)"
    assert page.history_panel.table.item(0, 1).text() == "失败"
    assert "无法连接县级平台" in page.history_panel.table.item(0, 5).text()
    assert "无法连接县级平台" in page.last_error.text()


# -- conflicts -------------------------------------------------------------------------------------


def _pair(county: CountyServer, open_app: Any, qtbot: Any, tmp_path: Path) -> tuple[App, Device]:
    path = enrol(county, OP, tmp_path / "desk.sqlite")
    app = open_app(path)
    first_sync_done(qtbot, app)
    # Changes go up at once here (the setting applies while the app runs).
    app.ctx.settings.set("sync_after_change_s", 0)
    other = Device(county, SUP, tmp_path / "laptop.sqlite")
    return app, other


def _synced(qtbot: Any, app: App) -> Any:
    """Let the app sync now and wait for it (what 立即同步 does)."""
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        qtbot.waitUntil(lambda: app.syncer.sync_now() or app.syncer.syncing, timeout=30_000)
    return finished.args[0]


def _page(qtbot: Any, app: App, predicate: Any) -> Any:
    app.window.go("sync")
    page = app.window.sync
    page.refresh()
    # Generous: on a loaded CI machine the page's background read can take many seconds.
    qtbot.waitUntil(lambda: predicate(page), timeout=30_000)
    return page


def test_a_field_conflict_is_shown_side_by_side_and_keep_theirs_settles_it(
    county: CountyServer, memory_keyring, open_app, qtbot, tmp_path: Path
) -> None:
    app, other = _pair(county, open_app, qtbot, tmp_path)
    case_id = other.store.report(
        other.actor, _fields(other, "邻里噪音", _grid(other.store))
    ).case_id
    other.sync()
    _synced(qtbot, app)
    # Both change the title from the same base; the app's edit goes up by itself.
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000):
        _write(
            qtbot, app, lambda s: s.edit(case_id, app.actor, {"title": "邻里噪音纠纷（楼上装修）"})
        )
    other.store.edit(case_id, other.actor, {"title": "邻里纠纷：夜间噪音"})
    other.sync()
    assert len(_state(other.store, case_id).field_conflicts) == 1
    _synced(qtbot, app)  # brings the laptop's edit: a conflict here too

    page = _page(qtbot, app, lambda p: len(p.conflicts_panel.boxes) == 1)
    assert page.tabs.tabText(0) == "冲突 (1)"
    # The status bar counts conflicts on its own refresh: wait for it, as a person would.
    qtbot.waitUntil(lambda: app.window.status.conflicts.text() != "无冲突", timeout=15_000)
    box = page.conflicts_panel.boxes[0]
    labels_ = box.findChildren(QLabel)
    headings = [lbl.text() for lbl in labels_ if lbl.objectName() == "sideHeading"]
    shown = {lbl.property("side"): lbl.text() for lbl in labels_ if lbl.objectName() == "sideValue"}
    assert headings[0].startswith("我的修改（本机）")
    assert headings[1].startswith("对方的修改（设备 ")
    assert shown == {"left": "邻里噪音纠纷（楼上装修）", "right": "邻里纠纷：夜间噪音"}
    keep_theirs = box.findChild(QPushButton, "keepRight")
    assert keep_theirs.text() == "保留对方的"

    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        keep_theirs.click()
    assert finished.args[0].pushed == 1  # the settling edit went to the county by itself
    qtbot.waitUntil(lambda: page.conflicts_panel.items == [], timeout=15_000)
    assert page.conflicts_panel.empty.isVisible()
    with Store.open(app.ctx.store_path) as store:
        state = _state(store, case_id)
        assert state.field_conflicts == [] and state.fields["title"] == "邻里纠纷：夜间噪音"
        last = store.timeline(case_id)[-1]
        assert last.action == Action.EDIT and last.actor_id == app.actor.id
    other.sync()
    state = _state(other.store, case_id)
    assert state.field_conflicts == [] and state.fields["title"] == "邻里纠纷：夜间噪音"
    qtbot.waitUntil(lambda: app.window.status.conflicts.text() == "无冲突", timeout=10_000)

    # Once more, and this time a merged value settles it.
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000):
        _write(qtbot, app, lambda s: s.edit(case_id, app.actor, {"title": "楼上装修噪音"}))
    other.store.edit(case_id, other.actor, {"title": "夜间噪音扰民"})
    other.sync()
    _synced(qtbot, app)
    page = _page(qtbot, app, lambda p: len(p.conflicts_panel.boxes) == 1)
    box = page.conflicts_panel.boxes[0]
    assert box.merged is not None and box.merged_text() == "夜间噪音扰民"  # the value shown now
    box.merged.setText("楼上装修，夜间噪音扰民")
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        box.save_merged.click()
    assert finished.args[0].pushed == 1
    other.sync()
    state = _state(other.store, case_id)
    assert state.field_conflicts == [] and state.fields["title"] == "楼上装修，夜间噪音扰民"
    other.close()


def test_a_workflow_conflict_is_settled_by_choosing_the_step_that_stands(
    county: CountyServer, memory_keyring, open_app, qtbot, tmp_path: Path
) -> None:
    app, other = _pair(county, open_app, qtbot, tmp_path)
    s, sup = other.store, other.actor
    grid = _grid(s)
    case_id = s.report(sup, _fields(other, "道路积水", grid)).case_id
    other.sync()
    _synced(qtbot, app)
    # The desk takes it through to verification, and the laptop learns of it.
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000):
        _write(qtbot, app, lambda st: st.accept(case_id, app.actor))
        _write(qtbot, app, lambda st: st.dispatch(case_id, app.actor, ("grid", grid)))
        _write(qtbot, app, lambda st: st.feedback(case_id, app.actor, grid, "已清理完毕"))
    # Every step has reached the county when nothing waits any more.
    qtbot.waitUntil(
        lambda: not app.syncer.syncing and app.ctx.ops.gui_store().outbox_size() == 0,
        timeout=30_000,
    )
    other.sync()
    assert _state(s, case_id).status == Status.VERIFYING
    # The desk closes it; the supervisor's laptop, not yet synced, sends it back out.
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000):
        _write(qtbot, app, lambda st: st.verify(case_id, app.actor, passed=True, note="回访满意"))
    s.dispatch(case_id, sup, ("department", "emergency"), note="需应急站复查")
    other.sync()
    _synced(qtbot, app)

    page = _page(qtbot, app, lambda p: len(p.conflicts_panel.boxes) == 1)
    box = page.conflicts_panel.boxes[0]
    assert box.objectName() == "stepConflict"
    flagged = box.step.flagged
    assert {flagged.action, box.step.other.action} == {"verify_pass", "dispatch"}
    # The re-dispatch stands: the close is voided, whichever of the two was flagged.
    button = box.flagged_stands if flagged.action == "dispatch" else box.other_stands
    assert button.isEnabled() and button.text() == "以此步骤为准"
    verify_id = flagged.entry_id if flagged.action == "verify_pass" else box.step.other.entry_id
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        button.click()
    assert finished.args[0].pushed == 1
    qtbot.waitUntil(lambda: page.conflicts_panel.items == [], timeout=15_000)
    with Store.open(app.ctx.store_path) as store:
        settle = store.timeline(case_id)[-1]
        assert settle.action == Action.SETTLE and settle.payload["void"] == [verify_id]
        state = _state(store, case_id)
        assert state.conflicts == [] and state.status == Status.HANDLING
    other.sync()
    state = _state(other.store, case_id)
    assert state.conflicts == [] and verify_id in state.voided
    assert state.status == Status.HANDLING
    other.close()


# -- quarantine ------------------------------------------------------------------------------------


def _forge(store: Store, case_id: str, actor: Any) -> str:
    """An entry the local rules would refuse (a buggy or tampered client writes such)."""
    entry = Entry(
        new_id(),
        case_id,
        Action.APPROVE_PARK,
        actor.id,
        actor.role,
        store.now(),
        store.hlc.now().encode(),
        {"reason": "批准"},
    )
    with store.write() as conn:
        store._append(conn, [entry], local=True)
    return entry.id


def _click_discard(qtbot: Any) -> None:
    def press() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.objectName() == "confirmDiscard":
            button = next(b for b in box.buttons() if b.text() == "丢弃")
            button.click()
        else:
            QTimer.singleShot(20, press)

    QTimer.singleShot(20, press)


def test_a_refused_record_is_shown_with_its_reason_retried_and_discarded(
    county: CountyServer, memory_keyring, open_app, qtbot, tmp_path: Path
) -> None:
    path = enrol(county, OP, tmp_path / "desk.sqlite")
    app = open_app(path)
    first_sync_done(qtbot, app)
    case_id = _write(
        qtbot, app, lambda s: s.report(app.actor, _fields(app, "井盖缺失", _grid(s)))
    ).case_id
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        bad = _write(qtbot, app, lambda s: _forge(s, case_id, app.actor))
    report = finished.args[0]
    if report.quarantined_now == 0:  # the report went alone first; the forged step follows
        report = _synced(qtbot, app)
    assert report.status == "partial"

    status = app.window.status
    qtbot.waitUntil(lambda: status.quarantine.isVisible(), timeout=10_000)
    assert "1 条记录被县级平台拒收" in status.quarantine.text()
    page = _page(qtbot, app, lambda p: p.quarantine_panel.table.rowCount() == 1)
    table = page.quarantine_panel.table
    assert re.fullmatch(r"事件 330825102-\d{6}-\w+-\d{4} · 批准挂账", table.item(0, 0).text())
    assert table.item(0, 1).text() == "井盖缺失"
    assert table.item(0, 2).text() == "该账号的角色不能执行这一步。"
    assert "role_not_allowed" in table.item(0, 2).toolTip()
    assert table.item(0, 3).text() == "1"
    assert page.tabs.tabText(1) == "被拒收 (1)"

    # Retry: it goes again with the next sync (by itself), is refused again, counted twice.
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        page.quarantine_panel.retry_button.click()
    assert finished.args[0].quarantined_now == 1
    page.refresh()
    qtbot.waitUntil(
        lambda: table.rowCount() == 1 and table.item(0, 3).text() == "2", timeout=10_000
    )

    # Discard: asked first, then gone from this computer; the next sync is clean.
    _click_discard(qtbot)
    page.quarantine_panel.discard_button.click()
    qtbot.waitUntil(lambda: table.rowCount() == 0, timeout=10_000)
    with Store.open(path) as store:
        assert bad not in {e.id for e in store.timeline(case_id)}
        assert replica.quarantined(store) == []
    assert _synced(qtbot, app).status == "ok"
    qtbot.waitUntil(lambda: not status.quarantine.isVisible(), timeout=10_000)


# -- quitting and the demo -------------------------------------------------------------------------


def test_quitting_cancels_a_sync_that_waits_for_the_county(
    county: CountyServer, memory_keyring, open_app, responder, qtbot, tmp_path: Path, monkeypatch
) -> None:
    import keyring

    path = enrol(county, OP, tmp_path / "desk.sqlite")
    # The county now answers every request with a fault and asks to come back in 30 s.
    broken = responder(
        500,
        json_error("server_error", "boom"),
        {"Retry-After": "30", "Content-Type": "application/json"},
    )
    with Store.open(path) as store:
        replica.set_state(store, {"server_url": broken.url})
        device = store.device_id
    keyring.get_keyring().set_password("gridroom", f"{broken.url}#{device}", "token")
    monkeypatch.setattr("desktop.syncer.TRANSPORT_OPTIONS", {"attempts": 3, "backoff_max": 30.0})
    app = open_app(path)
    qtbot.waitUntil(lambda: broken.requests >= 1, timeout=15_000)
    qtbot.wait(200)
    assert app.syncer.syncing  # waiting 30 s before it tries again
    started = time.monotonic()
    assert app.syncer.shutdown() is True  # what closing the window does first
    assert time.monotonic() - started < 10.0  # not the 30 s wait
    app.window.close()
    with Store.open(path) as store:
        runs = replica.history(store, 1)
    assert runs and runs[0]["status"] == "cancelled"
    assert broken.requests == 1


def test_the_demo_township_says_it_works_offline_only(
    chinese_app, open_app, qtbot, tmp_path: Path
) -> None:
    path = tmp_path / "demo.sqlite"
    with Store.create(path, scope=TOWNSHIP, device_code="DEMO", synthetic=True) as store:
        store.put_grids(GRIDS, synthetic=True)
        store.put_accounts(ACCOUNTS.values())
        store.report(
            ACCOUNTS["operator"],
            {"title": "演示事件", "category": "0604", "grid_id": GRIDS[0].code},
        )
    app = open_app(path)
    status = app.window.status
    assert app.syncer.view.mode == "demo"
    assert status.online.text() == "● 演示数据 — 只在本机使用，不连接县级平台"
    page = _page(qtbot, app, lambda p: p.truth is not None)
    assert "演示" in page.server.text() and "不与县级平台同步" in page.server.text()
    assert page.sync_button.isHidden() and page.sign_in_button.isHidden()
    assert page.link.text() == "演示数据 — 只在本机使用，不连接县级平台"
    assert app.syncer.sync_now() is False  # nothing to sync with, and no error either
    assert page.last_error.text() == "无"


# -- signed out ------------------------------------------------------------------------------------


def test_signed_out_the_app_says_so_and_signing_in_from_the_page_resumes_sync(
    county: CountyServer, memory_keyring, open_app, qtbot, tmp_path: Path
) -> None:
    path = enrol(county, OP, tmp_path / "desk.sqlite")
    memory_keyring.items.clear()  # signed out (or a keyring that lost the token)
    app = open_app(path)
    report = first_sync_done(qtbot, app)
    assert report.error_code == "not_signed_in"
    status = app.window.status
    qtbot.waitUntil(lambda: "未登录县级平台" in status.online.text(), timeout=10_000)
    assert status.online.text() == "● 未登录县级平台 — 登录后才能同步"
    page = _page(qtbot, app, lambda p: p.truth is not None)
    assert page.sign_in_button.text() == "重新登录…"
    assert page.last_error.text() == "尚未登录县级平台：登录后才能同步。"
    page.sign_in_button.click()
    dialog = page.login_dialog
    assert dialog.user.text() == OP  # who signed in here last
    dialog.password.setText(county.password(OP))
    with qtbot.waitSignal(app.syncer.sync_finished, timeout=30_000) as finished:
        dialog.sign_in_button.click()
    assert finished.args[0].status == "ok"
    qtbot.waitUntil(lambda: status.online.text().startswith("● 在线"), timeout=10_000)
    assert page.sign_in_button.text() == "登录…"
