"""GUI test fixtures: a real store with cases in every state, a real context and main window.

Everything is real: the store is an SQLite file built through the store's command API, the
context runs the real background operations, widgets are real (offscreen). The case store is
built once per session and copied for each test (building it is the slow part). The app runs
in Chinese with the bundled font, as a command room sees it.

Tests under tests/gui are marked ``gui`` by the top-level conftest.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from sync.model.records import Actor, Grid, GridKind, Role, Source, Staff, StaffRole, Urgency
from sync.settings import Settings
from sync.store import Store
from tests.conftest import (
    ACCOUNTS,
    DEPARTMENTS,
    DONGHUAJIE,
    GRIDS,
    HUAIWANG,
    STAFF,
    TOWNSHIP,
    ZHANGWANG,
    Clock,
)

#: Titles with the words the search tests look for (漏水, 纠纷 …).
TITLES = (
    ("0101", "邻里纠纷：楼上漏水渗到楼下"),
    ("0101", "邻居因停车位发生纠纷"),
    ("0201", "沿街店铺消防通道堵塞"),
    ("0202", "老旧小区燃气管道锈蚀"),
    ("0301", "村口垃圾堆放多日未清运"),
    ("0302", "生活污水直排河道"),
    ("0401", "农户未批先建违法建房"),
    ("0604", "自来水管爆裂漏水"),
    ("0701", "学校周边无证流动摊贩"),
    ("0801", "河道电鱼非法捕捞"),
    ("0104", "工地拖欠农民工工资"),
    ("0601", "独居老人需要上门助餐"),
)

#: Extra team members so the grid page has a full 一长三员 and 1+N liaisons to show.
EXTRA_STAFF = (
    Staff("st-3", "李秀英", StaffRole.PARTTIME, "13800000003", f"{ZHANGWANG}001"),
    Staff("st-4", "赵志刚", StaffRole.INSTRUCTOR, "13800000004", f"{ZHANGWANG}001"),
    Staff("st-5", "钱警官", StaffRole.LIAISON, "13800000005", f"{ZHANGWANG}001", "pcs"),
    Staff("st-6", "孙调解", StaffRole.LIAISON, "13800000006", f"{ZHANGWANG}001", "sfs"),
)

#: A grid far above the rural standard (200 households / 500 people): flagged as oversize.
OVERSIZE_GRID = Grid(
    f"{HUAIWANG}002", f"{HUAIWANG}002", "槐王村第二网格", HUAIWANG, GridKind.RURAL, 420, 1300
)

CASES = 48

#: Qt messages that are not problems of the app (a curated list; every entry says why).
QT_LOG_IGNORE = (
    # The offscreen platform cannot pass min/max size hints to a window manager it lacks.
    "This plugin does not support propagateSizeHints",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark GUI tests ``gui`` and give them the curated Qt-message ignore list (a hook in a
    sub-folder's conftest still sees every item of the session, hence the path check)."""
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.gui)  # also done at the top level; harmless twice
            for pattern in QT_LOG_IGNORE:
                item.add_marker(pytest.mark.qt_log_ignore(pattern))


