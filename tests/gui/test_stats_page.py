"""The 统计 page on a real store: figures agree with the case list, every row and bar lands on
the matching case list, the ranking explains itself, the report is written in the background."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop.labels import percent
from desktop.stats import StatsPage
from sync.stats.periods import Period
from sync.store import Store
from sync.store.queries import CaseQuery

from .conftest import wait_idle

MAY = Period.parse("2025-05")  # the fixture store's cases lie in the six weeks before 2 June
DONE = ("closed", "archived", "evaluated")


@pytest.fixture
def page(ctx, qtbot):
    widget = StatsPage(ctx)
    qtbot.addWidget(widget)
    widget.resize(1400, 1000)
    widget.show()
    wait_idle(qtbot, ctx)
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.set_period(MAY)
    return widget


def cell(table, row: int, column: int) -> str:
    return table.item(row, column).text()


def headline(page) -> dict[str, list[str]]:
    t = page.headline
    return {cell(t, r, 0): [cell(t, r, c) for c in range(1, 6)] for r in range(t.rowCount())}


def test_figures_agree_with_the_case_list(page, case_store_path, clock):
    rows = headline(page)
    month = CaseQuery(reported_from=MAY.start, reported_to=MAY.end)
    with Store.open(case_store_path, clock=clock) as store:
        total = store.count(month)
        closed = store.count(month.with_(statuses=DONE))
        valid = total - store.count(month.with_(statuses=("rejected", "merged")))
        parked = store.count(month.with_(statuses=("parked",)))
        self_handled = store.count(month.with_(self_handled=True))
        april = Period.parse("2025-04")
        previous = store.count(CaseQuery(reported_from=april.start, reported_to=april.end))
    assert total > 0 and closed > 0
    assert rows["受理总量"][0] == f"{total:,}"
    assert rows["受理总量"][1] == f"{previous:,}"
    assert rows["受理总量"][3] == "0"  # nothing in May 2024
    assert rows["办结件数"][0] == f"{closed:,}"
    assert rows["办结率"][0] == percent(closed / (valid - parked))
    assert rows["自处率"][0] == percent(self_handled / valid)
    assert rows["满意率"][0] == "—"  # nobody evaluated a case in the fixture store
    assert page.period_label.text() == "2025-05-01 — 2025-05-31"


@pytest.mark.parametrize("by", ["category", "village", "grid", "source", "level", "worker"])
def test_each_breakdown_row_lands_on_its_cases(page, ctx, case_store_path, clock, qtbot, by):
    page.breakdown_by.setCurrentIndex(page.breakdown_by.findData(by))
    table = page.breakdown
    assert table.rowCount() > 0
    with Store.open(case_store_path, clock=clock) as store:
        for row in range(table.rowCount()):
            with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
                table.choose(row)
            query = shown.args[0]
            assert (query.reported_from, query.reported_to) == (MAY.start, MAY.end)
            assert f"{store.count(query):,}" == cell(table, row, 1), (by, row)


def test_chart_bars_are_the_breakdown_and_open_its_cases(page, ctx, case_store_path, clock, qtbot):
    page.breakdown_by.setCurrentIndex(page.breakdown_by.findData("village"))
    chart, table = page.chart, page.breakdown
    by_key = {
        table.keys()[r]: int(cell(table, r, 1).replace(",", ""))
        for r in range(10)
        if r < table.rowCount()
    }
    assert dict(zip(chart.keys(), chart.values(), strict=True)) == by_key
    key = chart.keys()[0]
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        chart.click_bar(0)
    assert shown.args[0].village_code == key
    with Store.open(case_store_path, clock=clock) as store:
        assert store.count(shown.args[0]) == by_key[key]


def test_the_department_breakdown_counts_each_unit(page):
    page.breakdown_by.setCurrentIndex(page.breakdown_by.findData("department"))
    table = page.breakdown
    assert table.horizontalHeaderItem(1).text() == "承办"
    # The fixture dispatches everything to 综合执法 (zhzf).
    assert table.keys() == ["zhzf"] and cell(table, 0, 0) == "综合行政执法中队"


def test_ranking_explains_each_score_and_opens_its_cases(page, ctx, qtbot):
    page.ranking_by.setCurrentIndex(page.ranking_by.findData("village"))
    table = page.ranking
    assert table.rowCount() > 0
    assert cell(table, 0, 0) == "1"
    tip = table.item(0, 2).toolTip()
    assert "时效" in tip and "权重40" in tip and tip.endswith(f"合计 {cell(table, 0, 2)} 分")
    with qtbot.waitSignal(ctx.show_cases_requested, timeout=2000) as shown:
        table.choose(0)
    assert shown.args[0].village_code == table.keys()[0]


def test_changing_the_period_reads_again(page, qtbot):
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.kind.setCurrentIndex(page.kind.findData("year"))
    assert page.data is not None and page.data.period == Period.parse("2025")
    assert page.period_label.text() == "2025-01-01 — 2025-12-31"
    assert not page.until.isVisible()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.kind.setCurrentIndex(page.kind.findData("custom"))
    assert page.until.isVisible() and page.data.period.kind == "custom"


def test_export_writes_the_report_in_the_background(page, ctx, qtbot, tmp_path: Path):
    out = tmp_path / "月报.pdf"
    with qtbot.waitSignal(page.report_written, timeout=30_000) as written:
        page.export(out)
    assert written.args == [str(out)]
    assert out.read_bytes().startswith(b"%PDF")
    xlsx = tmp_path / "月报.xlsx"
    with qtbot.waitSignal(page.report_written, timeout=30_000):
        page.export(xlsx)
    assert xlsx.stat().st_size > 0
    wait_idle(qtbot, ctx)


def test_window_has_the_page_and_lands_on_the_case_list(window, qtbot):
    window.go("stats")
    assert window.current_page() == "stats"
    page = window.stats
    qtbot.waitUntil(lambda: page.data is not None, timeout=10_000)
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.set_period(MAY)
    page.breakdown.choose(0)
    assert window.current_page() == "cases"
    qtbot.waitUntil(lambda: window.cases.list.model.total is not None, timeout=10_000)
    assert f"{window.cases.list.model.total:,}" == cell(page.breakdown, 0, 1)


def test_the_page_says_it_is_reading_until_the_figures_arrive(page, qtbot):
    assert not page.reading.isVisible()
    with qtbot.waitSignal(page.loaded, timeout=10_000):
        page.kind.setCurrentIndex(page.kind.findData("quarter"))
        assert page.reading.isVisible() and page.reading.text() == "正在读取统计数据…"
    assert not page.reading.isVisible()


def test_bad_county_weights_do_not_hide_the_figures(make_ctx, case_store_path, qtbot):
    with Store.open(case_store_path) as store:
        store.set_meta({"assessment_weights": '{"speed": 1}'})
    widget = StatsPage(make_ctx(case_store_path))
    qtbot.addWidget(widget)
    widget.show()
    with qtbot.waitSignal(widget.loaded, timeout=10_000):
        widget.set_period(MAY)
    assert widget.ranking.rowCount() > 0 and widget.headline.rowCount() > 0
    note = widget.ranking_note.text()
    assert note.startswith("已按缺省权重评分：") and "unknown weight 'speed'" in note
    assert "权重40" in widget.ranking.item(0, 2).toolTip()  # the default timeliness weight
