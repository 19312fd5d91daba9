"""The 事件 case list: lazy keyset paging, count, sorting, filters, Chinese search, saved
filters, opening a case, refresh after a write — on a real store with the real worker threads."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication

from desktop.cases.list_model import CASE_ID_ROLE, COLUMNS, LIGHT_ROLE, CaseListModel
from desktop.cases.list_view import CaseListView, ledger_exporter
from sync.store import Store
from sync.store.queries import CaseQuery
from tests.conftest import ZHANGWANG

from .conftest import wait_idle


def column(key: str) -> int:
    return next(i for i, c in enumerate(COLUMNS) if c.key == key)


def loaded_ids(model: CaseListModel) -> list[str]:
    return [model.index(r, 0).data(CASE_ID_ROLE) for r in range(model.rowCount())]


def store_ids(path, clock, query: CaseQuery, limit: int = 1000) -> list[str]:
    with Store.open(path, clock=clock) as store:
        return [r["id"] for r in store.cases(query, limit=limit)]


def store_count(path, clock, query: CaseQuery) -> int:
    with Store.open(path, clock=clock) as store:
        return store.count(query)


def type_chinese(widget, text: str) -> None:
    """Commit ``text`` as an input method would (qtbot.keyClicks cannot type Chinese)."""
    event = QInputMethodEvent("", [])
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


@pytest.fixture
def view(ctx, qtbot):
    widget = CaseListView(ctx)
    qtbot.addWidget(widget)
    widget.resize(1200, 700)
    widget.show()
    return widget


def start(view, qtbot) -> None:
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000):
        view.start()
    qtbot.waitUntil(lambda: not view.model.loading(), timeout=10_000)


def test_model_passes_qtmodeltester_while_pages_arrive(ctx, qtbot, qtmodeltester):
    model = CaseListModel(ctx, page_size=10)
    qtmodeltester.check(model)  # empty, before any query
    with qtbot.waitSignal(model.page_loaded, timeout=10_000):
        model.set_query(CaseQuery())
    assert model.rowCount() == 10
    # The tester itself calls fetchMore: the next page arrives while it watches the signals.
    qtmodeltester.check(model)
    qtbot.waitUntil(lambda: not model.loading(), timeout=10_000)
    qtmodeltester.check(model)
    loaded = model.rowCount()
    assert loaded in (20, 30)
    # While a page is on its way no second fetch starts (no duplicated rows).
    model.fetchMore(QModelIndex())
    assert model.loading() and not model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    qtbot.waitUntil(lambda: not model.loading(), timeout=10_000)
    assert model.rowCount() == loaded + 10
    assert len(set(loaded_ids(model))) == loaded + 10
    qtmodeltester.check(model)
    wait_idle(qtbot, ctx)


def test_list_loads_pages_lazily_and_counts_in_background(ctx, case_store_path, clock, qtbot):
    model = CaseListModel(ctx, page_size=10)
    with qtbot.waitSignal(model.count_changed, timeout=10_000) as counted:
        model.set_query(CaseQuery())
    total = store_count(case_store_path, clock, CaseQuery())
    assert counted.args == [total] and total == 48
    qtbot.waitUntil(lambda: model.rowCount() == 10, timeout=10_000)
    # Never more than the pages asked for: the remaining 38 rows stay in the store.
    assert model.rowCount() == 10
    while model.canFetchMore(QModelIndex()):
        with qtbot.waitSignal(model.page_loaded, timeout=10_000):
            model.fetchMore(QModelIndex())
    assert loaded_ids(model) == store_ids(case_store_path, clock, CaseQuery())
    assert not model.canFetchMore(QModelIndex())


def test_scrolling_to_the_bottom_fetches_the_next_page(view, ctx, qtbot):
    view.model._page = 10  # small pages so the view must fetch while scrolling
    start(view, qtbot)
    first = view.model.rowCount()
    assert first >= 10
    bar = view.table.verticalScrollBar()

    def scrolled_to_the_end() -> bool:
        bar.setValue(bar.maximum())  # what dragging the scroll bar down does
        return view.model.rowCount() == 48

    qtbot.waitUntil(scrolled_to_the_end, timeout=10_000)
    assert view.count_label.text() == "共 48 条"


def test_header_click_sorts_through_the_store(view, ctx, case_store_path, clock, qtbot):
    start(view, qtbot)
    header = view.table.horizontalHeader()
    with qtbot.waitSignal(view.model.page_loaded, timeout=10_000):
        qtbot.mouseClick(
            header.viewport(),
            Qt.MouseButton.LeftButton,
            pos=QPoint(header.sectionViewportPosition(column("case_no")) + 5, 5),
        )
    query = view.model.query
    assert query.sort == "case_no"
    assert (
        loaded_ids(view.model) == store_ids(case_store_path, clock, query)[: view.model.rowCount()]
    )
    assert header.sortIndicatorSection() == column("case_no")
    # The other way round.
    descending = not query.descending
    with qtbot.waitSignal(view.model.page_loaded, timeout=10_000):
        view.model.sort(
            column("case_no"),
            Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder,
        )
    assert view.model.query.descending is descending
    numbers = [view.model.index(r, column("case_no")).data() for r in range(view.model.rowCount())]
    assert numbers == sorted(numbers, reverse=descending)


def test_unsortable_column_keeps_the_current_sort(view, qtbot):
    start(view, qtbot)
    before = view.model.query
    view.table.horizontalHeader().setSortIndicator(column("source"), Qt.SortOrder.AscendingOrder)
    assert view.model.query == before
    assert view.table.horizontalHeader().sortIndicatorSection() == view.model.sort_column()


def test_status_filter_shows_words_and_matches_the_store(view, case_store_path, clock, qtbot):
    start(view, qtbot)
    combo = view.filters.status
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000) as counted:
        combo.setCurrentIndex(combo.findData("reported"))
    expected = CaseQuery(statuses=("reported",))
    assert counted.args == [store_count(case_store_path, clock, expected)]
    qtbot.waitUntil(lambda: not view.model.loading(), timeout=10_000)
    statuses = {view.model.index(r, column("status")).data() for r in range(view.model.rowCount())}
    assert statuses == {"待受理"}
    assert loaded_ids(view.model) == store_ids(case_store_path, clock, expected)


def test_village_and_grid_filters(view, case_store_path, clock, qtbot):
    start(view, qtbot)
    village = view.filters.village
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000):
        village.setCurrentIndex(village.findData(ZHANGWANG))
    assert view.filters.grid.isEnabled()
    assert village.currentText() == "张王村"  # the short name people use
    grid = view.filters.grid
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000) as counted:
        grid.setCurrentIndex(grid.findData(f"{ZHANGWANG}001"))
    expected = CaseQuery(village_code=ZHANGWANG, grid_code=f"{ZHANGWANG}001")
    assert counted.args == [store_count(case_store_path, clock, expected)]
    qtbot.waitUntil(lambda: not view.model.loading(), timeout=10_000)
    assert {view.model.index(r, column("grid")).data() for r in range(view.model.rowCount())} == {
        "张王村第一网格"
    }


def test_chinese_two_character_search_is_debounced(view, case_store_path, clock, qtbot):
    start(view, qtbot)
    queries: list[CaseQuery] = []
    view.model.query_changed.connect(queries.append)
    type_chinese(view.filters.search, "漏")
    type_chinese(view.filters.search, "水")
    assert view.filters.search.text() == "漏水"
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000) as counted:
        pass
    # Two keystrokes inside the debounce interval: one query.
    assert [q.text for q in queries] == ["漏水"]
    expected = CaseQuery(text="漏水")
    assert counted.args == [store_count(case_store_path, clock, expected)] != [0]
    qtbot.waitUntil(lambda: not view.model.loading(), timeout=10_000)
    assert loaded_ids(view.model) == store_ids(case_store_path, clock, expected)
    for r in range(view.model.rowCount()):
        assert "漏水" in view.model.row_data(r)["title"] + view.model.row_data(r)["address"] or (
            view.model.row_data(r)["id"] in store_ids(case_store_path, clock, expected)
        )


def test_deadline_light_is_a_coloured_dot_with_words(view, ctx, qtbot):
    start(view, qtbot)
    now = ctx.ops.gui_store().now()
    seen = set()
    for r in range(view.model.rowCount()):
        index = view.model.index(r, column("light"))
        light = index.data(LIGHT_ROLE)
        seen.add(light)
        assert index.data(Qt.ItemDataRole.DecorationRole) is not None
        row = view.model.row_data(r)
        if light == "red":
            assert row["due_at"] < now
            assert index.data() == "已超期"
    assert "red" in seen


def test_landing_on_a_query_shows_it_in_the_pickers(view, case_store_path, clock, qtbot):
    start(view, qtbot)
    query = CaseQuery(statuses=("closed", "archived"), light=None, category="0101")
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000) as counted:
        view.show_query(query)
    assert view.filters.major.currentData() == "01"
    assert view.filters.minor.currentData() == "0101"
    # Two statuses have no picker: said in words, with a button to drop them.
    assert view.filters.hidden_label.isVisible()
    assert "已办结" in view.filters.hidden_label.text()
    assert counted.args == [store_count(case_store_path, clock, query)]
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000) as counted:
        view.filters.hidden_clear.click()
    assert counted.args == [store_count(case_store_path, clock, CaseQuery(category="0101"))]
    assert not view.filters.hidden_label.isVisible()


def test_saved_filters_round_trip_through_settings(view, ctx, qtbot):
    start(view, qtbot)
    bar = view.filters
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000):
        bar.light.setCurrentIndex(bar.light.findData("red"))
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000):
        bar.status.setCurrentIndex(bar.status.findData("reported"))
    wanted = bar.query()
    bar.save_current("超期待受理")
    saved = json.loads(ctx.settings.get("saved_filters"))
    assert [s["name"] for s in saved] == ["超期待受理"]
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000):
        bar.reset()
    assert bar.query() == CaseQuery()
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000):
        assert bar.apply_saved("超期待受理")
    assert bar.query() == wanted
    assert view.model.query.light == "red" and view.model.query.statuses == ("reported",)
    bar.delete_saved("超期待受理")
    assert json.loads(ctx.settings.get("saved_filters")) == []


def test_damaged_saved_filters_setting_reads_as_none(view, ctx):
    ctx.settings.set("saved_filters", "{not json")
    assert view.filters.saved_filters() == []


def test_enter_and_double_click_open_the_case(view, ctx, qtbot):
    start(view, qtbot)
    view.table.setFocus()
    view.table.setCurrentIndex(view.model.index(2, 1))
    with qtbot.waitSignal(ctx.open_case_requested, timeout=2000) as opened:
        qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == [view.model.case_id(2)]
    rect = view.table.visualRect(view.model.index(3, 2))
    # A real double click starts with a press on the same row.
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    with qtbot.waitSignal(ctx.open_case_requested, timeout=2000) as opened:
        qtbot.mouseDClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [view.model.case_id(3)]


def test_list_refreshes_after_a_write_and_keeps_the_selection(view, ctx, operator, qtbot):
    view.filters.set_query(CaseQuery(statuses=("reported",)))
    start(view, qtbot)
    target = view.model.case_id(1)
    view.table.setCurrentIndex(view.model.index(1, 1))
    with qtbot.waitSignal(view.model.page_loaded, timeout=10_000):
        ctx.ops.write(lambda store: store.accept(target, operator)).run()
    # The accepted case left the 待受理 list; the count followed.
    assert target not in loaded_ids(view.model)
    qtbot.waitUntil(lambda: view.model.total == view.model.rowCount(), timeout=10_000)


@pytest.mark.skipif(ledger_exporter() is None, reason="this build has no ledger exporter")
def test_export_writes_the_current_view_to_excel(
    view, ctx, case_store_path, clock, tmp_path, qtbot
):
    import openpyxl

    start(view, qtbot)
    with qtbot.waitSignal(view.model.count_changed, timeout=10_000):
        view.filters.light.setCurrentIndex(view.filters.light.findData("red"))
    out = tmp_path / "超期台账.xlsx"
    with qtbot.waitSignal(view.export_finished, timeout=20_000) as finished:
        view.export(out)
    assert finished.args == [str(out)]
    book = openpyxl.load_workbook(out, read_only=True)
    try:
        rows = [r for ws in book.worksheets for r in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    column_no = rows[0].index("事件编号")
    exported = {r[column_no] for r in rows[1:]}
    with Store.open(case_store_path, clock=clock) as store:
        expected = {r["case_no"] for r in store.cases(CaseQuery(light="red"), limit=1000)}
    assert exported == expected and len(rows) - 1 == len(expected) > 0
    wait_idle(qtbot, ctx)


def test_the_list_stops_at_its_row_limit_and_says_so(view, qtbot):
    view.model._page = 10
    view.model._max_rows = 25  # 20,000 in the app; small here to reach it quickly
    start(view, qtbot)
    bar = view.table.verticalScrollBar()

    def at_the_limit() -> bool:
        bar.setValue(bar.maximum())
        return view.model.rowCount() == 25 and not view.model.loading()

    qtbot.waitUntil(at_the_limit, timeout=10_000)
    assert view.model.capped and not view.model.canFetchMore(QModelIndex())
    assert view.count_label.text() == "共 48 条 — 仅显示前 25 条：请缩小筛选范围，或导出 Excel"


@pytest.mark.skipif(ledger_exporter() is None, reason="this build has no ledger exporter")
def test_a_failed_export_is_explained_and_leaves_nothing(view, ctx, tmp_path, qtbot):
    from desktop.errors import ErrorDialog

    start(view, qtbot)
    out = tmp_path / "no such folder" / "台账.xlsx"
    view.export(out)
    qtbot.waitUntil(lambda: bool(view.findChildren(ErrorDialog)), timeout=10_000)
    dialog = view.findChildren(ErrorDialog)[0]
    assert dialog.text() == "无法使用该表格文件。"
    assert "no such folder" in dialog.informativeText()
    assert "Traceback" not in dialog.text() + dialog.informativeText()
    assert not out.parent.exists()
    dialog.close()
    wait_idle(qtbot, ctx)