def build_case_store(path: Path, clock: Clock, n: int = CASES) -> dict[str, int]:
    """A 东华街道 store with ``n`` cases spread over the last weeks in every loop state.

    The clock ends at the fixture's "now" (Monday 2025-06-02 09:00 Shanghai); cases reported
    days ago and never handled are overdue (red) by then, recent ones are green or yellow.
    Returns counts by how far each case got (for tests that want to know).
    """
    now = clock.now
    op, dep = ACCOUNTS["operator"], ACCOUNTS["department"]
    worker = ACCOUNTS["grid_worker"]
    rng = random.Random(7)
    grids = [g for g in GRIDS]
    sources = list(Source)
    stages = {"reported": 0, "accepted": 0, "handling": 0, "verifying": 0, "closed": 0, "self": 0}
    with Store.create(path, scope=TOWNSHIP, device_code="TEST", clock=clock) as store:
        store.put_grids((*GRIDS, OVERSIZE_GRID), synthetic=True)
        store.put_departments(DEPARTMENTS)
        store.put_accounts(ACCOUNTS.values())
        store.put_staff((*STAFF, *EXTRA_STAFF), synthetic=True)
        for i in range(n):
            category, title = TITLES[i % len(TITLES)]
            grid = grids[i % len(grids)]
            # Spread over six weeks, newest last; a few today.
            age_hours = (n - i) * 20 + rng.randint(0, 10) if i < n - 4 else rng.randint(0, 2)
            clock.now = now - age_hours * 3_600_000
            fields = {
                "title": f"{title}（{i + 1}号）",
                "description": f"{grid.name}群众反映：{title}，请尽快处理。",
                "category": category,
                "grid_id": grid.code,
                "address": f"{grid.name}附近{i + 1}号",
                "source": sources[i % len(sources)].value,
                "urgency": (Urgency.URGENT if i % 9 == 0 else Urgency.NORMAL).value,
                "reporter_name": "群众",
                "reporter_phone": "13900001234",
            }
            if i % 11 == 5 and grid.code == f"{ZHANGWANG}001":
                store.report(worker, fields, self_handled_result="已现场劝导解决")
                stages["self"] += 1
                continue
            case_id = store.report(op, fields).case_id
            stage = i % 6
            if stage == 0:
                stages["reported"] += 1
                continue
            clock.now += 3_600_000
            store.accept(case_id, op)
            if stage == 1:
                stages["accepted"] += 1
                continue
            clock.now += 3_600_000
            store.dispatch(case_id, op, lead=("department", "zhzf"))
            if stage == 2:
                stages["handling"] += 1
                continue
            clock.now += 12 * 3_600_000
            store.feedback(case_id, dep, task="zhzf", result="已到现场处理完毕")
            if stage == 3:
                stages["verifying"] += 1
                continue
            clock.now += 3_600_000
            store.verify(case_id, op, passed=True, note="电话回访，群众满意")
            stages["closed"] += 1
            if stage == 5:
                clock.now += 3_600_000
                store.archive(case_id, op)
    clock.now = now
    return stages


@pytest.fixture(scope="session")
def _case_store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "cases.sqlite"
    build_case_store(path, Clock())
    return path


@pytest.fixture
def case_store_path(_case_store_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the session's case store (48 cases in every state, 6 grids, staff)."""
    path = tmp_path / "cases.sqlite"
    shutil.copyfile(_case_store_template, path)
    return path


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never read or write the real user's settings or data folder."""
    monkeypatch.setenv("GRIDROOM_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("GRIDROOM_SITE_CONFIG", str(tmp_path / "site.toml"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.fixture(scope="session")
def chinese_app(qapp):
    """The QApplication with the bundled font and the zh_CN translations, as users run it."""
    from desktop.app import setup

    setup(qapp, "zh_CN")
    return qapp


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(site_path=tmp_path / "site.toml", user_dir=tmp_path / "config")


@pytest.fixture
def operator() -> Actor:
    return ACCOUNTS["operator"]


@pytest.fixture
def make_ctx(chinese_app, settings: Settings, clock: Clock):
    """Build an :class:`AppContext` on a store path (shut down after the test)."""
    from desktop.context import AppContext
    from desktop.ops import Ops

    made: list[AppContext] = []

    def make(
        path: Path, actor: Actor | None = None, *, busy_timeout_ms: int | None = None
    ) -> AppContext:
        ops = Ops(path, clock=clock, busy_timeout_ms=busy_timeout_ms)
        ctx = AppContext(ops, actor or ACCOUNTS["operator"], settings, store_path=path)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.ops.shutdown()


@pytest.fixture
def ctx(make_ctx, case_store_path: Path):
    """A context on a fresh case store, signed in as the operator 王丽."""
    return make_ctx(case_store_path)


@pytest.fixture
def window(ctx, qtbot) -> Iterator:
    """The main window on the case store, shown offscreen; closed after the test."""
    from desktop.mainwindow import MainWindow

    win = MainWindow(ctx)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def wait_idle(qtbot, ctx, timeout: int = 10_000) -> None:
    """Wait until no background operation is pending."""
    qtbot.waitUntil(lambda: not ctx.ops.busy(), timeout=timeout)


__all__ = ["DONGHUAJIE", "HUAIWANG", "ZHANGWANG", "Role", "wait_idle"]
