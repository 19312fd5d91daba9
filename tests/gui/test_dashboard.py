"""The 工作台 dashboard: figures equal the store's KPIs, lists open cases, every figure and bar
lands on the matching case list, and it reads in the background."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from desktop.dashboard import DashboardPage
from desktop.dashboard.data import TOP_N, list_queries
from desktop.labels import percent
from sync.store import Store
from sync.store.queries import CaseQuery
from tests.conftest import ZHANGWANG

from .conftest import wait_idle


@pytest.fixture
def page(ctx, qtbot):
    widget = DashboardPage(ctx)
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.show()  # the first show reads the figures
    return widget


def kpis(path, clock) -> dict:
    with Store.open(path, clock=clock) as store:
        return store.kpis()


def test_figures_are_the_store_kpis(page, case_store_path, clock):
    expected = kpis(case_store_path, clock)
    for name, figure in page.figures.items():
        assert figure.value.text() == f"{expected[name]:,}", name
    for name, figure in page.rates.items():
        assert figure.value.text() == percent(expected[name]), name
    # The fixture's clock makes some cases overdue and some soon due.
    assert expected["overdue"] > 0 and expected["soon_due"] > 0


def test_lists_show_the_top_of_each_pile_and_open_a_case(page, ctx, case_store_path, clock, qtbot):
    snap = page.snapshot
    with Store.open(case_store_path, clock=clock) as store:
        for name, query in list_queries(snap.today_start).items():
            expected = [r["id"] for r in store.cases(query, limit=TOP_N)]
            assert page.lists[name].case_ids() == expected, name
    overdue = page.lists["overdue"]
    assert overdue.rowCount() > 0
    assert overdue.item(0, 3).text().startswith("超期")  # "overdue 3 d 4 h" in Chinese
    rect = overdue.visualItemRect(overdue.item(0, 1))
    with qtbot.waitSignal(ctx.open_case_requested, timeout=2000) as opened:
        qtbot.mouseClick(overdue.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert opened.args == [overdue.case_ids()[0]]
    # Enter on the current row opens it too (keyboard-first).
    overdue.setCurrentCell(1, 0)
    with qtbot.waitSignal(ctx.open_case_requested, timeout=2000) as opened:
        qtbot.keyClick(overdue, Qt.Key.Key_Return)
    assert opened.args == [overdue.case_ids()[1]]


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        ("overdue", CaseQuery(light="red", sort="due_at", descending=False)),
        ("soon_due", CaseQuery(light="yellow", sort="due_at", descending=False)),
        (
            "awaiting_acceptance",
            CaseQuery(statuses=("reported",), sort="reported_at", descending=False),
        ),
    ],
)
def test_clicking_a_figure_lands_on_its_case_list(page, ctx, qtbot, figure, expected):
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        qtbot.mouseClick(page.figures[figure], Qt.MouseButton.LeftButton)
    assert shown.args == [expected]


def test_rate_figures_land_on_this_months_cases(page, ctx, case_store_path, clock, qtbot):
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        page.rates["closure_rate"].click()
    query = shown.args[0]
    assert query.reported_from == page.snapshot.month_start
    assert set(query.statuses) == {"closed", "archived", "evaluated"}
    with Store.open(case_store_path, clock=clock) as store:
        assert store.count(query) == store.kpis()["month_closed"]


def test_chart_bars_land_on_the_matching_list(page, ctx, case_store_path, clock, qtbot):
    chart = page.by_category
    assert chart.keys(), "the category chart is empty"
    with Store.open(case_store_path, clock=clock) as store:
        by_major = dict(store.breakdown("major", since=page.snapshot.chart_since))
    # Bars are the store's breakdown; the biggest is at the top of a horizontal chart.
    assert dict(zip(chart.keys(), chart.values(), strict=True)) == by_major
    top = max(by_major, key=lambda k: by_major[k])
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        chart.click_bar(chart.keys().index(top))
    assert shown.args == [CaseQuery(category=top, reported_from=page.snapshot.chart_since)]
    with Store.open(case_store_path, clock=clock) as store:
        assert store.count(shown.args[0]) == by_major[top]

    villages = page.by_village
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        villages.click_bar(villages.keys().index(ZHANGWANG))
    assert shown.args[0].village_code == ZHANGWANG

    weeks = page.by_week
    assert len(weeks.keys()) == 12 and sum(weeks.values()) > 0
    last = len(weeks.keys()) - 1
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        weeks.click_bar(last)
    with Store.open(case_store_path, clock=clock) as store:
        assert store.count(shown.args[0]) == weeks.values()[last]


def test_dashboard_refreshes_after_a_write(page, ctx, operator, case_store_path, clock, qtbot):
    before = int(page.figures["awaiting_acceptance"].value.text())
    with Store.open(case_store_path, clock=clock) as store:
        case_id = store.cases(CaseQuery(statuses=("reported",)), limit=1)[0]["id"]
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        ctx.ops.write(lambda store: store.accept(case_id, operator)).run()
    assert int(page.figures["awaiting_acceptance"].value.text()) == before - 1
    wait_idle(qtbot, ctx)


def test_window_lands_on_the_case_list_from_a_figure(window, qtbot):
    window.go("dashboard")
    qtbot.waitUntil(lambda: window.dashboard.snapshot is not None, timeout=10_000)
    window.dashboard.figures["overdue"].click()
    assert window.current_page() == "cases"
    bar = window.cases.list.filters
    assert bar.light.currentData() == "red"
    qtbot.waitUntil(lambda: window.cases.list.model.total is not None, timeout=10_000)
    assert window.cases.list.model.total == int(window.dashboard.figures["overdue"].value.text())
